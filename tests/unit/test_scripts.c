/* test_scripts.c — the default commands and hooks of scripts/ (the real
 * files, with lua/ as their library) run through the script runtime against
 * a desk with a temp store and recording fake adapters: what the user reads,
 * and what changed in the store and the outbox.  The Lua tests of
 * scripts/tests/ (vigil test) say most of it as an admin would; whoami,
 * scripts, reload and the SLA hook are tested only there. */
#include "unit.h"
#include "fakes.h"

#include <dirent.h>
#include <limits.h>
#include <stdlib.h>
#include <unistd.h>
#include <uv.h>

#include "chat/chat.h"
#include "chat/command.h"
#include "core/config.h"
#include "desk/desk.h"
#include "script/script.h"
#include "source/source.h"
#include "store/store.h"

/* Staff of every fixture. */
#define LEAD  "U1"   /* Alice Jensen, AJ */
#define AGENT "U2"   /* Bob Okafor, BO */
#define ADMIN "U3"   /* Carmen Ruiz, CR */
#define NOBODY "U9"  /* not on staff */

#define CHECK_HAS(s, needle) do { const char *s_ = (s), *n_ = (needle);            \
    if (!s_ || !strstr(s_, n_))                                                    \
        unit_fail(__FILE__, __LINE__, "answer \"%s\" lacks \"%s\"", s_ ? s_ : "(null)", n_); \
    } while (0)
#define CHECK_PREFIX(s, prefix) do { const char *s_ = (s), *p_ = (prefix);        \
    if (!s_ || strncmp(s_, p_, strlen(p_)) != 0)                                   \
        unit_fail(__FILE__, __LINE__, "answer \"%s\" does not start with \"%s\"",  \
                  s_ ? s_ : "(null)", p_); } while (0)
#define CHECK_LACKS(s, needle) do { const char *s_ = (s), *n_ = (needle);          \
    if (!s_ || strstr(s_, n_))                                                     \
        unit_fail(__FILE__, __LINE__, "answer \"%s\" has \"%s\"", s_ ? s_ : "(null)", n_); \
    } while (0)

/* The first line sent that starts with `prefix` and contains `needle`. */
static const char *sent_line(const char *prefix, const char *needle)
{
    for (int i = 0; i < fake.n; i++)
        if (strncmp(fake.log[i], prefix, strlen(prefix)) == 0 &&
            (!needle || strstr(fake.log[i], needle)))
            return fake.log[i];
    return NULL;
}

static int sent_count(const char *prefix)
{
    int n = 0;
    for (int i = 0; i < fake.n; i++)
        n += strncmp(fake.log[i], prefix, strlen(prefix)) == 0;
    return n;
}

/* --- fixture: desk + runtime loaded from the repository's scripts/ ------- */

struct fx {
    uv_loop_t loop;
    struct config *cfg;
    struct store *store;
    struct desk *desk;
    struct script_rt *rt;
    int load_failures;
    char answer[8192];
};

static struct mention mk(int64_t id, const char *author, const char *handle, const char *name,
                         const char *conv, const char *text)
{
    struct mention m = { 0 };
    m.id = id;
    m.original_id = id;
    m.text = (char *)text;
    m.author_id = (char *)author;
    m.author_handle = (char *)handle;
    m.author_name = (char *)name;
    m.conversation_id = (char *)conv;
    return m;
}

/* Opens the fixture with three tickets:
 *   #1 @tombecker77 (Tom Becker)  "Sent the blender back..."
 *   #2 @yuki_tnk (no display name) in Japanese
 *   #3 @tombecker77 again, another conversation.
 * `extra` is appended to the config (may be NULL). */
static void fx_open_with(struct fx *f, const char *name, const char *extra)
{
    char cfgpath[700], dbpath[600], root[PATH_MAX];
    struct mention v[3];
    struct mention_page page = { 0 };
    FILE *fp;

    memset(f, 0, sizeof *f);
    fake_reset(&fake_chat_ops_minimal);
    if (!realpath(unit_root(), root))
        snprintf(root, sizeof root, "%s", unit_root());
    snprintf(dbpath, sizeof dbpath, "%s", unit_tmp(name));
    snprintf(cfgpath, sizeof cfgpath, "%s.lua", dbpath);
    fp = fopen(cfgpath, "w");
    fprintf(fp, "replay = { file = 'x' }\n"
                "x = { handle = 'AcmeSupport', user_id = '99' }\n"
                "outbox = { x_rate = 1000, max_attempts = 3, max_backoff = 0.01 }\n"
                "slack = { post_rate = 1000 }\n"
                "scripts = { dir = '%s/scripts', lib = '%s/lua' }\n"
                "channels = { mentions = '#support', escalations = '#support-escalations' }\n"
                "staff = { U1 = { name = 'Alice Jensen', initials = 'AJ', role = 'lead' },\n"
                "          U2 = { name = 'Bob Okafor', initials = 'BO' },\n"
                "          U3 = { name = 'Carmen Ruiz', initials = 'CR', role = 'admin' } }\n"
                "sla = { first_response = 3600, warn_before = 900 }\n"
                "reply = { hold = 0, collision_window = 0 }\n%s\n",   /* sends go at once */
            root, root, extra ? extra : "");
    fclose(fp);
    f->desk = fake_desk_open(&f->loop, cfgpath, dbpath, &f->cfg, &f->store);
    desk_set_adapters(f->desk, &fake.chat, &fake.source);
    f->rt = script_new(&f->loop, f->desk);
    f->load_failures = script_load_all(f->rt);
    desk_set_hooks(f->desk, script_desk_hooks(f->rt));
    desk_start(f->desk);

    v[0] = mk(100, "c1", "tombecker77", "Tom Becker", "100",
              "@AcmeSupport Sent the blender back 3 weeks ago and STILL no refund");
    v[1] = mk(101, "c2", "yuki_tnk", NULL, "101",
              "@AcmeSupport アプリを最新版に更新したら、起動した瞬間に落ちるようになりました。");
    v[2] = mk(102, "c1", "tombecker77", "Tom Becker", "102",
              "@AcmeSupport Different issue: the lid of my kettle is the wrong colour");
    page.v = v;
    page.n = 3;
    if (desk_ingest(f->desk, "test", &page, NULL, NULL) != DESK_OK)
        unit_fail(__FILE__, __LINE__, "ingest failed");
}

