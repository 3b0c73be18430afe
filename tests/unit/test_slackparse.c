/* test_slackparse.c — Slack frames, Web API answers, escaping and the
 * ticket message, on payloads from ../shared/reference/slack.md. */
#include "unit.h"

#include <jansson.h>
#include <stdlib.h>

#include "chat/command.h"
#include "chat/slackparse.h"

static int parse(const char *json, struct slack_frame_info *f)
{
    char err[200];
    return slack_parse_frame(json, strlen(json), f, err, sizeof err);
}

TEST(slack_hello_and_disconnect_frames)
{
    struct slack_frame_info f;
    CHECK_INT(parse("{\"type\":\"hello\",\"num_connections\":1,\"connection_info\":{\"app_id\":\"A1234\"},"
                    "\"debug_info\":{\"host\":\"applink-1\",\"build_number\":54,"
                    "\"approximate_connection_time\":18060}}", &f), 0);
    CHECK_INT(f.type, SLACK_HELLO);
    CHECK_INT(f.approx_connection_time, 18060);
    slack_frame_clear(&f);
    CHECK_INT(parse("{\"type\":\"disconnect\",\"reason\":\"refresh_requested\","
                    "\"debug_info\":{\"host\":\"wss-111.slack.com\"}}", &f), 0);
    CHECK_INT(f.type, SLACK_DISCONNECT);
    CHECK_STR(f.reason, "refresh_requested");
    slack_frame_clear(&f);
}

TEST(slack_slash_command_envelope)
{
    struct slack_frame_info f;
    CHECK_INT(parse("{\"envelope_id\":\"dbdd0ef3-1\",\"type\":\"slash_commands\","
                    "\"accepts_response_payload\":true,\"payload\":{\"token\":\"x\","
                    "\"team_id\":\"T1\",\"channel_id\":\"C123\",\"user_id\":\"U123\","
                    "\"user_name\":\"rainer\",\"command\":\"/tw\",\"text\":\"assign 42 <@U9|bob>\","
                    "\"response_url\":\"https://hooks.slack.com/commands/1\"}}", &f), 0);
    CHECK_INT(f.type, SLACK_SLASH);
    CHECK_STR(f.envelope_id, "dbdd0ef3-1");
    CHECK_STR(f.command, "/tw");
    CHECK_STR(f.text, "assign 42 <@U9|bob>");
    CHECK_STR(f.user_id, "U123");
    CHECK_STR(f.channel_id, "C123");
    slack_frame_clear(&f);
}

TEST(slack_block_action_envelope)
{
    struct slack_frame_info f;
    CHECK_INT(parse("{\"envelope_id\":\"e2\",\"type\":\"interactive\",\"accepts_response_payload\":false,"
                    "\"payload\":{\"type\":\"block_actions\",\"user\":{\"id\":\"U123\",\"username\":\"alice\"},"
                    "\"container\":{\"type\":\"message\",\"message_ts\":\"1548261231.000200\","
                    "\"channel_id\":\"C123\"},\"channel\":{\"id\":\"C123\",\"name\":\"support\"},"
                    "\"actions\":[{\"action_id\":\"assign_me\",\"block_id\":\"t42\",\"value\":\"42\","
                    "\"type\":\"button\"}]}}", &f), 0);
    CHECK_INT(f.type, SLACK_ACTION);
    CHECK_STR(f.action_id, "assign_me");
    CHECK_STR(f.action_value, "42");
    CHECK_STR(f.user_id, "U123");
    CHECK_STR(f.message_ts, "1548261231.000200");
    slack_frame_clear(&f);
}

TEST(slack_events_envelope_with_retry)
{
    struct slack_frame_info f;
    CHECK_INT(parse("{\"envelope_id\":\"e3\",\"type\":\"events_api\",\"retry_attempt\":2,"
                    "\"retry_reason\":\"timeout\",\"payload\":{\"event_id\":\"Ev1\","
                    "\"event\":{\"type\":\"message\",\"user\":\"UBOT\",\"bot_id\":\"B1\"}}}", &f), 0);
    CHECK_INT(f.type, SLACK_EVENT);
    CHECK_STR(f.event_id, "Ev1");
    CHECK_INT(f.retry_attempt, 2);
    CHECK_STR(f.event_bot_id, "B1");
    slack_frame_clear(&f);
}

