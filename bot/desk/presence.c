/* presence.c — who is available: /tw away and /tw back (stored, audited,
 * surviving restarts) and each staff member's shift from config.  Knows
 * the store and the config's staff; never a chat or a script. */
#include "desk/desk_internal.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "core/log.h"

static int tell(char *err, size_t errlen, int rc, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static int tell(char *err, size_t errlen, int rc, const char *fmt, ...)
{
    va_list ap;
    if (err && errlen) {
        va_start(ap, fmt);
        vsnprintf(err, errlen, fmt, ap);
        va_end(ap);
    }
    return rc;
}

int desk_presence(struct desk *d, const char *staff_id, struct desk_presence *out)
{
    const struct staff *s = config_staff(desk_config(d), staff_id);
    int64_t now = desk_now(d);
    struct presence p;
    int rc;

    memset(out, 0, sizeof *out);
    if (!s)
        return DESK_NOTFOUND;
    out->on_shift = shift_contains_time(&s->shift, now, desk_utc_offset(d, now));
    rc = store_presence_get(desk_store(d), staff_id, &p);
    if (rc == STORE_ERR)
        return DESK_ERR;
    /* an absence whose end has passed is over: nobody has to say "back" */
    if (rc == STORE_OK && (!p.until || p.until > now)) {
        out->away = 1;
        out->until = p.until;
        out->since = p.since;
        snprintf(out->reason, sizeof out->reason, "%s", p.reason ? p.reason : "");
    }
    store_presence_clear(&p);
    out->available = out->on_shift && !out->away;
    return DESK_OK;
}

int desk_set_away(struct desk *d, const char *actor, const char *staff_id, const char *reason,
                  int64_t until, char *err, size_t errlen)
{
    const struct staff *s = config_staff(desk_config(d), staff_id);
    struct store *st = desk_store(d);
    int64_t now = desk_now(d);
    struct presence p = { .staff_id = (char *)staff_id, .reason = (char *)reason,
                          .set_by = (char *)actor, .until = until, .since = now };
    char detail[400];

    if (!s)
        return tell(err, errlen, DESK_INVALID, "%s is not on the support staff.", staff_id);
    if (until && until <= now)
        return tell(err, errlen, DESK_INVALID, "That time has already passed.");
    if (reason && strlen(reason) > 200)
        return tell(err, errlen, DESK_INVALID, "Keep the reason under 200 bytes.");
    snprintf(detail, sizeof detail, "%s%s%s", staff_id, reason && *reason ? ": " : "",
             reason ? reason : "");
    if (until) {
        size_t off = strlen(detail);
        snprintf(detail + off, sizeof detail - off, " (until %lld)", (long long)until);
    }
    if (store_begin(st))
        return tell(err, errlen, DESK_ERR, "the store is not available (see log)");
    if (store_presence_set(st, &p) || store_event_append(st, 0, actor, "away", detail, now) ||
        store_commit(st)) {
        store_rollback(st);
        return tell(err, errlen, DESK_ERR, "could not save the change (see log)");
    }
    log_info("staff away", "staff=%s by=%s until=%lld", staff_id, actor, (long long)until);
    return DESK_OK;
}

int desk_set_back(struct desk *d, const char *actor, const char *staff_id, char *err,
                  size_t errlen)
{
    struct store *st = desk_store(d);
    int rc;

    if (!config_staff(desk_config(d), staff_id))
        return tell(err, errlen, DESK_INVALID, "%s is not on the support staff.", staff_id);
    if (store_begin(st))
        return tell(err, errlen, DESK_ERR, "the store is not available (see log)");
    rc = store_presence_del(st, staff_id);
    if (rc == STORE_NOTFOUND) {
        store_rollback(st);
        return tell(err, errlen, DESK_INVALID, "%s was not away.",
                    desk_staff_name(d, staff_id));
    }
    if (rc || store_event_append(st, 0, actor, "back", staff_id, desk_now(d)) ||
        store_commit(st)) {
        store_rollback(st);
        return tell(err, errlen, DESK_ERR, "could not save the change (see log)");
    }
    log_info("staff back", "staff=%s by=%s", staff_id, actor);
    return DESK_OK;
}