static void fx_open(struct fx *f, const char *name) { fx_open_with(f, name, NULL); }

/* Runs the loop until the outbox has nothing left to do now. */
static void fx_drain(struct fx *f)
{
    for (int i = 0; i < 200; i++)
        uv_run(&f->loop, UV_RUN_NOWAIT);
}

static void fx_close(struct fx *f)
{
    fake_desk_close(&f->loop, f->desk, f->rt, f->store, f->cfg);
}

/* Runs "/tw <line>" as `user`; returns the answer (valid until the next run). */
static const char *run(struct fx *f, const char *user, const char *line)
{
    return fake_run_command(f->rt, user, line, f->answer, sizeof f->answer);
}

/* The detail of the latest event `action` of ticket `id` (static), or NULL. */
static const char *last_event(struct fx *f, int64_t id, const char *action, const char **actor)
{
    static char detail[2048], who[128];
    const char *found = NULL;
    size_t n;
    struct event *ev = store_events_of(f->store, id, &n);
    for (size_t i = 0; i < n; i++)
        if (strcmp(ev[i].action, action) == 0) {
            snprintf(detail, sizeof detail, "%s", ev[i].detail ? ev[i].detail : "");
            snprintf(who, sizeof who, "%s", ev[i].actor ? ev[i].actor : "");
            found = detail;
        }
    store_events_free(ev, n);
    if (actor)
        *actor = found ? who : NULL;
    return found;
}

static int count_events(struct fx *f, int64_t id, const char *action)
{
    size_t n;
    int c = 0;
    struct event *ev = store_events_of(f->store, id, &n);
    for (size_t i = 0; i < n; i++)
        c += strcmp(ev[i].action, action) == 0;
    store_events_free(ev, n);
    return c;
}

/* A copy of ticket `id` (fields freed by the caller with store_ticket_clear). */
static struct ticket ticket(struct fx *f, int64_t id)
{
    struct ticket t;
    memset(&t, 0, sizeof t);
    if (store_ticket_get(f->store, id, &t) != STORE_OK)
        unit_fail(__FILE__, __LINE__, "no ticket #%lld", (long long)id);
    return t;
}

/* Column (byte offset in its line) where `needle` starts, or -1. */
static int column_of(const char *s, const char *needle)
{
    const char *p = strstr(s, needle), *line = p;
    if (!p)
        return -1;
    while (line > s && line[-1] != '\n')
        line--;
    return (int)(p - line);
}

/* --- loading --------------------------------------------------------------- */

/* The .lua files of the repository's scripts/ (`sub`: a folder of it):
 * the counts below follow the files, not a number to bump per script. */
static int count_lua(const char *sub)
{
    char path[PATH_MAX];
    struct dirent *de;
    DIR *dir;
    int n = 0;
    snprintf(path, sizeof path, "%s/scripts%s", unit_root(), sub);
    dir = opendir(path);
    while (dir && (de = readdir(dir)))
        n += strlen(de->d_name) > 4 && strcmp(de->d_name + strlen(de->d_name) - 4, ".lua") == 0;
    if (dir)
        closedir(dir);
    return n;
}

TEST(every_default_script_and_hook_loads)
{
    struct fx f;
    char **verbs, *list;
    int n = 0;
    fx_open(&f, "scripts-load.db");
    CHECK_INT(f.load_failures, 0);
    verbs = script_verbs(f.rt);
    for (char **v = verbs; v && *v; v++)
        n++;
    CHECK_INT(n, count_lua(""));
    CHECK(n >= 18);
    script_strv_free(verbs);
    list = script_list(f.rt);
    CHECK_HAS(list, "hooks/privacy.lua");
    CHECK_HAS(list, "hooks/sla.lua");
    free(list);
    fx_close(&f);
}

/* --- help -------------------------------------------------------------------- */

TEST(help_lists_every_command_with_its_usage_in_aligned_columns)
{
    struct fx f;
    const char *a;
    static const char *const usages[] = {
        "/tw assign <ticket> [@user|me]", "/tw canned <ticket> <name>", "/tw close <ticket>",
        "/tw dm <ticket> <text>", "/tw escalate <ticket> [reason]", "/tw help [command]",
        "/tw history <ticket>", "/tw note <ticket> <text>", "/tw reload [name]",
        "/tw reopen <ticket>", "/tw reply <ticket> <text>", "/tw scripts",
        "/tw stats [today|7d|30d]", "/tw tag <ticket> <tag>", "/tw tickets [open|mine|",
        "/tw unassign <ticket>", "/tw whoami", NULL,
    };
    fx_open(&f, "scripts-help1.db");
    a = run(&f, AGENT, "help");
    for (int i = 0; usages[i]; i++)
        CHECK_HAS(a, usages[i]);
    CHECK(column_of(a, "Assign a ticket to a teammate") > 20);
    CHECK_INT(column_of(a, "Reply publicly on X"), column_of(a, "Assign a ticket to a teammate"));
    CHECK_INT(column_of(a, "Close a ticket."), column_of(a, "Assign a ticket to a teammate"));
    CHECK_HAS(a, "Escalate a ticket to the second tier. (leads)");   /* an agent cannot */
    CHECK_HAS(a, "(admins)");
    /* only the first line of each help in the list */
    CHECK_LACKS(a, "At most 280 characters");
    /* "/tw" alone is help */
    CHECK_STR(run(&f, AGENT, ""), a);
    fx_close(&f);
}

