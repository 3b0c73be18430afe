/* slack.h — the Slack chat adapter: Socket Mode over libwebsockets for
 * commands and buttons, the Web API over libcurl for ticket messages. */
#ifndef VIGIL_SLACK_H
#define VIGIL_SLACK_H

#include <uv.h>

#include "chat/chat.h"
#include "core/config.h"
#include "core/http.h"

struct lws_context;
struct lws_protocols;

/* The websocket protocol table to create the lws context with. */
const struct lws_protocols *slack_ws_protocols(void);

/* Borrows everything.  `fatal` is called when vigil must exit non-zero
 * (bad credentials at start, or Slack unreachable past slack.give_up_after).
 * Returns new, destroyed with ops->destroy. */
struct chat *slack_new(uv_loop_t *loop, struct lws_context *ws, struct http *http,
                       const struct config *cfg, void (*fatal)(void *arg, const char *why),
                       void *fatal_arg);

#endif
