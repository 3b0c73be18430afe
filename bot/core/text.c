/* text.c — see text.h. */
#include "core/text.h"

#include <string.h>

void text_excerpt(const char *s, char *out, size_t len)
{
    size_t n = 0;
    for (; s && *s && n + 4 < len; s++)
        out[n++] = (*s == '\n' || *s == '\r' || *s == '\t') ? ' ' : *s;
    if (s && *s) {
        /* *s is the first byte left out; if it continues a UTF-8 sequence,
         * leave out the whole sequence (copying was byte for byte) */
        while (n > 0 && ((unsigned char)*s & 0xC0) == 0x80) {
            s--;
            n--;
        }
        memcpy(out + n, "...", 3);
        n += 3;
    }
    out[n] = '\0';
}
