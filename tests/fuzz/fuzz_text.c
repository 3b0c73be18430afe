/* fuzz_text.c — text from users and customers: slash-command lines, the
 * weighted tweet length, mrkdwn escaping and the ticket message built from
 * a hostile tweet and display name, and /tw find queries. */
#include <jansson.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "chat/command.h"
#include "chat/slackparse.h"
#include "desk/find.h"
#include "source/tweetlen.h"
#include "script/refs.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *s = malloc(size + 1), *esc;
    struct chat_command cmd = { 0 };
    struct tweetlen tl;
    struct ticket_view v = { 0 };
    json_t *m;

    if (!s)
        return 0;
    memcpy(s, data, size);
    s[size] = '\0';
    /* the typed-line parser, with and without teammates written <@U1|name> */
    for (unsigned flags = 0; flags <= CHAT_PARSE_PEOPLE; flags++)
        if (chat_command_parse(&cmd, s, "/tw", flags) == 0) {
            /* each word is non-empty and the people it found name someone */
            for (size_t i = 0; i < cmd.argc; i++)
                if (!cmd.argv[i] || !*cmd.argv[i])
                    abort();
            for (size_t i = 0; i < cmd.npeople; i++)
                if (!*cmd.people[i].id || !*cmd.people[i].name)
                    abort();
            if (cmd.argv[cmd.argc] || strcmp(cmd.raw, s) != 0)
                abort();
            chat_command_clear(&cmd);
        }
    {
        char who[64];
        refs_ticket(s);
        if (refs_user(s, who, sizeof who) != REFS_BAD && strlen(who) >= sizeof who)
            abort();
    }
    {
        /* /tw find: the FTS5 expression is only "phrases", every " inside doubled */
        struct find_query q;
        char err[200];
        if (find_parse(s, 1796000000, &q, err, sizeof err) == 0) {
            for (const char *p = q.match; p && *p;) {
                if (*p++ != '"')
                    abort();
                for (;;) {
                    if (!*p)
                        abort();
                    if (*p == '"' && p[1] == '"') {
                        p += 2;
                    } else if (*p == '"') {
                        p++;
                        break;
                    } else {
                        p++;
                    }
                }
                if (*p && *p++ != ' ')
                    abort();
            }
            find_query_clear(&q);
        } else if (!err[0] || q.match) {
            abort();
        }
    }
    tweetlen_check((const char *)data, size, &tl);
    esc = slack_escape(s);
    /* escaping must leave no raw control character for Slack to act on */
    if (esc && (strchr(esc, '<') || strchr(esc, '>')))
        abort();
    free(esc);
    v.id = 1;
    v.status = "new";
    v.customer_handle = s;
    v.customer_name = s;
    v.text = s;
    v.tweet_id = "1";
    v.tweet_url = "https://x.com/a/status/1";
    v.tags = "";
    v.lang = s;          /* issue 17 §6: the quoted post, media and language are hostile too */
    v.quote_text = s;
    v.quote_author = s;
    v.media = s;
    v.earlier = (int64_t)size;
    m = slack_ticket_message(&v, 1700000000);
    json_decref(m);
    m = slack_text_message(s);
    json_decref(m);
    free(s);
    return 0;
}
