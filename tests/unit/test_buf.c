/* test_buf.c — core/buf: growth, the cap, printf, take. */
#include "unit.h"

#include <stdlib.h>
#include <string.h>

#include "core/buf.h"

TEST(buf_grows_and_stays_terminated)
{
    struct buf b = { 0 };
    CHECK_STR(buf_str(&b), "");
    for (int i = 0; i < 1000; i++)
        CHECK_INT(buf_addstr(&b, "abc"), 0);
    CHECK_INT(b.len, 3000);
    CHECK_INT(strlen(buf_str(&b)), 3000);
    CHECK(strncmp(buf_str(&b) + 2997, "abc", 4) == 0);
    buf_free(&b);
    CHECK_STR(buf_str(&b), "");
}

TEST(buf_printf_appends_formatted_text)
{
    struct buf b = { 0 };
    char *s;
    CHECK_INT(buf_printf(&b, "#%d %s", 42, "open"), 0);
    CHECK_INT(buf_printf(&b, " · %.1f%%", 99.5), 0);
    s = buf_take(&b);
    CHECK_STR(s, "#42 open · 99.5%");
    free(s);
    CHECK_INT(b.len, 0);
    s = buf_take(&b);                 /* empty: "" to free, never NULL */
    CHECK_STR(s, "");
    free(s);
}

TEST(buf_cap_refuses_and_sticks)
{
    struct buf b;
    buf_init(&b, 8);
    CHECK_INT(buf_addstr(&b, "12345678"), 0);
    CHECK_INT(buf_addstr(&b, "9"), -1);
    CHECK(b.failed);
    CHECK_INT(buf_addstr(&b, ""), -1);   /* failed stays failed until a reset */
    CHECK_STR(buf_str(&b), "12345678");
    buf_reset(&b);
    CHECK(!b.failed);
    CHECK_INT(buf_printf(&b, "%s", "123456789"), -1);
    CHECK_STR(buf_str(&b), "");
    buf_free(&b);
    CHECK_INT(b.max, 8);
}

TEST(buf_add_takes_bytes_with_nul)
{
    struct buf b = { 0 };
    CHECK_INT(buf_add(&b, "a\0b", 3), 0);
    CHECK_INT(b.len, 3);
    CHECK(memcmp(b.data, "a\0b", 4) == 0);
    buf_free(&b);
}

TEST(buf_consume_drops_a_prefix_and_keeps_the_rest)
{
    struct buf b = { 0 };
    buf_addstr(&b, "line one\nline two");
    buf_consume(&b, 9);
    CHECK_STR(buf_str(&b), "line two");
    CHECK_INT(b.len, 8);
    buf_consume(&b, 100);
    CHECK_STR(buf_str(&b), "");
    CHECK_INT(b.len, 0);
    buf_free(&b);
}
