/* text.c — see text.h. */
#include "core/text.h"

#include <stdlib.h>
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

char *text_for_terminal(const char *s)
{
    size_t len = s ? strlen(s) : 0, o = 0;
    char *out = malloc(len * 3 + 1);
    if (!out)
        return NULL;
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        if ((c < 0x20 && c != '\n') || c == 0x7f) {
            out[o++] = '?';
        } else if (c == 0xC2 && i + 1 < len && (unsigned char)s[i + 1] >= 0x80 &&
                   (unsigned char)s[i + 1] <= 0x9F) {
            out[o++] = '?';   /* C1 control */
            i++;
        } else if (c == 0xE2 && i + 2 < len && (unsigned char)s[i + 1] == 0x80 &&
                   (unsigned char)s[i + 2] >= 0xAA && (unsigned char)s[i + 2] <= 0xAE) {
            out[o++] = '?';   /* U+202A..U+202E bidi embedding/override */
            i += 2;
        } else if (c == 0xE2 && i + 2 < len && (unsigned char)s[i + 1] == 0x81 &&
                   (unsigned char)s[i + 2] >= 0xA6 && (unsigned char)s[i + 2] <= 0xA9) {
            out[o++] = '?';   /* U+2066..U+2069 bidi isolates */
            i += 2;
        } else {
            out[o++] = (char)c;
        }
    }
    out[o] = '\0';
    return out;
}
