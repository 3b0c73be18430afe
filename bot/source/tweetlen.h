/* tweetlen.h — X's weighted tweet length (twitter-text config v3): what X
 * would count for a text and whether it would accept it, before we post.
 * Pure text in, numbers out: it must never know about HTTP, the X API
 * client, tickets or who is replying. */
#ifndef VIGIL_TWEETLEN_H
#define VIGIL_TWEETLEN_H

#include <stddef.h>

/* config v3 maxWeightedTweetLength, in the same units as .weighted */
#define TWEETLEN_MAX 280

struct tweetlen {
    int weighted;        /* the number X compares to 280 (after scale: weight/100);
                            0 for invalid UTF-8; saturates at INT_MAX */
    int valid;           /* 1 if X would accept it */
    const char *reason;  /* NULL when valid; else a short static English reason:
                            "empty", "too long", "invalid UTF-8",
                            "forbidden character U+FEFF" (also U+FFFE, U+FFFF) */
};

/* Counts text the way twitter-text's parseTweet does: NFC first; each URL
 * (with http(s):// or a bare domain with a known TLD) weighs 23; each emoji
 * sequence 2; other code points 1 or 2 by range.  Whitespace-only text is
 * valid, as in twitter-text.
 * Pure function: text need not be NUL-terminated (an embedded NUL counts as
 * a character).  Returns 0, or -1 on allocation failure (out undefined). */
int tweetlen_check(const char *text, size_t len, struct tweetlen *out);

#endif
