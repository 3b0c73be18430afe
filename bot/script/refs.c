/* refs.c — ticket and user references as typed in chat; see refs.h.  No
 * chat markup reaches here: the adapter wrote <@U1|alice> as @alice. */
#include "script/refs.h"

#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

long long refs_ticket(const char *s)
{
    char *end;
    long long v;
    while (isspace((unsigned char)*s))
        s++;
    if (*s == '#')
        s++;
    if (!isdigit((unsigned char)*s))
        return -1;
    errno = 0;
    v = strtoll(s, &end, 10);
    while (isspace((unsigned char)*end))
        end++;
    return *end || v <= 0 || errno == ERANGE ? -1 : v;
}

static enum refs_kind copy(const char *s, size_t n, char *out, size_t outlen,
                           enum refs_kind kind)
{
    if (!n || n >= outlen)
        return REFS_BAD;
    memcpy(out, s, n);
    out[n] = '\0';
    return kind;
}

enum refs_kind refs_user(const char *s, char *out, size_t outlen)
{
    size_t n;
    while (isspace((unsigned char)*s))
        s++;
    n = strlen(s);
    while (n && isspace((unsigned char)s[n - 1]))
        n--;
    if (n == 2 && strncmp(s, "me", 2) == 0)
        return REFS_ME;
    if (*s == '@')
        return copy(s + 1, n - 1, out, outlen, REFS_NAME);
    if (memchr(s, ' ', n))
        return REFS_BAD;
    return copy(s, n, out, outlen, REFS_ID);
}
