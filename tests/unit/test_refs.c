/* test_refs.c — ticket and teammate references as typed in chat. */
#include "unit.h"

#include "script/refs.h"

TEST(refs_ticket_numbers)
{
    CHECK_INT(refs_ticket("42"), 42);
    CHECK_INT(refs_ticket(" #42 "), 42);
    CHECK_INT(refs_ticket("#"), -1);
    CHECK_INT(refs_ticket("42abc"), -1);
    CHECK_INT(refs_ticket("0"), -1);
    CHECK_INT(refs_ticket("-3"), -1);
    CHECK_INT(refs_ticket("99999999999999999999999"), -1);
    CHECK_INT(refs_ticket("#-1; DROP TABLE tickets"), -1);
}

TEST(refs_user_forms_slack_and_people_use)
{
    char v[32];
    CHECK_INT(refs_user("me", v, sizeof v), REFS_ME);
    CHECK_INT(refs_user("@alice", v, sizeof v), REFS_NAME);
    CHECK_STR(v, "alice");
    CHECK_INT(refs_user("U777", v, sizeof v), REFS_ID);
    CHECK_STR(v, "U777");
    CHECK_INT(refs_user("@", v, sizeof v), REFS_BAD);
    CHECK_INT(refs_user("", v, sizeof v), REFS_BAD);
    CHECK_INT(refs_user("two words", v, sizeof v), REFS_BAD);
    CHECK_INT(refs_user("@averyveryveryveryveryverylongname", v, 8), REFS_BAD);
}
