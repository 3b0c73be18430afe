/* sla.c — the first-response clock.  A loop timer looks at open tickets
 * without a first response; warnings and breaches are derived from stored
 * times and flags, so a restart neither loses nor repeats them. */
#include "desk/desk_internal.h"

#include <stdio.h>
#include <stdlib.h>

#include "core/log.h"

static void on_timer(uv_timer_t *t)
{
    desk_sla_check(t->data);
}

void sla_init(struct desk *d)
{
    uint64_t ms = (uint64_t)(d->cfg->sla_check_interval * 1000);
    uv_timer_init(d->loop, &d->sla_timer);
    d->sla_timer.data = d;
    uv_timer_start(&d->sla_timer, on_timer, 0, ms ? ms : 1000);
}

static void closed_cb(uv_handle_t *h) { (void)h; }

void sla_close(struct desk *d)
{
    uv_timer_stop(&d->sla_timer);
    uv_close((uv_handle_t *)&d->sla_timer, closed_cb);
}

static void fmt_minutes(int64_t secs, char *out, size_t len)
{
    if (secs < 60)
        snprintf(out, len, "%llds", (long long)secs);
    else
        snprintf(out, len, "%lld min", (long long)((secs + 30) / 60));
}

/* Warns or breaches one ticket, in its own transaction. */
static int check_one(struct desk *d, int64_t id, int64_t now)
{
    struct ticket t;
    char line[400], left[32];
    int rc = 0, warn, breach;

    if (store_begin(d->store))
        return -1;
    if (store_ticket_get(d->store, id, &t)) {
        store_rollback(d->store);
        return -1;
    }
    breach = !t.sla_breached && now >= t.sla_due_at;
    warn = !t.sla_warned && !breach &&
           now >= t.sla_due_at - (int64_t)d->cfg->sla_warn_before;
    if (breach) {
        t.sla_breached = 1;
        t.sla_warned = 1;
        snprintf(line, sizeof line, "First-response target missed for #%lld (@%s) %s",
                 (long long)t.id, t.customer_handle,
                 t.assignee ? desk_staff_name(d, t.assignee) : d->cfg->channel_on_duty);
        rc = desk_record_change(d, &t, "system", "sla breached", NULL, line, now);
    } else if (warn) {
        t.sla_warned = 1;
        fmt_minutes(t.sla_due_at - now, left, sizeof left);
        snprintf(line, sizeof line, "#%lld (@%s) has %s left to its first-response target: %s",
                 (long long)t.id, t.customer_handle, left,
                 t.assignee ? desk_staff_name(d, t.assignee) : d->cfg->channel_on_duty);
        rc = desk_record_change(d, &t, "system", "sla warning", left, line, now);
    }
    store_ticket_clear(&t);
    if (rc || store_commit(d->store)) {
        store_rollback(d->store);
        return -1;
    }
    if (warn) {
        log_info("first-response target near", "ticket=%lld", (long long)id);
        desk_notify(d, DESK_EV_SLA, id, "sla warning", NULL);
        if (d->hooks.on_sla_warning)
            d->hooks.on_sla_warning(d->hooks.arg, id);
    }
    if (breach) {
        char err[200];
        log_warn("first-response target missed", "ticket=%lld", (long long)id);
        desk_notify(d, DESK_EV_SLA, id, "sla breach", NULL);
        if (!d->hooks.on_sla_breach || d->hooks.on_sla_breach(d->hooks.arg, id) == 0)
            desk_escalate(d, "system", id, "first-response target missed", err, sizeof err);
    }
    return 0;
}

int desk_sla_check(struct desk *d)
{
    int64_t now = desk_now(d);
    size_t n = 0;
    /* Ordered by due time: stop at the first ticket not yet near its target. */
    int64_t *ids = store_ticket_list(d->store, "sla", NULL, 500, &n);
    int rc = 0;

    for (size_t i = 0; i < n; i++) {
        struct ticket t;
        int due;
        if (store_ticket_get(d->store, ids[i], &t))
            continue;
        due = now >= t.sla_due_at - (int64_t)d->cfg->sla_warn_before;
        store_ticket_clear(&t);
        if (!due)
            break;
        if (check_one(d, ids[i], now))
            rc = -1;
    }
    free(ids);
    return rc;
}
