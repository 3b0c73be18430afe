/* shift.h — a staff member's weekly working hours, as written in config
 * ("mon-fri 08:00-16:00, sat 10:00-14:00"): the pure parser and the
 * "is this minute of the week inside?" test.  Knows weekdays and clocks;
 * never who works them, nor any time zone (callers pass local times). */
#ifndef VIGIL_SHIFT_H
#define VIGIL_SHIFT_H

#include <stddef.h>
#include <stdint.h>

#define SHIFT_MAX_SPANS 8

/* Days `days` (bit 0 = Sunday, as struct tm's tm_wday) from `start` to
 * `end` minutes after midnight.  end <= start: the span runs past
 * midnight into the next day (a night shift belongs to the day it
 * starts). */
struct shift_span {
    unsigned days;
    int start, end;
};

struct shift {
    size_t n;
    struct shift_span v[SHIFT_MAX_SPANS];
};

/* Parses `text`: spans separated by ',' or ';', each "DAYS HH:MM-HH:MM"
 * where DAYS is a day (mon, tue, ... sun), a range (mon-fri, fri-mon), a
 * list joined by '/' (mon/wed/fri), or "daily", "weekdays", "weekends".
 * 24:00 ends a day.  Returns 0 with `*out` filled, or -1 with a message
 * naming the part it could not read in `err`.  Pure. */
int shift_parse(const char *text, struct shift *out, char *err, size_t errlen);

/* Whether minute `minute` (0..1439) of weekday `wday` (0 = Sunday) is
 * inside the shift.  Pure. */
int shift_contains(const struct shift *s, int wday, int minute);

/* The same for Unix time `t` read where clocks are `utc_offset` seconds
 * east of UTC (the desk's zone at `t`: desk_utc_offset).  An empty shift
 * (n == 0) contains every time.  Pure. */
int shift_contains_time(const struct shift *s, int64_t t, int utc_offset);

#endif
