/* xlink.c — see xlink.h. */
#include "source/xlink.h"

#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "source/source.h"
#include "source/tweetlen.h"

int xlink_handle_valid(const char *h)
{
    size_t n = h ? strlen(h) : 0;
    return n >= 1 && n <= 15 &&
           strspn(h, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_") == n;
}

int xlink_status_url(const char *handle, const char *tweet_id, char *out, size_t len)
{
    CURLU *u = curl_url();
    char *path = NULL, *url = NULL;
    int rc = -1;

    if (len)
        out[0] = '\0';
    /* a tweet id is digits; anything else has no permalink */
    if (!u || !tweet_id || !*tweet_id || strspn(tweet_id, "0123456789") != strlen(tweet_id))
        goto out;
    if (asprintf(&path, "/%s/status/%s", xlink_handle_valid(handle) ? handle : "i",
                 tweet_id ? tweet_id : "") < 0) {
        path = NULL;
        goto out;
    }
    if (curl_url_set(u, CURLUPART_URL, "https://x.com/", 0) ||
        curl_url_set(u, CURLUPART_PATH, path, CURLU_URLENCODE) ||
        curl_url_get(u, CURLUPART_URL, &url, 0))
        goto out;
    if (strlen(url) < len) {
        memcpy(out, url, strlen(url) + 1);
        rc = 0;
    }
out:
    curl_free(url);
    free(path);
    curl_url_cleanup(u);
    return rc;
}

int xlink_permalink(struct source *s, const char *handle, const char *id, char *out,
                    size_t len)
{
    return xlink_status_url(handle, id, out, len);
}

int xlink_check_text(struct source *s, const char *text, size_t len, struct source_text *out)
{
    struct tweetlen tl;

    if (tweetlen_check(text, len, &tl) != 0)
        return -1;
    out->weighted = tl.weighted;
    out->max = TWEETLEN_MAX;
    out->valid = tl.valid;
    out->reason = tl.reason;
    return 0;
}
