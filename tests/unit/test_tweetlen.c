/* test_tweetlen.c — source/tweetlen against twitter-text's own conformance
 * cases (tests/fixtures/twitter-text/weighted-cases.json, made by
 * tools/gen-tweetlen-cases.py) and against the v3 rules case by case. */
#include "unit.h"

#include <stdlib.h>

#include <jansson.h>

#include "source/tweetlen.h"

/* Checks one text; reports at the caller's line. */
static void check_len(int line, const char *what, const char *text, size_t len,
                      int weighted, int valid)
{
    struct tweetlen r;

    if (tweetlen_check(text, len, &r) != 0) {
        unit_fail(__FILE__, line, "%s: tweetlen_check failed", what);
        return;
    }
    if (r.weighted != weighted || r.valid != valid)
        unit_fail(__FILE__, line, "%s: weighted %d valid %d (%s), want %d %d",
                  what, r.weighted, r.valid, r.reason ? r.reason : "-",
                  weighted, valid);
    if (r.valid != (r.reason == NULL))
        unit_fail(__FILE__, line, "%s: valid %d but reason %s", what, r.valid,
                  r.reason ? r.reason : "NULL");
}

#define LEN_IS(text, weighted, valid) \
    check_len(__LINE__, #text, (text), strlen(text), (weighted), (valid))

static const char *reason_of(const char *text, size_t len)
{
    struct tweetlen r;

    if (tweetlen_check(text, len, &r) != 0)
        return "(tweetlen_check failed)";
    return r.reason;
}

/* A string of n copies of c, NUL-terminated; caller frees. */
static char *repeat(char c, size_t n)
{
    char *s = malloc(n + 1);

    if (s) {
        memset(s, c, n);
        s[n] = '\0';
    }
    return s;
}

TEST(tweetlen_conformance)
{
    char path[1024];
    json_error_t err;
    json_t *doc, *cases, *c;
    size_t i;
    int failed = 0;

    snprintf(path, sizeof path, "%s/tests/fixtures/twitter-text/weighted-cases.json",
             unit_root());
    doc = json_load_file(path, 0, &err);
    if (!doc) {
        unit_fail(__FILE__, __LINE__, "%s:%d: %s", path, err.line, err.text);
        return;
    }
    cases = json_object_get(doc, "cases");
    CHECK(json_array_size(cases) >= 24);
    json_array_foreach(cases, i, c) {
        json_t *text = json_object_get(c, "text");
        json_t *exp = json_object_get(c, "expected");
        const char *desc = json_string_value(json_object_get(c, "description"));
        json_t *want_len = json_object_get(exp, "weightedLength");
        json_t *want_valid = json_object_get(exp, "valid");
        struct tweetlen r;

        if (!json_is_string(text) || !json_is_integer(want_len)
            || !json_is_boolean(want_valid)) {
            unit_fail(__FILE__, __LINE__, "case %zu (%s): malformed", i,
                      desc ? desc : "?");
            continue;
        }
        if (tweetlen_check(json_string_value(text), json_string_length(text),
                           &r) != 0) {
            unit_fail(__FILE__, __LINE__, "%s: tweetlen_check failed", desc);
            continue;
        }
        if (r.weighted != json_integer_value(want_len)
            || r.valid != json_is_true(want_valid)) {
            unit_fail(__FILE__, __LINE__,
                      "conformance \"%s\": weightedLength %d valid %d (%s), "
                      "want %lld %d", desc, r.weighted, r.valid,
                      r.reason ? r.reason : "-",
                      (long long)json_integer_value(want_len),
                      json_is_true(want_valid));
            failed++;
        }
    }
    if (failed)
        unit_fail(__FILE__, __LINE__, "%d of %zu conformance cases failed",
                  failed, json_array_size(cases));
    json_decref(doc);
}

TEST(tweetlen_url_counts_23)
{
    LEN_IS("http://example.com/path?x=y", 23, 1);
    LEN_IS("Hi https://example.com/path?x=y", 26, 1);
    LEN_IS("https://t.co/abc", 23, 1);
    LEN_IS("t.co/abc", 23, 1);
    LEN_IS("a http://a.com b https://b.org/c", 51, 1);
    /* A path does not swallow the full stop that ends the sentence. */
    LEN_IS("see https://example.com/a.", 28, 1);
    /* Wikipedia-style parentheses stay in the URL. */
    LEN_IS("https://en.wikipedia.org/wiki/Primer_(film)", 23, 1);
    /* t.co URLs end at the slug. */
    LEN_IS("https://t.co/abc/def", 27, 1);
}

TEST(tweetlen_long_url_counts_23)
{
    char *tail = repeat('a', 2000), *url;
    size_t n;

    CHECK(tail != NULL);
    if (!tail)
        return;
    n = strlen(tail) + 32;
    url = malloc(n);
    CHECK(url != NULL);
    if (url) {
        snprintf(url, n, "https://example.com/%s", tail);
        check_len(__LINE__, "2000-char path", url, strlen(url), 23, 1);
        free(url);
    }
    free(tail);
}

TEST(tweetlen_bare_domain_counts_23)
{
    LEN_IS("example.com", 23, 1);
    LEN_IS("www.example.co.uk", 23, 1);
    LEN_IS("EXAMPLE.COM", 23, 1);
    LEN_IS("example.com/path/to/resource?search=foo&lang=en", 23, 1);
    LEN_IS("see test.com.", 28, 1);
    /* Not URLs: no known TLD, e-mail address, part of a longer token. */
    LEN_IS("foo.notatld", 11, 1);
    LEN_IS("someone@example.com", 19, 1);
    LEN_IS("v1.2.3", 6, 1);
    LEN_IS("x-example.com", 23, 1);     /* inner hyphen: one host */
    LEN_IS("--example.com", 13, 1);     /* leading hyphen: a token */
    LEN_IS("/example.com", 12, 1);
    LEN_IS("x.community", 23, 1);
    LEN_IS("x.communityy", 12, 1);
}

TEST(tweetlen_emoji_count_2)
{
    LEN_IS("\U0001F44D\U0001F3FD", 2, 1);                   /* thumbs up, skin tone */
    LEN_IS("\U0001F468\u200D\U0001F469\u200D\U0001F467\u200D\U0001F466", 2, 1);
    LEN_IS("\U0001F1E9\U0001F1F0", 2, 1);                   /* flag DK */
    LEN_IS("\U0001F1E9\U0001F1F0\U0001F1F8", 4, 1);         /* flag + lone RI */
    LEN_IS("#\uFE0F\u20E3", 2, 1);                          /* keycap # */
    LEN_IS("1\u20E3", 2, 1);
    LEN_IS("\U0001F637", 2, 1);
    LEN_IS("\u2764\uFE0F", 2, 1);                           /* red heart + VS16 */
    LEN_IS("\U0001F3F4\U000E0067\U000E0062\U000E0073\U000E0063\U000E0074\U000E007F",
           2, 1);                                           /* Scotland */
    /* (c) is text unless asked to be emoji. */
    LEN_IS("\u00A9", 1, 1);
    LEN_IS("\u00A9\uFE0F", 2, 1);
    /* Text presentation: the pictograph and VS15 count on their own. */
    LEN_IS("\u263A\uFE0E", 4, 1);
}

TEST(tweetlen_code_point_weights)
{
    LEN_IS("\u65E5\u672C\u8A9E", 6, 1);                     /* CJK: 2 each */
    LEN_IS("\u00E6\u00F8\u00E5", 3, 1);                     /* Danish: 1 each */
    LEN_IS("e\u0301", 1, 1);                                /* NFC -> U+00E9 */
    LEN_IS("\u2014\u2019\u2032", 3, 1);                     /* light punctuation */
    LEN_IS("\u2026", 2, 1);                                 /* ellipsis is not */
    LEN_IS("\u0939\u093F\u0928\u094D\u0926\u0940", 6, 1);   /* Devanagari: 1 each */
    /* The length is the caller's; NUL-free termination is not required. */
    check_len(__LINE__, "abc of abcdef", "abcdef", 3, 3, 1);
    check_len(__LINE__, "embedded NUL", "a\0b", 3, 3, 1);
}

TEST(tweetlen_limits)
{
    char *s = repeat('a', 281);

    CHECK(s != NULL);
    if (!s)
        return;
    check_len(__LINE__, "280 x a", s, 280, 280, 1);
    check_len(__LINE__, "281 x a", s, 281, 281, 0);
    CHECK_STR(reason_of(s, 281), "too long");
    free(s);

    /* 140 CJK characters are exactly 280. */
    s = malloc(140 * 3 + 1);
    CHECK(s != NULL);
    if (!s)
        return;
    for (int i = 0; i < 140; i++)
        memcpy(s + 3 * i, "\xe4\xb8\xad", 3);
    s[140 * 3] = 'a';
    check_len(__LINE__, "140 CJK", s, 140 * 3, 280, 1);
    check_len(__LINE__, "140 CJK + a", s, 140 * 3 + 1, 281, 0);
    free(s);
}

TEST(tweetlen_invalid)
{
    struct tweetlen r;

    LEN_IS("", 0, 0);
    CHECK_STR(reason_of("", 0), "empty");
    CHECK_INT(tweetlen_check(NULL, 0, &r), 0);
    CHECK_STR(r.reason, "empty");

    LEN_IS("a\uFEFFb", 4, 0);
    CHECK_STR(reason_of("a\uFEFFb", strlen("a\uFEFFb")),
              "forbidden character U+FEFF");
    CHECK_STR(reason_of("\xef\xbf\xbe", 3), "forbidden character U+FFFE");
    CHECK_STR(reason_of("\xef\xbf\xbf", 3), "forbidden character U+FFFF");

    check_len(__LINE__, "0xFF", "a\xff", 2, 0, 0);
    CHECK_STR(reason_of("a\xff", 2), "invalid UTF-8");
    CHECK_STR(reason_of("\xc3", 1), "invalid UTF-8");            /* truncated */
    CHECK_STR(reason_of("\xed\xa0\x80", 3), "invalid UTF-8");    /* surrogate */
    CHECK_STR(reason_of("\xc0\xaf", 2), "invalid UTF-8");        /* overlong */
    CHECK_STR(reason_of("\xc3\xa6", 1), "invalid UTF-8");        /* cut by len */

    /* Bidi controls are allowed in v3 (UnicodeDirectionalMarkerCounterTest);
     * whitespace-only text is, as in twitter-text, valid. */
    LEN_IS("\u202Aabc\u202C", 7, 1);
    LEN_IS(" ", 1, 1);
}
