/* tweetlen.c — X's weighted tweet length (twitter-text config v3), written
 * from twitter-text's rules and checked against its conformance suite.
 * Pure text in, numbers out: it must never know about HTTP, the X API
 * client, tickets or who is replying. */
#include "source/tweetlen.h"

#include <limits.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <utf8proc.h>

#include "source/tweetlen_tlds.h"

/* twitter-text config/v3.json.  Weights are kept in 1/SCALE units so one
 * code point is 100 or 200 and the sum divides exactly. */
enum {
    SCALE = 100,
    DEFAULT_WEIGHT = 200,       /* code points outside light_ranges, emoji */
    LIGHT_WEIGHT = 100,
    URL_WEIGHT = 23 * SCALE,    /* transformedURLLength */
};
static const struct { uint32_t lo, hi; } light_ranges[] = {
    { 0, 4351 }, { 8192, 8205 }, { 8208, 8223 }, { 8242, 8247 },
};

/* twitter-text's URL limits: longer URLs are not URLs at all and count
 * character by character.  Lengths are in UTF-16 units, as in its code. */
enum {
    MAX_URL_LENGTH = 4096,
    MAX_TCO_SLUG = 40,
    MAX_LABEL = 63,             /* a DNS label after punycode */
    DEFAULT_PROTOCOL_LEN = 8,   /* "https://", added when a URL has none */
};

/* Single code points that shape emoji sequences (UTS #51).  utf8proc gives
 * Extended_Pictographic and Regional_Indicator; these few it has no
 * property for. */
enum {
    ZWJ = 0x200D,
    VS15 = 0xFE0E,              /* text presentation: not an emoji */
    VS16 = 0xFE0F,              /* emoji presentation */
    KEYCAP = 0x20E3,
    SKIN_FIRST = 0x1F3FB, SKIN_LAST = 0x1F3FF,
    TAG_FIRST = 0xE0020, TAG_LAST = 0xE007E, CANCEL_TAG = 0xE007F,
};

#define NONE SIZE_MAX

/* The decoded NFC text plus the scan memos of find_urls (see match_domain). */
struct scan {
    const uint32_t *cp;
    size_t n;
    /* The maximal run of label characters last measured: [run_lo, run_hi),
     * its last '_' (NONE if none).  A run of CJK or emoji is a candidate URL
     * start at every character; measuring it once keeps the scan linear. */
    size_t run_lo, run_hi, run_last_us;
    /* Dots [fail_first, fail_last] of a label chain in which no TLD followed
     * any dot: a later start inside it cannot do better.  fail_last == NONE
     * when unset. */
    size_t fail_first, fail_last;
};

struct span { size_t start, end; };
struct url_list { struct span *v; size_t len, cap; };

/* ---- character classes ------------------------------------------------
 * These are twitter-text's own definitions (regexes in its source), not
 * Unicode properties, so they are spelled out here. */

static int is_ascii_alnum(uint32_t c)
{
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z')
        || (c >= 'A' && c <= 'Z');
}

static int is_ascii_digit(uint32_t c)
{
    return c >= '0' && c <= '9';
}

/* c is one of the ASCII characters in set (never NUL: strchr finds the
 * terminator). */
static int ascii_in(uint32_t c, const char *set)
{
    return c != 0 && c < 0x80 && strchr(set, (int)c) != NULL;
}

static uint32_t ascii_lower(uint32_t c)
{
    return c >= 'A' && c <= 'Z' ? c + 32 : c;
}

/* The regexes are case-insensitive in JavaScript's way: a character also
 * matches if its uppercase does, but a non-ASCII one never folds into ASCII
 * (so U+212A KELVIN SIGN is not "k").  utf8proc has the simple mappings. */
static uint32_t fold_upper(uint32_t c)
{
    uint32_t u = (uint32_t)utf8proc_toupper((utf8proc_int32_t)c);
    return (c >= 0x80 && u < 0x80) ? c : u;
}

static uint32_t fold_lower(uint32_t c)
{
    uint32_t l = (uint32_t)utf8proc_tolower((utf8proc_int32_t)c);
    return (c >= 0x80 && l < 0x80) ? c : l;
}

