/* slackparse.h — Slack's wire format, as pure functions: Socket Mode frames
 * in, plain structs out; Web API answers in, results out; a ticket view in,
 * a chat.postMessage body out; mrkdwn escaping.  No I/O, no globals:
 * unit-tested on recorded payloads and fuzzed. */
#ifndef VIGIL_SLACKPARSE_H
#define VIGIL_SLACKPARSE_H

#include <jansson.h>
#include <stddef.h>

#include "chat/chat.h"

enum slack_frame {
    SLACK_HELLO, SLACK_DISCONNECT, SLACK_SLASH, SLACK_ACTION, SLACK_EVENT,
    SLACK_INTERACTIVE_OTHER, SLACK_OTHER,
};

/* One Socket Mode frame.  Strings are owned (slack_frame_clear). */
struct slack_frame_info {
    enum slack_frame type;
    char *envelope_id;         /* NULL for hello/disconnect */
    char *reason;              /* disconnect: warning, refresh_requested, ... */
    long approx_connection_time;
    char *command, *text;      /* slash: "/tw", "reply 3 hi" */
    char *user_id, *user_name, *channel_id, *response_url;
    char *action_id, *action_value, *message_ts;   /* block_actions: the first action */
    char *event_id, *event_type, *event_user, *event_bot_id;
    int retry_attempt;
};

/* Returns 0 and fills `f`, or -1 with a reason in `err`. */
int slack_parse_frame(const char *json, size_t len, struct slack_frame_info *f,
                      char *err, size_t errlen);
void slack_frame_clear(struct slack_frame_info *f);

/* A Web API answer.  Strings owned (slack_api_clear). */
struct slack_api {
    int ok;
    char *error;               /* "channel_not_found", ...; "invalid_response" when unparsable */
    char *ts, *channel, *url, *user_id, *bot_id, *warning;
    char *user_name;           /* users.info: the display or real name */
    char *channel_name;        /* conversations.info: "support" (without #) */
};
int slack_parse_api(const char *json, size_t len, struct slack_api *r);
/* files.getUploadURLExternal's answer: upload_url (http or https; the
 * caller holds it to the API's own scheme) and file_id into the buffers;
 * 0 when both are there. */
int slack_parse_upload_url(const char *json, size_t len, char *url, size_t urllen,
                           char *file_id, size_t idlen);
void slack_api_clear(struct slack_api *r);
/* Is a Web API error worth retrying (rate limits, Slack's own trouble)? */
int slack_error_is_transient(const char *error);
/* Does a Web API error mean the channel takes nothing until a person fixes
 * it (not_in_channel, is_archived, channel_not_found)? */
int slack_error_is_blocking(const char *error);
/* Does it mean the message the call was about is gone (deleted)? */
int slack_error_is_gone(const char *error);
/* Does it mean Slack refused the token itself (invalid, revoked, of a
 * deactivated account, or the wrong kind of token for the method)? */
int slack_error_is_bad_token(const char *error);

/* conversations.history with metadata: the ts of the message posted for
 * ticket `id` (vigil_ticket metadata), copied to `ts`; 0 if found. */
int slack_find_ticket(const char *json, size_t len, long long id, char *ts, size_t tslen);
/* The same for a thread line or channel post of outbox job `job`
 * (vigil_line metadata), in conversations.history or .replies. */
int slack_find_line(const char *json, size_t len, long long job, char *ts, size_t tslen);
/* The metadata that marks a post as outbox job `job`.  New json_t. */
json_t *slack_line_metadata(long long job);

/* &, <, > -> &amp; &lt; &gt; (& first).  Returns new, caller frees. */
char *slack_escape(const char *s);

/* A slash command's text turned back into what the agent typed. */
struct slack_typed {
    char *text;
    struct chat_person *people;   /* each person's id and name: one allocation at id */
    size_t npeople;
};
/* Slack sends command text escaped (slack.md §5): &amp; &lt; &gt; become
 * & < >; <https://x|label> and <https://x> become https://x (an auto-linked
 * bare domain, <http://a.com|a.com>, becomes a.com); <mailto:a@b|a@b>
 * becomes a@b; <#C1|name> becomes #name; <!here> @here; <@U1|alice> becomes
 * @alice and adds {U1, alice} to people (<@U1>: @U1).  Returns 0 and fills
 * `out` (slack_typed_clear frees), -1 when out of memory. */
int slack_typed_text(const char *s, struct slack_typed *out);
void slack_typed_clear(struct slack_typed *t);

/* The chat.postMessage / chat.update body for a ticket (without channel
 * and ts): text fallback, Block Kit blocks, metadata.  The tweet is a
 * rich_text quote of plain text (never parsed); handle, name, assignee and
 * tags are bounded single lines, escaped, verbatim and with mrkdwn
 * formatting neutralised.  Returns new json_t (caller decrefs). */
json_t *slack_ticket_message(const struct ticket_view *v, long long now);
/* A digest: one message listing `n` new tickets while `backlog` wait, with
 * vigil_digest metadata.  New json_t. */
json_t *slack_digest_message(const struct ticket_view *v, size_t n, size_t backlog);
/* A plain message (thread line, channel post): escaped, verbatim, mrkdwn
 * formatting neutralised, no mentions possible.  New json_t. */
json_t *slack_text_message(const char *text);
/* A thread line rewritten in place (chat.update, without channel and ts):
 * the plain message of slack_text_message, plus a Resend button (action
 * "resend", value `resend`) when `resend` is not NULL.  New json_t. */
json_t *slack_line_message(const char *text, const char *resend);
/* issue 18: slack_line_message with a row of buttons under the line:
 * `actions` is a comma-separated list ("undo", "approve,edit,reject"),
 * each for ticket `value` ("42") and labelled as people name it ("Undo").
 * New json_t; NULL for an unknown action. */
json_t *slack_button_line_message(const char *text, const char *actions, const char *value);
/* A thread line of vigil's own that notifies `ping` (issue 17): "<@U…>" for
 * a person, "<!subteam^S…>" for a group, made only from ids of Slack's
 * shape (any other id is left out, never written), then `text` escaped as
 * slack_text_message does.  New json_t; NULL on error. */
json_t *slack_alert_message(const struct chat_ping *ping, size_t nping, const char *text);
/* Is `id` a Slack user ('U'/'W') or user group ('S') id: the letter, then
 * A-Z and 0-9 only (up to 32 in all)? */
int slack_id_shaped(const char *id, char kind);
/* A command's answer for Slack: escaped (it may quote tweets), in a code
 * block when it has several lines, cut near 3,000 bytes; {text,
 * response_type: ephemeral}.  New json_t, NULL when out of memory. */
json_t *slack_answer_payload(const char *answer);
/* The Socket Mode ack of `envelope_id`, with `payload` (taken; may be
 * NULL).  New string, caller frees; NULL when out of memory. */
char *slack_ack_frame(const char *envelope_id, json_t *payload);
/* The command a button stands for, straight to verb and arguments: action
 * "assign_me" on ticket "42" is verb "assign", args "42 me", ticket 42,
 * raw "/tw assign 42 me" (for logs and the audit trail).  Fills `cmd`
 * (chat_command_clear frees; user_id, channel and people untouched);
 * returns 0, or -1 for an unknown action, a value that is no ticket
 * number, or out of memory. */
int slack_action_command(const char *umbrella, const char *action_id, const char *value,
                         struct chat_command *cmd);

#endif
