/* offline.c — see offline.h. */
#include "test/offline.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int offline_open(struct offline *o, struct config *cfg, int64_t now, int *failures,
                 char *err, size_t errlen)
{
    memset(o, 0, sizeof *o);
    o->cfg = cfg;
    o->store = store_open(":memory:");
    o->rec = record_new();
    if (!o->store || !o->rec || uv_loop_init(&o->loop)) {
        snprintf(err, errlen, "cannot open an in-memory store");
        goto fail;
    }
    o->desk = desk_new(&o->loop, o->store, o->cfg);
    if (!o->desk) {
        snprintf(err, errlen, "cannot start the desk");
        uv_loop_close(&o->loop);
        goto fail;
    }
    desk_set_adapters(o->desk, &o->rec->chat, &o->rec->source);
    desk_set_clock(o->desk, now);
    o->rt = script_new(&o->loop, o->desk);
    o->open = 1;
    if (!o->rt) {
        snprintf(err, errlen, "the script runtime did not start");
        offline_close(o);
        return -1;
    }
    *failures = script_load_all(o->rt);
    desk_set_hooks(o->desk, script_desk_hooks(o->rt));
    desk_start(o->desk);
    offline_drain(o);
    return 0;
fail:
    store_close(o->store);
    record_free(o->rec);
    config_free(o->cfg);
    memset(o, 0, sizeof *o);
    return -1;
}

void offline_close(struct offline *o)
{
    if (!o->open)
        return;
    o->open = 0;
    desk_stop(o->desk);
    uv_run(&o->loop, UV_RUN_DEFAULT);
    script_free(o->rt);
    desk_free(o->desk);
    uv_loop_close(&o->loop);
    store_close(o->store);
    record_free(o->rec);
    config_free(o->cfg);
}

void offline_drain(struct offline *o)
{
    for (int i = 0; i < 64; i++) {
        desk_outbox_kick(o->desk);
        uv_run(&o->loop, UV_RUN_NOWAIT);
    }
    record_stamp(o->rec, desk_now(o->desk));
}

void offline_advance_to(struct offline *o, int64_t t)
{
    int64_t now = desk_now(o->desk);
    while (now < t) {
        int64_t step = store_job_count(o->store, "queued") > 0 ? 1 : 60;
        now = now + step < t ? now + step : t;
        desk_set_clock(o->desk, now);
        desk_sla_check(o->desk);
        offline_drain(o);
    }
}

int offline_ingest(struct offline *o, const struct mention_page *page, struct ingest_stats *st)
{
    int rc = desk_ingest(o->desk, "replay", page, NULL, st);
    offline_drain(o);
    return rc == DESK_OK ? 0 : -1;
}

char *offline_command(struct offline *o, const struct chat_command *cmd)
{
    char *answer = script_run_command(o->rt, cmd);
    offline_drain(o);
    return answer;
}
