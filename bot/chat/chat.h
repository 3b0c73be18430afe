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
    void *owned;                      /* chat/command.c's memory; chat_command_clear */
};

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

struct chat {
    const struct chat_ops *ops;
    chat_command_fn on_command;
    void *on_command_arg;
};

#endif
