/* slack_home.h — the App Home tab (issue 19); see slack_home.c.  Private to
 * bot/chat/slack*.c. */
#ifndef VIGIL_SLACK_HOME_H
#define VIGIL_SLACK_HOME_H

#include <jansson.h>
#include <stddef.h>

#include "chat/slack_internal.h"

/* The Home view of `h` (borrowed): today's figures, then the tickets about
 * to miss their target, the user's own, the unassigned queue, each row
 * with its buttons, never more than 100 blocks.  New json_t. */
json_t *slack_home_view(const struct chat_home *h);
/* An app_home_opened event (`data`, the whole frame): publishes that
 * staff member's Home and remembers them for refreshes. */
void slack_home_opened(struct slack *s, const char *data, size_t len);
/* chat_ops.home_changed: one refresh of every remembered Home, soon. */
void slack_home_changed(struct chat *c);

#endif
