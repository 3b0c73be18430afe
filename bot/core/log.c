/* log.c — logfmt logging with secret redaction; a line is cut at 16 KiB.
 * Knows nothing of tickets, chat or sources: it formats and redacts text. */
#include "core/log.h"

#include <ctype.h>
#include <limits.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <time.h>
#include <wchar.h>

#include "core/buf.h"

#define MAX_SECRETS 64
#define LINE_MAX_BYTES 16384

static enum log_level min_level = LOG_INFO;
static char *secrets[MAX_SECRETS];
static int nsecrets;
static log_sink_fn sink;
static void *sink_arg;
static log_writer_fn writer;
static void *writer_arg;

void log_set_writer(log_writer_fn fn, void *arg)
{
    writer = fn;
    writer_arg = arg;
}

static const char *const level_names[] = { "debug", "info", "warn", "error", "fatal" };

/* Under journald (systemd sets $JOURNAL_STREAM to stderr's "dev:ino"), each
 * line starts with its syslog priority, <7> debug .. <2> fatal, so
 * `journalctl -p err` filters.  The device and inode must match stderr:
 * a child whose stderr was redirected inherits the variable but not the
 * stream. */
static int journal_prefix(void)
{
    static int known, on;
    unsigned long long dev, ino;
    struct stat st;
    const char *v;

    if (known)
        return on;
    known = 1;
    v = getenv("JOURNAL_STREAM");
    if (v && sscanf(v, "%llu:%llu", &dev, &ino) == 2 && fstat(2, &st) == 0 &&
        (unsigned long long)st.st_dev == dev && (unsigned long long)st.st_ino == ino)
        on = 1;
    return on;
}

static const char *const level_prio[] = { "<7>", "<6>", "<4>", "<3>", "<2>" };

void log_set_level(enum log_level level) { min_level = level; }
enum log_level log_get_level(void) { return min_level; }
const char *log_level_name(enum log_level level) { return level_names[level]; }

int log_parse_level(const char *name)
{
    for (int i = 0; i < LOG_FATAL; i++)
        if (strcmp(name, level_names[i]) == 0)
            return i;
    if (strcmp(name, "warning") == 0)
        return LOG_WARN;
    return -1;
}

void log_set_sink(log_sink_fn fn, void *arg)
{
    sink = fn;
    sink_arg = arg;
}

void log_add_secret(const char *secret)
{
    if (!secret || strlen(secret) < 4 || nsecrets == MAX_SECRETS)
        return;
    for (int i = 0; i < nsecrets; i++)
        if (strcmp(secrets[i], secret) == 0)
            return;
    secrets[nsecrets] = strdup(secret);
    if (secrets[nsecrets])
        nsecrets++;
}

void log_clear_secrets(void)
{
    for (int i = 0; i < nsecrets; i++)
        free(secrets[i]);
    nsecrets = 0;
}

char *log_redact(const char *s)
{
    static const char mark[] = "[redacted]";
    size_t cap = strlen(s) + 1, len = 0;
    char *out;

    /* Every secret is >= 4 bytes, so output is at most 10/4 of the input. */
    cap = cap * 3 + sizeof mark;
    out = malloc(cap);
    if (!out)
        return NULL;
    while (*s) {
        int hit = -1;
        size_t best = 0;
        /* the longest match: a secret that extends another must not leak its tail */
        for (int i = 0; i < nsecrets; i++) {
            size_t n = strlen(secrets[i]);
            if (n > best && strncmp(s, secrets[i], n) == 0) {
                hit = i;
                best = n;
            }
        }
        if (hit >= 0) {
            memcpy(out + len, mark, sizeof mark - 1);
            len += sizeof mark - 1;
            s += strlen(secrets[hit]);
        } else {
            out[len++] = *s++;
        }
    }
    out[len] = '\0';
    return out;
}

/* Appends what fits of `s`: a line longer than the cap is cut, not lost. */
static void put_bytes(struct buf *b, const char *s, size_t n)
{
    size_t room = b->max - b->len;
    if (n > room)
        n = room;
    buf_add(b, s, n);
}

static int needs_quotes(const char *s)
{
    if (!*s)
        return 1;
    for (; *s; s++)
        if (*s == ' ' || *s == '"' || *s == '=' || *s == '\\' ||
            (unsigned char)*s < 0x20 || *s == 0x7f)
            return 1;
    return 0;
}

static void put_escaped(struct buf *b, const char *s);

