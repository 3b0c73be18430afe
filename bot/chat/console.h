/* console.h — the offline chat: tickets rendered to the terminal as they
 * would look in chat, and a readline prompt whose lines are commands run as
 * the local admin. */
#ifndef VIGIL_CONSOLE_H
#define VIGIL_CONSOLE_H

#include <uv.h>

#include "chat/chat.h"

/* `admin_user` and `umbrella` (the slash command, "/tw") are copied.  `quit` is called when the user types :quit or
 * Ctrl-D at the prompt.  Returns new, destroyed with ops->destroy. */
struct chat *console_new(uv_loop_t *loop, const char *admin_user, const char *umbrella,
                         void (*quit)(void *arg), void *quit_arg);
/* Prints a line above the prompt (notices from the bot). */
void console_print(struct chat *c, const char *text);

#endif
