/* desk_internal.h — state shared by desk.c, outbox.c and sla.c; nothing
 * outside bot/desk/ includes it. */
#ifndef VIGIL_DESK_INTERNAL_H
#define VIGIL_DESK_INTERNAL_H

#include "core/send.h"
#include "desk/desk.h"

#define DESK_MAX_TARGETS 16

struct inflight {
    struct desk *d;
    int64_t job_id;
    char target[64];
    int used;
    /* An outcome the store refused to record (a lock, a full disk) is kept
     * here and retried until it is recorded; the slot stays used meanwhile,
     * so the target is busy and the job, still "inflight" in the store, is
     * never handed out again: a DM is sent once, not once per retry. */
    int unrecorded;
    enum send_status status;
    char *ref, *error;          /* owned copies of the send_result's */
    double retry_after, blocked_delay;
    int64_t *jobs;              /* the job ids still to record (a digest: several) */
    size_t njobs;
    int digest, retries;
    int64_t retry_at_ms;
};

/* A target that refuses every send until a person fixes it (SEND_BLOCKED):
 * one "episode" from the first refusal to the next success. */
struct blocked {
    char target[64];
    char error[48];          /* "not_in_channel" */
    char where[80];          /* "#support" */
    int tries;               /* refusals in this episode (the backoff's step) */
    int told;                /* the escalations channel was told */
    int64_t since_ms;
};

struct desk {
    uv_loop_t *loop;
    struct store *store;
    const struct config *cfg;
    struct chat *chat;
    struct source *source;
    struct desk_hooks hooks;
    desk_observer_fn observer;
    void *observer_arg;
    int64_t fixed_now;
    int64_t wall_step;       /* desk_step_clock: seconds added to the wall clock */
    int64_t clock_off;       /* wall - monotonic (ms) when the outbox last looked */
    int clock_off_set;

    uv_timer_t outbox_timer, sla_timer;
    int started, stopping;
    struct inflight inflight[DESK_MAX_TARGETS];
    struct { char target[64]; int64_t last_ms; } rate[DESK_MAX_TARGETS];
    struct blocked blocked[DESK_MAX_TARGETS];
    int backlog_told;        /* the admins were told a job waits past outbox.alert_after */
    /* SLA policy (issue 17, sla.c) */
    struct hours *hours;     /* sla.hours */
    struct hours **team_hours;   /* sla.teams, in config order */
    size_t nteam_hours;          /* how many were built (a reload may change the config's) */
    int64_t sla_last_tick;   /* when desk_sla_check last ran: which "due in" steps passed */
};

int64_t desk_now_ms(struct desk *d);
/* Milliseconds on the monotonic clock (uv_hrtime): for intervals (rate
 * limits, waits), which a wall-clock step must not stretch or shrink.
 * Follows desk_set_clock when that is set. */
int64_t desk_mono_ms(struct desk *d);
void desk_notify(struct desk *d, enum desk_event_kind kind, int64_t ticket_id,
                 const char *what, const char *detail);
/* Queues a job; `payload` is a JSON object (stolen, may be NULL). */
int desk_queue(struct desk *d, const char *kind, const char *target, int64_t ticket_id,
               void *payload);
/* desk_queue that returns the new job's id (-1 on error). */
int64_t desk_queue_job(struct desk *d, const char *kind, const char *target, int64_t ticket_id,
                       void *payload);
/* Queues the rewrite of receipt line `line` (the ticket.thread job that
 * posted it) to `text`, with a Resend button when `resend`. */
int desk_queue_receipt(struct desk *d, const struct ticket *t, int64_t line, const char *text,
                       int resend);
/* desk_queue_receipt with a button under the line (`button`: "undo"; NULL
 * for none). */
int desk_queue_receipt_button(struct desk *d, const struct ticket *t, int64_t line,
                              const char *text, int resend, const char *button);
/* The common tail of every change to a ticket: stamps and stores `t`,
 * appends the audit event (`actor`, `action`, `detail`), queues
 * `thread_line` (when not NULL) in its chat thread and a refresh of its
 * message.  Runs inside the caller's transaction.  DESK_OK or DESK_ERR. */
int desk_record_change(struct desk *d, struct ticket *t, const char *actor, const char *action,
                       const char *detail, const char *thread_line, int64_t now);
/* Queues a line in the ticket's chat thread. */
int desk_queue_thread(struct desk *d, const struct ticket *t, const char *text);
/* Queues a refresh of the ticket's chat message (coalesced). */
int desk_queue_update(struct desk *d, const struct ticket *t);
const char *desk_chat_target(struct desk *d, const char *channel, char *buf, size_t len);