TEST(help_for_one_command_shows_its_usage_and_every_line_of_help)
{
    struct fx f;
    const char *a;
    fx_open(&f, "scripts-help2.db");
    a = run(&f, AGENT, "help reply");
    CHECK_PREFIX(a, "/tw reply <ticket> <text>\nReply publicly on X, signed with your "
                     "initials.\n");
    CHECK_HAS(a, "280 characters");
    CHECK_HAS(run(&f, AGENT, "help escalate"), "/tw escalate <ticket> [reason]  (leads)");
    CHECK_STR(run(&f, AGENT, "help frobnicate"),
              "There is no command \"frobnicate\". /tw help lists them all.");
    fx_close(&f);
}

TEST(non_staff_may_read_help_but_run_nothing_else)
{
    struct fx f;
    const char *a;
    fx_open(&f, "scripts-help3.db");
    a = run(&f, NOBODY, "help");
    CHECK_HAS(a, "/tw reply <ticket> <text>");
    CHECK_HAS(a, "You are not on the support staff, so you can only run help.");
    CHECK_HAS(run(&f, NOBODY, "tickets"), "Only support staff can use /tw tickets");
    CHECK_HAS(run(&f, NOBODY, "reply 1 hi"), "Only support staff");
    CHECK_INT(count_events(&f, 1, "reply"), 0);
    fx_close(&f);
}

/* --- reply ------------------------------------------------------------------- */

TEST(reply_queues_a_signed_public_reply_and_shows_it)
{
    struct fx f;
    struct ticket t;
    const char *actor;
    fx_open(&f, "scripts-reply1.db");
    CHECK_STR(run(&f, AGENT, "reply 1 Sorry  for the wait, Tom!"),
              "Reply to @tombecker77 queued: Sorry  for the wait, Tom! ^BO");
    CHECK_HAS(last_event(&f, 1, "reply", &actor), "Sorry  for the wait, Tom! ^BO");
    CHECK_STR(actor, AGENT);
    t = ticket(&f, 1);
    CHECK_INT(t.first_response_at, 0);   /* answered once X confirms it */
    store_ticket_clear(&t);
    fx_drain(&f);
    CHECK(sent_line("reply 100 Sorry  for the wait, Tom! ^BO", NULL) != NULL);
    t = ticket(&f, 1);
    CHECK(t.first_response_at > 0);
    store_ticket_clear(&t);
    /* "#1" works as well as "1" */
    CHECK_HAS(run(&f, LEAD, "reply #1 More news soon."), "queued: More news soon. ^AJ");
    fx_close(&f);
}

TEST(reply_without_text_or_to_an_unknown_ticket_explains)
{
    struct fx f;
    fx_open(&f, "scripts-reply2.db");
    CHECK_STR(run(&f, AGENT, "reply 1"), "Usage: /tw reply <ticket> <text>");
    CHECK_STR(run(&f, AGENT, "reply"), "Usage: /tw reply <ticket> <text>");
    CHECK_STR(run(&f, AGENT, "reply 42 hello"),
              "Usage: /tw reply <ticket> <text> — there is no ticket #42.");
    CHECK_HAS(run(&f, AGENT, "reply abc hello"), "\"abc\" is not a ticket number");
    CHECK_INT(count_events(&f, 1, "reply"), 0);
    fx_close(&f);
}

TEST(reply_to_a_closed_ticket_says_it_is_open_again)
{
    struct fx f;
    struct ticket t;
    fx_open(&f, "scripts-reply3.db");
    run(&f, AGENT, "close 1");
    CHECK_STR(run(&f, AGENT, "reply 1 One more thing"),
              "Reply to @tombecker77 queued: One more thing ^BO\n"
              "#1 was closed; it is open again.");
    t = ticket(&f, 1);
    CHECK_STR(t.state, "open");
    store_ticket_clear(&t);
    fx_close(&f);
}

TEST(reply_over_280_characters_is_refused_with_the_count)
{
    struct fx f;
    char line[400] = "reply 1 ";
    fx_open(&f, "scripts-reply4.db");
    memset(line + 8, 'a', 290);
    line[298] = '\0';
    CHECK_HAS(run(&f, AGENT, line), "characters as X counts them");
    CHECK_INT(count_events(&f, 1, "reply"), 0);
    fx_close(&f);
}

/* --- privacy hook ------------------------------------------------------------ */

TEST(public_reply_with_an_email_phone_or_card_number_is_refused_and_points_to_dm)
{
    struct fx f;
    fx_open(&f, "scripts-privacy1.db");
    CHECK_STR(run(&f, AGENT, "reply 1 Write to tom.becker@gmail.com"),
              "Not sent: this public reply contains an email address (t…@gmail.com). "
              "Personal details go in a DM: /tw dm 1 <text>");
    CHECK_HAS(run(&f, AGENT, "reply 1 Call +45 12 34 56 78 today"),
              "contains what looks like a phone number (ending 5678). "
              "Personal details go in a DM: /tw dm 1 <text>");
    CHECK_HAS(run(&f, AGENT, "reply 1 Call (555) 123-4567"), "a phone number");
    CHECK_HAS(run(&f, AGENT, "reply 1 ring 555.123.4567"), "a phone number");
    CHECK_HAS(run(&f, AGENT, "reply 1 Is 4111 1111 1111 1111 your card?"),
              "what looks like a card number (ending 1111)");
    CHECK_HAS(run(&f, AGENT, "reply 1 card 4111-1111-1111-1111"), "a card number");
    CHECK_HAS(run(&f, LEAD, "canned add leak Call me on 555 123 4567"), "Saved");
    CHECK_HAS(run(&f, AGENT, "canned 1 leak"), "a phone number");
    CHECK_INT(count_events(&f, 1, "reply"), 0);
    fx_drain(&f);
    CHECK_INT(sent_count("reply "), 0);
    fx_close(&f);
}

