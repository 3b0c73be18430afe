/* find.h — the `/tw find` query language, parsed as a pure function: words
 * and "quoted phrases" (searched in every tweet of a ticket), @handle,
 * tag:, status:, assignee:, since:, until:.  Knows SQLite FTS5's query
 * syntax only to quote each user word so none of it is syntax; never the
 * store, the chat or who is on the staff (assignee: is kept as typed). */
#ifndef VIGIL_FIND_H
#define VIGIL_FIND_H

#include <stddef.h>
#include <stdint.h>

struct find_query {
    char *match;          /* FTS5 expression of quoted phrases, ANDed; NULL: no words */
    size_t nwords;
    char handle[32];      /* the customer, without @; "" for any */
    char tag[64];         /* lowercase; "" for any */
    char status[16];      /* open|closed|new|assigned|escalated|unassigned; "" for any */
    char assignee[64];    /* "me", "@name" or a staff id, as typed; "" for any */
    int64_t since, until; /* opened in [since, until), Unix seconds; 0: unbounded */
};

/* Parses `text` (what the agent typed after `find`).  Dates are UTC days
 * (2026-12-01; until: includes that day) or ages back from `now` (30m,
 * 12h, 7d, 2w).  On success fills `*q` (free with find_query_clear) and
 * returns 0; on a bad operator value returns -1 with the reason for the
 * agent in `err`.  An unknown word:with:colons is an ordinary word. */
int find_parse(const char *text, int64_t now, struct find_query *q, char *err, size_t errlen);
void find_query_clear(struct find_query *q);

#endif
