/* test_hours.c — the SLA calendar (desk/hours.c) on a controllable clock:
 * every instant is given, none is read.  A weekend, a holiday, a ticket
 * arriving outside hours, the spring and autumn clock changes in
 * Europe/Berlin and America/New_York, a time inside the spring gap. */
#include "unit.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "desk/hours.h"

/* UTC instant of a UTC calendar time. */
static int64_t utc(int y, int mo, int d, int h, int mi)
{
    struct tm tm = { 0 };
    tm.tm_year = y - 1900;
    tm.tm_mon = mo - 1;
    tm.tm_mday = d;
    tm.tm_hour = h;
    tm.tm_min = mi;
    return (int64_t)timegm(&tm);
}

/* Mon-Fri 09:00-17:00 in `zone`, with `holidays` (yyyymmdd, sorted). */
static struct hours *office(const char *zone, int *holidays, size_t n)
{
    struct config_hours c = { 0 };
    char err[200];
    struct hours *h;
    c.timezone = (char *)zone;
    for (int wd = 1; wd <= 5; wd++) {
        c.spans[wd][0][0] = 9 * 60;
        c.spans[wd][0][1] = 17 * 60;
        c.nspans[wd] = 1;
    }
    c.holidays = holidays;
    c.nholidays = n;
    h = hours_new(&c, err, sizeof err);
    if (!h)
        unit_fail(__FILE__, __LINE__, "hours_new: %s", err);
    return h;
}

/* Every day from `from` to `to` minutes after local midnight. */
static struct hours *daily(const char *zone, int from, int to)
{
    struct config_hours c = { 0 };
    char err[200];
    struct hours *h;
    c.timezone = (char *)zone;
    for (int wd = 0; wd < 7; wd++) {
        c.spans[wd][0][0] = from;
        c.spans[wd][0][1] = to;
        c.nspans[wd] = 1;
    }
    h = hours_new(&c, err, sizeof err);
    if (!h)
        unit_fail(__FILE__, __LINE__, "hours_new: %s", err);
    return h;
}

TEST(hours_around_the_clock_count_every_second)
{
    struct hours *h = daily("UTC", 0, 24 * 60);
    int64_t t = utc(2026, 12, 5, 23, 0);
    if (!h)
        return;
    CHECK_INT(hours_between(h, t, t + 3600), 3600);
    CHECK_INT(hours_add(h, t, 3600), t + 3600);
    CHECK_INT(hours_add(h, t, 0), t);
    CHECK_INT(hours_between(h, t, t - 5), 0);
    CHECK(hours_open(h, t));
    hours_free(h);
}

TEST(hours_a_ticket_on_friday_afternoon_is_due_on_monday_morning)
{
    struct hours *h = office("Europe/Berlin", NULL, 0);
    /* Friday 2026-12-04 16:30 CET (UTC+1) */
    int64_t fri = utc(2026, 12, 4, 15, 30), mon = utc(2026, 12, 7, 8, 30);
    if (!h)
        return;
    CHECK_INT(hours_add(h, fri, 3600), mon);            /* Monday 09:30 CET */
    CHECK_INT(hours_between(h, fri, mon), 3600);
    CHECK_INT(hours_between(h, fri, utc(2026, 12, 6, 12, 0)), 1800);   /* Sunday: paused */
    CHECK(!hours_open(h, utc(2026, 12, 5, 10, 0)));     /* Saturday */
    CHECK(hours_open(h, fri));
    hours_free(h);
}

TEST(hours_a_tweet_at_night_starts_its_clock_at_the_next_opening)
{
    struct hours *h = office("Europe/Berlin", NULL, 0);
    /* Tuesday 2026-12-08 23:00 CET: the team sleeps, the clock waits for 09:00 */
    int64_t night = utc(2026, 12, 8, 22, 0);
    if (!h)
        return;
    CHECK(!hours_open(h, night));
    CHECK_INT(hours_add(h, night, 3600), utc(2026, 12, 9, 9, 0));   /* 10:00 CET */
    CHECK_INT(hours_between(h, night, utc(2026, 12, 9, 8, 0)), 0);  /* 09:00 CET */
    CHECK_INT(hours_add(h, night, 0), utc(2026, 12, 9, 8, 0));
    /* a Saturday tweet: Monday */
    CHECK_INT(hours_add(h, utc(2026, 12, 12, 22, 0), 1800), utc(2026, 12, 14, 8, 30));
    hours_free(h);
}