TEST(order_numbers_dates_times_and_links_are_not_mistaken_for_personal_details)
{
    struct fx f;
    fx_open(&f, "scripts-privacy2.db");
    CHECK_HAS(run(&f, AGENT, "reply 1 Your order #48213 ships 2026-11-24 at 10:30"), "queued");
    CHECK_HAS(run(&f, AGENT, "reply 1 Order 48213977 left on 20.11.2026, open 9.00-17.00"),
              "queued");
    CHECK_HAS(run(&f, AGENT, "reply 1 See https://x.com/AcmeSupport/status/1860005834278457344"),
              "queued");
    CHECK_HAS(run(&f, AGENT, "reply 1 Refund of 49.99 on 11/20/2026, sizes 38, 39, 40"),
              "queued");
    CHECK_INT(count_events(&f, 1, "reply"), 4);
    fx_close(&f);
}

TEST(public_reply_with_a_street_address_or_iban_is_refused_naming_what_was_found)
{
    struct fx f;
    fx_open(&f, "scripts-privacy3.db");
    CHECK_STR(run(&f, AGENT, "reply 1 We'll send the new one to 12 Baker Street"),
              "Not sent: this public reply contains a street address: '12 Baker Street'. "
              "Personal details go in a DM: /tw dm 1 <text>");
    CHECK_HAS(run(&f, AGENT, "reply 1 Wir schicken es an Hauptstraße 5"),
              "a street address: 'Hauptstraße 5'");
    CHECK_HAS(run(&f, AGENT, "reply 1 Refund goes to DE89 3704 0044 0532 0130 00"),
              "an IBAN (DE89…3000)");
    CHECK_HAS(run(&f, AGENT, "reply 1 交換品を東京都渋谷区神南1-2-3にお送りします"),
              "a street address: '東京都渋谷区神南1-2-3'");
    CHECK_HAS(run(&f, AGENT, "reply 1 090-1234-5678にお電話します"),
              "what looks like a phone number (ending 5678)");
    CHECK_HAS(run(&f, AGENT, "reply 1 Your refund is on its way, 3-5 days"), "queued");
    CHECK_INT(count_events(&f, 1, "reply"), 1);
    fx_close(&f);
}

TEST(commands_with_declared_args_give_one_answer_to_bad_input)
{
    struct fx f;
    fx_open(&f, "scripts-args1.db");
    CHECK_STR(run(&f, AGENT, "close 1 2"), "Usage: /tw close <ticket> — too many words: \"2\"");
    CHECK_STR(run(&f, AGENT, "tag 99 billing"),
              "Usage: /tw tag <ticket> <tag> — there is no ticket #99.");
    CHECK_STR(run(&f, AGENT, "unassign"), "Usage: /tw unassign <ticket>");
    CHECK_STR(run(&f, AGENT, "help reopen"), "/tw reopen <ticket>\nReopen a closed ticket.");
    CHECK_STR(run(&f, LEAD, "escalate 1 angry customer, wants a call"),
              "#1 escalated to #support-escalations: angry customer, wants a call.");
    CHECK_STR(run(&f, AGENT, "resend 1"), "#1 has no failed reply or DM to send again.");
    fx_close(&f);
}

/* --- dm ------------------------------------------------------------------------ */

TEST(dm_sends_the_message_and_the_public_note_only_once_x_confirmed_it)
{
    struct fx f;
    const char *first, *second = NULL;
    fx_open(&f, "scripts-dm1.db");
    CHECK_STR(run(&f, AGENT, "dm 1 What is your order number?"),
              "DM to @tombecker77 queued. Once X confirms it, the public note (canned "
              "dm_notice) follows.");
    CHECK_HAS(last_event(&f, 1, "dm", NULL), "What is your order number?");
    CHECK_INT(count_events(&f, 1, "reply"), 0);    /* nothing public before X confirmed it */
    fx_drain(&f);
    CHECK(sent_line("dm c1 What is your order number?", NULL) != NULL);
    first = sent_line("reply 100 @tombecker77 we've sent you a DM (ref ", NULL);
    CHECK(first != NULL);
    CHECK_INT(count_events(&f, 1, "reply"), 1);
    /* the next DM's note differs, so X never refuses it as a duplicate */
    run(&f, AGENT, "dm 1 And the postcode?");
    /* X is paced (outbox.x_rate, 1/s): the second note waits its turn */
    for (int i = 0; i < 150 && sent_count("reply 100 @tombecker77 we've sent") < 2; i++) {
        uv_sleep(20);
        fx_drain(&f);
    }
    CHECK_INT(sent_count("reply 100 @tombecker77 we've sent you a DM"), 2);
    for (int i = 0; i < fake.n; i++)
        if (strstr(fake.log[i], "we've sent you a DM") && fake.log[i] != first)
            second = fake.log[i];
    CHECK(second != NULL && strcmp(first, second) != 0);
    CHECK_STR(run(&f, AGENT, "dm 1"), "Usage: /tw dm <ticket> <text>");
    fx_close(&f);
}

