/* chat.h — the chat interface the desk talks to: how a ticket, a thread
 * line or a channel message gets shown to the team, and how commands come
 * back (struct chat_command, with no chat markup left).  Implementations:
 * chat/console.c (offline) and Slack (chat/slack.c, the socket, with
 * chat/slack_api.c, the Web API). */
#ifndef VIGIL_CHAT_H
#define VIGIL_CHAT_H

#include <stddef.h>
#include <stdint.h>

#include "core/send.h"

/* Everything a chat adapter needs to render a ticket message.  Built by the
 * desk; every string borrowed for the duration of the call. */
struct ticket_view {
    int64_t id;
    const char *status;          /* "new" | "assigned" | "escalated" | "closed" */
    const char *customer_handle; /* without @ */
    const char *customer_name;
    const char *text;            /* the opening tweet, raw (adapters escape) */
    const char *tweet_id;
    const char *tweet_url;       /* https://x.com/<handle>/status/<id> */
    const char *assignee_name;   /* NULL when unassigned */
    const char *tags;            /* comma-separated, may be "" */
    const char *priority;
    int64_t tweeted_at, sla_due_at, first_response_at;   /* Unix seconds; 0 = none */
    int mentions;                /* tweets in the ticket so far */
    int injected;                /* from :inject, not from X */
    /* The SLA target whose clock runs (issue 17): "first response" or
     * "next response" (after a customer's follow-up); sla_due_at is its
     * due time.  NULL: none runs (answered, closed, or not told). */
    const char *sla_target;
    /* issue 17 §6; raw, untrusted (adapters escape); NULL when none */
    const char *lang;            /* the tweet's language as X tagged it ("en", "und") */
    const char *quote_text, *quote_author;   /* the post it quotes, and its author's handle */
    const char *media;           /* media links, one per line */
    int64_t earlier;             /* the customer's tickets before this one */
};

/* A teammate a command names, as the chat identified them (Slack's
 * <@U123|alice>); the command's text says "@alice".  `id` is the chat's
 * user id, which is the staff id (config's staff[].id).  Borrowed. */
struct chat_person {
    const char *id;
    const char *name;
};

/* Forms (issue 19): the inputs a command script declares (`form = {…}`),
 * which a chat shows as it can (Slack: a modal; the console: one prompt
 * per field) and hands back as chat_field_value pairs on the command. */
enum chat_field_kind {
    CHAT_FIELD_TEXT,     /* free text; `max` bounds it */
    CHAT_FIELD_CHOICE,   /* one of `options` */
    CHAT_FIELD_FLAG,     /* yes or no; its value is "1" or "" */
    CHAT_FIELD_STAFF,    /* one of `options`, which are staff ids named by `labels` */
};

struct chat_field {
    char *name, *label;
    enum chat_field_kind kind;
    int max;             /* text: at most this many characters; 0: no limit */
    int weighted;        /* max is counted as X counts a reply (280, weighted) */
    int optional;
    char *from;          /* choice: where the options came from ("canned"); may be NULL */
    char *fills;         /* choice: it fills that text field in (canned text), and is
                            no argument itself; may be NULL */
    char *verb;          /* flag: when set, the form runs this command instead
                            (reply's "send as DM": dm); may be NULL */
    char **options;      /* values (staff: ids) */
    char **labels;       /* what each option shows; same count */
    size_t noptions;
};

/* A command's form, with choices resolved for the user who opens it.
 * Owned whole: free with chat_form_free (chat/command.h). */
struct chat_form {
    char *verb, *title;
    struct chat_field *fields;
    size_t nfields;
};

/* One submitted field: name and value, both borrowed for the call. */
struct chat_field_value {
    const char *name;
    const char *value;
};

/* A command, as the chat adapter hands it over: already split, with no
 * chat markup left ("/tw assign 12 <@U2|bob>" arrives as verb "assign",
 * argv {"12", "@bob"}, and people saying @bob is U2).  Typed lines go
 * through chat_command_parse (chat/command.h); buttons fill verb and args
 * directly.  Borrowed for the duration of the call. */
