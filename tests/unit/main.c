/* main.c — runs every registered unit test; see unit.h. */
#include "unit.h"

#include <stdarg.h>
#include <stdlib.h>
#include <unistd.h>

#include "core/log.h"

#define MAX_TESTS 1024

static struct { const char *name, *file; unit_fn fn; } tests[MAX_TESTS];
static int ntests, current_failed;
static const char *current;
static char tmpdir[256];

void unit_register(const char *name, const char *file, unit_fn fn)
{
    if (ntests == MAX_TESTS) {
        fprintf(stderr, "unit: more than %d tests\n", MAX_TESTS);
        exit(2);
    }
    tests[ntests].name = name;
    tests[ntests].file = file;
    tests[ntests].fn = fn;
    ntests++;
}

void unit_fail(const char *file, int line, const char *fmt, ...)
{
    va_list ap;
    printf("FAIL %s (%s:%d): ", current, file, line);
    va_start(ap, fmt);
    vprintf(fmt, ap);
    va_end(ap);
    printf("\n");
    fflush(stdout);
    current_failed++;
}

/* Scratch paths are per test, so two tests using the same file name
 * never see each other's leftovers. */
const char *unit_tmp(const char *name)
{
    static char path[512];
    snprintf(path, sizeof path, "%s/%s-%s", tmpdir, current ? current : "main", name);
    return path;
}

const char *unit_root(void)
{
    const char *r = getenv("VIGIL_ROOT");
    return r ? r : ".";
}

static void rm_tmpdir(void)
{
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmpdir);
    if (system(cmd) != 0)
        fprintf(stderr, "unit: could not remove %s\n", tmpdir);
}

int main(int argc, char **argv)
{
    int passed = 0, failed = 0;
    const char *only = argc > 1 ? argv[1] : NULL;

    snprintf(tmpdir, sizeof tmpdir, "/tmp/vigil-unit-XXXXXX");
    if (!mkdtemp(tmpdir)) {
        perror("mkdtemp");
        return 2;
    }
    atexit(rm_tmpdir);
    log_set_level(getenv("UNIT_VERBOSE") ? LOG_DEBUG : LOG_FATAL);

    /* Sort by file so output groups by subsystem; registration order within. */
    for (int i = 0; i < ntests; i++) {
        if (only && !strstr(tests[i].name, only) && !strstr(tests[i].file, only))
            continue;
        current = tests[i].name;
        current_failed = 0;
        tests[i].fn();
        if (current_failed)
            failed++;
        else
            passed++;
    }
    printf("unit: %d passed, %d failed\n", passed, failed);
    return failed ? 1 : 0;
}
