/* test_command.c — typed command lines into struct chat_command: what the
 * console, the REPL and Slack all hand the scripts. */
#include "unit.h"

#include <stdlib.h>

#include "chat/command.h"

TEST(parse_command_accepts_umbrella_and_direct_forms)
{
    struct chat_command c = { 0 };
    CHECK_INT(chat_command_parse(&c, "/tw reply 3 hi there", "/tw", 0), 0);
    CHECK_STR(c.verb, "reply");
    CHECK_STR(c.args, "3 hi there");
    CHECK_STR(c.raw, "/tw reply 3 hi there");
    CHECK_INT(chat_command_parse(&c, "  /reply 3 hi", "/tw", 0), 0);
    CHECK_STR(c.verb, "reply");
    CHECK_STR(c.args, "3 hi");
    CHECK_INT(chat_command_parse(&c, "/tw", "/tw", 0), 0);
    CHECK_STR(c.verb, "help");
    CHECK_INT(chat_command_parse(&c, "ASSIGN 4 me", "/tw", 0), 0);
    CHECK_STR(c.verb, "assign");
    CHECK_INT(chat_command_parse(&c, "/twx 1", "/tw", 0), 0);
    CHECK_STR(c.verb, "twx");
    CHECK_INT(chat_command_parse(&c, "   ", "/tw", 0), 0);
    CHECK(c.verb == NULL);
    CHECK_INT(chat_command_parse(&c, "/", "/tw", 0), 0);
    CHECK(c.verb == NULL);
    chat_command_clear(&c);
}

TEST(command_arguments_are_the_words_and_the_text_keeps_its_spacing)
{
    struct chat_command c = { 0 };
    CHECK_INT(chat_command_parse(&c, "/tw reply 42   Hi  there\t", "/tw", 0), 0);
    CHECK_STR(c.args, "42   Hi  there\t");
    CHECK_INT(c.argc, 3);
    CHECK_STR(c.argv[0], "42");
    CHECK_STR(c.argv[1], "Hi");
    CHECK_STR(c.argv[2], "there");
    CHECK(c.argv[3] == NULL);
    CHECK_INT(chat_command_parse(&c, "/tw close", "/tw", 0), 0);
    CHECK_STR(c.args, "");
    CHECK_INT(c.argc, 0);
    CHECK_INT(chat_command_set(&c, "Escalate", "7", NULL), 0);
    CHECK_STR(c.verb, "escalate");
    CHECK_STR(c.raw, "Escalate 7");   /* as given */
    CHECK_INT(c.argc, 1);
    chat_command_clear(&c);
    CHECK(c.verb == NULL && c.argv == NULL && c.owned == NULL);
}

/* A teammate written the way Slack does at the console or the REPL
 * arrives like Slack's: "@name" and who that is; no <@…> reaches a script. */
TEST(a_teammate_typed_as_a_chat_id_arrives_as_at_name_and_their_id)
{
    struct chat_command c = { 0 };
    CHECK_INT(chat_command_parse(&c, "/tw assign 3 <@U123|alice> cc <@W9>", "/tw",
                                 CHAT_PARSE_PEOPLE), 0);
    CHECK_STR(c.args, "3 @alice cc @W9");
    CHECK_STR(c.argv[1], "@alice");
    CHECK_STR(c.raw, "/tw assign 3 <@U123|alice> cc <@W9>");
    CHECK_INT(c.npeople, 2);
    if (c.npeople == 2) {
        CHECK_STR(c.people[0].id, "U123");
        CHECK_STR(c.people[0].name, "alice");
        CHECK_STR(c.people[1].id, "W9");
        CHECK_STR(c.people[1].name, "W9");
    }
    /* what is not a whole reference stays text */
    CHECK_INT(chat_command_parse(&c, "note 1 <@U123 <@> <@|x> <@U1|a b>", "/tw",
                                 CHAT_PARSE_PEOPLE), 0);
    CHECK_STR(c.args, "1 <@U123 <@> <@|x> <@U1|a b>");
    CHECK_INT(c.npeople, 0);
    CHECK(c.people == NULL);
    /* without the flag (Slack: its adapter decoded them already) text is text */
    CHECK_INT(chat_command_parse(&c, "note 1 <@U2>", "/tw", 0), 0);
    CHECK_STR(c.args, "1 <@U2>");
    chat_command_clear(&c);
}

TEST(a_form_becomes_the_command_line_it_stands_for)
{
    struct chat_field fields[] = {
        { .name = "text", .label = "Reply", .kind = CHAT_FIELD_TEXT },
        { .name = "canned", .label = "Canned", .kind = CHAT_FIELD_CHOICE, .fills = "text" },
        { .name = "who", .label = "Who", .kind = CHAT_FIELD_STAFF },
        { .name = "dm", .label = "DM", .kind = CHAT_FIELD_FLAG, .verb = "dm" },
    };
    struct chat_form form = { .verb = "reply", .fields = fields, .nfields = 4 };
    struct chat_field_value v[] = { { "text", "Hi  there" }, { "canned", "thanks" },
                                    { "who", "U2" }, { "dm", "" } };
    struct chat_command c = { 0 };
    CHECK_INT(chat_command_from_form(&c, "/tw", &form, 42, v, 4), 0);
    CHECK_STR(c.verb, "reply");
    CHECK_STR(c.args, "42 Hi  there @U2");       /* the fill choice is no argument */
    CHECK_STR(c.raw, "/tw reply 42 Hi  there @U2");
    CHECK_INT(c.ticket, 42);
    CHECK_INT(c.nfields, 4);
    CHECK_STR(chat_form_value(c.fields, c.nfields, "canned"), "thanks");
    v[3].value = "1";                             /* the flag switches the verb */
    CHECK_INT(chat_command_from_form(&c, "/tw", &form, 42, v, 4), 0);
    CHECK_STR(c.verb, "dm");
    CHECK_STR(c.argv[0], "42");
    CHECK(chat_form_value(v, 4, "nope") == NULL);
    chat_command_clear(&c);
}
