/* fakes.c — see fakes.h. */
#include "fakes.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "chat/command.h"
#include "core/config.h"
#include "desk/desk.h"
#include "script/script.h"
#include "source/xlink.h"
#include "store/store.h"
#include "unit.h"

struct fake fake;

static void log_send(const char *fmt, const char *a, const char *b)
{
    if (fake.n < FAKE_LOG_LINES)
        snprintf(fake.log[fake.n++], sizeof fake.log[0], fmt, a ? a : "", b ? b : "");
}

static void answer(send_done_fn done, void *arg, const char *ref)
{
    struct send_result r = { .status = SEND_OK, .ref = ref };
    const char *kind = fake.n ? fake.log[fake.n - 1] : "";
    int only = !fake.fail_only || strncmp(kind, fake.fail_only, strlen(fake.fail_only)) == 0;
    if (fake.hold && only) {   /* the send is on the wire until the test answers it */
        fake.hold = 0;
        fake.held_done = done;
        fake.held_arg = arg;
        return;
    }
    if (fake.fail_times > 0 && only) {
        fake.fail_times--;
        r.status = fake.next;
        r.error = fake.next == SEND_FAIL ? "You attempted to reply to a Tweet that is deleted"
                : fake.next == SEND_BLOCKED ? "not_in_channel"
                : fake.next == SEND_GONE ? "Slack said message_not_found" : "HTTP 503";
        r.retry_after = fake.retry_after;
        r.ref = fake.next == SEND_BLOCKED ? "#support" : NULL;
    }
    done(arg, &r);
}

static void f_post_ticket(struct chat *c, const char *ch, const struct ticket_view *t,
                          send_done_fn done, void *arg)
{
    char id[32], ref[32];
    snprintf(id, sizeof id, "%lld %s", (long long)t->id, t->status);
    log_send("post %s %s", id, t->customer_handle);
    snprintf(ref, sizeof ref, "ts-%lld%s", (long long)t->id,
             fake.ref_suffix ? fake.ref_suffix : "");
    answer(done, arg, ref);
}

static void f_update(struct chat *c, const char *ch, const char *ref,
                     const struct ticket_view *t, send_done_fn done, void *arg)
{
    char s[64];
    snprintf(s, sizeof s, "%s %s", t->status, t->assignee_name ? t->assignee_name : "-");
    log_send("update %s %s", ref, s);
    answer(done, arg, ref);
}

static void f_thread(struct chat *c, const char *ch, const char *ref, const char *text,
                     send_done_fn done, void *arg)
{
    log_send("thread %s %s", ref, text);
    answer(done, arg, "th");
}

static void f_channel(struct chat *c, const char *ch, const char *text, send_done_fn done,
                      void *arg)
{
    log_send("channel %s %s", ch, text);
    answer(done, arg, "ch");
}

static void f_find(struct chat *c, const char *ch, int64_t id, int64_t oldest,
                   send_done_fn done, void *arg)
{
    struct send_result r = { .status = SEND_FAIL, .error = "not found" };
    fake.finds++;
    fake.find_oldest = oldest;
    if (fake.find_fails)
        r = (struct send_result){ .status = SEND_RETRY, .error = "Slack said internal_error" };
    done(arg, &r);
}

static void f_line(struct chat *c, const char *ch, const char *ref, const char *text,
                   const char *resend, send_done_fn done, void *arg)
{
    log_send(resend ? "line %s %s [Resend]" : "line %s %s", ref, text);
    answer(done, arg, ref);
}

/* An alert (issue 17): "alert <thread> [id id] text". */
static void f_alert(struct chat *c, const char *ch, const char *thread,
                    const struct chat_ping *ping, size_t nping, const char *text, int64_t job,
                    send_done_fn done, void *arg)
{
    char who[200] = "";
    (void)c;
    (void)ch;
    (void)job;
    for (size_t i = 0; i < nping; i++)
        snprintf(who + strlen(who), sizeof who - strlen(who), "%s%s", i ? " " : "", ping[i].id);
    if (fake.n < FAKE_LOG_LINES)
        snprintf(fake.log[fake.n++], sizeof fake.log[0], "alert %s [%s] %s",
                 thread ? thread : "-", who, text);
    answer(done, arg, "al");
}

static void f_reply(struct source *s, const char *to, const char *text, int attempt,
                    int64_t since, send_done_fn done, void *arg)
{
    fake.reply_since = since;
    log_send("reply %s %s", to, text);
    answer(done, arg, "1900000000000000001");
}

static void f_dm(struct source *s, const char *to, const char *text, int attempt,
                 send_done_fn done, void *arg)
{
    log_send("dm %s %s", to, text);
    if (fake.lock_on_dm && !fake.locker) {   /* the disk fills while the DM is on the wire */
        sqlite3_open(fake.lock_on_dm, &fake.locker);
        sqlite3_exec(fake.locker, "BEGIN IMMEDIATE", NULL, NULL, NULL);
    }
    answer(done, arg, "dm-1");
}

const struct chat_ops fake_chat_ops = {
    .name = "fake",
    .post_ticket = f_post_ticket,
    .update_ticket = f_update,
    .post_thread = f_thread,
    .post_channel = f_channel,
    .find_ticket = f_find,
    .update_line = f_line,
    .post_alert = f_alert,
};

const struct chat_ops fake_chat_ops_minimal = {
    .name = "fake",
    .post_ticket = f_post_ticket,
    .update_ticket = f_update,
    .post_thread = f_thread,
    .post_channel = f_channel,
};

const struct source_ops fake_source_ops = {
    .name = "fake",
    .send_reply = f_reply,
    .send_dm = f_dm,
    .permalink = xlink_permalink,
    .check_text = xlink_check_text,
};

void fake_reset(const struct chat_ops *chat_ops)
{
    memset(&fake, 0, sizeof fake);
    fake.chat.ops = chat_ops;
    fake.source.ops = &fake_source_ops;
}

/* --- a desk on a loop of its own ---------------------------------------- */

struct desk *fake_desk_open(uv_loop_t *loop, const char *cfgpath, const char *dbpath,
                            struct config **cfg, struct store **store)
{
    char err[512];

    *cfg = config_load(cfgpath, err, sizeof err);
    if (!*cfg) {
        unit_fail(__FILE__, __LINE__, "config: %s", err);
        abort();   /* every test after it would fail on a NULL config */
    }
    *store = store_open(dbpath);
    uv_loop_init(loop);
    return desk_new(loop, *store, *cfg);
}

void fake_desk_close(uv_loop_t *loop, struct desk *desk, struct script_rt *rt,
                     struct store *store, struct config *cfg)
{
    desk_stop(desk);
    uv_run(loop, UV_RUN_DEFAULT);
    script_free(rt);
    uv_loop_close(loop);
    desk_free(desk);
    store_close(store);
    config_free(cfg);
}

const char *fake_run_command(struct script_rt *rt, const char *user, const char *line,
                             char *answer, size_t len)
{
    char text[2048];
    struct chat_command cmd = { .user_id = user, .channel = "#support" };
    char *a;

    snprintf(text, sizeof text, "/tw %s", line);
    CHECK(chat_command_parse(&cmd, text, "/tw", CHAT_PARSE_PEOPLE) == 0);
    a = script_run_command(rt, &cmd);
    chat_command_clear(&cmd);
    snprintf(answer, len, "%s", a ? a : "(null)");
    free(a);
    return answer;
}
