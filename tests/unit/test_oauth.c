/* test_oauth.c — OAuth 1.0a against X's published test vector. */
#include "unit.h"

#include <stdlib.h>

#include "source/oauth.h"

static const char *const vector_params[] = {
    "status=Hello Ladies + Gentlemen, a signed OAuth request!",
    "include_entities=true",
    "oauth_consumer_key=xvz1evFS4wEEPTGEFPHBog",
    "oauth_nonce=kYjzVBB8Y0ZFabxSWbWovY3uYSQ2pTgmZeNu2VS4cg",
    "oauth_signature_method=HMAC-SHA1",
    "oauth_timestamp=1318622958",
    "oauth_token=370773112-GmHxMAgYyLbNEtIKZeRNFsMKPR9EyMZeS9weJAEb",
    "oauth_version=1.0",
    NULL,
};
#define CS "kAcSOqF21Fu85e7zjz7ZN2U4ZRhfV3WpwPAoE3Z7kBw"
#define TS "LswwdoUaIvS8ltyTt5jkRh4J50vUPVVHtR2YPi5kE"

TEST(oauth1_signature_matches_the_published_vector)
{
    char sig[64];
    CHECK_INT(oauth1_signature("POST", "https://api.twitter.com/1.1/statuses/update.json",
                               vector_params, CS, TS, sig, sizeof sig), 0);
    CHECK_STR(sig, "hCtSmYh+iHYCEqBWrE7C7hYmtUk=");
    CHECK_INT(oauth1_signature("POST", "https://api.x.com/1.1/statuses/update.json",
                               vector_params, CS, TS, sig, sizeof sig), 0);
    CHECK_STR(sig, "Ls93hJiZbQ3akF3HF3x1Bz8/zU4=");
}

TEST(oauth1_query_parameters_are_signed_like_params)
{
    /* the same request with its non-oauth parameters in the query string */
    char a[64], b[64];
    const char *const only_oauth[] = {
        "oauth_consumer_key=xvz1evFS4wEEPTGEFPHBog",
        "oauth_nonce=kYjzVBB8Y0ZFabxSWbWovY3uYSQ2pTgmZeNu2VS4cg",
        "oauth_signature_method=HMAC-SHA1", "oauth_timestamp=1318622958",
        "oauth_token=370773112-GmHxMAgYyLbNEtIKZeRNFsMKPR9EyMZeS9weJAEb",
        "oauth_version=1.0", NULL,
    };
    oauth1_signature("POST", "https://api.twitter.com/1.1/statuses/update.json", vector_params,
                     CS, TS, a, sizeof a);
    oauth1_signature("POST", "https://api.twitter.com/1.1/statuses/update.json?include_entities=true"
                     "&status=Hello%20Ladies%20%2B%20Gentlemen%2C%20a%20signed%20OAuth%20request%21",
                     only_oauth, CS, TS, b, sizeof b);
    CHECK_STR(b, a);
}

TEST(oauth_encode_follows_rfc3986)
{
    char *e = oauth_encode("Ladies + Gentlemen, ~a-b_c.d/é");
    CHECK_STR(e, "Ladies%20%2B%20Gentlemen%2C%20~a-b_c.d%2F%C3%A9");
    free(e);
}

TEST(oauth1_header_carries_every_field)
{
    struct oauth1_keys k = { "ck", "cs", "tk", "ts" };
    char *h;
    const char *prefix = "Authorization: OAuth oauth_consumer_key=\"ck\", oauth_nonce=\"abc\", "
                         "oauth_signature=\"";
    h = oauth1_header("GET", "https://api.x.com/2/users/1/mentions?max_results=5", &k, "abc",
                      1700000000);
    CHECK(h && strncmp(h, prefix, strlen(prefix)) == 0);
    CHECK(h && strstr(h, "oauth_timestamp=\"1700000000\", oauth_token=\"tk\", oauth_version=\"1.0\""));
    free(h);
}
