/* unit.h — vigil's tiny unit-test runner.
 *
 * A test is `TEST(name) { ... }` in any .c file of tests/unit; it registers
 * itself at load time, so adding a file adds its tests.  CHECK* record a
 * failure and go on; the runner prints one line per failure and a final
 * "unit: N passed, N failed" line.  Tests run in file order, each once. */
#ifndef VIGIL_UNIT_H
#define VIGIL_UNIT_H

#include <stdio.h>
#include <string.h>

typedef void (*unit_fn)(void);
void unit_register(const char *name, const char *file, unit_fn fn);
void unit_fail(const char *file, int line, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* Returns a path under the test's scratch dir (removed at exit); static buffer. */
const char *unit_tmp(const char *name);
/* The repository root (for fixtures), from VIGIL_ROOT or ".". */
const char *unit_root(void);

#define TEST(name)                                                      \
    static void name(void);                                             \
    __attribute__((constructor)) static void reg_##name(void)           \
    { unit_register(#name, __FILE__, name); }                           \
    static void name(void)

#define CHECK(cond) do { if (!(cond))                                   \
    unit_fail(__FILE__, __LINE__, "CHECK(%s)", #cond); } while (0)

#define CHECK_INT(a, b) do { long long a_ = (long long)(a),             \
    b_ = (long long)(b); if (a_ != b_)                                  \
    unit_fail(__FILE__, __LINE__, "%s == %lld, want %lld", #a, a_, b_); \
    } while (0)

#define CHECK_STR(a, b) do { const char *a_ = (a), *b_ = (b);           \
    if (!a_ || !b_ || strcmp(a_, b_) != 0)                              \
        unit_fail(__FILE__, __LINE__, "%s == \"%s\", want \"%s\"", #a,  \
                  a_ ? a_ : "(null)", b_ ? b_ : "(null)"); } while (0)

/* SQL that makes a store look written by schema 1: it undoes every later
 * migration (newest first), so store_open runs them all again.  A new
 * migration adds its undo here (test_store's and test_find's migration
 * tests use it). */
#define UNIT_REWIND_TO_SCHEMA_1                                                  \
    "ALTER TABLE mentions DROP COLUMN quote_text;"                               \
    "ALTER TABLE mentions DROP COLUMN quote_author;"                             \
    "ALTER TABLE mentions DROP COLUMN media;"                                    \
    "DROP TRIGGER ticket_text_open; DROP TRIGGER ticket_text_gone;"              \
    "DROP TRIGGER ticket_text_mention;"                                          \
    "DROP TABLE ticket_text; DROP INDEX tickets_handle;"                         \
    "ALTER TABLE tickets DROP COLUMN tweeted_at;"                                \
    "ALTER TABLE tickets DROP COLUMN followup_at;"                               \
    "ALTER TABLE tickets DROP COLUMN followup_due_at;"                           \
    "ALTER TABLE tickets DROP COLUMN followup_warned;"                           \
    "ALTER TABLE tickets DROP COLUMN followup_breached;"                         \
    "DROP INDEX tickets_chat_ref;"                                               \
    "DROP TABLE presence; DROP INDEX tickets_assignee_open;"                     \
    "DROP TABLE usage;"                                                          \
    "DROP INDEX outbox_queued_ticket;"                                           \
    "ALTER TABLE tickets DROP COLUMN chat_digest;"                               \
    "PRAGMA user_version = 1;"

#endif
