/* fuzz_xpage.c — X API answers: mentions pages, own posts, problem bodies,
 * tokens. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "source/xparse.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct mention_page p;
    struct own_page own;
    char err[256], detail[300], type[64], id[40];
    char *a, *r;

    if (xparse_mentions_page((const char *)data, size, &p, err, sizeof err) == 0) {
        /* media are plain https links, one a line */
        for (size_t i = 0; i < p.n; i++) {
            for (const char *m = p.v[i].media; m && *m; m = strchr(m, '\n') ? strchr(m, '\n') + 1 : "")
                if (strncmp(m, "https://", 8) != 0)
                    abort();
        }
        mention_page_free(&p);
    }
    if (xparse_own_posts((const char *)data, size, &own, err, sizeof err) == 0) {
        xparse_find_reply(&own, "1578516295611748353", "Thanks ^AJ");
        own_page_free(&own);
    }
    xparse_problem((const char *)data, size, detail, sizeof detail, type, sizeof type);
    xparse_data_field((const char *)data, size, "id", id, sizeof id);
    if (xparse_token((const char *)data, size, &a, &r) == 0) {
        free(a);
        free(r);
    }
    return 0;
}
