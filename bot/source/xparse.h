/* xparse.h — parses an X API v2 mentions page (GET /2/users/:id/mentions)
 * into a mention_page, and a page of the account's own posts
 * (GET /2/users/:id/tweets) into an own_page.  Pure: bytes in, struct out;
 * used by the X source and by the replay source, unit-tested and fuzzed. */
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

/* issue 18: DELETE /2/tweets/:id's answer: 1 when data.deleted is true,
 * 0 when false, -1 when the body says neither. */
int xparse_deleted(const char *json, size_t len);

/* POST /2/oauth2/token: the new pair, new strings; 0 on success. */
int xparse_token(const char *json, size_t len, char **access, char **refresh);

/* The smallest id X could mint at Unix second `t` (for since_id). */
long long xparse_snowflake_at(long long t);

/* One of the account's own posts, as GET /2/users/:id/tweets lists it. */
struct own_post {
    char id[24];
    char replied_to[24];     /* the post it answers (referenced_tweets replied_to), or "" */
    char *text;              /* HTML entities decoded, t.co links put back to what was sent */
};

struct own_page {
    struct own_post *v;
    size_t n;
    size_t nerrors;          /* posts without an id or text, and partial errors */
    char *next_token;        /* NULL on the last page */
};

/* Parses a page of the account's own posts (asked for with
 * tweet.fields=referenced_tweets,entities).  On success fills `*page`
 * (caller frees with own_page_free) and returns 0; on error returns -1
 * with a one-line reason in `err`. */
int xparse_own_posts(const char *json, size_t len, struct own_page *page, char *err,
                     size_t errlen);
void own_page_free(struct own_page *page);

/* The post on `page` that replies to `in_reply_to` with `text`, or NULL
 * (borrowed from `page`).  X may show a reply's text with the @handles it
 * answers in front; those are allowed before `text`, nothing else is. */
const struct own_post *xparse_find_reply(const struct own_page *page, const char *in_reply_to,
                                         const char *text);

#endif
