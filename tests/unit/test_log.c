/* test_log.c — core/log: level names, secret redaction and the logfmt line
 * written to stderr (captured through a temporary file over fd 2). */
#include "unit.h"

#include <fcntl.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <unistd.h>

#include "core/log.h"

/* --- helpers ------------------------------------------------------------ */

static int saved_fd = -1;
static enum log_level saved_level;
static char captured[4096];

/* Points fd 2 at a scratch file until capture_end(). */
static void capture_start(void)
{
    int fd = open(unit_tmp("stderr.txt"), O_RDWR | O_CREAT | O_TRUNC, 0600);

    fflush(stderr);
    saved_fd = dup(2);
    if (fd >= 0) {
        dup2(fd, 2);
        close(fd);
    }
}

/* Restores fd 2 and returns what was written meanwhile (static buffer). */
static const char *capture_end(void)
{
    FILE *f;
    size_t n = 0;

    fflush(stderr);
    if (saved_fd >= 0) {
        dup2(saved_fd, 2);
        close(saved_fd);
        saved_fd = -1;
    }
    captured[0] = '\0';
    f = fopen(unit_tmp("stderr.txt"), "r");
    if (f) {
        n = fread(captured, 1, sizeof captured - 1, f);
        fclose(f);
    }
    captured[n] = '\0';
    return captured;
}

/* The line after its "ts=YYYY-MM-DDTHH:MM:SS.mmmZ " prefix, or NULL when
 * the prefix is not exactly that shape. */
static const char *after_ts(const char *line)
{
    static const char shape[] = "ts=dddd-dd-ddTdd:dd:dd.dddZ ";

    for (size_t i = 0; shape[i]; i++) {
        if (shape[i] == 'd' ? (line[i] < '0' || line[i] > '9') : line[i] != shape[i])
            return NULL;
    }
    return line + strlen(shape);
}

/* The runner keeps the log quiet (LOG_FATAL); tests that log turn it up
 * with loud() and put it back with quiet(). */
static void loud(void)
{
    saved_level = log_get_level();
    log_set_level(LOG_DEBUG);
}

static void quiet(void)
{
    log_set_level(saved_level);
}

/* Logs one info line with a single %s value; returns the line after ts=. */
static const char *logged_value(const char *value)
{
    static char line[1024];
    const char *out, *tail;

    capture_start();
    log_msg(LOG_INFO, "m", "v=%s", value);
    out = capture_end();
    tail = after_ts(out);
    snprintf(line, sizeof line, "%s", tail ? tail : out);
    return line;
}

static struct { int calls; enum log_level level; char line[1024]; } sunk;

static void sink(void *arg, enum log_level level, const char *line)
{
    CHECK(arg == &sunk);
    sunk.calls++;
    sunk.level = level;
    snprintf(sunk.line, sizeof sunk.line, "%s", line);
}

/* Redacts `s` with the current secrets; returns a static copy. */
static const char *redacted(const char *s)
{
    static char out[1024];
    char *r = log_redact(s);

    snprintf(out, sizeof out, "%s", r ? r : "(null)");
    free(r);
    return out;
}

/* --- levels --------------------------------------------------------------- */

TEST(log_parse_level_knows_the_four_level_names)
{
    CHECK_INT(log_parse_level("debug"), LOG_DEBUG);
    CHECK_INT(log_parse_level("info"), LOG_INFO);
    CHECK_INT(log_parse_level("warn"), LOG_WARN);
    CHECK_INT(log_parse_level("error"), LOG_ERROR);
    CHECK_INT(log_parse_level("warning"), LOG_WARN);
    CHECK_STR(log_level_name(LOG_WARN), "warn");
}

TEST(log_parse_level_rejects_unknown_names)
{
    CHECK_INT(log_parse_level("verbose"), -1);
    CHECK_INT(log_parse_level(""), -1);
    CHECK_INT(log_parse_level("INFO"), -1);
    CHECK_INT(log_parse_level("info "), -1);
}

/* --- log_redact ----------------------------------------------------------- */

TEST(log_redact_replaces_every_occurrence_of_every_secret)
{
    log_add_secret("xoxb-1234");
    log_add_secret("hunter22");
    CHECK_STR(redacted("token xoxb-1234 pw hunter22 again xoxb-1234."),
              "token [redacted] pw [redacted] again [redacted].");
    CHECK_STR(redacted("xoxb-1234xoxb-1234hunter22"),
              "[redacted][redacted][redacted]");
    log_clear_secrets();
}

TEST(log_redact_secret_at_start_and_end)
{
    log_add_secret("s3cr3t");
    CHECK_STR(redacted("s3cr3t in the middle s3cr3t"),
              "[redacted] in the middle [redacted]");
    CHECK_STR(redacted("s3cr3t"), "[redacted]");
    CHECK_STR(redacted("s3cr3"), "s3cr3");              /* a prefix is not it */
    log_clear_secrets();
}

