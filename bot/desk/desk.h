/* desk.h — the help desk: tickets, their audit trail, and the durable jobs
 * that show them in chat and answer customers.  Knows the store and the chat
 * and source interfaces; never Slack's or X's wire formats. */
#ifndef VIGIL_DESK_H
#define VIGIL_DESK_H

#include <stddef.h>
#include <stdint.h>
#include <uv.h>

#include "core/config.h"
#include "source/mention.h"
#include "store/store.h"

struct desk;
struct chat;
struct source;
struct source_usage;
struct source_text;

enum desk_rc {
    DESK_OK = 0,
    DESK_ERR = 1,        /* store failure; logged, nothing changed */
    DESK_INVALID = 2,    /* refused; `err` holds the message for the user */
    DESK_NOTFOUND = 3,   /* no such ticket; `err` says so */
    DESK_HELD = 4,       /* issue 18: kept, not sent (collision, approval); `err` says why */
};

/* What changed, for observers (admin :tail, tests). */
enum desk_event_kind { DESK_EV_TICKET, DESK_EV_MENTION, DESK_EV_JOB, DESK_EV_SLA };

/* What an SLA hook is told (issue 17): which target, when it is due, and
 * how many business seconds are left (0 at a breach); a warning's offset
 * (sla.warn's entry it is for; 0 at a breach). */
struct desk_sla {
    const char *target;      /* "first_response" | "follow_up" */
    int64_t due_at, left, warn;
};

/* Script hooks (the Lua runtime installs them).  Each returns 0, or -1 to
 * report that the hook failed (logged by the hook; ingest goes on). */
struct desk_hooks {
    /* Runs inside the ingest transaction, after the ticket exists. */
    int (*on_mention)(void *arg, int64_t ticket_id, const struct mention *m, int is_new);
    int (*on_sla_warning)(void *arg, int64_t ticket_id, const struct desk_sla *sla);
    /* Returns 1 when the hook handled the breach itself; 0 lets the desk
     * apply the default (escalate with "first-response target missed"). */
    int (*on_sla_breach)(void *arg, int64_t ticket_id, const struct desk_sla *sla);
    void *arg;
};

typedef void (*desk_observer_fn)(void *arg, enum desk_event_kind kind, int64_t ticket_id,
                                 const char *what, const char *detail);

/* Borrows store and config (they outlive the desk). */
struct desk *desk_new(uv_loop_t *loop, struct store *store, const struct config *cfg);
void desk_free(struct desk *d);
/* Wires the adapters the outbox sends through; borrowed. */
void desk_set_adapters(struct desk *d, struct chat *chat, struct source *source);
void desk_set_hooks(struct desk *d, const struct desk_hooks *hooks);
void desk_set_observer(struct desk *d, desk_observer_fn fn, void *arg);
/* Starts the outbox scheduler and the SLA clock. */
int desk_start(struct desk *d);
/* Stops taking new work: no new sends start; in-flight ones may finish. */
void desk_stop(struct desk *d);
/* Number of sends in flight (shutdown waits for 0, bounded). */
int desk_inflight(struct desk *d);

struct store *desk_store(struct desk *d);
const struct config *desk_config(struct desk *d);
int64_t desk_now(struct desk *d);
/* Tests move the desk's clock; 0 returns to the real one. */
void desk_set_clock(struct desk *d, int64_t fixed_now);
/* The desk's one time zone (sla.hours.timezone, UTC unless set), which
 * shifts, "/tw away … 14:00", stats by hour and "today" read: its offset
 * east of UTC at `at`, the local date and clock of `at` (as gmtime_r
 * fills a struct tm), and the instant its clocks show `local` (see
 * hours_local_instant).  The process's TZ plays no part. */
struct tm;
int desk_utc_offset(struct desk *d, int64_t at);
void desk_local_time(struct desk *d, int64_t at, struct tm *out);
int64_t desk_local_instant(struct desk *d, const struct tm *local);
/* The config's SLA policy was reloaded (SIGHUP): rebuild the business-hours
 * calendars and bring the waiting tickets' due times up to date. */
void desk_sla_reload(struct desk *d);
/* Steps the wall clock vigil reads by `seconds` (as `date -s` or an NTP
 * step would), the monotonic one not: for tests of clock steps. */
void desk_step_clock(struct desk *d, int64_t seconds);

/* --- ingest ------------------------------------------------------------ */
struct ingest_stats {
    int stored, opened, attached, edited, skipped, duplicates;
};
/* In ONE transaction: stores each new mention of `page` (deduped by id and
 * by original id), opens or attaches tickets, runs on_mention, queues the
 * chat jobs, and sets `source`'s cursor to `cursor` (when not NULL).
 * Returns DESK_OK when committed; on error nothing is stored. */