static int is_ascii_punct(uint32_t c)
{
    return (c >= 0x21 && c <= 0x2F) || (c >= 0x3A && c <= 0x40)
        || (c >= 0x5B && c <= 0x60) || (c >= 0x7B && c <= 0x7E);
}

/* twitter-text's "spaces" (not Unicode White_Space: it has U+180E and
 * lacks U+200B). */
static int is_tt_space(uint32_t c)
{
    return (c >= 0x09 && c <= 0x0D) || c == 0x20 || c == 0x85 || c == 0xA0
        || c == 0x1680 || c == 0x180E || (c >= 0x2000 && c <= 0x200A)
        || c == 0x2028 || c == 0x2029 || c == 0x202F || c == 0x205F
        || c == 0x3000;
}

/* The characters that make a tweet invalid.  Older twitter-text also
 * refused U+202A-U+202E; the v3 conformance suite says they are valid
 * (UnicodeDirectionalMarkerCounterTest), so they are only bidi marks. */
static int is_forbidden(uint32_t c)
{
    return c == 0xFFFE || c == 0xFEFF || c == 0xFFFF;
}

static int is_bidi_mark(uint32_t c)
{
    return c == 0x061C || c == 0x200E || c == 0x200F
        || (c >= 0x202A && c <= 0x202E) || (c >= 0x2066 && c <= 0x2069);
}

/* What may appear in a host name: anything but punctuation, spaces and
 * the above — so CJK, Arabic or emoji hosts are hosts. */
static int is_domain_char(uint32_t c)
{
    return !is_ascii_punct(c) && !is_tt_space(c) && !is_forbidden(c)
        && !is_bidi_mark(c);
}

static int is_label_char(uint32_t c)
{
    return is_domain_char(c) || c == '-' || c == '_';
}

/* A URL may start after this character (or at the start of the text):
 * not after a letter or digit (mid-word), nor @ $ # (mentions, cashtags,
 * hashtags). */
static int can_precede_url(uint32_t c)
{
    return !is_ascii_alnum(c) && c != '@' && c != 0xFF20 && c != '$'
        && c != '#' && c != 0xFF03 && !is_forbidden(c);
}

static int is_latin_accent_raw(uint32_t c)
{
    return (c >= 0xC0 && c <= 0xD6) || (c >= 0xD8 && c <= 0xF6)
        || (c >= 0xF8 && c <= 0x24F) || c == 0x253 || c == 0x254
        || c == 0x256 || c == 0x257 || c == 0x259 || c == 0x25B
        || c == 0x263 || c == 0x268 || c == 0x26F || c == 0x272
        || c == 0x289 || c == 0x28B || c == 0x2BB
        || (c >= 0x300 && c <= 0x36F) || (c >= 0x1E00 && c <= 0x1EFF);
}

static int is_latin_accent(uint32_t c)
{
    return is_latin_accent_raw(c) || is_latin_accent_raw(fold_upper(c));
}

static int is_cyrillic(uint32_t c)
{
    uint32_t u = fold_upper(c);

    return (c >= 0x400 && c <= 0x4FF) || (u >= 0x400 && u <= 0x4FF);
}

/* Letters a bare domain may use: a bare "café.com" counts, a bare
 * "例え.jp" does not (only an ASCII part of it could). */
static int is_ascii_label_char(uint32_t c)
{
    return is_ascii_alnum(c) || c == '-' || is_latin_accent(c);
}

static int is_path_letter(uint32_t c)
{
    return is_ascii_alnum(c) || is_latin_accent(c) || is_cyrillic(c);
}

static int is_path_char(uint32_t c)
{
    return is_path_letter(c) || c == 0x2013
        || ascii_in(c, "!*';:=+,.$/%#[]-_~&|@");
}

/* A path must end on one of these, so "see x.com/a." leaves the full stop
 * out of the URL. */
static int is_path_end(uint32_t c)
{
    return is_path_letter(c) || ascii_in(c, "+-=_#/");
}

