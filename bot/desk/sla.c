/* sla.c — the SLA policy: the first-response clock and the next-response
 * clock after a customer's follow-up, counted in business hours
 * (desk/hours.c) of the ticket's team.  A loop timer warns at sla.warn's
 * offsets, notifying the assignee or sla.notify (an alert line, the only
 * kind of line that may ping), breaches into the on_sla_breach hook, and
 * keeps the "due in N min" of tickets in their last hour current.  Due
 * times, warnings and breaches are derived from stored times and flags,
 * so a restart neither loses nor repeats them, and the clock stands still
 * while the team is off.  Knows the store's ticket and the chat interface's
 * ping; no wire format. */
#include "desk/desk_internal.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/log.h"
#include "desk/hours.h"

#define REFRESH_WINDOW 3600   /* the ticket message counts down in its last hour */

static void on_timer(uv_timer_t *t)
{
    desk_sla_check(t->data);
}

static void restamp_running(struct desk *d);

void sla_init(struct desk *d)
{
    restamp_running(d);
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

/* --- the desk's time zone ------------------------------------------------ */

/* Before sla_open (or if it failed) there is no calendar: UTC. */
int desk_utc_offset(struct desk *d, int64_t at)
{
    return d->hours ? hours_utc_offset(d->hours, at) : 0;
}

void desk_local_time(struct desk *d, int64_t at, struct tm *out)
{
    time_t t = (time_t)at;
    if (d->hours) {
        hours_local_time(d->hours, at, out);
        return;
    }
    memset(out, 0, sizeof *out);
    gmtime_r(&t, out);
}

int64_t desk_local_instant(struct desk *d, const struct tm *local)
{
    struct tm tm = *local;
    if (d->hours)
        return hours_local_instant(d->hours, local);
    tm.tm_isdst = 0;
    return (int64_t)timegm(&tm);
}

/* --- the policy ---------------------------------------------------------- */

int sla_open(struct desk *d)
{
    const struct config *c = d->cfg;
    char err[300];

    if (!c->nsla_notify && c->chat && strcmp(c->chat, "slack") == 0)
        log_warn("sla.notify is not set: SLA warnings on unassigned tickets notify no one",
                 "hint=%s", "set sla.notify to the on-duty user group (\"S0123ABCD\")");
    d->hours = hours_new(&c->sla_hours, err, sizeof err);
    if (!d->hours) {
        log_error("sla.hours cannot be used", "error=%s", err);
        return -1;
    }
    if (c->nsla_teams) {
        d->team_hours = calloc(c->nsla_teams, sizeof *d->team_hours);
        if (!d->team_hours) {
            sla_free(d);
            return -1;
        }
        d->nteam_hours = c->nsla_teams;
    }
    for (size_t i = 0; i < c->nsla_teams; i++) {
        d->team_hours[i] = hours_new(&c->sla_teams[i].hours, err, sizeof err);
        if (!d->team_hours[i]) {
            log_error("sla.teams hours cannot be used", "team=%s error=%s",
                      c->sla_teams[i].team, err);
            sla_free(d);
            return -1;
        }
    }
    return 0;
}

void sla_free(struct desk *d)
{
    hours_free(d->hours);
    d->hours = NULL;
    for (size_t i = 0; d->team_hours && i < d->nteam_hours; i++)
        hours_free(d->team_hours[i]);
    free(d->team_hours);
    d->team_hours = NULL;
    d->nteam_hours = 0;
}

/* SIGHUP (issue 20): the config's SLA policy changed under the desk; the
 * calendars are built anew and the waiting tickets' due times follow them,
 * as at start.  The new policy was validated when the file loaded, so a
 * failure here is memory: logged, and the clocks run around the clock. */
void desk_sla_reload(struct desk *d)
{
    sla_free(d);
    if (sla_open(d))
        return;
    restamp_running(d);
}

/* Does the comma-separated `tags` hold `tag`? */
static int has_tag(const char *tags, const char *tag)
{
    size_t n = strlen(tag);
    for (const char *p = tags; p && *p;) {
        const char *e = strchr(p, ',');
        size_t len = e ? (size_t)(e - p) : strlen(p);
        if (len == n && strncmp(p, tag, n) == 0)
            return 1;
        p = e ? e + 1 : NULL;
    }
    return 0;
}

/* The calendar of `t`'s team (the first of sla.teams it is tagged with),
 * else sla.hours. */
static const struct hours *calendar(struct desk *d, const struct ticket *t)
{
    for (size_t i = 0; d->team_hours && i < d->cfg->nsla_teams; i++)
        if (has_tag(t->tags, d->cfg->sla_teams[i].team))
            return d->team_hours[i];
    return d->hours;
}

void sla_restamp(struct desk *d, struct ticket *t)
{
    const struct hours *h = calendar(d, t);
    int64_t start = t->tweeted_at ? t->tweeted_at : t->opened_at;
    t->sla_due_at = hours_add(h, start, (int64_t)d->cfg->sla_first_response);
    if (t->followup_at)
        t->followup_due_at = hours_add(h, t->followup_at, (int64_t)d->cfg->sla_follow_up);
}

void sla_follow_up(struct ticket *t, int64_t at)
{
    /* the earliest unanswered follow-up counts; kept while the first clock
     * runs too, for a reply already on its way does not answer it */
    if (strcmp(t->state, "open") != 0 || t->followup_at)
        return;
    t->followup_at = at;
    t->followup_warned = 0;
    t->followup_breached = 0;
}

int sla_answered(struct ticket *t, int64_t at, int64_t queued_at)
{
    int changed = 0;
    if (!t->first_response_at) {
        t->first_response_at = at;
        changed = 1;
    }
    if (t->followup_at && t->followup_at <= queued_at) {
        t->followup_at = t->followup_due_at = 0;
        t->followup_warned = t->followup_breached = 0;
        changed = 1;
    }
    return changed;
}

const char *sla_running(const struct ticket *t, int64_t *due)
{
    *due = t->sla_due_at;
    if (!t->state || strcmp(t->state, "open") != 0)
        return NULL;
    if (!t->first_response_at)
        return "first response";
    if (t->followup_at) {
        *due = t->followup_due_at;
        return "next response";
    }
    return NULL;
}

/* At start, the running clocks' due times follow this run's calendars (a
 * changed sla.hours applies to waiting tickets at once), still counted from
 * the stored clock starts, in one transaction.  The soonest 10,000 only
 * (a start must stay quick); any other is restamped at its next change. */
static void restamp_running(struct desk *d)
{
    size_t n = 0;
    int64_t *ids = store_ticket_list(d->store, "sla", NULL, 10000, &n);
    int rc = 0;

    if (!ids || store_begin(d->store)) {
        free(ids);
        return;
    }
    for (size_t i = 0; i < n && !rc; i++) {
        struct ticket t;
        int64_t first, next;
        if (store_ticket_get(d->store, ids[i], &t))
            continue;
        first = t.sla_due_at;
        next = t.followup_due_at;
        sla_restamp(d, &t);
        if (t.sla_due_at != first || t.followup_due_at != next)
            rc = store_ticket_update(d->store, &t);
        store_ticket_clear(&t);
    }
    if (rc || store_commit(d->store)) {
        store_rollback(d->store);
        log_warn("SLA due times could not be brought up to date with sla.hours",
                 "tickets=%zu", n);
    }
    free(ids);
}

/* --- alerts ---------------------------------------------------------------- */

/* NULL for an empty (or unallocated) array: no one to notify. */
static json_t *ping_or_null(json_t *a)
{
    if (a && json_array_size(a) == 0) {
        json_decref(a);
        a = NULL;
    }
    return a;
}

void *sla_ping(struct desk *d, const struct ticket *t)
{
    json_t *a;
    if (!t->assignee)
        return sla_group_ping(d);
    a = json_array();
    if (a)
        json_array_append_new(a, json_pack("{s:s,s:s}", "id", t->assignee, "name",
                                           desk_staff_name(d, t->assignee)));
    return ping_or_null(a);
}

void *sla_group_ping(struct desk *d)
{
    const struct config *c = d->cfg;
    json_t *a = json_array();
    for (size_t i = 0; a && i < c->nsla_notify; i++) {
        const struct staff *s = config_staff(c, c->sla_notify[i]);
        const char *name = s ? s->name : c->nsla_notify == 1 ? c->channel_on_duty
                                                             : c->sla_notify[i];
        json_array_append_new(a, json_pack("{s:s,s:s}", "id", c->sla_notify[i],
                                           "name", name));
    }
    return ping_or_null(a);
}

static void fmt_minutes(int64_t secs, char *out, size_t len)
{
    if (secs < 60)
        snprintf(out, len, "%llds", (long long)secs);
    else
        snprintf(out, len, "%lld min", (long long)((secs + 30) / 60));
}

/* How many of sla.warn's offsets (descending) `left` business seconds have
 * reached. */
static int warnings_due(const struct config *c, int64_t left)
{
    int k = 0;
    while ((size_t)k < c->nsla_warn && left <= (int64_t)c->sla_warn[k])
        k++;
    return k;
}

/* Warns or breaches one ticket, in its own transaction. */
static int check_one(struct desk *d, int64_t id, int64_t now)
{
    struct ticket t;
    struct desk_sla info = { 0 };
    char line[400], left_s[32];
    const char *target, *who;
    int rc = 0, warn = 0, breach = 0, first, k = 0;
    int *warned, *breached;
    int64_t due, left;

    if (store_begin(d->store))
        return -1;
    if (store_ticket_get(d->store, id, &t)) {
        store_rollback(d->store);
        return -1;
    }
    target = sla_running(&t, &due);
    first = !t.first_response_at;
    warned = first ? &t.sla_warned : &t.followup_warned;
    breached = first ? &t.sla_breached : &t.followup_breached;
    left = target ? hours_between(calendar(d, &t), now, due) : 0;
    if (target && !*breached) {
        breach = now >= due;
        k = warnings_due(d->cfg, left);
        warn = !breach && k > *warned;
    }
    who = t.assignee ? desk_staff_name(d, t.assignee) : d->cfg->channel_on_duty;
    info.target = first ? "first_response" : "follow_up";
    info.due_at = due;
    if (breach) {
        *breached = 1;
        *warned = (int)d->cfg->nsla_warn;
        snprintf(line, sizeof line, "%s target missed for #%lld (@%s): %s",
                 first ? "First-response" : "Next-response", (long long)t.id,
                 t.customer_handle, who);
        rc = desk_record_change(d, &t, "system", "sla breached", info.target, NULL, now) ||
             desk_queue_alert(d, &t, line, sla_ping(d, &t));
    } else if (warn) {
        *warned = k;
        info.left = left;
        info.warn = (int64_t)d->cfg->sla_warn[k - 1];
        fmt_minutes(left, left_s, sizeof left_s);
        snprintf(line, sizeof line, "#%lld (@%s) has %s left to its %s target: %s",
                 (long long)t.id, t.customer_handle, left_s, target, who);
        rc = desk_record_change(d, &t, "system", "sla warning", left_s, NULL, now) ||
             desk_queue_alert(d, &t, line, sla_ping(d, &t));
    }
    store_ticket_clear(&t);
    if (rc || store_commit(d->store)) {
        store_rollback(d->store);
        return -1;
    }
    if (warn) {
        log_info("SLA target near", "ticket=%lld target=%s left=%lld", (long long)id,
                 info.target, (long long)left);
        desk_notify(d, DESK_EV_SLA, id, "sla warning", NULL);
        if (d->hooks.on_sla_warning)
            d->hooks.on_sla_warning(d->hooks.arg, id, &info);
    }
    if (breach) {
        char err[200];
        log_warn("SLA target missed", "ticket=%lld target=%s", (long long)id, info.target);
        desk_notify(d, DESK_EV_SLA, id, "sla breach", NULL);
        if (!d->hooks.on_sla_breach || d->hooks.on_sla_breach(d->hooks.arg, id, &info) == 0)
            desk_escalate(d, "system", id, first ? "first-response target missed"
                                                 : "next-response target missed",
                          err, sizeof err);
    }
    return 0;
}

/* The "due in N min" the ticket message shows changes in 5-minute steps
 * above 10 minutes, then each minute: a refresh per step is at most 20
 * chat.update per ticket in its last hour. */
static int64_t shown_step(int64_t wall_left)
{
    if (wall_left <= 0)
        return -1;
    if (wall_left > 600)
        return (wall_left + 299) / 300;
    return 1000 + (wall_left + 59) / 60;
}

/* Queues a refresh of the ticket's message (coalesced with any queued). */
static void refresh(struct desk *d, int64_t id)
{
    struct ticket t;
    if (store_begin(d->store))
        return;
    if (store_ticket_get(d->store, id, &t) == STORE_OK && desk_queue_update(d, &t) == DESK_OK)
        store_commit(d->store);
    else
        store_rollback(d->store);
    store_ticket_clear(&t);
}

int desk_sla_check(struct desk *d)
{
    const struct config *c = d->cfg;
    int64_t now = desk_now(d);
    /* the first check after a start refreshes nothing: the countdown
     * catches up at its next step (5 minutes at most) */
    int64_t last = d->sla_last_tick && d->sla_last_tick < now ? d->sla_last_tick : now;
    /* refreshes share the chat's rate (slack.post_rate per second) with
     * new tickets: at most half of what one check interval allows */
    int budget = (int)(c->slack.post_rate * c->sla_check_interval / 2);
    int64_t horizon = c->nsla_warn ? (int64_t)c->sla_warn[0] : 0;
    size_t n = 0;
    int64_t *ids = store_ticket_list(d->store, "sla", NULL, 500, &n);
    int rc = 0;

    if (budget < 1)
        budget = 1;
    if (horizon < REFRESH_WINDOW)
        horizon = REFRESH_WINDOW;
    d->sla_last_tick = now;
    for (size_t i = 0; i < n; i++) {
        struct ticket t;
        int64_t due, left;
        int act = 0, far = 0;
        const char *target;
        int first;
        if (store_ticket_get(d->store, ids[i], &t))
            continue;
        target = sla_running(&t, &due);
        first = !t.first_response_at;
        if (target) {
            left = hours_between(calendar(d, &t), now, due);
            act = now >= due || warnings_due(c, left) > (first ? t.sla_warned
                                                               : t.followup_warned);
            /* ordered by due time: with one calendar, business time left
             * grows down the list, so stop at the first ticket beyond both
             * the first warning and the countdown */
            far = !c->nsla_teams && left > horizon && due - now > REFRESH_WINDOW;
            if (!act && budget > 0 && due - now <= REFRESH_WINDOW &&
                shown_step(due - now) != shown_step(due - last)) {
                refresh(d, ids[i]);
                budget--;
            }
        }
        store_ticket_clear(&t);
        if (far)
            break;
        if (act && check_one(d, ids[i], now))
            rc = -1;
    }
    free(ids);
    return rc;
}