int desk_ingest(struct desk *d, const char *source, const struct mention_page *page,
                const char *cursor, struct ingest_stats *stats);

/* --- ticket operations -------------------------------------------------
 * `actor` is a staff id (or "system", "hook:<name>").  Each validates,
 * updates the ticket, appends to the audit log and queues what it must show
 * or send, in one transaction.  On DESK_INVALID/NOTFOUND `err` holds a
 * message for the user. */
int desk_assign(struct desk *d, const char *actor, int64_t id, const char *staff_id,
                char *err, size_t errlen);
int desk_unassign(struct desk *d, const char *actor, int64_t id, char *err, size_t errlen);
/* `text` is the final public text (signature included). */
int desk_reply(struct desk *d, const char *actor, int64_t id, const char *text,
               char *err, size_t errlen);
int desk_dm(struct desk *d, const char *actor, int64_t id, const char *text,
            char *err, size_t errlen);
/* A DM that, once X confirmed it, is followed by the public reply of the
 * canned answer `dm_notice` (filled in: {handle}, {name}, {ticket}, {code});
 * if it fails, the thread offers `dm_ask` instead; nothing public goes out. */
int desk_dm_notice(struct desk *d, const char *actor, int64_t id, const char *text,
                   char *err, size_t errlen);
/* Queues the ticket's last failed reply or DM again: the same job (its id
 * and X's duplicate check carry through), with `text` instead when not
 * NULL.  On DESK_OK `err` holds "reply" or "dm": what was resent. */
int desk_resend(struct desk *d, const char *actor, int64_t id, const char *text,
                char *err, size_t errlen);
/* issue 18: desk_reply with `flags`: DESK_REPLY_FORCE goes past the
 * collision guard (reply!, Send anyway).  Without it, a reply to a ticket
 * assigned to someone else, or within reply.collision_window seconds of
 * another agent's reply, is held (DESK_HELD, committed): `err` says what
 * the other agent did and how to send it anyway. */
#define DESK_REPLY_FORCE 1
int desk_reply_as(struct desk *d, const char *actor, int64_t id, const char *text, int flags,
                  char *err, size_t errlen);
/* Sends `actor`'s reply held by the collision guard (Send anyway): it
 * goes as any reply (the undo window applies).  On DESK_OK `err` holds
 * its text. */
int desk_send_held(struct desk *d, const char *actor, int64_t id, char *err, size_t errlen);
/* issue 18, approval (approval.roles / approval.people): their replies are
 * drafts (desk_reply_as answers DESK_HELD).  A lead approves the ticket's
 * draft, with `text` instead when not NULL (edited), and it goes as any
 * reply (the undo window applies; on DESK_OK `err` holds its text); or
 * rejects it, with `reason` (may be NULL) told to its author in the
 * ticket's thread.  Both audited with who decided. */
int desk_approve(struct desk *d, const char *actor, int64_t id, const char *text, char *err,
                 size_t errlen);
int desk_reject(struct desk *d, const char *actor, int64_t id, const char *reason, char *err,
                size_t errlen);
/* issue 18: cancels the ticket's reply or DM still in its undo window
 * (reply.hold): nothing reaches X, the receipt line says who undid it.
 * On DESK_OK `err` holds "reply" or "dm"; DESK_INVALID says why not (sent
 * already: unsend takes a reply back). */
int desk_undo(struct desk *d, const char *actor, int64_t id, char *err, size_t errlen);
/* issue 18: deletes the ticket's last sent public reply on X (through the
 * outbox: retried on 5xx, not on 4xx), for a lead or the reply's author;
 * audited, the receipt line says who deleted it.  On DESK_OK `err` holds
 * the reply's link; DESK_INVALID says why not. */
int desk_unsend(struct desk *d, const char *actor, int64_t id, char *err, size_t errlen);
int desk_note(struct desk *d, const char *actor, int64_t id, const char *text,
              char *err, size_t errlen);
int desk_escalate(struct desk *d, const char *actor, int64_t id, const char *reason,
                  char *err, size_t errlen);
int desk_close(struct desk *d, const char *actor, int64_t id, char *err, size_t errlen);
int desk_reopen(struct desk *d, const char *actor, int64_t id, char *err, size_t errlen);
int desk_tag(struct desk *d, const char *actor, int64_t id, const char *tag,
             char *err, size_t errlen);
int desk_set_priority(struct desk *d, const char *actor, int64_t id, const char *priority,
                      char *err, size_t errlen);
/* Whether `priority` is one a ticket can have (low, normal, high, urgent). */
int desk_priority_known(const char *priority);
/* Appends an audit event with no other effect (denials, script errors). */
int desk_audit(struct desk *d, int64_t ticket_id, const char *actor, const char *action,
               const char *detail);
