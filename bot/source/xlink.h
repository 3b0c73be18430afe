/* xlink.h — links to X (a tweet's permalink), the shape of an X handle, and
 * the source ops every X-shaped source shares (x.c, replay.c).  The one
 * place that writes an x.com URL; knows nothing of tickets. */
#ifndef VIGIL_XLINK_H
#define VIGIL_XLINK_H

#include <stddef.h>

struct source;
struct source_text;

/* 1 when `h` has X's documented username shape: 1-15 of [A-Za-z0-9_]. */
int xlink_handle_valid(const char *h);

/* The permalink of tweet `tweet_id` by `handle` in `out` (`len` bytes):
 * https://x.com/<handle>/status/<id>, built with curl's URL API so every
 * part is percent-encoded.  A handle that does not have X's shape (or is
 * NULL) is left out: https://x.com/i/status/<id>, which X resolves by id.
 * Returns 0, or -1 (out = "") when `tweet_id` is not digits or the URL
 * cannot be built or does not fit. */
int xlink_status_url(const char *handle, const char *tweet_id, char *out, size_t len);

/* source_ops.permalink of X: xlink_status_url. */
int xlink_permalink(struct source *s, const char *handle, const char *id, char *out,
                    size_t len);
/* source_ops.check_text of X: tweetlen_check against TWEETLEN_MAX. */
int xlink_check_text(struct source *s, const char *text, size_t len, struct source_text *out);

#endif