/* Redacts before escaping: a secret holding quotes or backslashes would no
 * longer match once escaped.  (log_msg redacts the whole line again.) */
static void put_value(struct buf *b, const char *s)
{
    char *clean;
    if (!s) {
        put_bytes(b, "null", 4);
        return;
    }
    clean = nsecrets ? log_redact(s) : NULL;
    put_escaped(b, clean ? clean : s);
    free(clean);
}

static void put_escaped(struct buf *b, const char *s)
{
    if (!needs_quotes(s)) {
        put_bytes(b, s, strlen(s));
        return;
    }
    put_bytes(b, "\"", 1);
    for (; *s; s++) {
        char esc[8];
        unsigned char c = (unsigned char)*s;
        if (c == '"' || c == '\\') {
            esc[0] = '\\';
            esc[1] = (char)c;
            put_bytes(b, esc, 2);
        } else if (c == '\n') {
            put_bytes(b, "\\n", 2);
        } else if (c < 0x20 || c == 0x7f) {
            snprintf(esc, sizeof esc, "\\x%02x", c);
            put_bytes(b, esc, strlen(esc));
        } else {
            put_bytes(b, (const char *)&c, 1);
        }
    }
    put_bytes(b, "\"", 1);
}

/* One conversion of a printf format, as C11 7.21.6.1 defines it. */
struct conv {
    char spec[32];          /* the conversion as written, '*' kept */
    int nstars;             /* '*' width and '*' precision: int arguments */
    int precision;          /* -1 when none (or given by '*') */
    char length[3];         /* "", hh, h, l, ll, j, z, t, L */
    char type;              /* the conversion letter */
};

/* Parses the conversion at `p` (just after '%').  Returns its length, or 0
 * when it is not one the C library knows, or is %n, which a log line has no
 * business with. */
static size_t conv_parse(const char *p, struct conv *cv)
{
    const char *q = p;
    size_t n;

    memset(cv, 0, sizeof *cv);
    cv->precision = -1;
    q += strspn(q, "-+ #0");
    if (*q == '*') {
        cv->nstars++;
        q++;
    } else {
        q += strspn(q, "0123456789");
    }
    if (*q == '.') {
        q++;
        if (*q == '*') {
            cv->nstars++;
            q++;
        } else {
            /* digits only: strtol alone would also skip spaces and a sign */
            size_t nd = strspn(q, "0123456789");
            long v = nd ? strtol(q, NULL, 10) : 0;
            cv->precision = v > INT_MAX ? INT_MAX : (int)v;
            q += nd;
        }
    }
    n = strspn(q, "hljztL");
    if (n > 2 || (n == 2 && !(q[0] == q[1] && (q[0] == 'h' || q[0] == 'l'))))
        return 0;
    memcpy(cv->length, q, n);
    q += n;
    if (!*q || !strchr("diouxXfFeEgGaAcsp%", *q))
        return 0;
    cv->type = *q++;
    n = (size_t)(q - p);
    if (n + 2 > sizeof cv->spec)
        return 0;
    cv->spec[0] = '%';
    memcpy(cv->spec + 1, p, n);
    cv->spec[n + 1] = '\0';
    return n;
}

/* snprintf of one argument with the star values taken before it. */
#define CONV_PRINT(tmp, cv, st, type)                                           \
    ((cv)->nstars == 2 ? snprintf(tmp, sizeof tmp, (cv)->spec, st[0], st[1],    \
                                  va_arg(*ap, type))                            \
     : (cv)->nstars == 1 ? snprintf(tmp, sizeof tmp, (cv)->spec, st[0],         \
                                    va_arg(*ap, type))                          \
     : snprintf(tmp, sizeof tmp, (cv)->spec, va_arg(*ap, type)))

/* Formats one non-string argument with the C library's own formatter, taking
 * it from `ap` with the type its length modifier names: a conversion taken
 * with the wrong width would shift every argument after it. */