TEST(hours_holidays_pause_the_clock_like_a_weekend)
{
    int hol[] = { 20261224, 20261225 };
    struct hours *h = office("Europe/Berlin", hol, 2);
    /* Wednesday 2026-12-23 16:30 CET; Thu and Fri are holidays */
    int64_t wed = utc(2026, 12, 23, 15, 30);
    if (!h)
        return;
    CHECK_INT(hours_add(h, wed, 3600), utc(2026, 12, 28, 8, 30));   /* Monday 09:30 */
    CHECK(!hours_open(h, utc(2026, 12, 24, 10, 0)));
    CHECK_INT(hours_between(h, wed, utc(2026, 12, 28, 8, 0)), 1800);
    hours_free(h);
}

TEST(hours_berlin_spring_forward_and_fall_back)
{
    struct hours *h = daily("Europe/Berlin", 0, 24 * 60), *o = office("Europe/Berlin", NULL, 0);
    if (!h || !o)
        goto out;
    CHECK_INT(hours_utc_offset(h, utc(2026, 3, 29, 0, 59)), 3600);
    CHECK_INT(hours_utc_offset(h, utc(2026, 3, 29, 1, 0)), 7200);   /* 02:00 CET -> 03:00 CEST */
    CHECK_INT(hours_utc_offset(h, utc(2026, 10, 25, 0, 59)), 7200);
    CHECK_INT(hours_utc_offset(h, utc(2026, 10, 25, 1, 0)), 3600);
    /* local midnight to midnight: 23 hours in spring, 25 in autumn */
    CHECK_INT(hours_between(h, utc(2026, 3, 28, 23, 0), utc(2026, 3, 29, 22, 0)), 23 * 3600);
    CHECK_INT(hours_between(h, utc(2026, 10, 24, 22, 0), utc(2026, 10, 25, 23, 0)), 25 * 3600);
    /* Friday 16:30 CET before the change, due Monday 09:30 CEST (07:30 UTC) */
    CHECK_INT(hours_add(o, utc(2026, 3, 27, 15, 30), 3600), utc(2026, 3, 30, 7, 30));
    /* and back: Friday 16:30 CEST, due Monday 09:30 CET (08:30 UTC) */
    CHECK_INT(hours_add(o, utc(2026, 10, 23, 14, 30), 3600), utc(2026, 10, 26, 8, 30));
out:
    hours_free(h);
    hours_free(o);
}

TEST(hours_an_opening_inside_the_spring_gap_starts_after_it)
{
    /* 02:30-04:00 every day: on 2026-03-29 Berlin's clocks skip 02:00-03:00,
     * so 02:30 is read as 03:30 CEST, leaving half an hour */
    struct hours *h = daily("Europe/Berlin", 150, 240);
    if (!h)
        return;
    CHECK_INT(hours_between(h, utc(2026, 3, 28, 23, 0), utc(2026, 3, 29, 22, 0)), 1800);
    CHECK_INT(hours_add(h, utc(2026, 3, 28, 23, 0), 60), utc(2026, 3, 29, 1, 31));
    /* the day before: 01:30-03:00 UTC, an hour and a half */
    CHECK_INT(hours_between(h, utc(2026, 3, 27, 23, 0), utc(2026, 3, 28, 23, 0)), 5400);
    /* autumn: 02:30 happens twice; the span opens at the first (00:30 UTC)
     * and closes at 04:00 CET (03:00 UTC), two and a half hours */
    CHECK_INT(hours_between(h, utc(2026, 10, 24, 22, 0), utc(2026, 10, 25, 22, 0)), 9000);
    hours_free(h);
}

TEST(hours_new_york_night_shift_across_both_changes)
{
    /* 00:00-06:00 every day, America/New_York: 02:00 EST -> 03:00 EDT on
     * 2026-03-08 (five hours of shift), 02:00 EDT -> 01:00 EST on
     * 2026-11-01 (seven hours) */
    struct hours *h = daily("America/New_York", 0, 6 * 60);
    if (!h)
        return;
    CHECK_INT(hours_utc_offset(h, utc(2026, 1, 15, 12, 0)), -5 * 3600);
    CHECK_INT(hours_utc_offset(h, utc(2026, 7, 15, 12, 0)), -4 * 3600);
    CHECK_INT(hours_between(h, utc(2026, 3, 8, 5, 0), utc(2026, 3, 9, 4, 0)), 5 * 3600);
    CHECK_INT(hours_between(h, utc(2026, 11, 1, 4, 0), utc(2026, 11, 2, 5, 0)), 7 * 3600);
    CHECK_INT(hours_between(h, utc(2026, 3, 7, 5, 0), utc(2026, 3, 8, 5, 0)), 6 * 3600);
    /* 6h of shift from Saturday 00:00 EST run out at Saturday 06:00 EST */
    CHECK_INT(hours_add(h, utc(2026, 3, 7, 5, 0), 6 * 3600), utc(2026, 3, 7, 11, 0));
    /* 6h from Sunday 00:00 EST: five on Sunday, one on Monday (01:00 EDT) */
    CHECK_INT(hours_add(h, utc(2026, 3, 8, 5, 0), 6 * 3600), utc(2026, 3, 9, 5, 0));
    hours_free(h);
}