/* Posts `text` to a channel through the outbox (e.g. admin notices). */
int desk_post_channel(struct desk *d, const char *channel, const char *text);
/* Shares `len` bytes as a file in `channel` (issue 17 §7: /tw export), now
 * and not through the outbox: a report asked for again is cheaper than one
 * kept across restarts.  A failure is said in the channel and the log.
 * DESK_INVALID when the chat takes no files. */
int desk_upload_file(struct desk *d, const char *channel, const char *filename,
                     const char *title, const char *data, size_t len);
/* A link to a ticket's chat message (chat_channel, chat_ref) into `out`;
 * 0 when the chat could make one. */
int desk_chat_link(struct desk *d, const char *channel, const char *ref, char *out, size_t len);

/* One-line states of the chat and the source adapters (borrowed; "" when
 * none is wired). */
const char *desk_chat_state(struct desk *d);
const char *desk_source_state(struct desk *d);
/* Today's (UTC) billed usage of the source, priced; -1 when the source
 * counts nothing (replay). */
int desk_source_usage(struct desk *d, struct source_usage *u);

/* The source's public link to post `id` by `handle` in `out` (`len`
 * bytes).  Returns 0, or -1 with out = "" when there is none (no source
 * wired, or the id has no link). */
int desk_permalink(struct desk *d, const char *handle, const char *id, char *out, size_t len);
/* How the source would count `text` (`len` bytes) before posting it.
 * Returns 0, or -1 on allocation failure or when no source can tell. */
int desk_check_text(struct desk *d, const char *text, size_t len, struct source_text *out);

/* The ticket lists people ask for by name, the default ("open") first;
 * NULL-terminated, static. */
const char *const *desk_ticket_filters(void);
/* The same as words for a message: "open, mine, ... closed or all".  Static. */
const char *desk_ticket_filter_names(void);
/* Ticket ids of list `filter` (one of desk_ticket_filters(); "mine" is
 * the open tickets assigned to `self`), newest first, at most `limit`.
 * Returns DESK_OK with `*ids` new (caller frees with free(); NULL when
 * empty) and `*n` set, or DESK_INVALID for an unknown filter. */
int desk_ticket_list(struct desk *d, const char *filter, const char *self, size_t limit,
                     int64_t **ids, size_t *n);

/* A staff member's App Home (issue 19, home.c): `user`'s open tickets,
 * the unassigned queue by time left to the target, the tickets about to
 * miss it (within sla.warn_before), today's figures.  Fills `out`
 * (out->release frees); returns 0, or -1 when the store fails. */
struct chat_home;
int desk_home(struct desk *d, const char *user, struct chat_home *out);

/* A ticket's status as people see it: "new", "assigned", "escalated" or
 * "closed".  Static string. */
const char *desk_ticket_status(const struct ticket *t);

/* The chat destinations refusing every post right now, one per line:
 * "not_in_channel #support since 2026-12-05T21:03:04Z" (written to `buf`;
 * "" when none).  Returns `buf`. */
const char *desk_blocked(struct desk *d, char *buf, size_t len);

/* Seconds the oldest queued or in-flight outbox job has waited; 0 when
 * nothing waits, -1 when the store cannot tell. */
int64_t desk_outbox_waiting(struct desk *d);

/* Display name of a staff id (or the id itself when unknown).  Borrowed. */
const char *desk_staff_name(struct desk *d, const char *id);

/* --- presence (desk/presence.c) ----------------------------------------- */
struct desk_presence {
    int away;             /* said /tw away, and its `until` has not passed */
    int on_shift;         /* inside staff[].shift now (always, without one) */
    int available;        /* on shift and not away */
    int64_t until, since; /* of the absence; until 0: until /tw back */
    char reason[256];
};
/* Fills `out` for staff member `staff_id` at the desk's now; DESK_NOTFOUND
 * when not on staff, DESK_ERR when the store failed. */
int desk_presence(struct desk *d, const char *staff_id, struct desk_presence *out);
/* Marks `staff_id` away (reason may be NULL; until 0: until back), audited
 * as "away" by `actor`, in one transaction.  DESK_INVALID with `err` for
 * someone not on staff or an `until` in the past. */
int desk_set_away(struct desk *d, const char *actor, const char *staff_id, const char *reason,
                  int64_t until, char *err, size_t errlen);
/* Ends the absence (audited "back"); DESK_INVALID when they were not away. */
int desk_set_back(struct desk *d, const char *actor, const char *staff_id, char *err,
                  size_t errlen);

/* --- SLA and outbox (desk/sla.c, desk/outbox.c) ------------------------ */
/* Checks every open ticket without a first response; emits warnings and
 * breaches that are due at `now`.  Idempotent. */
int desk_sla_check(struct desk *d);
/* Runs whatever outbox jobs are due now (the scheduler calls it). */
void desk_outbox_kick(struct desk *d);

#endif
