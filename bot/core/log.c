/* log.c — logfmt logging to stderr with secret redaction.
 * Knows nothing of tickets, chat or sources: it formats and redacts text. */
#include "core/log.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>

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

struct buf {
    char data[LINE_MAX_BYTES];
    size_t len;
};

static void buf_put(struct buf *b, const char *s, size_t n)
{
    size_t room = sizeof b->data - 1 - b->len;
    if (n > room)
        n = room;
    memcpy(b->data + b->len, s, n);
    b->len += n;
    b->data[b->len] = '\0';
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
        buf_put(b, "null", 4);
        return;
    }
    clean = nsecrets ? log_redact(s) : NULL;
    put_escaped(b, clean ? clean : s);
    free(clean);
}

static void put_escaped(struct buf *b, const char *s)
{
    if (!needs_quotes(s)) {
        buf_put(b, s, strlen(s));
        return;
    }
    buf_put(b, "\"", 1);
    for (; *s; s++) {
        char esc[8];
        unsigned char c = (unsigned char)*s;
        if (c == '"' || c == '\\') {
            esc[0] = '\\';
            esc[1] = (char)c;
            buf_put(b, esc, 2);
        } else if (c == '\n') {
            buf_put(b, "\\n", 2);
        } else if (c < 0x20 || c == 0x7f) {
            snprintf(esc, sizeof esc, "\\x%02x", c);
            buf_put(b, esc, strlen(esc));
        } else {
            buf_put(b, (const char *)&c, 1);
        }
    }
    buf_put(b, "\"", 1);
}

/* printf over `fmt`, but each %s goes through put_value.  Only the
 * conversions vigil uses are supported: d i u x ld lu lld llu zu zd g f c s p %. */
static void format_tail(struct buf *b, const char *fmt, va_list ap)
{
    while (*fmt) {
        const char *p = strchr(fmt, '%');
        char spec[16], tmp[64];
        size_t n;

        if (!p) {
            buf_put(b, fmt, strlen(fmt));
            return;
        }
        buf_put(b, fmt, (size_t)(p - fmt));
        n = strspn(p + 1, "-+ #0123456789.lzh");
        if (n + 3 > sizeof spec) {
            buf_put(b, p, 1);
            fmt = p + 1;
            continue;
        }
        memcpy(spec, p, n + 2);
        spec[n + 2] = '\0';
        fmt = p + n + 2;
        switch (spec[n + 1]) {
        case 's':
            put_value(b, va_arg(ap, const char *));
            break;
        case '%':
            buf_put(b, "%", 1);
            break;
        case 'g': case 'f':
            snprintf(tmp, sizeof tmp, spec, va_arg(ap, double));
            buf_put(b, tmp, strlen(tmp));
            break;
        case 'p':
            snprintf(tmp, sizeof tmp, spec, va_arg(ap, void *));
            buf_put(b, tmp, strlen(tmp));
            break;
        case 'd': case 'i': case 'u': case 'x': case 'c':
            if (strstr(spec, "ll"))
                snprintf(tmp, sizeof tmp, spec, va_arg(ap, long long));
            else if (strchr(spec, 'l'))
                snprintf(tmp, sizeof tmp, spec, va_arg(ap, long));
            else if (strchr(spec, 'z'))
                snprintf(tmp, sizeof tmp, spec, va_arg(ap, size_t));
            else
                snprintf(tmp, sizeof tmp, spec, va_arg(ap, int));
            buf_put(b, tmp, strlen(tmp));
            break;
        default:
            buf_put(b, spec, strlen(spec));
            break;
        }
    }
}

void log_msg(enum log_level level, const char *msg, const char *fmt, ...)
{
    static struct buf b;
    struct timeval tv;
    struct tm tm;
    char ts[40];
    char *clean;
    va_list ap;

    if (level < min_level)
        return;
    gettimeofday(&tv, NULL);
    gmtime_r(&tv.tv_sec, &tm);
    strftime(ts, sizeof ts, "%Y-%m-%dT%H:%M:%S", &tm);

    b.len = 0;
    b.data[0] = '\0';
    buf_put(&b, "ts=", 3);
    buf_put(&b, ts, strlen(ts));
    snprintf(ts, sizeof ts, ".%03ldZ level=", (long)(tv.tv_usec / 1000));
    buf_put(&b, ts, strlen(ts));
    buf_put(&b, level_names[level], strlen(level_names[level]));
    buf_put(&b, " msg=", 5);
    put_value(&b, msg);
    if (fmt && *fmt) {
        buf_put(&b, " ", 1);
        va_start(ap, fmt);
        format_tail(&b, fmt, ap);
        va_end(ap);
    }
    clean = nsecrets ? log_redact(b.data) : NULL;
    if (writer)
        writer(writer_arg, clean ? clean : b.data);
    else
        fprintf(stderr, "%s\n", clean ? clean : b.data);
    if (sink)
        sink(sink_arg, level, clean ? clean : b.data);
    free(clean);
}
