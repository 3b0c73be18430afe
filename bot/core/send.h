/* send.h — the result of an asynchronous send to the outside world (a chat
 * post, a tweet, a DM), as adapters report it to whoever queued the send. */
#ifndef VIGIL_SEND_H
#define VIGIL_SEND_H

enum send_status {
    SEND_OK,         /* done; `ref` names what was created (Slack ts, tweet id) */
    SEND_RETRY,      /* transient; try again after `retry_after` s (0: backoff) */
    SEND_FAIL,       /* permanent; `error` says why, in words for the ticket thread */
    SEND_BLOCKED,    /* the destination refuses everything until a person fixes it
                      * (the bot is not in the channel, it is archived or gone):
                      * `error` is the cause ("not_in_channel"), `ref` names the
                      * destination for people ("#support"); wait and retry,
                      * never give up */
    SEND_GONE,       /* what the send was about no longer exists (the message to
                      * update or to reply under was deleted); `error` says why */
};

struct send_result {
    enum send_status status;
    const char *ref;         /* borrowed for the duration of the callback; for
                              * SEND_BLOCKED the destination, not a result */
    const char *error;
    double retry_after;
};

/* Called exactly once per send, possibly before the send function returns. */
typedef void (*send_done_fn)(void *arg, const struct send_result *r);

#endif