TEST(a_lead_can_turn_the_public_dm_notice_off_and_on)
{
    struct fx f;
    char *v;
    fx_open(&f, "scripts-dm2.db");
    CHECK_STR(run(&f, AGENT, "dm notice off"), "That needs the lead role; you are agent.");
    CHECK_STR(run(&f, LEAD, "dm notice off"), "DMs no longer reply publicly.");
    v = store_kv_get(f.store, "dm.lua", "public_notice");
    CHECK_STR(v, "false");
    free(v);
    CHECK_STR(run(&f, AGENT, "dm 2 Please send us your order number"), "DM to @yuki_tnk queued.");
    fx_drain(&f);
    CHECK_INT(count_events(&f, 2, "dm"), 1);
    CHECK_INT(count_events(&f, 2, "reply"), 0);
    CHECK_HAS(run(&f, LEAD, "dm notice on"), "DMs now also reply publicly");
    CHECK_HAS(run(&f, AGENT, "dm 2 Thanks!"), "the public note (canned dm_notice) follows");
    CHECK_STR(run(&f, LEAD, "dm notice maybe"), "Usage: /tw dm notice on|off");
    fx_close(&f);
}

TEST(a_dm_notice_with_a_placeholder_vigil_cannot_fill_sends_nothing_public)
{
    struct fx f;
    fx_open(&f, "scripts-dm3.db");
    run(&f, LEAD, "canned add dm_notice {handle} check your DMs about {order}");
    run(&f, AGENT, "dm 1 Your refund was sent today");
    fx_drain(&f);
    CHECK(sent_line("dm c1 Your refund was sent today", NULL) != NULL);
    CHECK_INT(sent_count("reply "), 0);
    CHECK_INT(count_events(&f, 1, "reply"), 0);
    CHECK(sent_line("thread ", "No public note was sent: the canned answer dm_notice has "
                               "{order}") != NULL);
    fx_close(&f);
}

/* --- assign, unassign ------------------------------------------------------ */

TEST(assign_defaults_to_me_and_names_the_previous_owner)
{
    struct fx f;
    struct ticket t;
    fx_open(&f, "scripts-assign1.db");
    CHECK_STR(run(&f, AGENT, "assign 1"), "#1 is yours now.");
    t = ticket(&f, 1);
    CHECK_STR(t.assignee, AGENT);
    store_ticket_clear(&t);
    CHECK_STR(run(&f, AGENT, "assign 1 me"), "#1 is already assigned to Bob Okafor.");
    CHECK_STR(run(&f, AGENT, "assign 1 @alice"), "#1 is now Alice Jensen's (was Bob Okafor's).");
    CHECK_STR(run(&f, LEAD, "assign 1 <@U2|bob>"), "#1 is now Bob Okafor's (was Alice Jensen's).");
    CHECK_STR(run(&f, AGENT, "assign 1 @zed"),
              "Usage: /tw assign <ticket> [@user|me] — @zed is not on the support staff.");
    CHECK_STR(run(&f, AGENT, "assign"), "Usage: /tw assign <ticket> [@user|me]");
    CHECK_INT(count_events(&f, 1, "assigned"), 3);
    fx_close(&f);
}

/* Slack sends "@bobby" as <@U2|bobby>: the adapter hands over "@bobby" and
 * who that is; the id decides, whatever the Slack name. */
TEST(assign_at_a_slack_name_goes_to_the_person_slack_meant)
{
    struct fx f;
    char answer[600];
    const struct chat_person bobby = { "U2", "bobby" }, zed = { NOBODY, "zed" };
    struct chat_command cmd = { .user_id = LEAD, .channel = "#support",
                                .people = &bobby, .npeople = 1 };
    char *a;
    fx_open(&f, "scripts-assign3.db");
    CHECK(chat_command_parse(&cmd, "/tw assign 1 @bobby", "/tw", 0) == 0);
    a = script_run_command(f.rt, &cmd);
    snprintf(answer, sizeof answer, "%s", a ? a : "(null)");
    free(a);
    CHECK_STR(answer, "#1 is now Bob Okafor's.");
    CHECK(chat_command_parse(&cmd, "/tw assign 1 @zed", "/tw", 0) == 0);
    cmd.people = &zed;
    a = script_run_command(f.rt, &cmd);
    chat_command_clear(&cmd);
    CHECK_STR(a, "Usage: /tw assign <ticket> [@user|me] — @zed is not on the support staff.");
    free(a);
    CHECK_STR(run(&f, LEAD, "assign 1 @bobby"),
              "Usage: /tw assign <ticket> [@user|me] — @bobby is not on the support staff.");
    fx_close(&f);
}

TEST(unassign_puts_the_ticket_back_and_says_who_had_it)
{
    struct fx f;
    struct ticket t;
    fx_open(&f, "scripts-assign2.db");
    run(&f, AGENT, "assign 2");
    CHECK_STR(run(&f, LEAD, "unassign 2"), "#2 is unassigned (was Bob Okafor's).");
    t = ticket(&f, 2);
    CHECK(t.assignee == NULL);
    store_ticket_clear(&t);
    CHECK_STR(run(&f, LEAD, "unassign 2"), "#2 is not assigned to anyone.");
    fx_close(&f);
}

/* --- escalate, note, close, reopen, tag --------------------------------------- */

