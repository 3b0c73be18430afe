/* test_mention_safety.c — a property: whatever a tweet or a display name
 * says, no message vigil builds for Slack holds a control sequence that
 * could notify anyone, link anywhere but the tweet, or format itself like
 * vigil's own lines.  The only "<…>" sequences allowed are vigil's own: the
 * tweet link and the date. */
#include "unit.h"

#include <ctype.h>
#include <jansson.h>
#include <stdlib.h>

#include <stdio.h>
#include <time.h>
#include <uv.h>

#include "chat/slackparse.h"
#include "core/config.h"
#include "desk/desk.h"
#include "fakes.h"
#include "source/mention.h"
#include "source/xlink.h"
#include "store/store.h"

static const char *const pieces[] = {
    "<!channel>", "<!here>", "<!everyone>", "<@U024BE7LH>", "<@U1|alice>", "<#C123|general>",
    "<!subteam^S123>", "&lt;!here&gt;", "&amp;lt;", "@here", "@channel", "@everyone", "<",
    ">", "&", "|", "<\xe2\x80\x8b!channel>", "\xe2\x80\xae", "<https://evil.example|click>",
    "<mailto:a@b.c>", "*bold*", "`code`", "\xf0\x9f\x98\xa1", " ", "\n", "text", "!date^1^x",
    "<!date^1^{time}|x>", "\\", "\"", "%s", "_it_", "~gone~", "*#9* · *Closed*", "|x.com",
    "a><!channel><https://evil.example/login|x.com", "/status/", "?q=1#f", "%3E", "\xc3\xa6\xc3\xb8\xc3\xa5", "\xe6\x97\xa5\xe6\x9c\xac",
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

/* Every '<' in `s` must open one of vigil's own sequences: the date, or a
 * link to x.com whose URL is one run of URL characters up to the "|" and
 * whose label holds no '<' of its own. */
static int only_own_sequences(const char *s)
{
    for (const char *p = strchr(s, '<'); p; p = strchr(p + 1, '<')) {
        if (strncmp(p, "<!date^", 7) == 0)
            continue;
        if (strncmp(p, "<https://x.com/", 15) != 0)
            return 0;
        size_t url = strspn(p + 1, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
                                   "0123456789:/_%.-");
        const char *end = strchr(p, '>');
        if (p[1 + url] != '|' || !end || memchr(p + 1, '<', (size_t)(end - p - 1)))
            return 0;
    }
    return 1;
}

/* mrkdwn formatting (*, _, ~, `) outside vigil's own "*#N*" / "*Label*"
 * and outside <…> sequences must be neutralised: after a letter or digit
 * (where Slack opens nothing) or preceded by U+200B. */
static int no_customer_formatting(const char *s)
{
    const char *p = s;
    if (strncmp(s, ":rotating_light: *Busy:", 23) == 0)
        return 1;                          /* the digest's own head: no customer text */
    if (*p == '*') {                       /* vigil's "*#N* · *Label*" head */
        const char *e = strchr(p + 1, '*');
        p = e ? e + 1 : p;
        if (strncmp(p, " · *", 5) == 0 && (e = strchr(p + 5, '*')))
            p = e + 1;
    }
    for (; *p; p++) {
        if (*p == '<') {
            const char *e = strchr(p, '>');
            if (!e)
                return 0;
            p = e;
            continue;
        }
        if (strchr("*_~`", *p) && !(p > s && isalnum((unsigned char)p[-1])) &&
            (p - s < 3 || memcmp(p - 3, "\xe2\x80\x8b", 3) != 0))
            return 0;
    }
    return 1;
}

/* Walks a message: `literal` is set inside a rich_text block, whose "text"
 * elements Slack shows as typed (never parsed for mentions, links or
 * formatting); everything else is mrkdwn or fallback text. */
static int check_json(json_t *v, int literal)
{
    const char *k;
    size_t i;
    json_t *x;
    switch (json_typeof(v)) {
    case JSON_STRING:
        return only_own_sequences(json_string_value(v)) &&
               no_customer_formatting(json_string_value(v));
    case JSON_ARRAY:
        json_array_foreach(v, i, x) if (!check_json(x, literal)) return 0;
        return 1;
    case JSON_OBJECT: {
        const char *type = json_string_value(json_object_get(v, "type"));
        if (type && !strcmp(type, "rich_text"))
            literal = 1;
        if (literal && type && strncmp(type, "rich_text", 9) != 0)
            return !strcmp(type, "text") && json_object_size(v) == 2;   /* type, text */
        json_object_foreach(v, k, x) {
            if (!strcmp(k, "url") || !strcmp(k, "type") || !strcmp(k, "action_id") ||
                !strcmp(k, "metadata"))   /* never rendered */
                continue;
            if (!check_json(x, literal))
                return 0;
        }
        return 1;
    }
    default:
        return 1;
    }
}

/* Pings only: an answer is the agent's own ephemeral view, where a script
 * may format; what it must never do is notify anyone. */
static int pings_nobody(json_t *v)
{
    const char *k;
    size_t i;
    json_t *x;
    if (json_is_string(v))
        return only_own_sequences(json_string_value(v));
    if (json_is_array(v)) {
        json_array_foreach(v, i, x) if (!pings_nobody(x)) return 0;
    } else if (json_is_object(v)) {
        json_object_foreach(v, k, x) if (strcmp(k, "url") && !pings_nobody(x)) return 0;
    }
    return 1;
}

/* A header or a digest line is one line: a name cannot draw a new line. */
static int header_is_one_line(json_t *msg)
{
    json_t *b;
    size_t i;
    json_array_foreach(json_object_get(msg, "blocks"), i, b) {
        const char *t = json_string_value(json_object_get(json_object_get(b, "text"), "text"));
        if (t && strchr(t, '\n'))
            return 0;
    }
    return 1;
}

TEST(no_generated_tweet_name_or_handle_can_notify_anyone_or_fake_a_line)
{
    int bad = 0;
    for (int i = 0; i < 3000 && bad < 3; i++) {
        char *text = generate(), *name = generate(), *handle = generate(), *tid = generate();
        char url[200];
        struct ticket_view v = { 0 };
        json_t *m[3];
        /* half the handles have X's shape, so the link carries them */
        if (i % 2)
            snprintf(handle, 1024, "%s", i % 4 == 1 ? "ab_c" : "Z9");
        xlink_status_url(handle, i % 3 ? "1860000000000000001" : tid, url, sizeof url);
        v.id = i + 1;
        v.status = i % 2 ? "assigned" : "new";
        v.customer_handle = handle;
        v.customer_name = name;
        v.text = text;
        v.tweet_id = tid;
        v.tweet_url = url;
        v.assignee_name = i % 3 ? name : NULL;
        v.tags = i % 5 ? "" : text;
        v.tweeted_at = 1700000000;
        v.sla_due_at = 1700003600;
        m[0] = slack_ticket_message(&v, 1700000100);
        m[1] = slack_text_message(text);
        m[2] = slack_digest_message(&v, 1, 30);
        for (int k = 0; k < 3; k++) {
            if (!m[k] || !check_json(m[k], 0) || (k != 1 && !header_is_one_line(m[k]))) {
                char *dump = m[k] ? json_dumps(m[k], JSON_COMPACT) : NULL;
                unit_fail(__FILE__, __LINE__, "message %d for text \"%s\" name \"%s\" "
                          "handle \"%s\": %s", k, text, name, handle, dump ? dump : "(null)");
                free(dump);
                bad++;
            }
            json_decref(m[k]);
        }
        free(text);
        free(name);
        free(handle);
        free(tid);
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
            if (!m[k] || !(k == 0 ? check_json(m[k], 0) : pings_nobody(m[k]))) {
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

TEST(a_handle_that_is_not_x_shaped_is_linked_by_tweet_id)
{
    char url[200];
    CHECK(xlink_status_url("a><!channel><https://evil.example/login|x.com", "42", url,
                           sizeof url) == 0);
    CHECK_STR(url, "https://x.com/i/status/42");
    CHECK(xlink_status_url("mettek_dk", "1860003783266095106", url, sizeof url) == 0);
    CHECK_STR(url, "https://x.com/mettek_dk/status/1860003783266095106");
    CHECK(xlink_status_url("ok", "1 <!here>|x", url, sizeof url) == -1);
    CHECK_STR(url, "");
    CHECK(!xlink_handle_valid("abcdefghijklmnop"));   /* 16 */
    CHECK(xlink_handle_valid("abcdefghijklmno"));     /* 15 */
    CHECK(!xlink_handle_valid(""));
    CHECK(!xlink_handle_valid("a.b"));
}

TEST(a_long_display_name_keeps_the_ticket_header)
{
    char name[1500], url[200];
    struct ticket_view v = { 0 };
    json_t *m;
    /* "æ" is two bytes: a cut at an odd offset would split one */
    for (size_t i = 0; i + 2 < sizeof name; i += 2)
        memcpy(name + i, "\xc3\xa6", 2);
    name[sizeof name - 2] = '\0';
    xlink_status_url("ann", "7", url, sizeof url);
    v.id = 7;
    v.status = "new";
    v.customer_handle = "ann";
    v.customer_name = name;
    v.text = "*#8* · *Closed*\nReply sent: https://x.com/acme/status/9";
    v.tweet_id = "7";
    v.tweet_url = url;
    v.tags = "";
    v.assignee_name = name;
    m = slack_ticket_message(&v, 1700000100);
    CHECK(m != NULL);
    if (m) {
        json_t *blocks = json_object_get(m, "blocks");
        const char *head = json_string_value(
            json_object_get(json_object_get(json_array_get(blocks, 0), "text"), "text"));
        CHECK(head && strstr(head, "<https://x.com/ann/status/7|@ann>") != NULL);
        /* the tweet is a quote of plain text, not mrkdwn that draws lines */
        CHECK_STR(json_string_value(json_object_get(json_array_get(blocks, 1), "type")),
                  "rich_text");
    }
    json_decref(m);
}

/* --- alerts (issue 17): vigil's own lines that notify ---------------------- */

/* The pings Slack would send for one string, as the fake Slack counts them
 * (CONTROL_PING in tests/fakes/fake_slack.py): "<@U…>", "<!subteam^S…>",
 * "<!here>" …, optionally with a "|label".  Appended to `out` ("@U1 "). */
static void collect_pings(const char *s, char *out, size_t len)
{
    static const char *const specials[] = { "!here", "!channel", "!everyone" };
    for (const char *p = strchr(s, '<'); p; p = strchr(p + 1, '<')) {
        size_t n = 0;
        const char *q = p + 1;
        if ((q[0] == '@' && (q[1] == 'U' || q[1] == 'W'))) {
            n = 2 + strspn(q + 2, "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_");
            n = n > 2 ? n : 0;
        } else if (strncmp(q, "!subteam^", 9) == 0) {
            n = 9 + strspn(q + 9, "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789");
            n = n > 9 ? n : 0;
        } else {
            for (size_t i = 0; i < 3; i++)
                if (strncmp(q, specials[i], strlen(specials[i])) == 0)
                    n = strlen(specials[i]);
        }
        if (!n || (q[n] != '>' && !(q[n] == '|' && strchr(q + n, '>'))))
            continue;
        snprintf(out + strlen(out), len - strlen(out), "%.*s ", (int)n, q);
    }
}

/* Every ping in a message: its fallback text and its mrkdwn texts. */
static void message_pings(json_t *v, char *out, size_t len)
{
    const char *k;
    size_t i;
    json_t *x;
    if (json_is_string(v)) {
        collect_pings(json_string_value(v), out, len);
    } else if (json_is_array(v)) {
        json_array_foreach(v, i, x) message_pings(x, out, len);
    } else if (json_is_object(v)) {
        json_object_foreach(v, k, x) if (strcmp(k, "url") && strcmp(k, "metadata"))
            message_pings(x, out, len);
    }
}

/* Ids a desk might hand over, and what Slack would make of each: a person
 * ('U'), a group ('S'), or nothing vigil may write (0). */
static const struct { const char *id; char kind; } ping_ids[] = {
    { "U024BE7LH", 'U' }, { "W0123ABC", 'U' }, { "S0123ONCALL", 'S' }, { "SABC", 'S' },
    { "U1", 'U' }, { "S", 0 }, { "u024be7lh", 0 }, { "U02>|x", 0 }, { "<!channel>", 0 },
    { "S12^x", 0 }, { "here", 0 }, { "!here", 0 }, { "U024 BE", 0 }, { "@U024", 0 },
    { "subteam^S1", 0 }, { "", 0 }, { "U0_2", 0 },
};
#define NPING_IDS (sizeof ping_ids / sizeof ping_ids[0])

/* An alert pings exactly the ids of Slack's shape the desk handed over, in
 * its fallback text and in its section; whatever the line says (a handle,
 * a name, a tweet quoted) adds none, and after the mentions the line is
 * escaped text like any other. */
TEST(an_alert_notifies_only_the_ids_vigil_chose_whatever_its_text_says)
{
    int bad = 0;
    for (int i = 0; i < 3000 && bad < 3; i++) {
        char *text = generate(), want[400] = "", head[400] = "", got[4000] = "", twice[800];
        struct chat_ping ping[4];
        size_t n = rnd() % 4;
        json_t *m, *blocks;
        const char *body;
        for (size_t k = 0; k < n; k++) {
            size_t pick = rnd() % NPING_IDS;
            const char *id = ping_ids[pick].id;
            ping[k].id = id;
            ping[k].name = text;
            if (ping_ids[pick].kind == 'S') {
                snprintf(want + strlen(want), sizeof want - strlen(want), "!subteam^%s ", id);
                snprintf(head + strlen(head), sizeof head - strlen(head), "<!subteam^%s> ", id);
            } else if (ping_ids[pick].kind == 'U') {
                snprintf(want + strlen(want), sizeof want - strlen(want), "@%s ", id);
                snprintf(head + strlen(head), sizeof head - strlen(head), "<@%s> ", id);
            }
        }
        m = slack_alert_message(ping, n, text);
        if (!m) {
            unit_fail(__FILE__, __LINE__, "no alert built for \"%s\"", text);
            free(text);
            return;
        }
        blocks = json_object_get(m, "blocks");
        message_pings(json_object_get(m, "text"), got, sizeof got);
        message_pings(blocks, got, sizeof got);
        snprintf(twice, sizeof twice, "%s%s", want, want);
        body = json_string_value(json_object_get(json_object_get(json_array_get(blocks, 0),
                                                                 "text"), "text"));
        if (strcmp(got, twice) != 0 || !body || strncmp(body, head, strlen(head)) != 0 ||
            !only_own_sequences(body + strlen(head)) ||
            !no_customer_formatting(body + strlen(head))) {
            unit_fail(__FILE__, __LINE__, "alert with text \"%s\" pings \"%s\", want \"%s\"; "
                      "section \"%s\"", text, got, twice, body ? body : "(null)");
            bad++;
        }
        json_decref(m);
        free(text);
    }
}

/* The slack_text_message every other line goes through notifies no one,
 * even holding the very ids an alert would ping. */
TEST(a_line_that_is_not_an_alert_notifies_no_one_even_naming_ids)
{
    for (size_t k = 0; k < NPING_IDS; k++) {
        char text[200], got[400] = "";
        json_t *m;
        snprintf(text, sizeof text, "<@%s> <!subteam^%s> @%s", ping_ids[k].id,
                 ping_ids[k].id, ping_ids[k].id);
        m = slack_text_message(text);
        message_pings(m, got, sizeof got);
        CHECK_STR(got, "");
        json_decref(m);
    }
}

/* --- the desk's notices (assignment, reassignment, escalation) ---------- */

/* A chat that builds each line as the Slack adapter would and keeps the
 * pings Slack would send for it, all lines in order ("@U2 | | …"). */
static char notice_pings[8000];

static void notice_sent(json_t *m, send_done_fn done, void *arg, const char *ref)
{
    char got[400] = "", section[400] = "", line[900];
    struct send_result r = { .status = SEND_OK, .ref = ref };
    /* what notifications show (the fallback text) and what the channel
     * shows (the section) ping the same */
    message_pings(json_object_get(m, "text"), got, sizeof got);
    message_pings(json_object_get(m, "blocks"), section, sizeof section);
    if (strcmp(got, section) != 0)
        snprintf(line, sizeof line, "text %s but section %s| ", got, section);
    else
        snprintf(line, sizeof line, "%s| ", got);
    strncat(notice_pings, line, sizeof notice_pings - strlen(notice_pings) - 1);
    json_decref(m);
    done(arg, &r);
}

static void n_post_ticket(struct chat *c, const char *ch, const struct ticket_view *t,
                          send_done_fn done, void *arg)
{
    static char ref[32];
    (void)c;
    (void)ch;
    snprintf(ref, sizeof ref, "ts-%lld", (long long)t->id);
    done(arg, &(struct send_result){ .status = SEND_OK, .ref = ref });
}

static void n_update(struct chat *c, const char *ch, const char *ref,
                     const struct ticket_view *t, send_done_fn done, void *arg)
{
    (void)c;
    (void)ch;
    (void)t;
    done(arg, &(struct send_result){ .status = SEND_OK, .ref = ref });
}

static void n_thread(struct chat *c, const char *ch, const char *ref, const char *text,
                     send_done_fn done, void *arg)
{
    (void)c;
    (void)ch;
    (void)ref;
    notice_sent(slack_text_message(text), done, arg, "th");
}

static void n_channel(struct chat *c, const char *ch, const char *text, send_done_fn done,
                      void *arg)
{
    (void)c;
    (void)ch;
    notice_sent(slack_text_message(text), done, arg, "ch");
}

static void n_alert(struct chat *c, const char *ch, const char *thread,
                    const struct chat_ping *ping, size_t nping, const char *text, int64_t job,
                    send_done_fn done, void *arg)
{
    (void)c;
    (void)ch;
    (void)thread;
    (void)job;
    notice_sent(slack_alert_message(ping, nping, text), done, arg, "al");
}

static const struct chat_ops notice_chat_ops = {
    .name = "notices",
    .post_ticket = n_post_ticket,
    .update_ticket = n_update,
    .post_thread = n_thread,
    .post_channel = n_channel,
    .post_alert = n_alert,
};

/* `s` as a Lua string literal, every byte escaped. */
static void lua_quoted(FILE *fp, const char *s)
{
    fputc('"', fp);
    for (; *s; s++)
        fprintf(fp, "\\%03u", (unsigned char)*s);
    fputc('"', fp);
}

/* Staff names and tweets generated to hold every control sequence: the
 * desk's assignment, reassignment and escalation notices ping exactly the
 * ids it chose (the assignee, the previous one, the on-duty group), never
 * one a name, a reason or a tweet spells out. */
TEST(notices_ping_only_the_ids_the_desk_chose_whatever_names_and_tweets_say)
{
    for (int round = 0; round < 12; round++) {
        char cfgpath[700], dbpath[600], err[512], name[32], want[400] = "";
        char *names[3], *tweet = generate(), *reason = generate();
        struct config *cfg;
        struct store *st;
        struct desk *d;
        struct mention m = { 0 };
        struct mention_page page = { 0 };
        uv_loop_t loop;
        FILE *fp;

        snprintf(name, sizeof name, "notice%d.db", round);
        snprintf(dbpath, sizeof dbpath, "%s", unit_tmp(name));
        snprintf(cfgpath, sizeof cfgpath, "%s.lua", dbpath);
        fp = fopen(cfgpath, "w");
        fprintf(fp, "replay = { file = 'x' }\n"
                    "x = { handle = 'AcmeSupport', user_id = '99' }\n"
                    "reply = { hold = 0, collision_window = 0 }\n"
                    "sla = { notify = 'S0ONCALL' }\nstaff = {\n");
        for (int k = 0; k < 3; k++) {
            names[k] = generate();
            fprintf(fp, "  U%d = { name = ", k + 1);
            lua_quoted(fp, names[k]);
            fprintf(fp, ", role = 'lead' },\n");
        }
        fprintf(fp, "}\n");
        fclose(fp);
        cfg = config_load(cfgpath, err, sizeof err);
        if (!cfg) {
            unit_fail(__FILE__, __LINE__, "config: %s", err);
            goto next;
        }
        fake_reset(&notice_chat_ops);
        notice_pings[0] = '\0';
        st = store_open(dbpath);
        uv_loop_init(&loop);
        d = desk_new(&loop, st, cfg);
        page.v = &m;
        page.n = 1;
        m.id = m.original_id = 900;
        m.text = tweet;
        m.author_id = "41";
        m.author_handle = "ann";
        m.author_name = reason;
        m.conversation_id = "900";
        m.created_at = (int64_t)time(NULL);   /* no SLA target near: no SLA alert */
        desk_ingest(d, "test", &page, NULL, NULL);
        /* U1 gives it to U2; U2 gives it to themself (no change: refused);
         * U3 takes it from U2; U1 gives it back to U2; U1 escalates */
        CHECK_INT(desk_assign(d, "U1", 1, "U2", err, sizeof err), DESK_OK);
        strcat(want, "@U2 | ");
        CHECK_INT(desk_assign(d, "U3", 1, "U3", err, sizeof err), DESK_OK);
        strcat(want, "@U2 | ");
        CHECK_INT(desk_assign(d, "U1", 1, "U2", err, sizeof err), DESK_OK);
        strcat(want, "@U2 @U3 | ");
        CHECK_INT(desk_escalate(d, "U1", 1, reason, err, sizeof err), DESK_OK);
        strcat(want, "!subteam^S0ONCALL | ");
        desk_set_adapters(d, &fake.chat, &fake.source);
        desk_start(d);
        for (int i = 0; i < 200; i++)
            uv_run(&loop, UV_RUN_NOWAIT);
        /* the escalation's own thread line ("… escalated #1: <reason>") pings no one */
        strcat(want, "| ");
        if (strcmp(notice_pings, want) != 0)
            unit_fail(__FILE__, __LINE__, "names \"%s\" / \"%s\" / \"%s\", tweet \"%s\": "
                      "pings \"%s\", want \"%s\"", names[0], names[1], names[2], tweet,
                      notice_pings, want);
        desk_stop(d);
        uv_run(&loop, UV_RUN_DEFAULT);
        uv_loop_close(&loop);
        desk_free(d);
        store_close(st);
        config_free(cfg);
next:
        for (int k = 0; k < 3; k++)
            free(names[k]);
        free(tweet);
        free(reason);
    }
}