struct chat_command {
    const char *user_id;              /* who: the chat's user id (= staff id) */
    const char *channel;
    const char *verb;                 /* "assign", lower case; NULL: not a command */
    const char *args;                 /* the text after the verb, as typed: "12 @bob" */
    const char *const *argv;          /* args in words: {"12", "@bob"} */
    size_t argc;
    const char *raw;                  /* the whole line, for logs and the audit trail */
    int64_t ticket;                   /* the ticket whose button was pressed; 0: typed */
    const struct chat_person *people; /* who each "@name" in args is; may be NULL */
    size_t npeople;
    const struct chat_field_value *fields;  /* a submitted form (ctx.form); may be NULL */
    size_t nfields;
    int *failed;                      /* not NULL: set to 1 when the command failed */
    void *owned;                      /* chat/command.c's memory; chat_command_clear */
};

/* Someone a line of vigil's own notifies (issue 17): a person (a staff id,
 * which is the chat's user id) or a group (Slack's user group id "S0123").
 * Only the desk builds these, from config (a ticket's assignee, sla.notify),
 * never from text: a tweet, a name or anything typed reaches chat as text,
 * which adapters escape, so it can never notify anyone.  `name` is for
 * people reading a terminal.  Borrowed for the duration of the call. */
struct chat_ping {
    const char *id;
    const char *name;
};
#define CHAT_MAX_PINGS 16

/* Returns the immediate answer for the user (new string, the adapter frees
 * it with free()), or NULL for none. */
typedef char *(*chat_command_fn)(void *arg, const struct chat_command *cmd);

struct chat;

struct chat_ops {
    const char *name;
    int (*start)(struct chat *c);
    /* Stop taking input; pending sends may still complete or be dropped
     * (the outbox keeps them queued). */
    void (*stop)(struct chat *c);
    void (*destroy)(struct chat *c);
    void (*post_ticket)(struct chat *c, const char *channel, const struct ticket_view *t,
                        send_done_fn done, void *arg);
    void (*update_ticket)(struct chat *c, const char *channel, const char *ref,
                          const struct ticket_view *t, send_done_fn done, void *arg);
    void (*post_thread)(struct chat *c, const char *channel, const char *ref,
                        const char *text, send_done_fn done, void *arg);
    void (*post_channel)(struct chat *c, const char *channel, const char *text,
                         send_done_fn done, void *arg);
    /* One-line state for :status ("connected since …"); borrowed. */
    const char *(*state)(struct chat *c);
    /* Optional: looks for the message already posted for ticket `id` (after
     * a crash or a timeout) among the channel's newest messages since
     * `oldest` (Unix seconds; bounded: a rare fallback, never a scan);
     * done() gets SEND_OK with its ref, SEND_FAIL when there is none, or
     * SEND_RETRY when it could not look.  NULL when the chat cannot tell. */
    void (*find_ticket)(struct chat *c, const char *channel, int64_t id, int64_t oldest,
                        send_done_fn done, void *arg);
    /* Optional: one message listing `n` new tickets while `backlog` wait
     * (digest mode); done() gets the digest message's ref.  NULL: never. */
    void (*post_digest)(struct chat *c, const char *channel, const struct ticket_view *v,
                        size_t n, size_t backlog, send_done_fn done, void *arg);
    /* Optional: rewrites a line posted with post_thread (ref: what that
     * post's done() got), e.g. a reply's receipt going queued -> sent.
     * `resend` not NULL adds a Resend button for ticket `resend` ("42").
     * NULL: the outbox posts the new text as a new thread line. */
    void (*update_line)(struct chat *c, const char *channel, const char *ref,
                        const char *text, const char *resend, send_done_fn done, void *arg);
    /* Optional: post_thread (under `thread`) or post_channel (`thread`
     * NULL) marked as outbox job `job`, so that find_line can tell later
     * whether it was posted.  NULL: the plain calls are used. */
    void (*post_line)(struct chat *c, const char *channel, const char *thread,
                      const char *text, int64_t job, send_done_fn done, void *arg);
    /* Optional: looks for the line of job `job` (posted with post_line)
     * under `thread` (NULL: the channel) since `oldest`; bounded like
     * find_ticket, with the same answers. */
    void (*find_line)(struct chat *c, const char *channel, const char *thread, int64_t job,
                      int64_t oldest, send_done_fn done, void *arg);
    /* Optional (issue 18): update_line with buttons under the line:
     * `action` names them ("undo", "approve,edit,reject") for ticket
     * `ticket` ("42"), each pressed as its command.  NULL: the outbox
     * calls update_line without them. */
    void (*update_line_button)(struct chat *c, const char *channel, const char *ref,
                               const char *text, const char *action, const char *ticket,
                               send_done_fn done, void *arg);
    /* Optional (issue 19): tickets changed; a chat that shows an App Home
     * refreshes it soon (coalesced, never once per change). */
    void (*home_changed)(struct chat *c);
    /* Optional: post_line that notifies `ping[0..nping)` (an alert: an SLA
     * warning, a breach, an assignment or escalation notice).  `text` is escaped like any line; the ping is
     * the only markup, made from ids of the chat's own shape (others are
     * dropped).  NULL: the line is posted without notifying. */
    void (*post_alert)(struct chat *c, const char *channel, const char *thread,
                       const struct chat_ping *ping, size_t nping, const char *text,
                       int64_t job, send_done_fn done, void *arg);
    /* Optional (issue 17 §7, /tw export): shares `len` bytes of `data` as
     * a file `filename` titled `title` in `channel`; done() once, SEND_OK
     * with the file's id.  NULL: the chat takes no files. */
    void (*upload_file)(struct chat *c, const char *channel, const char *filename,
                        const char *title, const char *data, size_t len, send_done_fn done,
                        void *arg);
    /* Optional (issue 17 §5, /tw find): a link to the message `ref` in
     * `channel` into `out`; 0 when it could make one.  NULL: no links. */
    int (*message_link)(struct chat *c, const char *channel, const char *ref, char *out,
                        size_t len);
};