TEST(slack_bad_frames_are_refused_with_a_reason)
{
    struct slack_frame_info f;
    char err[200];
    CHECK_INT(slack_parse_frame("{not json", 9, &f, err, sizeof err), -1);
    CHECK(strstr(err, "not a JSON object") != NULL);
    CHECK_INT(parse("[1,2]", &f), -1);
    CHECK_INT(parse("{\"envelope_id\":\"x\"}", &f), -1);
    CHECK_INT(parse("{\"type\":\"slash_commands\",\"payload\":{}}", &f), -1);
    CHECK_INT(parse("{\"type\":\"slash_commands\",\"envelope_id\":\"e\",\"payload\":{\"text\":\"x\"}}", &f), -1);
}

TEST(slack_api_answers_ok_error_and_garbage)
{
    struct slack_api r;
    const char *ok = "{\"ok\":true,\"channel\":\"C1H9RESGL\",\"ts\":\"1503435956.000247\",\"message\":{}}";
    const char *bad = "{\"ok\":false,\"error\":\"channel_not_found\"}";
    slack_parse_api(ok, strlen(ok), &r);
    CHECK_INT(r.ok, 1);
    CHECK_STR(r.ts, "1503435956.000247");
    slack_api_clear(&r);
    slack_parse_api(bad, strlen(bad), &r);
    CHECK_INT(r.ok, 0);
    CHECK_STR(r.error, "channel_not_found");
    CHECK_INT(slack_error_is_transient(r.error), 0);
    slack_api_clear(&r);
    CHECK_INT(slack_parse_api("<html>502</html>", 16, &r), -1);
    CHECK_STR(r.error, "invalid_response");
    CHECK_INT(slack_error_is_transient(r.error), 1);
    slack_api_clear(&r);
    CHECK_INT(slack_error_is_transient("ratelimited"), 1);
}

TEST(slack_token_errors_are_told_apart_from_the_rest)
{
    CHECK_INT(slack_error_is_bad_token("invalid_auth"), 1);
    CHECK_INT(slack_error_is_bad_token("token_revoked"), 1);
    CHECK_INT(slack_error_is_bad_token("not_allowed_token_type"), 1);
    CHECK_INT(slack_error_is_bad_token("channel_not_found"), 0);
    CHECK_INT(slack_error_is_bad_token("ratelimited"), 0);
    CHECK_INT(slack_error_is_bad_token(NULL), 0);
}

TEST(slack_finds_a_posted_ticket_by_its_metadata)
{
    const char *h = "{\"ok\":true,\"messages\":[{\"ts\":\"2.0\",\"text\":\"x\"},"
                    "{\"ts\":\"1.5\",\"metadata\":{\"event_type\":\"vigil_ticket\","
                    "\"event_payload\":{\"ticket\":7,\"tweet_id\":\"1\"}}}],\"has_more\":false}";
    char ts[32];
    CHECK_INT(slack_find_ticket(h, strlen(h), 7, ts, sizeof ts), 0);
    CHECK_STR(ts, "1.5");
    CHECK_INT(slack_find_ticket(h, strlen(h), 8, ts, sizeof ts), -1);
}

TEST(slack_find_line_finds_the_thread_line_of_an_outbox_job_and_nothing_else)
{
    /* conversations.replies: the parent (a ticket), a person's reply, our line */
    const char *h = "{\"ok\":true,\"messages\":["
                    "{\"ts\":\"1.1\",\"metadata\":{\"event_type\":\"vigil_ticket\","
                    "\"event_payload\":{\"ticket\":12}}},"
                    "{\"ts\":\"1.2\",\"text\":\"on it\"},"
                    "{\"ts\":\"1.3\",\"metadata\":{\"event_type\":\"vigil_line\","
                    "\"event_payload\":{\"job\":12}}}],\"has_more\":false}";
    char ts[32];
    json_t *meta = slack_line_metadata(12);
    char *dump = json_dumps(meta, JSON_COMPACT | JSON_SORT_KEYS);
    CHECK_STR(dump, "{\"event_payload\":{\"job\":12},\"event_type\":\"vigil_line\"}");
    free(dump);
    json_decref(meta);
    CHECK_INT(slack_find_line(h, strlen(h), 12, ts, sizeof ts), 0);
    CHECK_STR(ts, "1.3");                       /* not ticket 12's message */
    CHECK_INT(slack_find_line(h, strlen(h), 13, ts, sizeof ts), -1);
    CHECK_INT(slack_find_line("{\"ok\":true", 11, 12, ts, sizeof ts), -1);
}

