/* buf.h — a growable byte string, always NUL-terminated, with an optional
 * size cap (compare curl's dynbuf).  Knows nothing but memory: every
 * subsystem that builds text of unknown length uses this one. */
#ifndef VIGIL_BUF_H
#define VIGIL_BUF_H

#include <stddef.h>

struct buf {
    char *data;     /* NULL until the first byte; see buf_str() */
    size_t len, cap;
    size_t max;     /* 0: no cap; else the most bytes it may hold */
    int failed;     /* an add ran out of memory or hit `max`: later adds are no-ops */
};

/* Zeroes `b`; `max` caps its length (0: none).  A zeroed struct is a valid
 * uncapped buf too: `struct buf b = { 0 };`. */
void buf_init(struct buf *b, size_t max);

/* Appends; 0 on success, -1 (and b->failed set) when out of memory or the
 * result would pass `max`: then nothing is appended, now or later. */
int buf_add(struct buf *b, const void *p, size_t n);
int buf_addstr(struct buf *b, const char *s);
int buf_printf(struct buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* The text so far, borrowed ("" when empty); valid until the next call. */
const char *buf_str(const struct buf *b);

/* Hands the text to the caller (free() it; "" when empty, NULL only when out
 * of memory) and leaves `b` empty and usable. */
char *buf_take(struct buf *b);

/* Drops the first `n` bytes (all when n >= len), keeping the rest. */
void buf_consume(struct buf *b, size_t n);

/* Empties `b`, keeping its memory and cap; clears `failed`. */
void buf_reset(struct buf *b);

/* Frees the memory; `b` is empty and usable again. */
void buf_free(struct buf *b);

#endif