/* Runs the scheduler on the next loop turn (after the current transaction). */
void desk_outbox_kick_later(struct desk *d);
void outbox_init(struct desk *d);
void outbox_recover(struct desk *d);
void outbox_close(struct desk *d);
/* Frees outcomes never recorded (the jobs run again at the next start). */
void outbox_forget(struct desk *d);
/* issue 18, the undo window (outbox.c).  outbox_hold: public send `job`,
 * just queued with receipt line `line` (showing `text`), waits
 * reply.hold seconds, and the line gets an Undo button.  outbox_undo:
 * cancels the ticket's send still waiting (on DESK_OK `err` holds
 * "reply" or "dm"), or says why it cannot.  Both inside the caller's
 * transaction. */
int outbox_hold(struct desk *d, const struct ticket *t, int64_t job, int64_t line,
                const char *text);
int outbox_undo(struct desk *d, struct ticket *t, const char *actor, char *err, size_t errlen,
                int64_t now);
/* issue 18, unsend (outbox.c): queues the deletion on X of the ticket's
 * last sent reply, for a lead or its author (on DESK_OK `err` holds its
 * link), or says why not.  Inside the caller's transaction. */
int outbox_unsend(struct desk *d, struct ticket *t, const char *actor, char *err, size_t errlen,
                  int64_t now);
/* issue 18, the collision guard (outbox.c).  outbox_collision: 1 when a
 * reply by `actor` to `t` at `now` collides (the ticket is someone else's,
 * or another agent replied within reply.collision_window), with what the
 * other did in `why`; 0 when not (or the guard is off).  outbox_park:
 * public send `job` (receipt line `line` showing `text`) is kept, not
 * sent, with a Send anyway button (`draft`: as a draft, with Approve,
 * Edit and Reject).  outbox_send_held: sends the actor's
 * held reply (on DESK_OK `err` holds its text).  Inside the caller's
 * transaction. */
int outbox_collision(struct desk *d, const struct ticket *t, const char *actor, int64_t now,
                     char *why, size_t len);
int outbox_park(struct desk *d, const struct ticket *t, int64_t job, int64_t line,
                const char *text, int draft);
/* issue 18, approval (outbox.c): see desk_approve and desk_reject. */
int outbox_approve(struct desk *d, struct ticket *t, const char *actor, const char *text,
                   char *err, size_t errlen, int64_t now);
int outbox_reject(struct desk *d, struct ticket *t, const char *actor, const char *reason,
                  char *err, size_t errlen, int64_t now);
int outbox_send_held(struct desk *d, struct ticket *t, const char *actor, char *err,
                     size_t errlen, int64_t now);
void sla_init(struct desk *d);
void sla_close(struct desk *d);

/* --- SLA policy (issue 17, sla.c) --- */
/* Builds the calendars of sla.hours and sla.teams; -1 (logged) when one
 * cannot be (a zone the tz database lacks). */
int sla_open(struct desk *d);
void sla_free(struct desk *d);
/* Sets `t`'s due times from its stored clock starts (tweeted_at,
 * followup_at) and the calendar of its team (its first tag naming one in
 * sla.teams) or sla.hours: derived, never counted, so a restart, a pause
 * or a new tag cannot lose time. */
void sla_restamp(struct desk *d, struct ticket *t);
/* A customer's follow-up tweeted `at`: the next-response clock starts
 * there unless an earlier unanswered follow-up holds it (it runs once the
 * first response is in; sla_restamp sets its due time). */
void sla_follow_up(struct ticket *t, int64_t at);
/* X confirmed at `at` a reply queued at `queued_at`: the first response,
 * and the answer to a follow-up tweeted before the reply was written (a
 * later one keeps its clock).  Returns 1 when `t` changed. */
int sla_answered(struct ticket *t, int64_t at, int64_t queued_at);
/* The target whose clock runs on `t` ("first response" / "next
 * response"), its due time in *due; NULL (and *due the first-response
 * due time) when none runs. */
const char *sla_running(const struct ticket *t, int64_t *due);
/* Who an alert on `t` notifies: its assignee, else sla.notify.  New JSON
 * array of {id, name} (a json_t *), NULL when there is no one to notify. */
void *sla_ping(struct desk *d, const struct ticket *t);
/* The on-duty group alone (sla.notify), as sla_ping: what an escalation
 * post notifies.  New JSON array, NULL when sla.notify is empty. */
void *sla_group_ping(struct desk *d);
/* desk_queue_thread for an alert: `ping` (a JSON array of {id, name},
 * stolen, may be NULL) says who it notifies; only sla.c builds one. */
int desk_queue_alert(struct desk *d, const struct ticket *t, const char *text, void *ping);

#endif