TEST(slack_line_message_adds_a_resend_button_only_when_asked)
{
    json_t *m = slack_line_message("Reply sent", NULL);
    CHECK_INT((int)json_array_size(json_object_get(m, "blocks")), 1);
    CHECK(json_object_get(m, "unfurl_links") == NULL);
    json_decref(m);
    m = slack_line_message("The reply could not be sent", "42");
    CHECK_STR(json_string_value(json_object_get(json_array_get(json_object_get(json_array_get(
        json_object_get(m, "blocks"), 1), "elements"), 0), "value")), "42");
    json_decref(m);
    {
        struct chat_command cmd = { 0 };
        CHECK_INT(slack_action_command("/tw", "resend", "42", &cmd), 0);
        CHECK_STR(cmd.raw, "/tw resend 42");
        CHECK_STR(cmd.verb, "resend");
        CHECK_STR(cmd.args, "42");
        chat_command_clear(&cmd);
    }
}

TEST(a_held_reply_line_carries_an_undo_button_that_runs_undo)
{
    json_t *m = slack_button_line_message("Sending in 5 s.", "undo", "42"), *b;
    b = json_array_get(json_object_get(json_array_get(json_object_get(m, "blocks"), 1),
                                       "elements"), 0);
    CHECK_STR(json_string_value(json_object_get(b, "action_id")), "undo");
    CHECK_STR(json_string_value(json_object_get(b, "value")), "42");
    CHECK_STR(json_string_value(json_object_get(json_object_get(b, "text"), "text")), "Undo");
    json_decref(m);
    CHECK(slack_button_line_message("x", "no_such_action", "42") == NULL);
    {
        struct chat_command cmd = { 0 };
        CHECK_INT(slack_action_command("/tw", "undo", "42", &cmd), 0);
        CHECK_STR(cmd.raw, "/tw undo 42");
        CHECK_STR(cmd.verb, "undo");
        chat_command_clear(&cmd);
    }
}

TEST(slack_escape_turns_control_characters_into_entities)
{
    char *e = slack_escape("<!channel> & <@U1|x> @here &lt;");
    CHECK_STR(e, "&lt;!channel&gt; &amp; &lt;@U1|x&gt; @here &amp;lt;");
    free(e);
}

static struct ticket_view view(const char *text, const char *name)
{
    struct ticket_view v = { 0 };
    v.id = 42;
    v.status = "new";
    v.customer_handle = "mallory";
    v.customer_name = name;
    v.text = text;
    v.tweet_id = "1860000000000000001";
    v.tweet_url = "https://x.com/mallory/status/1860000000000000001";
    v.tweeted_at = 1700000000;
    v.sla_due_at = 1700003600;
    v.mentions = 1;
    v.tags = "";
    return v;
}

/* Every text object must be escaped and verbatim: no way to ping anyone.
 * The tweet itself is a rich_text quote of plain "text" elements, which
 * Slack never parses: it may hold the raw needle, nothing else may. */
static void check_safe(json_t *msg, const char *needle_raw)
{
    json_t *copy = json_deep_copy(msg), *blocks = json_object_get(copy, "blocks"), *b;
    char *dump;
    size_t i;
    json_array_foreach(blocks, i, b) {
        json_t *quote = json_array_get(json_object_get(b, "elements"), 0), *el;
        size_t j;
        if (strcmp(json_string_value(json_object_get(b, "type")), "rich_text") != 0)
            continue;
        CHECK_STR(json_string_value(json_object_get(quote, "type")), "rich_text_quote");
        json_array_foreach(json_object_get(quote, "elements"), j, el) {
            CHECK_STR(json_string_value(json_object_get(el, "type")), "text");
            json_object_del(el, "text");
        }
    }
    dump = json_dumps(copy, JSON_COMPACT);
    json_decref(copy);
    CHECK(dump && strstr(dump, needle_raw) == NULL);
    CHECK_STR(json_string_value(json_object_get(msg, "parse")), "none");
    CHECK(json_object_get(msg, "link_names") == NULL);
    json_array_foreach(json_object_get(msg, "blocks"), i, b) {
        json_t *t = json_object_get(b, "text");
        if (t && strcmp(json_string_value(json_object_get(t, "type")), "mrkdwn") == 0)
            CHECK(json_is_true(json_object_get(t, "verbatim")));
    }
    free(dump);
}

