/* oauth.h — OAuth 1.0a request signing (HMAC-SHA1) for the X API, as pure
 * functions: RFC 3986 percent-encoding, the signature base string, the
 * Authorization header.  Knows OAuth, not X's endpoints. */
#ifndef VIGIL_OAUTH_H
#define VIGIL_OAUTH_H

#include <stddef.h>

struct oauth1_keys {
    const char *consumer_key, *consumer_secret, *token, *token_secret;
};

/* RFC 3986: only A-Z a-z 0-9 - . _ ~ stay; uppercase hex.  New string. */
char *oauth_encode(const char *s);

/* The base64 HMAC-SHA1 signature of a request.  `url` may carry a query
 * string (its parameters are signed); `params` are extra "k=v" pairs
 * (form body or oauth_*), NULL-terminated, unencoded.  Writes into `out`
 * (at least 32 bytes).  Returns 0 or -1. */
int oauth1_signature(const char *method, const char *url, const char *const *params,
                     const char *consumer_secret, const char *token_secret,
                     char *out, size_t outlen);

/* "Authorization: OAuth ..." for a request (JSON bodies are not signed).
 * `nonce` and `timestamp` are given so tests are repeatable.  New string. */
char *oauth1_header(const char *method, const char *url, const struct oauth1_keys *k,
                    const char *nonce, long long timestamp);

/* 32 random hex characters for oauth_nonce. */
void oauth_nonce(char out[33]);

#endif
