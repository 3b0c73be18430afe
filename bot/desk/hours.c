/* hours.c — see hours.h.  The zone comes from the C library's tz database:
 * hours_new sets TZ once, reads the offsets of a century day by day (and
 * to the second around each change) into a table, and puts TZ back; from
 * then on every question is arithmetic on that table, so the SLA check
 * never touches process-global time state.  Local days are walked with
 * the civil-calendar formulas of H. Hinnant ("chrono-compatible low-level
 * date algorithms"). */
#include "desk/hours.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define DAY 86400
#define TABLE_FROM 946684800LL    /* 2000-01-01 UTC */
#define TABLE_TO 4102444800LL     /* 2100-01-01 UTC */
#define SEARCH_DAYS 3660          /* hours_add gives up after ten years */

struct trans {
    int64_t at;                   /* from this instant on ... */
    int32_t off;                  /* ... local time is UTC + off seconds */
};

struct hours {
    int spans[7][CONFIG_SPANS][2];
    int nspans[7];
    int *holidays;
    size_t nholidays;
    struct trans *tr;
    size_t ntr;
};

/* --- civil calendar -------------------------------------------------- */

static void civil_from_days(int64_t z, int64_t *y, int *m, int *d)
{
    z += 719468;
    int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    int64_t doe = z - era * 146097;
    int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    int64_t mp = (5 * doy + 2) / 153;
    *d = (int)(doy - (153 * mp + 2) / 5 + 1);
    *m = (int)(mp < 10 ? mp + 3 : mp - 9);
    *y = yoe + era * 400 + (*m <= 2);
}

static int64_t floor_div(int64_t a, int64_t b)
{
    return a / b - (a % b != 0 && (a < 0) != (b < 0));
}

/* --- the zone's offsets ------------------------------------------------ */

static int32_t libc_offset(int64_t at)
{
    time_t t = (time_t)at;
    struct tm tm;
    return localtime_r(&t, &tm) ? (int32_t)tm.tm_gmtoff : 0;
}

static int push(struct hours *h, size_t *cap, int64_t at, int32_t off)
{
    if (h->ntr == *cap) {
        size_t ncap = *cap ? *cap * 2 : 64;
        struct trans *n = realloc(h->tr, ncap * sizeof *n);
        if (!n)
            return -1;
        h->tr = n;
        *cap = ncap;
    }
    h->tr[h->ntr].at = at;
    h->tr[h->ntr].off = off;
    h->ntr++;
    return 0;
}

/* Is `name` a zone of the installed tz database?  glibc takes an unknown
 * name for UTC without a word, which would move every deadline silently. */
static int zone_known(const char *name)
{
    const char *dir = getenv("TZDIR");
    char path[512];
    if (strcmp(name, "UTC") == 0)
        return 1;
    if (!*name || *name == '/' || strstr(name, ".."))
        return 0;
    snprintf(path, sizeof path, "%s/%s", dir && *dir ? dir : "/usr/share/zoneinfo", name);
    return access(path, R_OK) == 0;
}

static int read_offsets(struct hours *h, const char *zone)
{
    const char *was = getenv("TZ");
    char *old = was ? strdup(was) : NULL;
    size_t cap = 0;
    int rc = -1;
    int32_t prev;

    if (was && !old)
        return -1;
    if (setenv("TZ", zone, 1))
        goto out;
    tzset();
    prev = libc_offset(TABLE_FROM);
    if (push(h, &cap, INT64_MIN, prev))
        goto out;
    for (int64_t t = TABLE_FROM + DAY; t <= TABLE_TO; t += DAY) {
        int32_t off = libc_offset(t);
        int64_t lo = t - DAY, hi = t;
        if (off == prev)
            continue;
        while (hi - lo > 1) {     /* the change lies in (lo, hi] */
            int64_t mid = lo + (hi - lo) / 2;
            if (libc_offset(mid) == prev)
                lo = mid;
            else
                hi = mid;
        }
        if (push(h, &cap, hi, off))
            goto out;
        prev = off;
    }
    rc = 0;
out:
    if (old)
        setenv("TZ", old, 1);
    else
        unsetenv("TZ");
    tzset();
    free(old);
    return rc;
}

int hours_utc_offset(const struct hours *h, int64_t at)
{
    size_t lo = 0, hi = h->ntr;   /* tr[0].at is INT64_MIN: the answer is in [lo, hi) */
    while (hi - lo > 1) {
        size_t mid = lo + (hi - lo) / 2;
        if (h->tr[mid].at <= at)
            lo = mid;
        else
            hi = mid;
    }
    return h->tr[lo].off;
}

void hours_local_time(const struct hours *h, int64_t at, struct tm *out)
{
    int32_t off = hours_utc_offset(h, at);
    time_t local = (time_t)(at + off);
    memset(out, 0, sizeof *out);
    gmtime_r(&local, out);   /* UTC arithmetic on the shifted instant: no TZ */
    out->tm_isdst = 0;
    out->tm_gmtoff = off;
}

/* The instant when local clocks show `local` (seconds since the epoch as if
 * local time were UTC).  A time that happens twice (autumn) is its first
 * occurrence; one that never happens (spring's gap) is read with the offset
 * before the change, landing as far after the gap's start as it was meant
 * to be (02:30 in Berlin's gap is 03:30 summer time, as mktime does). */
