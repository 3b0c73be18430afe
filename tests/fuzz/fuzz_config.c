/* fuzz_config.c — the config loader on arbitrary Lua source (sandboxed,
 * budgeted: it must fail cleanly, never hang or crash). */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "core/config.h"
#include "core/log.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static char path[64];
    char err[1024];
    struct config *c;
    FILE *f;

    if (!path[0]) {
        snprintf(path, sizeof path, "/tmp/vigil-fuzz-config-%d.lua", (int)getpid());
        log_set_level(LOG_FATAL);
    }
    f = fopen(path, "wb");
    if (!f)
        return 0;
    fwrite(data, 1, size, f);
    fclose(f);
    c = config_load(path, err, sizeof err);
    config_free(c);
    log_clear_secrets();
    return 0;
}
