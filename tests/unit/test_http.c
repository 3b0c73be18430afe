/* test_http.c — core/http's form encoder: what Slack's read methods get as
 * their body (users.info, conversations.history take forms only). */
#include "unit.h"

#include <stdlib.h>

#include "core/http.h"

TEST(form_encode_escapes_every_reserved_character)
{
    const char *pairs[] = { "text", "a b+c&d=e#f%g/?:\xc3\xa9\n", "channel", "C_MENTIONS",
                            "blocks", "[{\"type\":\"x\"}]", "empty", "", NULL };
    char *form = http_form_encode(pairs);
    CHECK_STR(form, "text=a+b%2bc%26d%3de%23f%25g%2f%3f%3a%c3%a9%0a&channel=C_MENTIONS"
                    "&blocks=%5b%7b%22type%22%3a%22x%22%7d%5d&empty=");
    free(form);
}

TEST(form_encode_of_nothing_is_an_empty_body)
{
    const char *none[] = { NULL };
    char *form = http_form_encode(none);
    CHECK_STR(form, "");
    free(form);
}
