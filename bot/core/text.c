/* text.c — see text.h. */
#include "core/text.h"

#include <ctype.h>
#include <stdio.h>
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

/* A "{word}" at `p` (letters, digits, _): its length with braces, or 0. */
static size_t placeholder(const char *p)
{
    size_t n = 1;
    if (*p != '{')
        return 0;
    while (isalnum((unsigned char)p[n]) || p[n] == '_')
        n++;
    return n > 1 && p[n] == '}' ? n + 1 : 0;
}

char *text_fill(const char *tpl, const char *const *keys, const char *const *vals, size_t n,
                char *bad, size_t badlen)
{
    size_t cap = strlen(tpl) + 1, used = 0;
    char *out = malloc(cap);

    for (const char *p = tpl; out && *p;) {
        size_t len = placeholder(p), i = n;
        const char *v = p;
        size_t vlen = 1;
        if (len) {
            for (i = 0; i < n && (strlen(keys[i]) != len || strncmp(keys[i], p, len)); i++)
                ;
            if (i == n) {
                if (bad && badlen)
                    snprintf(bad, badlen, "%.*s", (int)len, p);
                free(out);
                return NULL;
            }
            v = vals[i];
            vlen = strlen(v);
        } else {
            len = 1;
        }
        if (used + vlen + 1 > cap) {
            char *grown = realloc(out, (cap = (used + vlen + 1) * 2));
            if (!grown) {
                free(out);
                return NULL;
            }
            out = grown;
        }
        memcpy(out + used, v, vlen);
        used += vlen;
        p += len;
    }
    if (out)
        out[used] = '\0';
    return out;
}
