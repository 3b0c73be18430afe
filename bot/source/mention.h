/* mention.h — the plain struct every source delivers: one tweet that
 * mentions the support handle, already out of its wire format. */
#ifndef VIGIL_MENTION_H
#define VIGIL_MENTION_H

#include <stddef.h>
#include <stdint.h>

struct mention {
    int64_t id;                 /* tweet id (X snowflakes fit in int64) */
    int64_t original_id;        /* edit_history_tweet_ids[0]; == id unless edited */
    char *text;                 /* UTF-8, as tweeted */
    char *author_id;
    char *author_handle;        /* without @; the author id when X left it out */
    char *author_name;
    char *conversation_id;
    char *in_reply_to_user_id;  /* NULL when not a reply */
    char *lang;
    int64_t created_at;         /* Unix seconds; 0 when unknown */
    int is_retweet;             /* referenced_tweets has "retweeted" */
    int injected;               /* made up by an admin (:inject), not from X */
    /* What the agent needs to see (issue 17 §6); untrusted, as tweeted. */
    char *quote_text;           /* the post it quotes, NULL when none (or X left it out) */
    char *quote_author;         /* that post's author's handle, else id; NULL when none */
    char *media;                /* its photos', videos' and GIFs' URLs, one per line; NULL: none */
};

/* A page as a source delivers it: mentions in ascending id order. */
struct mention_page {
    struct mention *v;
    size_t n;
    char *newest_id;            /* meta.newest_id, NULL when the page is empty */
    char *next_token;           /* meta.next_token, NULL on the last page */
    size_t nerrors;             /* partial errors X reported inside a 200 */
    size_t included_posts;      /* includes.tweets: other posts read alongside */
    size_t included_users;      /* includes.users: user objects read alongside */
};

void mention_clear(struct mention *m);
void mention_page_free(struct mention_page *p);

#endif
