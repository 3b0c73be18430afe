/* slack_internal.h — what the two halves of the Slack adapter share:
 * the adapter's state, the Web API call (slack_api.c) and the chat_ops
 * that post (slack_api.c), wired into the ops table by slack.c.  Private
 * to bot/chat/slack*.c. */
#ifndef VIGIL_SLACK_INTERNAL_H
#define VIGIL_SLACK_INTERNAL_H

#include <jansson.h>
#include <stdint.h>
#include <uv.h>

#include "chat/chat.h"
#include "chat/slackparse.h"
#include "core/config.h"
#include "core/http.h"

#define MAX_CONNS 4
#define RECENT 512                 /* envelope and event ids remembered for dedupe */
#define MAX_CHANNELS 16            /* channel names remembered for people */
#define HOME_USERS 32              /* App Homes kept fresh (issue 19) */

struct conn;
struct lws_context;

struct user_name { char id[32]; char *name; int asked; };
struct channel_name { char id[32]; char name[80]; };

struct slack {
    struct chat base;
    uv_loop_t *loop;
    struct lws_context *ctx;
    struct http *http;
    const struct config *cfg;
    void (*fatal)(void *arg, const char *why);
    void *fatal_arg;

    char *bot_user_id, *bot_id;
    char *team_url;              /* auth.test's workspace URL, for message links */
    struct conn *conns[MAX_CONNS];
    struct conn *current;          /* the socket envelopes are expected on */
    int opening;                   /* apps.connections.open or a connect in flight */
    int next_conn_id, attempt, link_disabled, stopping, authed;
    uv_timer_t reconnect, watchdog;
    uv_check_t after_poll;         /* ends a stall once the reads it held back are done */
    uint64_t started_ms, last_ready_ms;
    uint64_t last_tick_ns;         /* the watchdog's last run (uv_hrtime): the loop was free */
    uint64_t stall_ns;             /* a long gap the watchdog just saw, while stall_open */
    int stall_open;                /* frames read now may have waited through stall_ns */
    char state[200];

    char *recent[RECENT];          /* envelope ids and event ids already handled */
    int recent_next;
    struct user_name users[64];
    struct channel_name channels[MAX_CHANNELS];
    int next_channel;

    /* App Home (issue 19, slack_home.c): who opened it, one refresh timer */
    char home_users[HOME_USERS][32];
    int home_next, home_dirty;
    uv_timer_t home_timer;
};

#define to_slack(c) ((struct slack *)(c))

typedef void (*slack_api_fn)(struct slack *s, void *arg, const struct slack_api *r,
                             const struct http_response *h, double retry_after);

/* POSTs `body` (stolen; NULL for an empty form) to METHOD with the bot token
 * (or the app token), as JSON or as a form.  `done` runs exactly once,
 * unless this returns -1. */
int slack_api_call(struct slack *s, const char *method, json_t *body, int app_token,
                   slack_api_fn done, void *arg);

/* The chat_ops that talk to the Web API (see chat.h for each contract). */
void slack_post_ticket(struct chat *c, const char *channel, const struct ticket_view *t,
                       send_done_fn done, void *arg);
void slack_update_ticket(struct chat *c, const char *channel, const char *ref,
                         const struct ticket_view *t, send_done_fn done, void *arg);
void slack_post_thread(struct chat *c, const char *channel, const char *ref, const char *text,
                       send_done_fn done, void *arg);
void slack_update_line(struct chat *c, const char *channel, const char *ref, const char *text,
                       const char *resend, send_done_fn done, void *arg);
void slack_update_line_button(struct chat *c, const char *channel, const char *ref,
                              const char *text, const char *action, const char *ticket,
                              send_done_fn done, void *arg);
void slack_post_channel(struct chat *c, const char *channel, const char *text,
                        send_done_fn done, void *arg);
void slack_post_digest(struct chat *c, const char *channel, const struct ticket_view *v,
                       size_t n, size_t backlog, send_done_fn done, void *arg);
void slack_post_line(struct chat *c, const char *channel, const char *thread, const char *text,
                     int64_t job, send_done_fn done, void *arg);
void slack_post_alert(struct chat *c, const char *channel, const char *thread,
                      const struct chat_ping *ping, size_t nping, const char *text,
                      int64_t job, send_done_fn done, void *arg);
void slack_find_ticket_op(struct chat *c, const char *channel, int64_t id, int64_t oldest,
                          send_done_fn done, void *arg);
void slack_find_line_op(struct chat *c, const char *channel, const char *thread, int64_t job,
                        int64_t oldest, send_done_fn done, void *arg);
int slack_message_link(struct chat *c, const char *channel, const char *ref, char *out,
                       size_t len);
void slack_upload_file(struct chat *c, const char *channel, const char *filename,
                       const char *title, const char *data, size_t len, send_done_fn done,
                       void *arg);

#endif
