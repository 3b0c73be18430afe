/* find.c — the `/tw find` query parser (see find.h).  Pure: text in,
 * struct out.  Every word the agent typed becomes an FTS5 string ("…",
 * with " doubled), the one form in which FTS5 reads nothing as syntax:
 * NEAR, AND, OR, NOT, *, ^, -, : and parentheses are searched as text. */
#include "desk/find.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#define MAX_WORDS 32
#define MAX_MATCH 2048

static const char *const statuses[] = {
    "open", "closed", "new", "assigned", "escalated", "unassigned",
};

/* Appends `w` (`len` bytes) to `m` as one FTS5 string.  -1 when full. */
static int add_phrase(char *m, size_t *o, const char *w, size_t len)
{
    if (*o + 2 * len + 4 > MAX_MATCH)
        return -1;
    if (*o)
        m[(*o)++] = ' ';
    m[(*o)++] = '"';
    for (size_t i = 0; i < len; i++) {
        if (w[i] == '"')
            m[(*o)++] = '"';
        m[(*o)++] = w[i];
    }
    m[(*o)++] = '"';
    m[*o] = '\0';
    return 0;
}

/* "2026-12-01" (UTC midnight) or an age "30m", "12h", "7d", "2w" before
 * `now`.  -1 when it is neither. */
static int64_t parse_when(const char *v, int64_t now, int *is_day)
{
    struct tm tm;
    const char *end;
    char *num_end;
    long long n;

    *is_day = 0;
    memset(&tm, 0, sizeof tm);
    end = strptime(v, "%Y-%m-%d", &tm);
    if (end && !*end && strlen(v) == 10) {
        *is_day = 1;
        return (int64_t)timegm(&tm);
    }
    if (!isdigit((unsigned char)v[0]))
        return -1;
    errno = 0;
    n = strtoll(v, &num_end, 10);
    if (errno || n < 1 || n > 100000 || num_end[0] == '\0' || num_end[1] != '\0')
        return -1;
    switch (tolower((unsigned char)num_end[0])) {
    case 'm': return now - n * 60;
    case 'h': return now - n * 3600;
    case 'd': return now - n * 86400;
    case 'w': return now - n * 7 * 86400;
    default: return -1;
    }
}

/* Letters, digits, _ and - only (what a handle or a tag may hold). */
static int plain_word(const char *v, int dash)
{
    if (!*v)
        return 0;
    for (; *v; v++)
        if (!isalnum((unsigned char)*v) && *v != '_' && !(dash && *v == '-'))
            return 0;
    return 1;
}

/* One operator term `key:value`; 1 if `key` is an operator (then `value`
 * was checked), 0 if the term is an ordinary word, -1 on a bad value. */
static int operator(struct find_query *q, const char *key, size_t klen, const char *v,
                    int64_t now, char *err, size_t errlen)
{
    int is_day;
    int64_t t;

#define KEY(k) (klen == sizeof k - 1 && strncasecmp(key, k, klen) == 0)
    if (!KEY("tag") && !KEY("status") && !KEY("assignee") && !KEY("since") && !KEY("until"))
        return 0;
    if (!*v) {
        snprintf(err, errlen, "%.*s: needs a value, e.g. %s", (int)klen, key,
                 KEY("tag") ? "tag:billing" : KEY("status") ? "status:open"
                 : KEY("assignee") ? "assignee:me" : "since:7d or since:2026-12-01");
        return -1;
    }
    if (KEY("tag")) {
        if (*v == '#')
            v++;
        if (!plain_word(v, 1) || strlen(v) >= sizeof q->tag) {
            snprintf(err, errlen, "tag: takes one tag (letters, digits, - and _).");
            return -1;
        }
        for (size_t i = 0; v[i]; i++)
            q->tag[i] = (char)tolower((unsigned char)v[i]);
        q->tag[strlen(v)] = '\0';
    } else if (KEY("status")) {
        size_t i;
        for (i = 0; i < sizeof statuses / sizeof statuses[0]; i++)
            if (strcasecmp(v, statuses[i]) == 0)
                break;
        if (i == sizeof statuses / sizeof statuses[0]) {
            snprintf(err, errlen, "status: is one of open, closed, new, assigned, escalated, "
                     "unassigned.");
            return -1;
        }
        snprintf(q->status, sizeof q->status, "%s", statuses[i]);
    } else if (KEY("assignee")) {
        if (strlen(v) >= sizeof q->assignee || strchr(v, ' ')) {
            snprintf(err, errlen, "assignee: takes me, @name or a staff id.");
            return -1;
        }
        snprintf(q->assignee, sizeof q->assignee, "%s", v);
    } else {
        t = parse_when(v, now, &is_day);
        if (t < 0) {
            snprintf(err, errlen, "%.*s: takes a date (2026-12-01, UTC) or an age (30m, 12h, "
                     "7d, 2w).", (int)klen, key);
            return -1;
        }
        if (KEY("since"))
            q->since = t;
        else
            q->until = is_day ? t + 86400 : t;   /* until a day: that day included */
    }
#undef KEY
    return 1;
}

int find_parse(const char *text, int64_t now, struct find_query *q, char *err, size_t errlen)
{
    char *m = malloc(MAX_MATCH + 1), word[512];
    const char *p = text ? text : "";
    size_t o = 0;
    int rc = -1;

    memset(q, 0, sizeof *q);
    if (!m) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    m[0] = '\0';
    for (;;) {
        const char *start, *colon;
        size_t len;
        int quoted = 0, r;

        while (isspace((unsigned char)*p))
            p++;
        if (!*p)
            break;
        if (*p == '"') {                       /* "a phrase", or the rest if unclosed */
            start = ++p;
            while (*p && *p != '"')
                p++;
            len = (size_t)(p - start);
            if (*p)
                p++;
            quoted = 1;
        } else {
            start = p;
            while (*p && !isspace((unsigned char)*p))
                p++;
            len = (size_t)(p - start);
        }
        if (len >= sizeof word) {
            snprintf(err, errlen, "A search word is at most %zu characters.", sizeof word - 1);
            goto out;
        }
        memcpy(word, start, len);
        word[len] = '\0';
        if (!quoted && word[0] == '@' && len > 1) {
            if (!plain_word(word + 1, 0) || len - 1 >= sizeof q->handle) {
                snprintf(err, errlen, "@%s is not an X handle (letters, digits and _).",
                         word + 1);
                goto out;
            }
            snprintf(q->handle, sizeof q->handle, "%s", word + 1);
            continue;
        }
        colon = quoted ? NULL : strchr(word, ':');
        r = colon ? operator(q, word, (size_t)(colon - word), colon + 1, now, err, errlen) : 0;
        if (r < 0)
            goto out;
        if (r > 0)
            continue;
        if (!len)
            continue;
        if (q->nwords == MAX_WORDS || add_phrase(m, &o, word, len)) {
            snprintf(err, errlen, "Too many search words (at most %d).", MAX_WORDS);
            goto out;
        }
        q->nwords++;
    }
    if (q->since && q->until && q->since >= q->until) {
        snprintf(err, errlen, "since: is not before until:, so nothing can match.");
        goto out;
    }
    if (o) {
        q->match = m;
        m = NULL;
    }
    rc = 0;
out:
    free(m);
    if (rc)
        find_query_clear(q);
    return rc;
}

void find_query_clear(struct find_query *q)
{
    free(q->match);
    memset(q, 0, sizeof *q);
}