static void check_typed(const char *escaped, const char *want, const char *file, int line)
{
    struct slack_typed t;
    if (slack_typed_text(escaped, &t)) {
        unit_fail(file, line, "slack_typed_text(\"%s\") failed", escaped);
        return;
    }
    if (strcmp(t.text, want) != 0)
        unit_fail(file, line, "\"%s\" came back as \"%s\", want \"%s\"", escaped, t.text, want);
    slack_typed_clear(&t);
}
#define TYPED(escaped, want) check_typed(escaped, want, __FILE__, __LINE__)

TEST(slack_command_text_comes_back_as_the_agent_typed_it)
{
    TYPED("reply 3 Sorry for the delay &amp; thanks &lt;3", "reply 3 Sorry for the delay & thanks <3");
    TYPED("reply 3 a &gt; b &amp;&amp; c", "reply 3 a > b && c");
    TYPED("reply 3 I typed &amp;lt; myself", "reply 3 I typed &lt; myself");
    TYPED("reply 3 &quot;quoted&quot; &amp", "reply 3 &quot;quoted&quot; &amp");
    TYPED("reply 3 see <https://acme.example/help?a=1&amp;b=2>",
          "reply 3 see https://acme.example/help?a=1&b=2");
    TYPED("reply 3 see <https://acme.example/x|acme.example/x>", "reply 3 see acme.example/x");
    TYPED("reply 3 see <http://example.com|example.com>.", "reply 3 see example.com.");
    TYPED("reply 3 see <https://acme.example/x|click here>", "reply 3 see https://acme.example/x");
    TYPED("reply 3 mail <mailto:help@acme.dk|help@acme.dk>", "reply 3 mail help@acme.dk");
    TYPED("reply 3 mail <mailto:help@acme.dk>", "reply 3 mail help@acme.dk");
    TYPED("note 3 ask in <#C123|billing> or <#C9>", "note 3 ask in #billing or #C9");
    TYPED("note 3 <!here> <!channel|channel> <!subteam^S1|@tier2> <!subteam^S2>",
          "note 3 @here @channel @tier2 @subteam");
    TYPED("assign 3 <@U2|bob>", "assign 3 @bob");
    TYPED("assign 3 <@U2>", "assign 3 @U2");
    /* what real Slack never sends is kept, not lost */
    TYPED("reply 3 < no end", "reply 3 < no end");
    TYPED("reply 3 <> <|> <@> <#|x>", "reply 3   @ #");   /* odd, never sent: no crash, no leak */
    TYPED("", "");
    TYPED("reply 3 \xf0\x9f\x98\x80 \"ok\" 'fine'", "reply 3 \xf0\x9f\x98\x80 \"ok\" 'fine'");
}

TEST(slack_command_text_tells_who_each_at_name_is)
{
    struct slack_typed t;
    CHECK_INT(slack_typed_text("assign 3 <@U2|bob> cc <@W7> &amp; <@U1|al&amp;i>", &t), 0);
    CHECK_STR(t.text, "assign 3 @bob cc @W7 & @al&i");
    CHECK_INT(t.npeople, 3);
    if (t.npeople == 3) {
        CHECK_STR(t.people[0].id, "U2");
        CHECK_STR(t.people[0].name, "bob");
        CHECK_STR(t.people[1].id, "W7");
        CHECK_STR(t.people[1].name, "W7");
        CHECK_STR(t.people[2].id, "U1");
        CHECK_STR(t.people[2].name, "al&i");
    }
    slack_typed_clear(&t);
}

/* A property: whatever an agent types, escaped as Slack does (slack.md §5:
 * the three entities; with should_escape, known people, channels and links
 * as control sequences), comes back as typed.  The same rules drive
 * tests/fakes/fake_slack.py's escaper. */
