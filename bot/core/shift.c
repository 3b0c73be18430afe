/* shift.c — weekly working hours: parse "mon-fri 08:00-16:00" (pure) and
 * tell whether a time is inside.  See shift.h. */
#include "core/shift.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <time.h>

static const char *const day_names[7] = { "sun", "mon", "tue", "wed", "thu", "fri", "sat" };

static const char *skip_space(const char *p)
{
    while (*p == ' ' || *p == '\t')
        p++;
    return p;
}

/* A three-letter day at `*p` (case-insensitive; "monday" is read too):
 * its tm_wday, advancing `*p`; -1 when none. */
static int read_day(const char **p)
{
    for (int i = 0; i < 7; i++)
        if (strncasecmp(*p, day_names[i], 3) == 0) {
            const char *q = *p + 3;
            while (isalpha((unsigned char)*q))   /* "monday", "tues" */
                q++;
            *p = q;
            return i;
        }
    return -1;
}

/* DAYS at `*p` -> a bit mask; 0 when unreadable. */
static unsigned read_days(const char **p)
{
    static const struct { const char *word; unsigned mask; } words[] = {
        { "daily", 0x7f }, { "weekdays", 0x3e }, { "weekends", 0x41 },
    };
    unsigned mask = 0;

    for (size_t i = 0; i < sizeof words / sizeof words[0]; i++) {
        size_t len = strlen(words[i].word);
        if (strncasecmp(*p, words[i].word, len) == 0 && !isalpha((unsigned char)(*p)[len])) {
            *p += len;
            return words[i].mask;
        }
    }
    for (;;) {
        int a = read_day(p), b;
        if (a < 0)
            return 0;
        b = a;
        if (**p == '-') {
            (*p)++;
            b = read_day(p);
            if (b < 0)
                return 0;
        }
        for (int d = a;; d = (d + 1) % 7) {   /* fri-mon wraps over the weekend */
            mask |= 1u << d;
            if (d == b)
                break;
        }
        if (**p != '/')
            return mask;
        (*p)++;
    }
}

/* HH:MM at `*p` -> minutes after midnight (24:00 is 1440); -1 when not. */
static int read_clock(const char **p)
{
    const char *q = *p;
    int h = 0, m = 0, digits = 0;

    while (isdigit((unsigned char)*q) && digits < 2)
        h = h * 10 + (*q++ - '0'), digits++;
    if (!digits || *q != ':' || !isdigit((unsigned char)q[1]) || !isdigit((unsigned char)q[2]))
        return -1;
    m = (q[1] - '0') * 10 + (q[2] - '0');
    if (h > 24 || m > 59 || (h == 24 && m != 0))
        return -1;
    *p = q + 3;
    return h * 60 + m;
}

int shift_parse(const char *text, struct shift *out, char *err, size_t errlen)
{
    const char *p = text ? text : "";

    memset(out, 0, sizeof *out);
    p = skip_space(p);
    if (!*p) {
        snprintf(err, errlen, "the shift is empty (write e.g. \"mon-fri 08:00-16:00\")");
        return -1;
    }
    while (*p) {
        struct shift_span sp;
        const char *part = p;
        size_t partlen = strcspn(part, ",;");

        if (out->n == SHIFT_MAX_SPANS) {
            snprintf(err, errlen, "a shift has at most %d parts", SHIFT_MAX_SPANS);
            return -1;
        }
        sp.days = read_days(&p);
        if (!sp.days || (*p != ' ' && *p != '\t')) {
            snprintf(err, errlen, "\"%.*s\": days are mon..sun, a range (mon-fri), a list "
                     "(mon/wed) or daily, weekdays, weekends", (int)partlen, part);
            return -1;
        }
        p = skip_space(p);
        sp.start = read_clock(&p);
        if (sp.start >= 0 && *p == '-') {
            p++;
            sp.end = read_clock(&p);
        } else {
            sp.end = -1;
        }
        if (sp.start < 0 || sp.end < 0 || sp.start == 1440) {
            snprintf(err, errlen, "\"%.*s\": hours are HH:MM-HH:MM, e.g. 08:00-16:00",
                     (int)partlen, part);
            return -1;
        }
        if (sp.start == sp.end) {
            snprintf(err, errlen, "\"%.*s\": the shift starts and ends at the same time",
                     (int)partlen, part);
            return -1;
        }
        p = skip_space(p);
        if (*p && *p != ',' && *p != ';') {
            snprintf(err, errlen, "\"%.*s\": unexpected \"%s\" after the hours",
                     (int)partlen, part, p);
            return -1;
        }
        if (*p)
            p = skip_space(p + 1);
        out->v[out->n++] = sp;
    }
    return 0;
}

int shift_contains(const struct shift *s, int wday, int minute)
{
    int yesterday = (wday + 6) % 7;

    if (!s->n)
        return 1;
    for (size_t i = 0; i < s->n; i++) {
        const struct shift_span *sp = &s->v[i];
        if (sp->end > sp->start) {
            if ((sp->days & (1u << wday)) && minute >= sp->start && minute < sp->end)
                return 1;
        } else {   /* past midnight: tonight's start, or last night's tail */
            if ((sp->days & (1u << wday)) && minute >= sp->start)
                return 1;
            if ((sp->days & (1u << yesterday)) && minute < sp->end)
                return 1;
        }
    }
    return 0;
}

int shift_contains_time(const struct shift *s, int64_t t, int utc_offset)
{
    time_t tt = (time_t)(t + utc_offset);
    struct tm tm;

    if (!s->n)
        return 1;
    if (!gmtime_r(&tt, &tm))
        return 1;   /* an unreadable clock never hides anyone */
    return shift_contains(s, tm.tm_wday, tm.tm_hour * 60 + tm.tm_min);
}