static int is_query_char(uint32_t c)
{
    return is_ascii_alnum(c) || ascii_in(c, "!?*'@();:&=+$/%#[]-_.,~|");
}

static int is_query_end(uint32_t c)
{
    return is_ascii_alnum(c) || ascii_in(c, "-_&=#/");
}

/* ---- weights and emoji --------------------------------------------- */

static int cp_weight(uint32_t c)
{
    for (size_t i = 0; i < sizeof light_ranges / sizeof light_ranges[0]; i++)
        if (c >= light_ranges[i].lo && c <= light_ranges[i].hi)
            return LIGHT_WEIGHT;
    return DEFAULT_WEIGHT;
}

static int boundclass(uint32_t c)
{
    return utf8proc_get_property((utf8proc_int32_t)c)->boundclass;
}

static int is_pictographic(uint32_t c)
{
    return boundclass(c) == UTF8PROC_BOUNDCLASS_EXTENDED_PICTOGRAPHIC;
}

static int is_regional_indicator(uint32_t c)
{
    return boundclass(c) == UTF8PROC_BOUNDCLASS_REGIONAL_INDICATOR;
}

/* One emoji element starting with the pictograph at i: an optional skin
 * tone or VS16, or a tag sequence (subdivision flags such as England). */
static size_t emoji_element_end(const uint32_t *cp, size_t n, size_t i)
{
    size_t j = i + 1, k;

    if (j < n && cp[j] >= SKIN_FIRST && cp[j] <= SKIN_LAST)
        return j + 1;
    if (j < n && cp[j] == VS16)
        return j + 1;
    for (k = j; k < n && cp[k] >= TAG_FIRST && cp[k] <= TAG_LAST; k++)
        ;
    if (k > j && k < n && cp[k] == CANCEL_TAG)
        return k + 1;
    return j;
}

/* How many code points of the emoji sequence starting at i count as one
 * emoji (weight 2), or 0 when the code point at i should be weighed alone.
 * Sequences: flags (two regional indicators), keycaps ([0-9#*] VS16?
 * U+20E3), and pictographs with skin tone, VS16, tags and ZWJ joins.  A
 * pictograph alone weighs as itself: 2 for nearly all of them, 1 for
 * (c) and (R), which twitter-text treats as text unless followed by VS16.
 * These sequences never cross a grapheme-cluster boundary (UAX #29 GB9,
 * GB11, GB12), so no separate segmentation is needed; unlike "the whole
 * cluster", trailing combining marks still count on their own, as in
 * twitter-text. */
static size_t emoji_len(const uint32_t *cp, size_t n, size_t i)
{
    uint32_t c = cp[i];
    size_t j;

    if (is_regional_indicator(c))
        return i + 1 < n && is_regional_indicator(cp[i + 1]) ? 2 : 0;
    if (ascii_in(c, "#*0123456789")) {
        j = i + 1;
        if (j < n && cp[j] == VS16)
            j++;
        return j < n && cp[j] == KEYCAP ? j + 1 - i : 0;
    }
    if (!is_pictographic(c))
        return 0;
    if (i + 1 < n && cp[i + 1] == VS15)
        return 0;
    j = emoji_element_end(cp, n, i);
    while (j + 1 < n && cp[j] == ZWJ && is_pictographic(cp[j + 1]))
        j = emoji_element_end(cp, n, j + 1);
    return j - i > 1 ? j - i : 0;
}

/* ---- TLDs and punycode ---------------------------------------------- */

static int cmp_tld(const void *key, const void *elem)
{
    return strcmp(key, *(const char *const *)elem);
}

/* [t, e) case-folded is in tlds.yml. */
static int is_known_tld(const uint32_t *cp, size_t t, size_t e)
{
    char buf[TWEETLEN_TLD_MAX_BYTES + 4];
    size_t len = 0;

    for (size_t i = t; i < e; i++) {
        utf8proc_uint8_t enc[4];
        utf8proc_ssize_t k = utf8proc_encode_char(
            (utf8proc_int32_t)fold_lower(cp[i]), enc);
        if (k <= 0 || len + (size_t)k > TWEETLEN_TLD_MAX_BYTES)
            return 0;
        memcpy(buf + len, enc, (size_t)k);
        len += (size_t)k;
    }
    buf[len] = '\0';
    return bsearch(buf, tweetlen_tlds, TWEETLEN_TLD_COUNT,
                   sizeof tweetlen_tlds[0], cmp_tld) != NULL;
}