TEST(log_redact_ignores_secrets_shorter_than_4_bytes)
{
    log_add_secret("abc");
    log_add_secret("");
    log_add_secret(NULL);
    log_add_secret("abcd");
    CHECK_STR(redacted("abc ab abcd"), "abc ab [redacted]");
    log_clear_secrets();
}

TEST(log_redact_leaves_text_alone_without_secrets)
{
    CHECK_STR(redacted("nothing to hide"), "nothing to hide");
    CHECK_STR(redacted(""), "");
}

TEST(log_clear_secrets_stops_redacting)
{
    log_add_secret("password1");
    CHECK_STR(redacted("password1"), "[redacted]");
    log_clear_secrets();
    CHECK_STR(redacted("password1"), "password1");
}

/* --- log_msg -------------------------------------------------------------- */

TEST(log_msg_writes_ts_level_msg_and_key_values)
{
    const char *out, *tail;

    loud();
    capture_start();
    log_msg(LOG_INFO, "ticket opened", "id=%d who=%s n=%lld z=%zu", 42, "alice",
            12345678901LL, (size_t)7);
    out = capture_end();
    quiet();
    tail = after_ts(out);
    CHECK(tail != NULL);
    CHECK_STR(tail, "level=info msg=\"ticket opened\" id=42 who=alice "
                    "n=12345678901 z=7\n");
}

/* Every conversion of C's printf, each followed by a %s: a conversion that
 * took the wrong number of argument bytes would shift the string after it
 * (config.c's mode=%03o once made the next %s read the mode as a pointer). */
#define CHECK_CONV(fmt, ...) do {                                              \
        char want_[256], line_[300];                                           \
        const char *tail_;                                                     \
        snprintf(want_, sizeof want_, fmt " s=%s", __VA_ARGS__, "after");      \
        capture_start();                                                       \
        log_msg(LOG_INFO, "m", fmt " s=%s", __VA_ARGS__, "after");             \
        tail_ = after_ts(capture_end());                                       \
        snprintf(line_, sizeof line_, "level=info msg=m %s\n", want_);         \
        CHECK(tail_ != NULL);                                                  \
        if (tail_) CHECK_STR(tail_, line_);                                    \
    } while (0)

TEST(log_msg_formats_every_printf_conversion_as_the_c_library_does)
{
    loud();
    CHECK_CONV("mode=%03o", 0644u);
    CHECK_CONV("o=%#o x=%x X=%#X u=%u", 8u, 255u, 255u, 4000000000u);
    CHECK_CONV("d=%+d i=% i c=%c pct=%%", -5, 7, 'z');
    CHECK_CONV("hh=%hhu h=%hd", (unsigned char)200, (short)-3);
    CHECK_CONV("l=%ld lu=%lu lx=%lx", -1L, 1UL << 40, 0xabcUL);
    CHECK_CONV("ll=%lld llu=%llu llo=%llo", -9000000000LL, 18000000000ULL, 64ULL);
    CHECK_CONV("j=%jd z=%zu zx=%zx t=%td", (intmax_t)-42, (size_t)99, (size_t)255,
               (ptrdiff_t)-8);
    CHECK_CONV("f=%.2f F=%F e=%e E=%.3E", 3.14159, 1.5, 12345.678, 0.00012);
    CHECK_CONV("g=%g G=%G a=%a A=%A", 1e-10, 2.5e20, 1.0, 0.5);
    CHECK_CONV("Lf=%.1Lf Lg=%Lg", (long double)2.25, (long double)1e300);
    CHECK_CONV("w=%5d l=%-4d|", 42, 7);
    CHECK_CONV("star=%*d prec=%.*f both=%*.*f", 6, 1, 3, 2.0, 8, 2, 1.5);
    CHECK_CONV("p=%p", (void *)0x1234);
    quiet();
}

TEST(log_msg_precision_bounds_a_string_and_quotes_it)
{
    const char *tail;

    loud();
    capture_start();
    log_msg(LOG_INFO, "m", "a=%.3s b=%.*s c=%s", "abcdef", 2, "xy z", "end");
    tail = after_ts(capture_end());
    quiet();
    CHECK(tail != NULL);
    if (tail)
        CHECK_STR(tail, "level=info msg=m a=abc b=xy c=end\n");
}

TEST(log_msg_stops_at_a_conversion_the_c_library_does_not_define)
{
    const char *bad = "a=%d b=%k c=%s", *n = "a=%d n=%n";
    const char *tail;
    int count = 0;

    loud();
    capture_start();
    log_msg(LOG_INFO, "m", bad, 1, "never read");
    log_msg(LOG_INFO, "m", n, 2, &count);
    tail = capture_end();
    quiet();
    CHECK(strstr(tail, "level=info msg=m a=1 b=!BADFORMAT\n") != NULL);
    CHECK(strstr(tail, "level=info msg=m a=2 n=!BADFORMAT\n") != NULL);
    CHECK(strstr(tail, "never read") == NULL);
    CHECK_INT(count, 0);
}

