/* text.h — small text helpers shared by layers that show text to people.
 * Knows UTF-8 byte structure, nothing of tickets or wire formats. */
#ifndef VIGIL_TEXT_H
#define VIGIL_TEXT_H

#include <stddef.h>

/* One-line excerpt of `s` in `out` (`len` bytes, at least 4): line breaks
 * and tabs become spaces; when cut, the cut falls between UTF-8 characters
 * and "..." follows.  `s` may be NULL (empty result). */
void text_excerpt(const char *s, char *out, size_t len);

/* `tpl` with each "{key}" of `keys` replaced by the matching `vals` entry
 * (n pairs).  Returns new string (caller frees); NULL when out of memory or
 * when `tpl` holds a "{word}" that is not a key: then that word is copied
 * to `bad` (a template must never go out with a placeholder unfilled). */
char *text_fill(const char *tpl, const char *const *keys, const char *const *vals, size_t n,
                char *bad, size_t badlen);

#endif