/* A TLD at t, the name ending before limit: returns its end, or 0.  A TLD
 * must not run on into a letter, digit or [@+-] ("x.community" is not
 * "x.com" + "munity"), but may be followed by other scripts.  Longest
 * first, so of two TLDs where one extends the other the longer wins.
 * Failing the list, any punycode label "xn--..." is a TLD. */
static size_t match_tld(const uint32_t *cp, size_t limit, size_t t)
{
    size_t r = t, e;

    while (r < limit && r - t < TWEETLEN_TLD_MAX_CPS && is_domain_char(cp[r]))
        r++;
    for (e = r; e > t; e--) {
        if (e < limit && (is_ascii_alnum(cp[e]) || ascii_in(cp[e], "@+-")))
            continue;
        if (is_known_tld(cp, t, e))
            return e;
    }
    if (t + 4 < limit && ascii_lower(cp[t]) == 'x'
        && ascii_lower(cp[t + 1]) == 'n' && cp[t + 2] == '-'
        && cp[t + 3] == '-'
        && (is_ascii_alnum(cp[t + 4]) || cp[t + 4] == '-')) {
        for (e = t + 4; e < limit && (is_ascii_alnum(cp[e]) || cp[e] == '-');
             e++)
            ;
        return e;
    }
    return 0;
}

static uint32_t puny_digit_threshold(uint32_t k, uint32_t bias)
{
    return k <= bias ? 1 : k >= bias + 26 ? 26 : k - bias;
}

static uint32_t puny_adapt(uint64_t delta, uint64_t numpoints, int first)
{
    uint32_t k = 0;

    delta = first ? delta / 700 : delta / 2;
    delta += delta / numpoints;
    while (delta > ((36 - 1) * 26) / 2) {
        delta /= 36 - 1;
        k += 36;
    }
    return (uint32_t)(k + (36 * delta) / (delta + 38));
}

/* Length of the RFC 3492 punycode of cp[a, b) (all of it, without "xn--"),
 * or anything > MAX_LABEL once it is known to be too long: only the label
 * length check needs it, and stopping early keeps huge labels cheap. */
static size_t punycode_len(const uint32_t *cp, size_t a, size_t b)
{
    size_t basic = 0, out, h;
    uint32_t next = 0x80, bias = 72;
    uint64_t delta = 0;

    for (size_t i = a; i < b; i++)
        basic += cp[i] < 0x80;
    out = basic + (basic > 0);
    for (h = basic; h < b - a; ) {
        uint32_t m = UINT32_MAX;
        for (size_t i = a; i < b; i++)
            if (cp[i] >= next && cp[i] < m)
                m = cp[i];
        delta += (uint64_t)(m - next) * (h + 1);
        next = m;
        for (size_t i = a; i < b; i++) {
            if (cp[i] < next) {
                delta++;
            } else if (cp[i] == next) {
                uint64_t q = delta;
                for (uint32_t k = 36;; k += 36) {
                    uint32_t t = puny_digit_threshold(k, bias);
                    if (q < t)
                        break;
                    out++;
                    q = (q - t) / (36 - t);
                }
                out++;
                bias = puny_adapt(delta, h + 1, h == basic);
                delta = 0;
                h++;
                if (out > MAX_LABEL)
                    return out;
            }
        }
        delta++;
        next++;
    }
    return out;
}

/* One label of the host as IDNA would write it: non-ASCII parts become
 * "xn--" + punycode.  The ideographic full stops split parts, as
 * punycode.toASCII does. */
