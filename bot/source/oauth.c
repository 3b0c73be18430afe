/* oauth.c — OAuth 1.0a signing with OpenSSL's HMAC (which libcurl already
 * pulls in).  Pure but for oauth_nonce, which reads getrandom(). */
#include "source/oauth.h"

#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

char *oauth_encode(const char *s)
{
    static const char hex[] = "0123456789ABCDEF";
    size_t n = strlen(s), o = 0;
    char *out = malloc(n * 3 + 1);
    if (!out)
        return NULL;
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        if ((*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') ||
            *p == '-' || *p == '.' || *p == '_' || *p == '~') {
            out[o++] = (char)*p;
        } else {
            out[o++] = '%';
            out[o++] = hex[*p >> 4];
            out[o++] = hex[*p & 15];
        }
    }
    out[o] = '\0';
    return out;
}

/* Decodes %XX and '+' (query strings may use either for a space). */
static char *url_decode(const char *s, size_t n)
{
    char *out = malloc(n + 1);
    size_t o = 0;
    if (!out)
        return NULL;
    for (size_t i = 0; i < n; i++) {
        if (s[i] == '%' && i + 2 < n) {
            char h[3] = { s[i + 1], s[i + 2], 0 };
            char *end;
            long v = strtol(h, &end, 16);
            if (end == h + 2) {
                out[o++] = (char)v;
                i += 2;
                continue;
            }
        }
        out[o++] = s[i] == '+' ? ' ' : s[i];
    }
    out[o] = '\0';
    return out;
}

struct pair { char *k, *v; };

static int cmp_pair(const void *a, const void *b)
{
    const struct pair *x = a, *y = b;
    int c = strcmp(x->k, y->k);
    return c ? c : strcmp(x->v, y->v);
}

/* Appends the pair `k`=`val` (plain text, borrowed), each percent-encoded.
 * Returns 0, or -1 when out of memory (nothing appended). */
static int push_encoded(struct pair **v, size_t *n, const char *k, const char *val)
{
    struct pair *nv = realloc(*v, (*n + 1) * sizeof **v);
    if (!nv)
        return -1;
    *v = nv;
    nv[*n].k = oauth_encode(k);
    nv[*n].v = oauth_encode(val);
    if (!nv[*n].k || !nv[*n].v) {
        free(nv[*n].k);
        free(nv[*n].v);
        return -1;
    }
    (*n)++;
    return 0;
}

/* Appends a pair given as it appears in a query string (encoded). */
static int add_pair(struct pair **v, size_t *n, const char *k, size_t kl, const char *val,
                    size_t vl)
{
    char *dk = url_decode(k, kl), *dv = url_decode(val, vl);
    int rc = dk && dv ? push_encoded(v, n, dk, dv) : -1;

    free(dk);
    free(dv);
    return rc;
}

