/* text.h — small text helpers shared by layers that show text to people.
 * Knows UTF-8 byte structure, nothing of tickets or wire formats. */
#ifndef VIGIL_TEXT_H
#define VIGIL_TEXT_H

#include <stddef.h>

/* One-line excerpt of `s` in `out` (`len` bytes, at least 4): line breaks
 * and tabs become spaces; when cut, the cut falls between UTF-8 characters
 * and "..." follows.  `s` may be NULL (empty result). */
void text_excerpt(const char *s, char *out, size_t len);

#endif