static size_t label_ascii_len(const uint32_t *cp, size_t a, size_t b)
{
    size_t total = 0, p = a;

    for (size_t i = a; i <= b; i++) {
        int ascii = 1;
        if (i < b && cp[i] != 0x3002 && cp[i] != 0xFF0E && cp[i] != 0xFF61)
            continue;
        for (size_t j = p; j < i; j++)
            ascii &= cp[j] < 0x80;
        total += ascii ? i - p : 4 + punycode_len(cp, p, i);
        if (i < b)
            total++;
        p = i + 1;
    }
    return total;
}

static size_t utf16_len(const uint32_t *cp, size_t a, size_t b)
{
    size_t len = b - a;

    for (size_t i = a; i < b; i++)
        len += cp[i] >= 0x10000;
    return len;
}

/* ---- URL grammar ------------------------------------------------------ */

/* A parenthesised path segment at p ("/wiki/Primer_(film)"), nesting at
 * most twice: returns its end, or 0. */
static size_t match_parens(const uint32_t *cp, size_t n, size_t p)
{
    size_t q = p + 1, r;

    while (q < n && is_path_char(cp[q]))
        q++;
    if (q < n && cp[q] == ')' && q > p + 1)
        return q + 1;
    if (q >= n || cp[q] != '(')
        return 0;
    for (r = q + 1; r < n && is_path_char(cp[r]); r++)
        ;
    if (r == q + 1 || r >= n || cp[r] != ')')
        return 0;
    for (r++; r < n && is_path_char(cp[r]); r++)
        ;
    return r < n && cp[r] == ')' ? r + 1 : 0;
}

/* The path starting with the '/' at p: its end, trimmed back to the last
 * character a path may end with. */
static size_t match_path(const uint32_t *cp, size_t n, size_t p)
{
    size_t q = p + 1, end = p + 1, g;

    for (;;) {
        if (q < n && is_path_char(cp[q])) {
            q++;
            if (is_path_end(cp[q - 1]))
                end = q;
            continue;
        }
        g = q < n && cp[q] == '(' ? match_parens(cp, n, q) : 0;
        if (!g)
            return end;
        q = end = g;
    }
}

/* The query starting with the '?' at p, or p if it has no valid end. */
static size_t match_query(const uint32_t *cp, size_t limit, size_t p)
{
    size_t end = p;

    for (size_t q = p + 1; q < limit && is_query_char(cp[q]); q++)
        if (is_query_end(cp[q]))
            end = q + 1;
    return end;
}

/* The maximal run of label characters starting at u; *last_us gets its
 * last '_' or NONE. */
static size_t label_run(struct scan *s, size_t u, size_t *last_us)
{
    if (!(s->run_hi > u && s->run_lo <= u)) {
        size_t q;
        s->run_lo = u;
        s->run_last_us = NONE;
        for (q = u; q < s->n && is_label_char(s->cp[q]); q++)
            if (s->cp[q] == '_')
                s->run_last_us = q;
        s->run_hi = q;
    }
    *last_us = s->run_last_us;
    return s->run_hi;
}

/* A host starting at u: labels of domain characters (inner '-' and '_',
 * but no '_' in the label just before the TLD) joined by dots, then a TLD.
 * Returns its end, or 0.  Like the regex it stands for, it takes as many
 * labels as it can and gives them back one at a time until a TLD fits. */