TEST(escalate_needs_a_lead_and_posts_to_the_escalations_channel)
{
    struct fx f;
    struct ticket t;
    fx_open(&f, "scripts-esc1.db");
    CHECK_STR(run(&f, AGENT, "escalate 1 angry"), "/tw escalate needs the lead role; you are agent.");
    CHECK_STR(run(&f, LEAD, "escalate 1 refund 3 weeks late"),
              "#1 escalated to #support-escalations: refund 3 weeks late.");
    t = ticket(&f, 1);
    CHECK_INT(t.escalated, 1);
    CHECK_STR(t.escalation_reason, "refund 3 weeks late");
    store_ticket_clear(&t);
    CHECK_STR(run(&f, LEAD, "escalate 1"), "#1 is already escalated (refund 3 weeks late).");
    CHECK_STR(run(&f, LEAD, "escalate 2"), "#2 escalated to #support-escalations.");
    fx_drain(&f);
    CHECK(sent_line("channel #support-escalations #1 escalated by Alice Jensen: refund 3 weeks late",
                    NULL) != NULL);
    fx_close(&f);
}

TEST(note_adds_an_internal_note_that_never_reaches_the_customer)
{
    struct fx f;
    fx_open(&f, "scripts-note1.db");
    CHECK_STR(run(&f, AGENT, "note 1 called the warehouse, parcel found"), "Note added to #1.");
    CHECK_STR(last_event(&f, 1, "note", NULL), "called the warehouse, parcel found");
    CHECK_STR(run(&f, AGENT, "note 1"), "Usage: /tw note <ticket> <text>");
    fx_drain(&f);
    CHECK(sent_line("thread ts-1 Note from Bob Okafor: called the warehouse", NULL) != NULL);
    CHECK_INT(sent_count("reply "), 0);
    CHECK_INT(sent_count("dm "), 0);
    fx_close(&f);
}

TEST(close_warns_when_the_customer_never_got_a_reply_and_reopen_undoes_it)
{
    struct fx f;
    struct ticket t;
    fx_open(&f, "scripts-close1.db");
    CHECK_STR(run(&f, AGENT, "close 2"), "#2 closed. Note: @yuki_tnk never got a reply.");
    t = ticket(&f, 2);
    CHECK_STR(t.state, "closed");
    store_ticket_clear(&t);
    CHECK_STR(run(&f, AGENT, "close 2"), "#2 is already closed.");
    CHECK_STR(run(&f, AGENT, "reopen 2"), "#2 is open again.");
    CHECK_STR(run(&f, AGENT, "reopen 2"), "#2 is already open.");
    run(&f, AGENT, "reply 1 Refund sent!");
    fx_drain(&f);   /* X confirms it */
    CHECK_STR(run(&f, AGENT, "close 1"), "#1 closed.");
    CHECK_STR(run(&f, AGENT, "close"), "Usage: /tw close <ticket>");
    fx_close(&f);
}

TEST(tag_lowercases_and_refuses_bad_or_duplicate_tags)
{
    struct fx f;
    struct ticket t;
    fx_open(&f, "scripts-tag1.db");
    CHECK_STR(run(&f, AGENT, "tag 1 Billing"), "#1 tagged billing.");
    CHECK_STR(run(&f, AGENT, "tag 1 #refund"), "#1 tagged refund.");
    t = ticket(&f, 1);
    CHECK_STR(t.tags, "billing,refund");
    store_ticket_clear(&t);
    CHECK_STR(run(&f, AGENT, "tag 1 billing"), "#1 is already tagged billing.");
    CHECK_HAS(run(&f, AGENT, "tag 1 bad!tag"), "A tag is 1-32 letters");
    CHECK_STR(run(&f, AGENT, "tag 1"), "Usage: /tw tag <ticket> <tag>");
    fx_close(&f);
}

/* --- canned ------------------------------------------------------------------ */

TEST(canned_answers_are_added_by_leads_listed_shown_and_sent_with_placeholders)
{
    struct fx f;
    char *body;
    fx_open(&f, "scripts-canned1.db");
    CHECK_HAS(run(&f, AGENT, "canned list"), "No canned answers yet.");
    CHECK_STR(run(&f, AGENT, "canned add refund Hi"), "That needs the lead role; you are agent.");
    CHECK_STR(run(&f, LEAD, "canned add Refund Hi {name}, your refund is on its way. {agent} {oops}"),
              "Saved canned answer \"refund\". Use it with: /tw canned <ticket> refund\n"
              "Note: vigil fills only {name}, {handle} and {agent}; until {oops} is gone, "
              "this answer is refused.");
    body = store_canned_get(f.store, "refund");
    CHECK_STR(body, "Hi {name}, your refund is on its way. {agent} {oops}");
    free(body);
    CHECK_HAS(run(&f, LEAD, "canned add refund Hi {name} ({handle}), refund sent. {agent}"),
              "Updated canned answer \"refund\"");
    CHECK_HAS(run(&f, LEAD, "canned add bad!name x"), "A canned answer's name is");
    CHECK_STR(run(&f, AGENT, "canned list"), "refund  Hi {name} ({handle}), refund sent. {agent}");
    CHECK_STR(run(&f, AGENT, "canned show refund"), "Hi {name} ({handle}), refund sent. {agent}");
    CHECK_STR(run(&f, AGENT, "canned 1 refund"),
              "Reply to @tombecker77 queued: Hi Tom Becker (@tombecker77), refund sent. "
              "Bob Okafor ^BO");
    /* no display name: {name} is the @handle */
    CHECK_HAS(run(&f, AGENT, "canned 2 refund"), "queued: Hi @yuki_tnk (@yuki_tnk), refund sent.");
    CHECK_HAS(last_event(&f, 2, "reply", NULL), "Hi @yuki_tnk (@yuki_tnk), refund sent. Bob Okafor ^BO");
    CHECK_STR(run(&f, AGENT, "canned 1 nope"),
              "There is no canned answer \"nope\". /tw canned list shows them.");
    CHECK_HAS(run(&f, AGENT, "canned"), "Usage: /tw canned <ticket> <name>");
    fx_close(&f);
}