TEST(log_msg_names_each_level)
{
    const char *out;

    loud();
    capture_start();
    log_debug("a", "");
    log_warn("b", "");
    log_error("c", "");
    out = capture_end();
    quiet();
    CHECK(strstr(out, " level=debug msg=a\n") != NULL);
    CHECK(strstr(out, " level=warn msg=b\n") != NULL);
    CHECK(strstr(out, " level=error msg=c\n") != NULL);
}

TEST(log_msg_below_the_level_writes_nothing)
{
    const char *out;

    saved_level = log_get_level();
    log_set_level(LOG_WARN);
    capture_start();
    log_info("hidden", "x=%d", 1);
    log_debug("hidden", "x=%d", 2);
    log_warn("shown", "x=%d", 3);
    out = capture_end();
    quiet();
    CHECK(strstr(out, "hidden") == NULL);
    CHECK(strstr(out, " level=warn msg=shown x=3\n") != NULL);
}

TEST(log_msg_quotes_and_escapes_string_values)
{
    loud();
    CHECK_STR(logged_value("plain"), "level=info msg=m v=plain\n");
    CHECK_STR(logged_value("two words"), "level=info msg=m v=\"two words\"\n");
    CHECK_STR(logged_value("say \"hi\""), "level=info msg=m v=\"say \\\"hi\\\"\"\n");
    CHECK_STR(logged_value("a=b"), "level=info msg=m v=\"a=b\"\n");
    CHECK_STR(logged_value("c:\\tmp"), "level=info msg=m v=\"c:\\\\tmp\"\n");
    CHECK_STR(logged_value("l1\nl2"), "level=info msg=m v=\"l1\\nl2\"\n");
    CHECK_STR(logged_value("bell\a"), "level=info msg=m v=\"bell\\x07\"\n");
    CHECK_STR(logged_value(""), "level=info msg=m v=\"\"\n");
    CHECK_STR(logged_value(NULL), "level=info msg=m v=null\n");
    quiet();
}

TEST(log_msg_never_shows_a_registered_secret)
{
    const char *out;

    loud();
    log_add_secret("xoxb-SECRET-42");
    capture_start();
    log_info("posting", "token=%s auth=%s", "xoxb-SECRET-42",
             "Bearer xoxb-SECRET-42");
    out = capture_end();
    quiet();
    log_clear_secrets();
    CHECK(strstr(out, "SECRET") == NULL);
    CHECK_STR(after_ts(out), "level=info msg=posting token=[redacted] "
                             "auth=\"Bearer [redacted]\"\n");
}

TEST(log_msg_redacts_secrets_that_need_escaping)
{
    const char *out;

    loud();
    log_add_secret("pa\"ss\\word");
    capture_start();
    log_info("auth", "pw=%s", "pa\"ss\\word");
    out = capture_end();
    quiet();
    log_clear_secrets();
    CHECK(strstr(out, "ss") == NULL);
    CHECK_STR(after_ts(out), "level=info msg=auth pw=[redacted]\n");
}

TEST(log_redact_prefers_the_longest_secret)
{
    char *r;
    log_add_secret("abcd");
    log_add_secret("abcdefgh");
    r = log_redact("x abcdefgh y abcd z");
    log_clear_secrets();
    CHECK_STR(r, "x [redacted] y [redacted] z");
    free(r);
}

TEST(log_sink_receives_the_same_line_without_newline)
{
    const char *out;

    memset(&sunk, 0, sizeof sunk);
    loud();
    log_add_secret("topsecret");
    log_set_sink(sink, &sunk);
    capture_start();
    log_warn("disk low", "free=%d path=%s key=%s", 5, "/var/x y", "topsecret");
    out = capture_end();
    log_set_sink(NULL, NULL);
    quiet();
    log_clear_secrets();

    CHECK_INT(sunk.calls, 1);
    CHECK_INT(sunk.level, LOG_WARN);
    CHECK_STR(after_ts(sunk.line),
              "level=warn msg=\"disk low\" free=5 path=\"/var/x y\" key=[redacted]");
    CHECK(strncmp(out, sunk.line, strlen(sunk.line)) == 0);
    CHECK_STR(out + strlen(sunk.line), "\n");
}

TEST(log_sink_cleared_receives_nothing)
{
    memset(&sunk, 0, sizeof sunk);
    loud();
    log_set_sink(sink, &sunk);
    log_set_sink(NULL, NULL);
    capture_start();
    log_info("after clear", "");
    capture_end();
    quiet();
    CHECK_INT(sunk.calls, 0);
}