static size_t match_domain(struct scan *s, size_t u)
{
    const uint32_t *cp = s->cp;
    size_t n = s->n, first_dot, last_dot, dot, us, e;

    if (u >= n || !is_domain_char(cp[u]))
        return 0;
    first_dot = label_run(s, u, &us);
    if (first_dot >= n || cp[first_dot] != '.'
        || !is_domain_char(cp[first_dot - 1]))
        return 0;
    if (s->fail_last != NONE && first_dot >= s->fail_first
        && first_dot <= s->fail_last) {
        /* Every TLD after a later dot already failed; only the TLD right
         * after this dot, with [u, first_dot) as the name, is new. */
        if (us != NONE && us >= u)
            return 0;
        return match_tld(cp, n, first_dot + 1);
    }

    for (last_dot = first_dot;;) {
        size_t p = last_dot + 1, q = p;
        if (p >= n || !is_domain_char(cp[p]))
            break;
        while (q < n && is_label_char(cp[q]))
            q++;
        if (q >= n || cp[q] != '.' || !is_domain_char(cp[q - 1]))
            break;
        last_dot = q;
    }
    for (dot = last_dot;; ) {
        size_t start = u;
        int has_us = 0;
        if (dot == first_dot) {
            has_us = us != NONE && us >= u;
        } else {
            for (start = dot; cp[start - 1] != '.'; start--)
                has_us |= cp[start - 1] == '_';
        }
        e = has_us ? 0 : match_tld(cp, n, dot + 1);
        if (e != 0)
            return e;
        if (dot == first_dot)
            break;
        dot = start - 1;
    }
    s->fail_first = first_dot;
    s->fail_last = last_dot;
    return 0;
}

static int starts_with_ci(const struct scan *s, size_t i, const char *lit)
{
    for (; *lit; lit++, i++)
        if (i >= s->n || ascii_lower(s->cp[i]) != (uint32_t)*lit)
            return 0;
    return 1;
}

/* One match of twitter-text's URL pattern. */
struct url_match {
    size_t start, end;          /* the URL */
    size_t proto;               /* length of "http(s)://", or 0 */
    size_t dom_start, dom_end;  /* the host */
    int has_path;
};

static int match_url(struct scan *s, size_t u, struct url_match *m)
{
    const uint32_t *cp = s->cp;
    size_t n = s->n, e;

    m->proto = starts_with_ci(s, u, "https://") ? 8
             : starts_with_ci(s, u, "http://") ? 7 : 0;
    /* Without the scheme the host would start "http:", which is no host,
     * so a failed host after a scheme is a failed match. */
    m->dom_start = u + m->proto;
    m->dom_end = match_domain(s, m->dom_start);
    if (!m->dom_end)
        return 0;
    e = m->dom_end;
    if (e + 1 < n && cp[e] == ':' && is_ascii_digit(cp[e + 1]))
        for (e += 2; e < n && is_ascii_digit(cp[e]); e++)
            ;
    m->has_path = e < n && cp[e] == '/';
    if (m->has_path)
        e = match_path(cp, n, e);
    if (e < n && cp[e] == '?')
        e = match_query(cp, n, e);
    m->start = u;
    m->end = e;
    return 1;
}

/* The next ASCII-only domain in [a, limit) (a bare "中文example.com" is
 * the URL "example.com"): sets *start and returns its end, or 0. */
static size_t next_ascii_domain(const uint32_t *cp, size_t a, size_t limit,
                                size_t *start)
{
    while (a < limit) {
        size_t run = a, last_dot, dot, e;
        if (!is_ascii_label_char(cp[a])) {
            a++;
            continue;
        }
        while (run < limit && is_ascii_label_char(cp[run]))
            run++;
        if (run >= limit || cp[run] != '.') {
            a = run;        /* no start inside this run reaches a dot */
            continue;
        }
        for (last_dot = run;;) {
            size_t q = last_dot + 1;
            while (q < limit && is_ascii_label_char(cp[q]))
                q++;
            if (q == last_dot + 1 || q >= limit || cp[q] != '.')
                break;
            last_dot = q;
        }
        for (dot = last_dot;; ) {
            e = match_tld(cp, limit, dot + 1);
            if (e != 0) {
                *start = a;
                return e;
            }
            if (dot == run)
                break;
            for (dot--; cp[dot] != '.'; dot--)
                ;
        }
        a = last_dot + 1;   /* later starts in this chain see fewer TLDs */
    }
    return 0;
}

/* twitter-text's isValidUrl: every host label fits DNS after punycode and
 * the whole URL, scheme included, is at most 4096 UTF-16 units. */
