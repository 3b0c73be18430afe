/* csv.h — CSV as RFC 4180 writes it, for spreadsheets: every field quoted
 * when it holds a comma, quote, CR or LF (quotes doubled), rows ending in
 * CRLF, and a field that a spreadsheet would run as a formula (it starts
 * with = + - @, or a tab or CR) prefixed with ' (OWASP's CSV injection
 * advice): tweets are untrusted.  Pure; knows nothing but text. */
#ifndef VIGIL_CSV_H
#define VIGIL_CSV_H

#include "core/buf.h"

/* Appends one field (NULL is empty), with the separating comma unless it
 * is the row's first.  Returns buf_add's result. */
int csv_field(struct buf *b, const char *v, int first);
/* Ends a row: CRLF. */
int csv_end_row(struct buf *b);

#endif
