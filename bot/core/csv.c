/* csv.c — RFC 4180 fields with the formula guard (see csv.h). */
#include "core/csv.h"

#include <string.h>

int csv_field(struct buf *b, const char *v, int first)
{
    int quote, rc = 0;

    if (!first)
        rc |= buf_add(b, ",", 1);
    if (!v)
        return rc;
    quote = strpbrk(v, ",\"\r\n") != NULL;
    if (quote)
        rc |= buf_add(b, "\"", 1);
    if (strchr("=+-@\t\r", v[0]) && v[0])
        rc |= buf_add(b, "'", 1);   /* a formula to a spreadsheet: keep it text */
    for (const char *p = v; *p; p++) {
        if (*p == '"')
            rc |= buf_add(b, "\"", 1);
        rc |= buf_add(b, p, 1);
    }
    if (quote)
        rc |= buf_add(b, "\"", 1);
    return rc ? -1 : 0;
}

int csv_end_row(struct buf *b)
{
    return buf_add(b, "\r\n", 2);
}