/* Issue 15: "… {order} ^LA" must never reach a customer. */
TEST(canned_answer_with_a_placeholder_the_ticket_cannot_fill_is_refused_naming_it)
{
    struct fx f;
    fx_open(&f, "scripts-canned2.db");
    run(&f, LEAD, "canned add thanks Thanks {name}! {nickname} - {agent}, order {order} {nickname}");
    CHECK_STR(run(&f, LEAD, "canned 1 thanks"),
              "Nothing was sent: the canned answer \"thanks\" has {nickname} and {order}, which #1 "
              "cannot fill (vigil fills {name}, {handle} and {agent}). A lead can fix it: "
              "/tw canned add thanks <text>");
    CHECK_INT(store_job_pending(f.store, "x.reply", 1), 0);
    CHECK(last_event(&f, 1, "reply", NULL) == NULL);
    run(&f, LEAD, "canned add thanks Thanks {name}! - {agent}");
    CHECK_HAS(run(&f, LEAD, "canned 1 thanks"), "queued: Thanks Tom Becker! - Alice Jensen ^AJ");
    fx_drain(&f);
    CHECK_INT(sent_count("reply"), 1);
    fx_close(&f);
}

/* --- history, tickets, stats, whoami ------------------------------------------- */

TEST(history_shows_the_customers_other_tickets_with_the_replies_they_got)
{
    struct fx f;
    const char *a;
    fx_open(&f, "scripts-hist1.db");
    run(&f, AGENT, "reply 1 We're on it! Refund within 3 days.");
    run(&f, AGENT, "close 1");
    a = run(&f, AGENT, "history 3");
    CHECK_HAS(a, "@tombecker77: 1 other ticket\n#1  closed  just now  Sent the blender back 3 weeks");
    CHECK_HAS(a, "    ↳ just now: We're on it! Refund within 3 days. ^BO");
    CHECK_LACKS(a, "#3 ");
    CHECK_STR(run(&f, AGENT, "history 2"), "@yuki_tnk has no other tickets.");
    CHECK_STR(run(&f, AGENT, "history"), "Usage: /tw history <ticket>");
    fx_close(&f);
}

TEST(tickets_lists_open_tickets_newest_first_in_aligned_columns)
{
    struct fx f;
    const char *a;
    fx_open(&f, "scripts-list1.db");
    run(&f, AGENT, "assign 2");
    run(&f, AGENT, "reply 2 Sorry!");
    fx_drain(&f);   /* X confirms it */
    a = run(&f, AGENT, "tickets");
    CHECK_PREFIX(a, "Open tickets:\n#3  new");
    CHECK_HAS(a, "@tombecker77");
    CHECK_HAS(a, "Bob Okafor");
    CHECK_HAS(a, "answered");
    /* the clock started a moment ago */
    CHECK(strstr(a, "<1 min  due in 1 h  ") || strstr(a, "<1 min  due in 59 min  "));
    CHECK_HAS(a, "Different issue: the lid");  /* the @AcmeSupport mention is dropped */
    CHECK(strstr(a, "#3 ") < strstr(a, "#2 ") && strstr(a, "#2 ") < strstr(a, "#1 "));
    CHECK_INT(column_of(a, "@yuki_tnk"), column_of(a, "@tombecker77"));
    a = run(&f, AGENT, "tickets mine");
    CHECK_PREFIX(a, "Your tickets:\n#2  assigned  @yuki_tnk  Bob Okafor");
    CHECK_LACKS(a, "#1 ");
    CHECK_HAS(run(&f, AGENT, "tickets unassigned"), "#3 ");
    CHECK_LACKS(run(&f, AGENT, "tickets unassigned"), "#2 ");
    CHECK_STR(run(&f, AGENT, "tickets escalated"), "No escalated tickets.");
    CHECK_STR(run(&f, LEAD, "tickets mine"), "You have no open tickets.");
    CHECK_HAS(run(&f, AGENT, "tickets bogus"), "Usage: /tw tickets [open|mine|");
    fx_close(&f);
}

TEST(stats_counts_tickets_answers_and_the_median_first_response)
{
    struct fx f;
    const char *a;
    fx_open(&f, "scripts-stats1.db");
    run(&f, AGENT, "assign 1");
    run(&f, AGENT, "reply 1 Sorry!");
    run(&f, LEAD, "escalate 2");
    a = run(&f, AGENT, "stats");
    CHECK_HAS(a, "Today: 3 new tickets, 0 answered.");   /* queued is not answered */
    fx_drain(&f);   /* X confirms it */
    a = run(&f, AGENT, "stats");
    CHECK_HAS(a, "Now: 3 open, 2 unassigned, 1 escalated.");
    CHECK_HAS(a, "Today: 3 new tickets, 1 answered, 1 within the 1 h target (100%).");
    CHECK_HAS(a, "Median first response: ");
    CHECK_HAS(run(&f, AGENT, "stats 7d"), "Last 7 days: 3 new tickets, 1 answered");
    CHECK_STR(run(&f, AGENT, "stats forever"), "Usage: /tw stats [today|7d|30d]");
    fx_close(&f);
}

TEST(stats_shows_answered_within_target_per_hour_and_per_agent)
{
    struct fx f;
    struct ticket t;
    const char *a;
    char hour[16];
    time_t opened;
    fx_open(&f, "scripts-stats2.db");
    run(&f, AGENT, "reply 1 Sorry!");
    fx_drain(&f);   /* X confirms it: #1 answered in time by Bob */
    a = run(&f, AGENT, "stats");
    CHECK_HAS(a, "By agent (who sent the first answer):\n  Bob Okafor  1/1 (100%)  median ");
    t = ticket(&f, 3);
    opened = (time_t)t.opened_at;
    strftime(hour, sizeof hour, "  %H:00", localtime(&opened));
    desk_set_clock(f.desk, t.sla_due_at + 60);   /* #2 and #3 missed theirs */
    store_ticket_clear(&t);
    a = run(&f, AGENT, "stats");
    CHECK_HAS(a, "Answered within target, by hour opened (desk time):\n");
    CHECK_HAS(a, hour);
    CHECK_HAS(a, "1/3 (33%)");
    desk_set_clock(f.desk, 0);
    fx_close(&f);
}

