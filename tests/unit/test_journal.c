/* test_journal.c — the record journal (source/journal): what the bot
 * writes reads back as the same pages and commands, an X page as X sends
 * it reads as a page, and a line that is not a journal line says why. */
#include "unit.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "chat/command.h"
#include "source/journal.h"

/* 2026-11-20 09:15:02 UTC */
#define AT 1795166102

/* The only line of `path` (static buffer). */
static const char *only_line(const char *path)
{
    static char line[8192];
    FILE *f = fopen(path, "r");
    line[0] = '\0';
    if (f) {
        if (!fgets(line, sizeof line, f))
            line[0] = '\0';
        fclose(f);
    }
    line[strcspn(line, "\n")] = '\0';
    return line;
}

TEST(journal_a_page_written_reads_back_as_the_same_mentions)
{
    char dir[600], path[700], err[200];
    struct mention m = { 0 };
    struct mention_page page = { 0 };
    struct journal_entry e;
    struct journal *j;
    struct stat sb;
    const char *line;

    snprintf(dir, sizeof dir, "%s", unit_tmp("journal-page"));
    m.id = 1860003783266095106LL;
    m.original_id = m.id;
    m.text = "@AcmeSupport Ordre #48213 \"afsendt\" i fem dage 😡\nhjælp";
    m.author_id = "1298337459201245185";
    m.author_handle = "mettek_dk";
    m.author_name = "Mette K";
    m.conversation_id = "1860003783266095106";
    m.lang = "da";
    m.created_at = AT;
    page.v = &m;
    page.n = 1;
    j = journal_open(dir);
    CHECK(j != NULL);
    journal_page(j, AT + 30, "x", &page);
    journal_close(j);
    snprintf(path, sizeof path, "%s/2026-11-20.jsonl", dir);
    CHECK(stat(path, &sb) == 0);
    CHECK_INT(sb.st_mode & 0777, 0600);
    line = only_line(path);
    CHECK(journal_parse(line, strlen(line), &e, err, sizeof err) == 0);
    CHECK_INT(e.kind, JOURNAL_PAGE);
    CHECK_INT(e.at, AT + 30);
    CHECK_INT(e.page.n, 1);
    if (e.page.n == 1) {
        CHECK_INT(e.page.v[0].id, m.id);
        CHECK_STR(e.page.v[0].text, m.text);
        CHECK_STR(e.page.v[0].author_handle, "mettek_dk");
        CHECK_STR(e.page.v[0].author_name, "Mette K");
        CHECK_STR(e.page.v[0].conversation_id, m.conversation_id);
        CHECK(e.page.v[0].in_reply_to_user_id == NULL);
        CHECK_INT(e.page.v[0].created_at, AT);
    }
    journal_entry_clear(&e);
}

TEST(journal_a_button_and_a_command_with_people_read_back_as_typed)
{
    char dir[600], path[700], err[200];
    struct chat_command cmd = { .user_id = "U2", .channel = "#support" };
    struct chat_person bob = { .id = "U3", .name = "bob" };
    struct journal_entry e;
    struct journal *j;
    const char *line;

    snprintf(dir, sizeof dir, "%s", unit_tmp("journal-cmd"));
    j = journal_open(dir);
    CHECK(chat_command_set(&cmd, "assign", "42 @bob", "/tw assign 42 @bob") == 0);
    cmd.people = &bob;
    cmd.npeople = 1;
    cmd.ticket = 42;   /* a button */
    journal_command(j, AT, &cmd);
    chat_command_clear(&cmd);
    journal_close(j);
    snprintf(path, sizeof path, "%s/2026-11-20.jsonl", dir);
    line = only_line(path);
    CHECK(strstr(line, "\"kind\":\"button\"") != NULL);
    CHECK(journal_parse(line, strlen(line), &e, err, sizeof err) == 0);
    CHECK_INT(e.kind, JOURNAL_COMMAND);
    CHECK_STR(e.cmd.user_id, "U2");
    CHECK_STR(e.cmd.channel, "#support");
    CHECK_STR(e.cmd.verb, "assign");
    CHECK_STR(e.cmd.raw, "/tw assign 42 @bob");
    CHECK_INT(e.cmd.argc, 2);
    CHECK_INT(e.cmd.ticket, 42);
    CHECK_INT(e.cmd.npeople, 1);
    if (e.cmd.npeople == 1)
        CHECK_STR(e.cmd.people[0].id, "U3");
    journal_entry_clear(&e);
}

TEST(journal_an_x_page_as_x_sends_it_reads_as_a_page)
{
    static const char line[] =
        "{\"at\":1795166132,\"kind\":\"page\",\"source\":\"x\",\"x_page\":{\"data\":[{\"id\":"
        "\"1860003783266095106\",\"text\":\"@AcmeSupport hello\",\"author_id\":\"12\","
        "\"created_at\":\"2026-11-20T09:15:02.000Z\",\"conversation_id\":\"1860003783266095106\","
        "\"edit_history_tweet_ids\":[\"1860003783266095106\"]}],\"includes\":{\"users\":[{\"id\":"
        "\"12\",\"name\":\"Mette K\",\"username\":\"mettek_dk\"}]},\"meta\":{\"result_count\":1}}}";
    struct journal_entry e;
    char err[200];
    CHECK(journal_parse(line, strlen(line), &e, err, sizeof err) == 0);
    CHECK_INT(e.page.n, 1);
    if (e.page.n == 1) {
        CHECK_STR(e.page.v[0].author_handle, "mettek_dk");
        CHECK_INT(e.page.v[0].created_at, AT);
    }
    journal_entry_clear(&e);
}

TEST(journal_a_line_that_is_no_entry_says_why)
{
    struct journal_entry e;
    char err[200];
    CHECK(journal_parse("not json", 8, &e, err, sizeof err) == -1);
    CHECK(strstr(err, "JSON") != NULL);
    CHECK(journal_parse("{\"kind\":\"page\"}", 15, &e, err, sizeof err) == -1);
    CHECK_STR(err, "a journal line needs \"at\" and \"kind\"");
    CHECK(journal_parse("{\"at\":1,\"kind\":\"tweet\"}", 23, &e, err, sizeof err) == -1);
    CHECK_STR(err, "unknown kind \"tweet\"");
    CHECK(journal_parse("{\"at\":1,\"kind\":\"command\",\"verb\":\"x\"}", 36, &e, err,
                        sizeof err) == -1);
    CHECK_STR(err, "a command needs \"user\" and \"verb\"");
}