TEST(slack_any_typed_text_survives_slacks_escaping)
{
    static const char *const plain[] = {
        "&", "<", ">", "<3", "&lt;", "&amp;", "&gt;", "&#60;", "<@U1>", "<@U1|alice>",
        "<!channel>", "<https://evil.example|x>", "|", "\"", "'", "\xf0\x9f\x98\xa1",
        "\xc3\xa6\xc3\xb8", "Sorry", "for", "the", "delay", "!", "a&b", "<<>>", "%s", "#42",
    };
    static const char *const refs[][2] = {   /* typed -> as Slack sends it */
        { "@alice", "<@U1|alice>" }, { "@bob", "<@U2|bob>" }, { "#billing", "<#C1|billing>" },
        { "@here", "<!here>" }, { "https://acme.example/a?b=1&c=<2>",
          "<https://acme.example/a?b=1&amp;c=&lt;2&gt;>" },
        { "example.com", "<http://example.com|example.com>" },
        { "www.acme.dk/help", "<http://www.acme.dk/help|www.acme.dk/help>" },
        { "help@acme.dk", "<mailto:help@acme.dk|help@acme.dk>" },
    };
    const size_t np = sizeof plain / sizeof plain[0], nr = sizeof refs / sizeof refs[0];
    unsigned r = 4242;
    int bad = 0;
    for (int i = 0; i < 3000 && bad < 3; i++) {
        char typed[1024] = "", sent[2048] = "";
        size_t people = 0;
        int n = 1 + (int)((r = r * 1103515245u + 12345u) >> 8) % 10;
        struct slack_typed t;
        for (int k = 0; k < n; k++) {
            size_t pick = ((r = r * 1103515245u + 12345u) >> 8) % (np + nr);
            const char *sep = k ? " " : "";
            strcat(typed, sep);
            strcat(sent, sep);
            if (pick < np) {
                char *esc = slack_escape(plain[pick]);
                strcat(typed, plain[pick]);
                strcat(sent, esc);
                free(esc);
            } else {
                strcat(typed, refs[pick - np][0]);
                strcat(sent, refs[pick - np][1]);
                people += refs[pick - np][1][1] == '@';
            }
        }
        if (slack_typed_text(sent, &t) || strcmp(t.text, typed) != 0 || t.npeople != people) {
            unit_fail(__FILE__, __LINE__, "typed \"%s\", sent \"%s\", came back \"%s\" (%zu people, want %zu)",
                      typed, sent, t.text ? t.text : "(null)", t.npeople, people);
            bad++;
        }
        slack_typed_clear(&t);
    }
}

TEST(slack_ticket_message_cannot_ping_anyone)
{
    struct ticket_view v = view("@AcmeSupport <!channel> <!here> <@U024BE7LH> <#C1> @here",
                                "Eve <!everyone>");
    json_t *m = slack_ticket_message(&v, 1700000100);
    CHECK(m != NULL);
    check_safe(m, "<!channel>");
    check_safe(m, "<@U024BE7LH>");
    check_safe(m, "<!everyone>");
    CHECK(strstr(json_string_value(json_object_get(m, "text")), "&lt;!channel&gt;") != NULL);
    json_decref(m);
    m = slack_text_message("@x <!here> & more");
    check_safe(m, "<!here>");
    json_decref(m);
}