TEST(hours_between_and_add_agree)
{
    int hol[] = { 20261026 };
    struct hours *h = office("America/New_York", hol, 1);
    if (!h)
        return;
    for (int64_t from = utc(2026, 10, 20, 0, 0); from < utc(2026, 11, 10, 0, 0);
         from += 7 * 3600 + 13 * 60) {
        int64_t due = hours_add(h, from, 3600);
        CHECK_INT(hours_between(h, from, due), 3600);
        CHECK_INT(hours_between(h, from, due - 1), 3599);
    }
    hours_free(h);
}

TEST(hours_refuse_an_unknown_zone_and_a_week_without_hours)
{
    struct config_hours c = { 0 };
    char err[200];
    c.timezone = "Europe/Atlantis";
    c.spans[1][0][1] = 60;
    c.nspans[1] = 1;
    CHECK(hours_new(&c, err, sizeof err) == NULL);
    CHECK(strstr(err, "unknown time zone \"Europe/Atlantis\"") != NULL);
    c.timezone = "../../etc/passwd";
    CHECK(hours_new(&c, err, sizeof err) == NULL);
    c.timezone = "UTC";
    c.nspans[1] = 0;
    CHECK(hours_new(&c, err, sizeof err) == NULL);
    CHECK(strstr(err, "no opening") != NULL);
}

/* "YYYY-MM-DD HH:MM wday" of `at` in the calendar's zone. */
static void local_str(const struct hours *h, int64_t at, char *out, size_t len)
{
    struct tm tm;
    hours_local_time(h, at, &tm);
    snprintf(out, len, "%04d-%02d-%02d %02d:%02d %d", tm.tm_year + 1900, tm.tm_mon + 1,
             tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_wday);
}

static int64_t local_at(const struct hours *h, int y, int mo, int d, int hh, int mi)
{
    struct tm tm = { 0 };
    tm.tm_year = y - 1900;
    tm.tm_mon = mo - 1;
    tm.tm_mday = d;
    tm.tm_hour = hh;
    tm.tm_min = mi;
    return hours_local_instant(h, &tm);
}

TEST(hours_local_time_in_tokyo_and_los_angeles_whatever_tz_says)
{
    struct hours *tokyo = daily("Asia/Tokyo", 0, 24 * 60);
    struct hours *la = daily("America/Los_Angeles", 0, 24 * 60);
    char s[64], *old = getenv("TZ") ? strdup(getenv("TZ")) : NULL;
    struct tm tm;

    setenv("TZ", "Europe/Berlin", 1);   /* the process's zone plays no part */
    tzset();
    /* Monday 2026-12-07 07:30 UTC */
    local_str(tokyo, utc(2026, 12, 7, 7, 30), s, sizeof s);
    CHECK_STR(s, "2026-12-07 16:30 1");
    local_str(la, utc(2026, 12, 7, 7, 30), s, sizeof s);
    CHECK_STR(s, "2026-12-06 23:30 0");                 /* still Sunday, PST */
    local_str(la, utc(2026, 7, 1, 7, 30), s, sizeof s);
    CHECK_STR(s, "2026-07-01 00:30 3");                 /* PDT: UTC-7 */
    hours_local_time(tokyo, utc(2026, 12, 31, 15, 0), &tm);
    CHECK_INT(tm.tm_year + 1900, 2027);                 /* New Year in Tokyo first */
    CHECK_INT(tm.tm_yday, 0);
    CHECK_INT(tm.tm_gmtoff, 9 * 3600);
    /* and back: the instant a local clock shows */
    CHECK_INT(local_at(tokyo, 2026, 12, 7, 14, 0), utc(2026, 12, 7, 5, 0));
    CHECK_INT(local_at(la, 2026, 12, 7, 14, 0), utc(2026, 12, 7, 22, 0));
    CHECK_INT(local_at(la, 2026, 12, 7, 24 + 2, 0), utc(2026, 12, 8, 10, 0));   /* carries */
    /* 2026-03-08 02:30 never happens in Los Angeles: 03:30 PDT; 2026-11-01
     * 01:30 happens twice: the first, PDT */
    CHECK_INT(local_at(la, 2026, 3, 8, 2, 30), utc(2026, 3, 8, 10, 30));
    CHECK_INT(local_at(la, 2026, 11, 1, 1, 30), utc(2026, 11, 1, 8, 30));
    if (old)
        setenv("TZ", old, 1);
    else
        unsetenv("TZ");
    tzset();
    free(old);
    hours_free(tokyo);
    hours_free(la);
}