static int url_is_valid(const struct scan *s, const struct url_match *m)
{
    const uint32_t *cp = s->cp;
    size_t host = 0, a = m->dom_start, len, st;

    /* A host spelled in punycode must be ASCII. */
    if (m->dom_end - a >= 4 && cp[a] == 'x' && cp[a + 1] == 'n'
        && cp[a + 2] == '-' && cp[a + 3] == '-'
        && !next_ascii_domain(cp, a, m->dom_end, &st))
        return 0;
    for (size_t i = a; i <= m->dom_end; i++) {
        if (i < m->dom_end && cp[i] != '.')
            continue;
        len = label_ascii_len(cp, a, i);
        if (len < 1 || len > MAX_LABEL)
            return 0;
        host += len + (i < m->dom_end);
        a = i + 1;
    }
    len = utf16_len(cp, m->start, m->end)
        - utf16_len(cp, m->dom_start, m->dom_end) + host
        + (m->proto ? 0 : DEFAULT_PROTOCOL_LEN);
    return len <= MAX_URL_LENGTH;
}

static int push_url(struct url_list *l, size_t start, size_t end)
{
    if (l->len == l->cap) {
        size_t cap = l->cap ? l->cap * 2 : 8;
        struct span *v = realloc(l->v, cap * sizeof *v);
        if (!v)
            return -1;
        l->v = v;
        l->cap = cap;
    }
    l->v[l->len].start = start;
    l->v[l->len].end = end;
    l->len++;
    return 0;
}

/* A t.co URL ends after its slug (and query): returns the new end, or 0
 * when the slug is too long for t.co, which makes it no URL at all. */
static size_t tco_end(const struct scan *s, const struct url_match *m)
{
    size_t slug = m->start + m->proto + 5, i;

    if (!starts_with_ci(s, slug - 5, "t.co/"))
        return m->end;
    for (i = slug; i < m->end && is_ascii_alnum(s->cp[i]); i++)
        ;
    if (i == slug)
        return m->end;
    if (i - slug > MAX_TCO_SLUG)
        return 0;
    if (i < m->end && s->cp[i] == '?')
        i = match_query(s->cp, m->end, i);
    return i;
}

/* A bare domain's URLs: each ASCII domain inside the host; the last one
 * takes the path along.  Its length is the ASCII domain's plus what
 * followed the host, in UTF-16 units — twitter-text's arithmetic, which is
 * the plain URL end whenever the ASCII domain ends the host. */
static int push_bare_urls(const struct scan *s, const struct url_match *m,
                          struct url_list *l)
{
    size_t a = m->dom_start, start = 0, end, last = NONE;

    for (;;) {
        end = next_ascii_domain(s->cp, a, m->dom_end, &start);
        if (end == 0)
            break;
        if (push_url(l, start, end) < 0)
            return -1;
        last = l->len - 1;
        a = end;
    }
    if (last != NONE && m->has_path) {
        struct span *sp = &l->v[last];
        size_t want = utf16_len(s->cp, sp->start, sp->end)
                    + utf16_len(s->cp, m->dom_end, m->end);
        size_t i = sp->start, units = 0;
        while (i < m->end && units < want)
            units += s->cp[i++] >= 0x10000 ? 2 : 1;
        sp->end = i;
    }
    return 0;
}

/* All URLs of the text, in order, as twitter-text's extractUrlsWithIndices
 * finds them: leftmost match, then on after it (also after a match that
 * turned out not to be a URL). */
static int find_urls(struct scan *s, struct url_list *l)
{
    size_t pos = 0;

    /* Every URL has a dot; most texts without one are done here. */
    while (pos < s->n && s->cp[pos] != '.')
        pos++;
    if (pos == s->n)
        return 0;
    pos = 0;
    while (pos < s->n) {
        struct url_match m;
        uint32_t before = 0;
        size_t end;

        if (can_precede_url(s->cp[pos]) && match_url(s, pos + 1, &m))
            before = s->cp[pos];
        else if (!(pos == 0 && match_url(s, 0, &m))) {
            pos++;
            continue;
        }
        pos = m.end;
        if (!url_is_valid(s, &m))
            continue;
        if (!m.proto) {
            /* The "x.com" of "a/x.com", "--x.com" or "a_x.com" is part of
             * a path or a longer token, not a bare domain. */
            if (ascii_in(before, "-_./"))
                continue;
            if (push_bare_urls(s, &m, l) < 0)
                return -1;
            continue;
        }
        end = tco_end(s, &m);
        if (end != 0 && push_url(l, m.start, end) < 0)
            return -1;
    }
    return 0;
}