/* A staff member's App Home (issue 19), built by the desk: lists of
 * ticket views (each newest-first but the queue, which is by time left to
 * the first-response target) and today's figures (since 00:00 UTC).
 * Everything borrowed until release(h) is called. */
struct chat_home {
    const struct ticket_view *mine, *queue, *breaching;
    size_t nmine, nqueue, nbreaching;
    long long open, unassigned, opened_today, answered_today, in_target_today;
    long long now;                   /* Unix seconds the lists were read at */
    void (*release)(struct chat_home *h);
    void *owned;
};
/* Fills `out` for `user`; returns 0, or -1 (nothing to release). */
typedef int (*chat_home_fn)(void *arg, const char *user, struct chat_home *out);

/* The form of `verb` for `user` (new, chat_form_free), or NULL when the
 * command declares none. */
typedef struct chat_form *(*chat_form_fn)(void *arg, const char *verb, const char *user);
/* X's weighted length of `text` (a reply's "N/280"). */
typedef int (*chat_measure_fn)(const char *text);
/* The ticket whose message is `ref` in `channel` (a thread's parent), 0 if
 * none; and whether `verb` is a command, for lines typed in its thread. */
typedef int64_t (*chat_ticket_fn)(void *arg, const char *channel, const char *ref);
typedef int (*chat_verb_fn)(void *arg, const char *verb);

struct chat {
    const struct chat_ops *ops;
    chat_command_fn on_command;
    void *on_command_arg;
    chat_form_fn form_of;            /* optional; called with on_command_arg */
    chat_measure_fn measure;         /* optional */
    chat_ticket_fn ticket_of;        /* optional; called with on_command_arg */
    chat_verb_fn has_verb;           /* optional; called with on_command_arg */
    chat_home_fn home_of;            /* optional; called with on_command_arg */
};

#endif
