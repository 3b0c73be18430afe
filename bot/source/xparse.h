/* xparse.h — parses an X API v2 mentions page (GET /2/users/:id/mentions)
 * into a mention_page.  Pure: bytes in, struct out; used by the X source and
 * by the replay source, unit-tested on recorded pages and fuzzed. */
#ifndef VIGIL_XPARSE_H
#define VIGIL_XPARSE_H

#include <stddef.h>

#include "source/mention.h"

/* Parses `len` bytes of JSON.  On success fills `*page` (caller frees with
 * mention_page_free) with the mentions in ascending id order and returns 0.
 * On error returns -1 and writes a one-line reason to `err`.  Tweets that
 * are malformed (no id, no text, no author) are skipped and counted in
 * page->nerrors rather than failing the page. */
int xparse_mentions_page(const char *json, size_t len, struct mention_page *page,
                         char *err, size_t errlen);

/* Parses a decimal tweet id ("1578516295611748353"); -1 when invalid. */
long long xparse_id(const char *s);

/* The time a post id was minted, in Unix seconds: X ids are snowflakes
 * (milliseconds since 2010-11-04T01:42:54.657Z in the bits above 22).
 * 0 when `s` is not an id. */
long long xparse_id_time(const char *s);
long long xparse_snowflake_time(long long id);

/* X sends tweet text HTML-escaped (&amp; &lt; &gt;).  Returns a new string
 * with those three decoded; caller frees. */
char *xparse_unescape(const char *s);

/* Parses "2024-01-15T10:30:00.000Z" to Unix seconds; 0 when invalid. */
long long xparse_time(const char *s);

/* An X error body (RFC 7807 problem, or {"errors":[...]}).  Copies the
 * most useful human text into `detail` and the problem type's last path
 * segment ("usage-capped", "about:blank") into `type`. */
void xparse_problem(const char *json, size_t len, char *detail, size_t dlen, char *type,
                    size_t tlen);

/* The string at data.<field> ("id", "dm_event_id"), copied to `out`; 0 if
 * present.  For POST /2/tweets, DMs, and users/by/username. */
int xparse_data_field(const char *json, size_t len, const char *field, char *out,
                      size_t outlen);

/* POST /2/oauth2/token: the new pair, new strings; 0 on success. */
int xparse_token(const char *json, size_t len, char **access, char **refresh);

#endif
