/* test_mention_safety.c — a property: whatever a tweet or a display name
 * says, no message vigil builds for Slack holds a control sequence that
 * could notify anyone.  The only "<…>" sequences allowed are vigil's own:
 * the tweet link and the date. */
#include "unit.h"

#include <jansson.h>
#include <stdlib.h>

#include "chat/slackparse.h"

static const char *const pieces[] = {
    "<!channel>", "<!here>", "<!everyone>", "<@U024BE7LH>", "<@U1|alice>", "<#C123|general>",
    "<!subteam^S123>", "&lt;!here&gt;", "&amp;lt;", "@here", "@channel", "@everyone", "<",
    ">", "&", "|", "<\xe2\x80\x8b!channel>", "\xe2\x80\xae", "<https://evil.example|click>",
    "<mailto:a@b.c>", "*bold*", "`code`", "\xf0\x9f\x98\xa1", " ", "\n", "text", "!date^1^x",
    "<!date^1^{time}|x>", "\\", "\"", "%s", "\xc3\xa6\xc3\xb8\xc3\xa5", "\xe6\x97\xa5\xe6\x9c\xac",
};
#define NPIECES (sizeof pieces / sizeof pieces[0])

static unsigned rnd_state = 12345;
static unsigned rnd(void)
{
    rnd_state = rnd_state * 1103515245u + 12345u;
    return rnd_state >> 8;
}

static char *generate(void)
{
    char *s = calloc(1, 1024);
    int n = 1 + (int)(rnd() % 12);
    for (int i = 0; i < n; i++)
        strncat(s, pieces[rnd() % NPIECES], 1023 - strlen(s));
    return s;
}

/* Every '<' in `s` must open one of vigil's own sequences. */
static int only_own_sequences(const char *s)
{
    for (const char *p = strchr(s, '<'); p; p = strchr(p + 1, '<'))
        if (strncmp(p, "<https://x.com/", 15) != 0 && strncmp(p, "<!date^", 7) != 0)
            return 0;
    return 1;
}

static int check_json(json_t *v)
{
    const char *k;
    size_t i;
    json_t *x;
    switch (json_typeof(v)) {
    case JSON_STRING:
        return only_own_sequences(json_string_value(v));
    case JSON_ARRAY:
        json_array_foreach(v, i, x) if (!check_json(x)) return 0;
        return 1;
    case JSON_OBJECT:
        json_object_foreach(v, k, x) {
            if (!strcmp(k, "url"))
                continue;
            if (!check_json(x))
                return 0;
        }
        return 1;
    default:
        return 1;
    }
}

TEST(no_generated_tweet_or_name_can_notify_anyone)
{
    int bad = 0;
    for (int i = 0; i < 3000 && bad < 3; i++) {
        char *text = generate(), *name = generate(), *handle = generate();
        struct ticket_view v = { 0 };
        json_t *m[3];
        v.id = i + 1;
        v.status = i % 2 ? "assigned" : "new";
        v.customer_handle = handle;
        v.customer_name = name;
        v.text = text;
        v.tweet_id = "1";
        v.tweet_url = "https://x.com/a/status/1";
        v.assignee_name = i % 3 ? name : NULL;
        v.tags = i % 5 ? "" : text;
        v.tweeted_at = 1700000000;
        v.sla_due_at = 1700003600;
        m[0] = slack_ticket_message(&v, 1700000100);
        m[1] = slack_text_message(text);
        m[2] = slack_digest_message(&v, 1, 30);
        for (int k = 0; k < 3; k++) {
            if (!m[k] || !check_json(m[k])) {
                char *dump = m[k] ? json_dumps(m[k], JSON_COMPACT) : NULL;
                unit_fail(__FILE__, __LINE__, "message %d for text \"%s\" name \"%s\": %s", k,
                          text, name, dump ? dump : "(null)");
                free(dump);
                bad++;
            }
            json_decref(m[k]);
        }
        free(text);
        free(name);
        free(handle);
    }
}

/* Command text comes back from Slack as typed (slack_typed_text), so a
 * typed "<@U1>" or "<!channel>" is plain text again: echoed into Slack (a
 * note in the thread, an answer quoting it) it must still notify no one. */
TEST(no_typed_command_echoed_back_can_notify_anyone)
{
    int bad = 0;
    for (int i = 0; i < 2000 && bad < 3; i++) {
        char *typed = generate(), *sent = slack_escape(typed);
        struct slack_typed t;
        json_t *m[2] = { NULL, NULL };
        if (!sent || slack_typed_text(sent, &t)) {
            unit_fail(__FILE__, __LINE__, "out of memory");
            free(typed);
            free(sent);
            return;
        }
        m[0] = slack_text_message(t.text);
        m[1] = slack_answer_payload(t.text);
        for (int k = 0; k < 2; k++)
            if (!m[k] || !check_json(m[k])) {
                unit_fail(__FILE__, __LINE__, "echo %d of typed \"%s\" could notify", k, typed);
                bad++;
            }
        json_decref(m[0]);
        json_decref(m[1]);
        slack_typed_clear(&t);
        free(typed);
        free(sent);
    }
}
