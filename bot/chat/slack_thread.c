/* slack_thread.c — commands typed in a ticket's thread (issue 19): a staff
 * member writes "reply Thanks, fixed now" (or "!reply …", or "@vigil reply
 * …", as slack.thread_prefix says) under a ticket's message, and that
 * command runs for that ticket, no number typed.  Everything else in the
 * thread is the team's conversation and is left alone.  Knows Slack's
 * message events and the chat interface; never tickets' storage. */
#include "chat/slack_thread.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "chat/command.h"
#include "core/log.h"

static void on_posted(struct slack *s, void *arg, const struct slack_api *r,
                      const struct http_response *h, double retry_after)
{
    (void)s; (void)arg; (void)h; (void)retry_after;
    if (!r->ok)
        log_warn("slack: could not answer in a thread", "error=%s", r->error ? r->error : "?");
}

/* `text` past the configured prefix, or NULL when the line does not start
 * with it (then it is conversation).  Borrowed from `text`. */
static const char *past_prefix(const struct slack *s, const char *text)
{
    const char *prefix = s->cfg->slack.thread_prefix;
    size_t n;
    if (!*prefix)
        return text;
    if (strcmp(prefix, "!") == 0)
        return text[0] == '!' ? text + 1 : NULL;
    /* "@": Slack writes a mention of the bot as <@UBOT> (or <@UBOT|name>) */
    if (!s->bot_user_id || strncmp(text, "<@", 2) != 0)
        return NULL;
    n = strlen(s->bot_user_id);
    if (strncmp(text + 2, s->bot_user_id, n) != 0 || (text[2 + n] != '>' && text[2 + n] != '|'))
        return NULL;
    text = strchr(text + 2 + n, '>');
    return text ? text + 1 : NULL;
}

void slack_thread_message(struct slack *s, const char *data, size_t len)
{
    json_t *root = json_loadb(data, len, 0, NULL);
    json_t *ev = json_object_get(json_object_get(root, "payload"), "event");
    const char *subtype = json_string_value(json_object_get(ev, "subtype"));
    const char *user = json_string_value(json_object_get(ev, "user"));
    const char *channel = json_string_value(json_object_get(ev, "channel"));
    const char *ts = json_string_value(json_object_get(ev, "ts"));
    const char *parent = json_string_value(json_object_get(ev, "thread_ts"));
    const char *text = json_string_value(json_object_get(ev, "text")), *rest;
    struct slack_typed typed = { 0 };
    struct chat_command cmd = { 0 };
    char verb[40], *line = NULL, *answer = NULL;
    int64_t ticket;
    size_t vlen;

    /* a person's plain message, in a thread (not its parent), by staff;
     * edits, joins and bots' posts come with a subtype */
    if (!user || !channel || !ts || !parent || !text || strcmp(ts, parent) == 0 ||
        (subtype && strcmp(subtype, "thread_broadcast") != 0) ||
        !config_staff(s->cfg, user) || !s->base.ticket_of || !s->base.on_command)
        goto out;
    rest = past_prefix(s, text);
    if (!rest)
        goto out;
    while (isspace((unsigned char)*rest))
        rest++;
    vlen = strcspn(rest, " \t\r\n");
    if (!vlen || vlen >= sizeof verb)
        goto out;
    for (size_t i = 0; i < vlen; i++)
        verb[i] = (char)tolower((unsigned char)rest[i]);
    verb[vlen] = '\0';
    if (!s->base.has_verb || !s->base.has_verb(s->base.on_command_arg, verb))
        goto out;                                  /* conversation, not a command */
    ticket = s->base.ticket_of(s->base.on_command_arg, channel, parent);
    if (ticket <= 0)
        goto out;                                  /* a thread, but no ticket's */
    if (slack_typed_text(rest + vlen, &typed))
        goto out;
    {
        /* the thread names the ticket: "reply Thanks" is "reply 42 Thanks"
         * (unless the number was typed anyway) */
        const char *after = typed.text;
        char num[24];
        while (isspace((unsigned char)*after))
            after++;
        snprintf(num, sizeof num, "%lld", (long long)ticket);
        if (*after == '#')
            after++;
        if (strncmp(after, num, strlen(num)) == 0 &&
            (!after[strlen(num)] || isspace((unsigned char)after[strlen(num)])))
            num[0] = '\0';
        if (asprintf(&line, "%s%s%s%s", verb, *num ? " " : "", num, typed.text) < 0) {
            line = NULL;
            goto out;
        }
    }
    cmd.user_id = user;
    cmd.channel = channel;
    cmd.people = typed.people;
    cmd.npeople = typed.npeople;
    if (chat_command_parse(&cmd, line, s->cfg->command, 0) < 0)
        goto out;
    cmd.ticket = ticket;
    log_info("slack: command in a ticket's thread", "user=%s verb=%s ticket=%lld", user, verb,
             (long long)ticket);
    answer = s->base.on_command(s->base.on_command_arg, &cmd);
    if (answer) {
        json_t *p = slack_answer_payload(answer);
        if (p) {
            json_object_del(p, "response_type");
            json_object_set_new(p, "channel", json_string(channel));
            json_object_set_new(p, "user", json_string(user));
            json_object_set_new(p, "thread_ts", json_string(parent));
            slack_api_call(s, "chat.postEphemeral", p, 0, on_posted, NULL);
        }
    }
out:
    free(answer);
    free(line);
    chat_command_clear(&cmd);
    slack_typed_clear(&typed);
    json_decref(root);
}
