/* fuzz_journal.c — record journal lines (vigil replay reads what may have
 * been edited by hand or cut off by a crash). */
#include <stdint.h>
#include <stdlib.h>

#include "source/journal.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct journal_entry e;
    char err[300];
    if (journal_parse((const char *)data, size, &e, err, sizeof err) == 0)
        journal_entry_clear(&e);
    return 0;
}