TEST(slack_ticket_message_has_number_handle_link_buttons_and_metadata)
{
    struct ticket_view v = view("My order is late", "Ann");
    json_t *m = slack_ticket_message(&v, 1700000100), *blocks, *actions, *meta;
    char *dump;
    CHECK(m != NULL);
    CHECK(strstr(json_string_value(json_object_get(m, "text")), "#42") != NULL);
    CHECK(strstr(json_string_value(json_object_get(m, "text")), "@mallory") != NULL);
    blocks = json_object_get(m, "blocks");
    dump = json_dumps(blocks, JSON_COMPACT);
    CHECK(strstr(dump, "<https://x.com/mallory/status/1860000000000000001|@mallory>") != NULL);
    CHECK(strstr(dump, "first response due in 59 min") != NULL);
    free(dump);
    actions = json_object_get(json_array_get(blocks, 3), "elements");
    CHECK_INT(json_array_size(actions), 6);
    CHECK_STR(json_string_value(json_object_get(json_array_get(actions, 0), "action_id")), "form_reply");
    CHECK_STR(json_string_value(json_object_get(json_array_get(actions, 2), "action_id")), "assign_me");
    CHECK_STR(json_string_value(json_object_get(json_array_get(actions, 0), "value")), "42");
    meta = json_object_get(m, "metadata");
    CHECK_STR(json_string_value(json_object_get(meta, "event_type")), "vigil_ticket");
    CHECK_INT(json_integer_value(json_object_get(json_object_get(meta, "event_payload"), "ticket")), 42);
    json_decref(m);
    v.status = "closed";
    m = slack_ticket_message(&v, 1700000100);
    actions = json_object_get(json_array_get(json_object_get(m, "blocks"), 3), "elements");
    CHECK_INT(json_array_size(actions), 1);
    CHECK_STR(json_string_value(json_object_get(json_array_get(actions, 0), "action_id")), "reopen");
    json_decref(m);
}

TEST(slack_ticket_message_stays_within_block_kit_limits)
{
    char *huge = malloc(20001);
    struct ticket_view v;
    json_t *m, *b;
    size_t i;
    memset(huge, '<', 20000);   /* escaping makes it 4x longer */
    huge[20000] = '\0';
    v = view(huge, "x");
    m = slack_ticket_message(&v, 1700000100);
    json_array_foreach(json_object_get(m, "blocks"), i, b) {
        const char *t = json_string_value(json_object_get(json_object_get(b, "text"), "text"));
        CHECK(!t || strlen(t) <= 3000);
    }
    CHECK(strlen(json_string_value(json_object_get(m, "text"))) < 40000);
    json_decref(m);
    free(huge);
}

TEST(slack_buttons_map_to_commands)
{
    struct chat_command c = { 0 };
    CHECK_INT(slack_action_command("/tw", "assign_me", "42", &c), 0);
    CHECK_STR(c.raw, "/tw assign 42 me");
    CHECK_STR(c.verb, "assign");
    CHECK_INT(c.argc, 2);
    CHECK_STR(c.argv[0], "42");
    CHECK_STR(c.argv[1], "me");
    CHECK_INT(c.ticket, 42);
    CHECK_INT(slack_action_command("/tw", "escalate", "7", &c), 0);
    CHECK_STR(c.raw, "/tw escalate 7");
    CHECK_STR(c.verb, "escalate");
    CHECK_INT(c.ticket, 7);
    chat_command_clear(&c);
    CHECK(slack_action_command("/tw", "assign_me", "42; rm -rf", &c) < 0);
    CHECK(slack_action_command("/tw", "nuke", "42", &c) < 0);
    CHECK(slack_action_command("/tw", "close", "", &c) < 0);
    CHECK(c.verb == NULL);
}

/* issue 17 §7: files.getUploadURLExternal's answer, as Slack documents it */
TEST(slack_upload_url_answer_gives_the_url_and_file_id)
{
    char url[200], id[32];
    const char *ok = "{\"ok\":true,\"upload_url\":\"https://files.slack.com/upload/v1/"
                     "CwABAAAAXw\",\"file_id\":\"F07ABCDEF\"}";
    const char *bad[] = {
        "{\"ok\":false,\"error\":\"invalid_arguments\"}",
        "{\"ok\":true,\"upload_url\":\"file:///etc/passwd\",\"file_id\":\"F1\"}",
        "{\"ok\":true,\"upload_url\":\"https://a b\",\"file_id\":\"F1\"}",
        "{\"ok\":true,\"upload_url\":\"https://files.slack.com/u\",\"file_id\":\"\"}",
    };
    CHECK_INT(slack_parse_upload_url(ok, strlen(ok), url, sizeof url, id, sizeof id), 0);
    CHECK_STR(url, "https://files.slack.com/upload/v1/CwABAAAAXw");
    CHECK_STR(id, "F07ABCDEF");
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        CHECK_INT(slack_parse_upload_url(bad[i], strlen(bad[i]), url, sizeof url, id,
                                         sizeof id), -1);
    CHECK_INT(slack_parse_upload_url(ok, strlen(ok), url, 10, id, sizeof id), -1);
}
