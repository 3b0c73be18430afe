/* slack_views.h — command forms as Slack modals (issue 19); see
 * slack_views.c.  Private to bot/chat/slack*.c. */
#ifndef VIGIL_SLACK_VIEWS_H
#define VIGIL_SLACK_VIEWS_H

#include <jansson.h>
#include <stddef.h>

#include "chat/slack_internal.h"

/* Takes an interactive envelope (`data`, the whole frame) that belongs to
 * a form: a form_<verb> button (opens the modal), an action inside one of
 * vigil's modals (count, canned fill), its submission (runs the command)
 * or its closing.  Returns 1 when it did, with *ack_payload the payload
 * to ack with (new, or NULL for a plain ack); 0 when the envelope is not
 * a form's (the caller handles it). */
int slack_views_handle(struct slack *s, const char *data, size_t len, json_t **ack_payload);

#endif
