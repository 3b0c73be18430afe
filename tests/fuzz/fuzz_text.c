/* fuzz_text.c — text from users and customers: slash-command lines, the
 * weighted tweet length, mrkdwn escaping and the ticket message built from
 * a hostile tweet and display name. */
#include <jansson.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "chat/slackparse.h"
#include "source/tweetlen.h"
#include "script/refs.h"
#include "script/script.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *s = malloc(size + 1), *verb, *esc;
    const char *args;
    struct tweetlen tl;
    struct ticket_view v = { 0 };
    json_t *m;

    if (!s)
        return 0;
    memcpy(s, data, size);
    s[size] = '\0';
    verb = script_parse_command(s, "/tw", &args);
    free(verb);
    {
        char who[64];
        refs_ticket(s);
        if (refs_user(s, who, sizeof who) != REFS_BAD && strlen(who) >= sizeof who)
            abort();
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
    m = slack_ticket_message(&v, 1700000000);
    json_decref(m);
    m = slack_text_message(s);
    json_decref(m);
    free(s);
    return 0;
}
