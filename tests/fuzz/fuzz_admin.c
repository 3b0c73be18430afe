/* fuzz_admin.c — the admin socket's request lines. */
#include <stdint.h>
#include <stdlib.h>

#include "admin/admin.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct admin_req r;
    char err[300];
    admin_parse_request((const char *)data, size, &r, err, sizeof err);
    admin_req_clear(&r);
    return 0;
}