static int64_t local_to_utc(const struct hours *h, int64_t local)
{
    int32_t before = hours_utc_offset(h, local - 2 * DAY);
    int32_t after = hours_utc_offset(h, local + 2 * DAY);
    int64_t a = local - before, b = local - after;
    int ok_a = hours_utc_offset(h, a) == before, ok_b = hours_utc_offset(h, b) == after;
    if (ok_a && ok_b)
        return a < b ? a : b;
    if (ok_a)
        return a;
    if (ok_b)
        return b;
    return a;
}

/* --- the calendar ---------------------------------------------------------- */

static int is_holiday(const struct hours *h, int64_t day)
{
    int64_t y;
    int m, d;
    size_t lo = 0, hi = h->nholidays;
    civil_from_days(day, &y, &m, &d);
    int key = (int)(y * 10000 + m * 100 + d);
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (h->holidays[mid] == key)
            return 1;
        if (h->holidays[mid] < key)
            lo = mid + 1;
        else
            hi = mid;
    }
    return 0;
}

/* The local day (days since 1970-01-01) that instant `at` falls on. */
static int64_t local_day(const struct hours *h, int64_t at)
{
    return floor_div(at + hours_utc_offset(h, at), DAY);
}

/* Calls fn(ctx, start, end) for each business interval, in order, from the
 * local day holding `from` on, for at most `days` days, until fn returns
 * nonzero; returns that value (0 when the days ran out). */
typedef int (*span_fn)(void *ctx, int64_t start, int64_t end);

static int walk(const struct hours *h, int64_t from, int64_t days, span_fn fn, void *ctx)
{
    int64_t day = local_day(h, from);
    for (int64_t i = 0; i < days; i++, day++) {
        int wday = (int)(((day + 4) % 7 + 7) % 7);   /* 1970-01-01 was a Thursday */
        if (!h->nspans[wday] || is_holiday(h, day))
            continue;
        for (int s = 0; s < h->nspans[wday]; s++) {
            int64_t start = local_to_utc(h, day * DAY + h->spans[wday][s][0] * 60LL);
            int64_t end = local_to_utc(h, day * DAY + h->spans[wday][s][1] * 60LL);
            int rc;
            if (end <= from)
                continue;
            rc = fn(ctx, start > from ? start : from, end);
            if (rc)
                return rc;
        }
    }
    return 0;
}

struct between { int64_t to, sum; };

static int add_span(void *arg, int64_t start, int64_t end)
{
    struct between *b = arg;
    if (start >= b->to)
        return 1;
    b->sum += (end < b->to ? end : b->to) - start;
    return 0;
}

int64_t hours_between(const struct hours *h, int64_t from, int64_t to)
{
    struct between b = { to, 0 };
    if (to <= from)
        return 0;
    walk(h, from, floor_div(to - from, DAY) + 2, add_span, &b);
    return b.sum;
}

struct adding { int64_t left, at; };

static int use_span(void *arg, int64_t start, int64_t end)
{
    struct adding *a = arg;
    if (end - start >= a->left) {
        a->at = start + a->left;
        return 1;
    }
    a->left -= end - start;
    return 0;
}

int64_t hours_add(const struct hours *h, int64_t from, int64_t secs)
{
    struct adding a = { secs > 0 ? secs : 0, INT64_MAX };
    walk(h, from, SEARCH_DAYS, use_span, &a);
    return a.at;
}

static int inside(void *arg, int64_t start, int64_t end)
{
    (void)end;
    return start <= *(int64_t *)arg ? 1 : 2;
}

int hours_open(const struct hours *h, int64_t at)
{
    return walk(h, at, 1, inside, &at) == 1;
}

/* --- lifetime ---------------------------------------------------------------- */

struct hours *hours_new(const struct config_hours *c, char *err, size_t errlen)
{
    struct hours *h = calloc(1, sizeof *h);
    const char *zone = c->timezone ? c->timezone : "UTC";
    int any = 0;

    if (!h) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    memcpy(h->spans, c->spans, sizeof h->spans);
    memcpy(h->nspans, c->nspans, sizeof h->nspans);
    for (int i = 0; i < 7; i++)
        any |= c->nspans[i] > 0;
    if (!any) {
        snprintf(err, errlen, "business hours have no opening on any weekday");
        goto fail;
    }
    if (!zone_known(zone)) {
        snprintf(err, errlen, "unknown time zone \"%s\" (not in the tz database; "
                 "is the tzdata package installed?)", zone);
        goto fail;
    }
    if (c->nholidays) {
        h->holidays = malloc(c->nholidays * sizeof *h->holidays);
        if (!h->holidays)
            goto oom;
        memcpy(h->holidays, c->holidays, c->nholidays * sizeof *h->holidays);
        h->nholidays = c->nholidays;
    }
    if (read_offsets(h, zone))
        goto oom;
    return h;
oom:
    snprintf(err, errlen, "out of memory");
fail:
    hours_free(h);
    return NULL;
}

void hours_free(struct hours *h)
{
    if (!h)
        return;
    free(h->holidays);
    free(h->tr);
    free(h);
}

int64_t hours_local_instant(const struct hours *h, const struct tm *local)
{
    struct tm tm = *local;
    tm.tm_isdst = 0;
    return local_to_utc(h, (int64_t)timegm(&tm));   /* timegm: no TZ either */
}
