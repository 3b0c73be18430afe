/* hours.h — business-hours calendar arithmetic for the SLA clock: how many
 * business seconds lie between two instants, and when N business seconds
 * will have elapsed, in a team's time zone, weekly hours and holidays.
 * Pure once built: no clock, no process state (the zone's UTC offsets are
 * read once, at hours_new, into a table).  Knows config's sla.hours shape;
 * nothing of tickets, the store or chat. */
#ifndef VIGIL_HOURS_H
#define VIGIL_HOURS_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "core/config.h"

struct hours;

/* Builds the calendar of `h` (its zone's offsets 2000..2100 from the tz
 * database).  Returns new, free with hours_free(); NULL with a message in
 * `err` when the zone is unknown or no weekday has hours. */
struct hours *hours_new(const struct config_hours *h, char *err, size_t errlen);
void hours_free(struct hours *h);

/* Business seconds in [from, to); 0 when to <= from. */
int64_t hours_between(const struct hours *h, int64_t from, int64_t to);
/* The first instant at which `secs` business seconds have elapsed since
 * `from` (from itself when secs <= 0 and from is inside hours, else the
 * next opening).  Searches ten years ahead at most (INT64_MAX beyond). */
int64_t hours_add(const struct hours *h, int64_t from, int64_t secs);
/* Is `at` inside business hours? */
int hours_open(const struct hours *h, int64_t at);
/* The zone's UTC offset at `at`, in seconds east of Greenwich. */
int hours_utc_offset(const struct hours *h, int64_t at);
/* The date and clock local to the zone at `at`, as gmtime_r fills `out`
 * (tm_wday 0 = Sunday, tm_yday from 0); tm_isdst is 0 and tm_gmtoff the
 * zone's offset.  Pure: the process's TZ plays no part. */
void hours_local_time(const struct hours *h, int64_t at, struct tm *out);
/* The instant at which the zone's clocks show `local` (tm_year .. tm_sec;
 * out-of-range fields carry over as timegm does; tm_wday, tm_yday, tm_isdst
 * ignored).  A time shown twice (autumn) is its first; one never shown
 * (spring's gap) lands as far past the gap's start as meant.  Pure. */
int64_t hours_local_instant(const struct hours *h, const struct tm *local);

#endif
