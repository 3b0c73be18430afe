/* text.h — small text helpers shared by layers that show text to people.
 * Knows UTF-8 byte structure, nothing of tickets or wire formats. */
#ifndef VIGIL_TEXT_H
#define VIGIL_TEXT_H

#include <stddef.h>

/* One-line excerpt of `s` in `out` (`len` bytes, at least 4): line breaks
 * and tabs become spaces; when cut, the cut falls between UTF-8 characters
 * and "..." follows.  `s` may be NULL (empty result). */
void text_excerpt(const char *s, char *out, size_t len);

/* `s` made safe to print on a terminal: ESC, C0 controls (but newline),
 * DEL, C1 controls and the bidi controls U+202A-U+202E and U+2066-U+2069
 * become "?", so outside text cannot move the cursor, recolour or clear
 * the screen, write the clipboard (OSC 52) or reorder what follows.
 * `s` may be NULL (empty result).  Returns new, caller frees; NULL when
 * out of memory. */
char *text_for_terminal(const char *s);

/* `tpl` with each "{key}" of `keys` replaced by the matching `vals` entry
 * (n pairs).  Returns new string (caller frees); NULL when out of memory or
 * when `tpl` holds a "{word}" that is not a key: then that word is copied
 * to `bad` (a template must never go out with a placeholder unfilled). */
char *text_fill(const char *tpl, const char *const *keys, const char *const *vals, size_t n,
                char *bad, size_t badlen);

#endif
