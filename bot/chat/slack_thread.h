/* slack_thread.h — commands typed in a ticket's thread (issue 19); see
 * slack_thread.c.  Private to bot/chat/slack*.c. */
#ifndef VIGIL_SLACK_THREAD_H
#define VIGIL_SLACK_THREAD_H

#include <stddef.h>

#include "chat/slack_internal.h"

/* An events_api frame (`data`, the whole frame, already acked, deduped and
 * not the bot's own) carrying a message event: when it is a staff line in
 * a ticket's thread that starts (after slack.thread_prefix) with a
 * command's verb, runs it for that ticket and answers the writer privately
 * in the thread.  Anything else is left alone. */
void slack_thread_message(struct slack *s, const char *data, size_t len);

#endif