TEST(export_to_a_file_is_refused_to_chat_users_even_admins)
{
    struct fx f;
    fx_open(&f, "scripts-export1.db");
    CHECK_STR(run(&f, ADMIN, "export 30d /tmp/vigil-export-refused.csv"),
              "Only the console's and the REPL's admin may write a file.");
    CHECK_HAS(run(&f, AGENT, "export 30d /tmp/vigil-export-refused.csv"), "needs the lead role");
    CHECK(access("/tmp/vigil-export-refused.csv", F_OK) != 0);
    fx_close(&f);
}

/* --- forms (issue 19) ---------------------------------------------------- */

/* Runs verb's form with `values` for ticket `id` as `user`, the way a modal
 * or the console hands it over.  Returns the answer; *failed as set. */
static const char *run_form(struct fx *f, const char *user, const char *verb, int64_t id,
                            const struct chat_field_value *values, size_t n, int *failed)
{
    struct chat_form *form = script_form(f->rt, verb, user);
    struct chat_command cmd = { 0 };
    char *answer;
    *failed = 0;
    CHECK(form != NULL);
    CHECK_INT(chat_command_from_form(&cmd, "/tw", form, id, values, n), 0);
    cmd.user_id = user;
    cmd.channel = "#support";
    cmd.failed = failed;
    answer = script_run_command(f->rt, &cmd);
    chat_command_clear(&cmd);
    chat_form_free(form);
    snprintf(f->answer, sizeof f->answer, "%s", answer ? answer : "(null)");
    free(answer);
    return f->answer;
}

TEST(shipped_forms_offer_saved_canned_answers_and_configured_staff)
{
    struct fx f;
    struct chat_form *form;
    fx_open(&f, "scripts-forms1.db");
    run(&f, LEAD, "canned add thanks Thanks {name}!");
    form = script_form(f.rt, "reply", AGENT);
    CHECK(form != NULL);
    CHECK_INT(form->nfields, 3);
    CHECK_STR(form->fields[0].name, "text");
    CHECK_INT(form->fields[0].max, 280);
    CHECK_INT(form->fields[0].weighted, 1);
    CHECK_INT(form->fields[1].kind, CHAT_FIELD_CHOICE);
    CHECK_STR(form->fields[1].fills, "text");
    CHECK_INT(form->fields[1].noptions, 1);
    CHECK_STR(form->fields[1].options[0], "thanks");
    CHECK_STR(form->fields[2].verb, "dm");
    chat_form_free(form);
    form = script_form(f.rt, "assign", AGENT);
    CHECK(form != NULL);
    CHECK_INT(form->fields[0].kind, CHAT_FIELD_STAFF);
    CHECK_INT(form->fields[0].noptions, 3);          /* U1-U3, not the console's admin */
    for (size_t i = 0; i < form->fields[0].noptions; i++)
        CHECK(strcmp(form->fields[0].options[i], "local-admin") != 0);
    chat_form_free(form);
    CHECK(script_form(f.rt, "close", AGENT) == NULL);  /* no form declared */
    fx_close(&f);
}

TEST(a_submitted_form_runs_the_same_script_as_the_typed_line)
{
    struct fx f;
    int failed;
    struct chat_field_value reply[] = { { "text", "Sorry about that!" }, { "canned", "" },
                                        { "dm", "" } };
    struct chat_field_value dm[] = { { "text", "Your order is 4411" }, { "dm", "1" } };
    struct chat_field_value who[] = { { "who", "U1" } };
    struct chat_field_value tooshort[] = { { "text", "" } };
    fx_open(&f, "scripts-forms2.db");
    CHECK_HAS(run_form(&f, AGENT, "reply", 1, reply, 3, &failed),
              "Reply to @tombecker77 queued: Sorry about that! ^BO");
    CHECK_INT(failed, 0);
    /* the DM switch runs dm with the same text */
    CHECK_HAS(run_form(&f, AGENT, "reply", 1, dm, 2, &failed), "DM to @tombecker77 queued.");
    CHECK_INT(failed, 0);
    CHECK_HAS(run_form(&f, AGENT, "assign", 2, who, 1, &failed), "#2 is now Alice Jensen's");
    /* a refusal is flagged, so a modal shows it on the field */
    CHECK_HAS(run_form(&f, AGENT, "reply", 1, tooshort, 1, &failed), "Usage");
    CHECK_INT(failed, 1);
    CHECK_HAS(run_form(&f, AGENT, "escalate", 1, NULL, 0, &failed), "needs the lead role");
    CHECK_INT(failed, 1);
    fx_close(&f);
}

TEST(canned_fill_shows_the_answer_filled_for_the_ticket_and_sends_nothing)
{
    struct fx f;
    fx_open(&f, "scripts-forms3.db");
    run(&f, LEAD, "canned add thanks Thanks {name}, it is fixed! {agent}");
    run(&f, LEAD, "canned add odd Hi {nickname}");
    CHECK_STR(run(&f, AGENT, "canned fill 1 thanks"), "Thanks Tom Becker, it is fixed! Bob Okafor");
    CHECK_HAS(run(&f, AGENT, "canned fill 1 odd"), "has {nickname}");
    CHECK_INT(count_events(&f, 1, "reply"), 0);
    fx_close(&f);
}