int oauth1_signature(const char *method, const char *url, const char *const *params,
                     const char *consumer_secret, const char *token_secret,
                     char *out, size_t outlen)
{
    struct pair *v = NULL;
    size_t n = 0, len = 0;
    const char *q = strchr(url, '?');
    char *base_url = q ? strndup(url, (size_t)(q - url)) : strdup(url);
    char *enc_url = NULL, *joined = NULL, *enc_params = NULL, *base = NULL, *key = NULL;
    char *cs = NULL, *ts = NULL;
    unsigned char mac[EVP_MAX_MD_SIZE];
    unsigned int maclen = 0;
    int rc = -1;

    if (!base_url)
        goto out;
    /* query parameters */
    for (const char *p = q ? q + 1 : NULL; p && *p;) {
        size_t plen = strcspn(p, "&");
        const char *eq = memchr(p, '=', plen);
        if (plen && add_pair(&v, &n, p, eq ? (size_t)(eq - p) : plen, eq ? eq + 1 : "",
                             eq ? plen - (size_t)(eq - p) - 1 : 0))
            goto out;
        p += plen + (p[plen] == '&');
    }
    for (const char *const *p = params; p && *p; p++) {
        const char *eq = strchr(*p, '=');
        /* given unencoded: encode as a query string would carry them */
        char *ek, *ev;
        int bad;
        if (!eq)
            continue;
        ek = strndup(*p, (size_t)(eq - *p));
        ev = strdup(eq + 1);
        bad = !ek || !ev || push_encoded(&v, &n, ek, ev);
        free(ek);
        free(ev);
        if (bad)
            goto out;
    }
    qsort(v, n, sizeof *v, cmp_pair);
    for (size_t i = 0; i < n; i++)
        len += strlen(v[i].k) + strlen(v[i].v) + 2;
    joined = calloc(1, len + 1);
    if (!joined)
        goto out;
    for (size_t i = 0, off = 0; i < n; i++)   /* len counts "&k=v" for each pair */
        off += (size_t)snprintf(joined + off, len + 1 - off, "%s%s=%s", i ? "&" : "",
                                v[i].k, v[i].v);
    enc_url = oauth_encode(base_url);
    enc_params = oauth_encode(joined);
    cs = oauth_encode(consumer_secret ? consumer_secret : "");
    ts = oauth_encode(token_secret ? token_secret : "");
    if (!enc_url || !enc_params || !cs || !ts)
        goto out;
    if (asprintf(&base, "%s&%s&%s", method, enc_url, enc_params) < 0 ||
        asprintf(&key, "%s&%s", cs, ts) < 0) {
        base = key = NULL;
        goto out;
    }
    if (!HMAC(EVP_sha1(), key, (int)strlen(key), (unsigned char *)base, strlen(base), mac,
              &maclen))
        goto out;
    if (outlen < 4 * ((maclen + 2) / 3) + 1)
        goto out;
    EVP_EncodeBlock((unsigned char *)out, mac, (int)maclen);
    rc = 0;
out:
    for (size_t i = 0; i < n; i++) {
        free(v[i].k);
        free(v[i].v);
    }
    free(v);
    free(base_url);
    free(enc_url);
    free(joined);
    free(enc_params);
    free(base);
    free(key);
    free(cs);
    free(ts);
    return rc;
}

char *oauth1_header(const char *method, const char *url, const struct oauth1_keys *k,
                    const char *nonce, long long timestamp)
{
    char ts[24], sig[64], tok[600], ck[600], nc[100], tsp[40];
    char *esig = NULL, *eck = NULL, *etok = NULL, *enc = NULL, *hdr = NULL;
    const char *params[7];

    snprintf(ts, sizeof ts, "%lld", timestamp);
    snprintf(ck, sizeof ck, "oauth_consumer_key=%s", k->consumer_key);
    snprintf(nc, sizeof nc, "oauth_nonce=%s", nonce);
    snprintf(tok, sizeof tok, "oauth_token=%s", k->token);
    params[0] = ck;
    params[1] = nc;
    params[2] = "oauth_signature_method=HMAC-SHA1";
    snprintf(tsp, sizeof tsp, "oauth_timestamp=%s", ts);
    params[3] = tsp;
    params[4] = tok;
    params[5] = "oauth_version=1.0";
    params[6] = NULL;
    if (oauth1_signature(method, url, params, k->consumer_secret, k->token_secret, sig,
                         sizeof sig))
        return NULL;
    esig = oauth_encode(sig);
    eck = oauth_encode(k->consumer_key);
    etok = oauth_encode(k->token);
    enc = oauth_encode(nonce);
    if (esig && eck && etok && enc &&
        asprintf(&hdr, "Authorization: OAuth oauth_consumer_key=\"%s\", oauth_nonce=\"%s\", "
                 "oauth_signature=\"%s\", oauth_signature_method=\"HMAC-SHA1\", "
                 "oauth_timestamp=\"%s\", oauth_token=\"%s\", oauth_version=\"1.0\"",
                 eck, enc, esig, ts, etok) < 0)
        hdr = NULL;
    free(esig);
    free(eck);
    free(etok);
    free(enc);
    return hdr;
}

void oauth_nonce(char out[33])
{
    static const char hex[] = "0123456789abcdef";
    unsigned char r[16];
    if (getrandom(r, sizeof r, 0) != (ssize_t)sizeof r) {
        /* getrandom on Linux >= 3.17 does not fail for 16 bytes; be safe anyway */
        for (size_t i = 0; i < sizeof r; i++)
            r[i] = (unsigned char)rand();
    }
    for (size_t i = 0; i < 16; i++) {
        out[2 * i] = hex[r[i] >> 4];
        out[2 * i + 1] = hex[r[i] & 15];
    }
    out[32] = '\0';
}
