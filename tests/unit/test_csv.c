/* test_csv.c — core/csv: RFC 4180 quoting and the formula guard for
 * untrusted tweets in an export a spreadsheet opens. */
#include "unit.h"

#include "core/csv.h"

static const char *row(struct buf *b, const char *const *f, int n)
{
    buf_reset(b);
    for (int i = 0; i < n; i++)
        csv_field(b, f[i], i == 0);
    csv_end_row(b);
    return buf_str(b);
}

TEST(csv_quotes_what_rfc4180_says_and_nothing_else)
{
    struct buf b = { 0 };
    const char *plain[] = { "42", "open", "tom", "no comma here" };
    const char *hard[] = { "a,b", "say \"hi\"", "two\nlines", "cr\rhere", NULL, "" };
    CHECK_STR(row(&b, plain, 4), "42,open,tom,no comma here\r\n");
    CHECK_STR(row(&b, hard, 6), "\"a,b\",\"say \"\"hi\"\"\",\"two\nlines\",\"cr\rhere\",,\r\n");
    buf_free(&b);
}

TEST(csv_keeps_a_tweet_that_looks_like_a_formula_as_text)
{
    struct buf b = { 0 };
    const char *evil[] = { "=HYPERLINK(\"http://evil\",\"x\")", "+1", "-2+3", "@SUM(A1)",
                           "\tx", "a=b" };
    CHECK_STR(row(&b, evil, 6), "\"'=HYPERLINK(\"\"http://evil\"\",\"\"x\"\")\",'+1,'-2+3,"
                                "'@SUM(A1),'\tx,a=b\r\n");
    buf_free(&b);
}
