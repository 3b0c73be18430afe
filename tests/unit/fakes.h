/* fakes.h — the recording fake chat and source adapters the desk and script
 * tests send through: every send is one line of `fake.log` ("post 1 new
 * ann", "thread ts-1 text", "reply 100 text", ...), answered at once (or
 * as the test set it up to fail or hold). */
#ifndef VIGIL_UNIT_FAKES_H
#define VIGIL_UNIT_FAKES_H

#include <sqlite3.h>
#include <stdint.h>
#include <uv.h>

#include "chat/chat.h"
#include "source/source.h"

#define FAKE_LOG_LINES 128

struct fake {
    struct chat chat;
    struct source source;
    char log[FAKE_LOG_LINES][700];   /* what was sent, in order */
    int n;
    enum send_status next;   /* what the next sends answer */
    double retry_after;
    int fail_times;          /* answer `next` this many times, then OK */
    const char *fail_only;   /* only sends of this kind fail or are held (NULL: all) */
    int hold;                /* keep the next send's callback in held_done */
    send_done_fn held_done;
    void *held_arg;
    const char *ref_suffix;  /* appended to ticket posts' refs (a second post) */
    int finds;               /* history lookups asked for */
    int64_t find_oldest;
    int find_fails;          /* lookups answer SEND_RETRY (else: not found) */
    const char *lock_on_dm;  /* a DM takes the write lock on this db before answering */
    sqlite3 *locker;         /* the other program holding it */
    int64_t reply_since;     /* what the last reply send was told to look back to */
};

extern struct fake fake;

/* Every op the fake chat answers, find_ticket and update_line included. */
extern const struct chat_ops fake_chat_ops;
/* Only the ops every chat has: the outbox falls back on post_thread for
 * receipt rewrites and never looks a post up. */
extern const struct chat_ops fake_chat_ops_minimal;
/* Links and lengths follow X's rules (source/xlink). */
extern const struct source_ops fake_source_ops;

/* Forgets everything sent and every fault set up; the adapters use
 * `chat_ops` and fake_source_ops. */
void fake_reset(const struct chat_ops *chat_ops);

/* --- a desk on a loop of its own (the desk and script tests' fixture) --- */

struct config;
struct desk;
struct script_rt;
struct store;

/* Loads the config file `cfgpath` (a config that does not load fails the
 * test and aborts), opens the store `dbpath`, inits `loop` and makes a desk
 * on it, not started.  Returns the new desk; *cfg and *store are new too:
 * all three are freed by fake_desk_close. */
struct desk *fake_desk_open(uv_loop_t *loop, const char *cfgpath, const char *dbpath,
                            struct config **cfg, struct store **store);

/* Stops `desk`, runs `loop` until its handles have closed, then frees the
 * scripts runtime `rt` (NULL: none), closes `loop` and frees what
 * fake_desk_open made. */
void fake_desk_close(uv_loop_t *loop, struct desk *desk, struct script_rt *rt,
                     struct store *store, struct config *cfg);

/* Runs "/tw <line>" as `user` in #support through `rt`: the answer, copied
 * into `answer` ("(null)" when there was none); the line must parse. */
const char *fake_run_command(struct script_rt *rt, const char *user, const char *line,
                             char *answer, size_t len);

#endif
