/* log.h — logfmt lines, `ts=… level=… msg=… key=value`, to stderr (or the
 * writer the console installs) and to one optional sink (the admin :tail).
 * Owns the redaction list: every registered secret is replaced by
 * [redacted] in every line, whatever path the text took to get there. */
#ifndef VIGIL_LOG_H
#define VIGIL_LOG_H

enum log_level { LOG_DEBUG, LOG_INFO, LOG_WARN, LOG_ERROR, LOG_FATAL };

void log_set_level(enum log_level level);
enum log_level log_get_level(void);
/* Parses "debug", "info", "warn", "error"; returns -1 when unknown. */
int log_parse_level(const char *name);
const char *log_level_name(enum log_level level);

/* `fmt` formats the key=value tail, printf-style; every %s value is quoted
 * as logfmt requires when it holds spaces, quotes, '=' or control bytes. */
void log_msg(enum log_level level, const char *msg, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

#define log_debug(...) log_msg(LOG_DEBUG, __VA_ARGS__)
#define log_info(...)  log_msg(LOG_INFO, __VA_ARGS__)
#define log_warn(...)  log_msg(LOG_WARN, __VA_ARGS__)
#define log_error(...) log_msg(LOG_ERROR, __VA_ARGS__)

/* Adds a secret to redact; copies it. Secrets shorter than 4 bytes are
 * ignored (they would redact ordinary words). */
void log_add_secret(const char *secret);
void log_clear_secrets(void);

/* Replaces every registered secret in `s` with [redacted].
 * Returns new, caller frees with free(). */
char *log_redact(const char *s);

/* Observer for every emitted line (the admin :tail uses it); NULL to clear.
 * `line` is borrowed, without the trailing newline. */
typedef void (*log_sink_fn)(void *arg, enum log_level level, const char *line);
void log_set_sink(log_sink_fn fn, void *arg);

/* Where finished lines go instead of stderr (the interactive console prints
 * them above its prompt); NULL restores stderr.  Must not log. */
typedef void (*log_writer_fn)(void *arg, const char *line);
void log_set_writer(log_writer_fn fn, void *arg);

#endif