/* ---- the count -------------------------------------------------------- */

static void set_result(struct tweetlen *out, long long weight,
                       const char *reason)
{
    long long w = weight / SCALE;

    out->weighted = w > INT_MAX ? INT_MAX : (int)w;
    if (!reason && w == 0)
        reason = "empty";
    if (!reason && w > TWEETLEN_MAX)
        reason = "too long";
    out->valid = reason == NULL;
    out->reason = reason;
}

static const char *forbidden_reason(uint32_t c)
{
    switch (c) {
    case 0xFFFE: return "forbidden character U+FFFE";
    case 0xFEFF: return "forbidden character U+FEFF";
    default:     return "forbidden character U+FFFF";
    }
}

int tweetlen_check(const char *text, size_t len, struct tweetlen *out)
{
    utf8proc_uint8_t *nfc = NULL;
    utf8proc_ssize_t nfc_len;
    uint32_t *cp;
    size_t n = 0, i, k;
    struct url_list urls = { NULL, 0, 0 };
    struct scan s;
    const char *reason = NULL;
    long long weight = 0;

    if (len == 0) {
        set_result(out, 0, NULL);
        return 0;
    }
    /* Far beyond any tweet; keeps the utf8proc_ssize_t cast and the
     * 4-bytes-per-character buffers below from overflowing. */
    if (len > (size_t)(PTRDIFF_MAX / 8)) {
        out->weighted = INT_MAX;
        out->valid = 0;
        out->reason = "too long";
        return 0;
    }
    /* X counts the NFC form: "e" + U+0301 is one character. */
    nfc_len = utf8proc_map((const utf8proc_uint8_t *)text,
                           (utf8proc_ssize_t)len, &nfc,
                           UTF8PROC_COMPOSE | UTF8PROC_STABLE);
    if (nfc_len == UTF8PROC_ERROR_NOMEM)
        return -1;
    if (nfc_len < 0) {
        out->weighted = 0;
        out->valid = 0;
        out->reason = nfc_len == UTF8PROC_ERROR_OVERFLOW ? "too long"
                                                         : "invalid UTF-8";
        return 0;
    }
    cp = malloc(((size_t)nfc_len + 1) * sizeof *cp);
    if (!cp) {
        free(nfc);
        return -1;
    }
    for (utf8proc_ssize_t off = 0; off < nfc_len; ) {
        utf8proc_int32_t c;
        off += utf8proc_iterate(nfc + off, nfc_len - off, &c);
        cp[n++] = (uint32_t)c;      /* utf8proc_map's output is valid */
        if (!reason && is_forbidden((uint32_t)c))
            reason = forbidden_reason((uint32_t)c);
    }
    free(nfc);

    s.cp = cp;
    s.n = n;
    s.run_lo = s.run_hi = 0;
    s.run_last_us = NONE;
    s.fail_first = 0;
    s.fail_last = NONE;
    if (find_urls(&s, &urls) < 0) {
        free(urls.v);
        free(cp);
        return -1;
    }

    for (i = 0, k = 0; i < n; ) {
        size_t el;
        /* A URL starting inside an emoji sequence is lost, as in
         * twitter-text, which only looks for URLs where it stands. */
        while (k < urls.len && urls.v[k].start < i)
            k++;
        int at_url = k < urls.len && urls.v[k].start == i;
        el = at_url ? 0 : emoji_len(cp, n, i);
        if (at_url) {
            weight += URL_WEIGHT;
            i = urls.v[k++].end;
        } else if (el != 0) {
            weight += DEFAULT_WEIGHT;
            i += el;
        } else {
            weight += cp_weight(cp[i++]);
        }
    }
    free(urls.v);
    free(cp);
    set_result(out, weight, reason);
    return 0;
}