static void put_number(struct buf *b, const struct conv *cv, const int *st, va_list *ap)
{
    char tmp[512];
    const char *len = cv->length;
    int unsig = strchr("ouxX", cv->type) != NULL;

    if (strchr("fFeEgGaA", cv->type)) {
        if (strcmp(len, "L") == 0)
            CONV_PRINT(tmp, cv, st, long double);
        else
            CONV_PRINT(tmp, cv, st, double);
    } else if (cv->type == 'p') {
        CONV_PRINT(tmp, cv, st, void *);
    } else if (strcmp(len, "ll") == 0) {
        if (unsig) CONV_PRINT(tmp, cv, st, unsigned long long);
        else CONV_PRINT(tmp, cv, st, long long);
    } else if (strcmp(len, "l") == 0) {
        if (cv->type == 'c') CONV_PRINT(tmp, cv, st, wint_t);
        else if (unsig) CONV_PRINT(tmp, cv, st, unsigned long);
        else CONV_PRINT(tmp, cv, st, long);
    } else if (strcmp(len, "j") == 0) {
        if (unsig) CONV_PRINT(tmp, cv, st, uintmax_t);
        else CONV_PRINT(tmp, cv, st, intmax_t);
    } else if (strcmp(len, "z") == 0) {
        CONV_PRINT(tmp, cv, st, size_t);
    } else if (strcmp(len, "t") == 0) {
        CONV_PRINT(tmp, cv, st, ptrdiff_t);
    } else {
        /* hh, h and none: promoted to int (unsigned when it fits is the same width) */
        if (unsig) CONV_PRINT(tmp, cv, st, unsigned);
        else CONV_PRINT(tmp, cv, st, int);
    }
    put_bytes(b, tmp, strlen(tmp));
}

/* printf over `fmt`: every conversion of C's printf is formatted by the C
 * library (snprintf, one argument at a time), except that each %s value
 * goes through put_value (redacted, quoted as logfmt wants).  A conversion
 * the C library does not define ends the line with "!BADFORMAT" instead of
 * guessing how many bytes of arguments it would have taken. */
static void format_tail(struct buf *b, const char *fmt, va_list *ap)
{
    while (*fmt) {
        const char *p = strchr(fmt, '%');
        struct conv cv;
        int st[2] = { 0, 0 };
        size_t n;

        if (!p) {
            put_bytes(b, fmt, strlen(fmt));
            return;
        }
        put_bytes(b, fmt, (size_t)(p - fmt));
        n = conv_parse(p + 1, &cv);
        if (n == 0) {
            put_bytes(b, "!BADFORMAT", 10);
            return;
        }
        fmt = p + 1 + n;
        for (int i = 0; i < cv.nstars; i++)
            st[i] = va_arg(*ap, int);
        if (cv.type == '%') {
            put_bytes(b, "%", 1);
        } else if (cv.type == 's' && cv.length[0] == '\0') {
            const char *v = va_arg(*ap, const char *);
            /* a precision bounds the bytes read (the string may be unterminated) */
            int prec = cv.nstars == 2 || (cv.nstars == 1 && strstr(cv.spec, ".*"))
                       ? st[cv.nstars - 1] : cv.precision;
            char *cut = v && prec >= 0 ? strndup(v, (size_t)prec) : NULL;
            put_value(b, cut ? cut : v);
            free(cut);
        } else if (cv.type == 's') {
            (void)va_arg(*ap, void *);      /* %ls: wide strings have no place here */
            put_bytes(b, "!BADFORMAT", 10);
            return;
        } else {
            put_number(b, &cv, st, ap);
        }
    }
}

void log_msg(enum log_level level, const char *msg, const char *fmt, ...)
{
    static struct buf b = { .max = LINE_MAX_BYTES - 1 };   /* kept between lines */
    struct timeval tv;
    struct tm tm;
    char ts[40];
    const char *line;
    char *clean;
    va_list ap;

    if (level < min_level)
        return;
    gettimeofday(&tv, NULL);
    gmtime_r(&tv.tv_sec, &tm);
    strftime(ts, sizeof ts, "%Y-%m-%dT%H:%M:%S", &tm);

    buf_reset(&b);
    put_bytes(&b, "ts=", 3);
    put_bytes(&b, ts, strlen(ts));
    snprintf(ts, sizeof ts, ".%03ldZ level=", (long)(tv.tv_usec / 1000));
    put_bytes(&b, ts, strlen(ts));
    put_bytes(&b, level_names[level], strlen(level_names[level]));
    put_bytes(&b, " msg=", 5);
    put_value(&b, msg);
    if (fmt && *fmt) {
        put_bytes(&b, " ", 1);
        va_start(ap, fmt);
        format_tail(&b, fmt, &ap);
        va_end(ap);
    }
    line = buf_str(&b);
    clean = nsecrets ? log_redact(line) : NULL;
    if (writer)
        writer(writer_arg, clean ? clean : line);
    else
        fprintf(stderr, "%s%s\n", journal_prefix() ? level_prio[level] : "",
                clean ? clean : line);
    if (sink)
        sink(sink_arg, level, clean ? clean : line);
    free(clean);
}
