/* offline.h — a whole bot that runs offline on a clock it is told: the
 * real desk and script runtime over an in-memory store, with a recorder
 * (test/record.h) for chat and source.  `vigil test` and `vigil replay`
 * drive it.  Knows the desk, the store and the script runtime; never a
 * wire format. */
#ifndef VIGIL_OFFLINE_H
#define VIGIL_OFFLINE_H

#include <stddef.h>
#include <stdint.h>
#include <uv.h>

#include "chat/chat.h"
#include "core/config.h"
#include "desk/desk.h"
#include "script/script.h"
#include "source/mention.h"
#include "store/store.h"
#include "test/record.h"

struct offline {
    uv_loop_t loop;
    struct config *cfg;
    struct store *store;
    struct desk *desk;
    struct script_rt *rt;
    struct recorder *rec;
    int open;
};

/* Starts a bot on `cfg` (takes ownership) with its clock at `now` and
 * every script loaded; `*failures` gets the scripts that did not load.
 * Returns 0, or -1 with `err` set (nothing to close). */
int offline_open(struct offline *o, struct config *cfg, int64_t now, int *failures,
                 char *err, size_t errlen);
/* Stops and frees everything; safe to call twice. */
void offline_close(struct offline *o);
/* Runs what is due at this instant (outbox sends, their callbacks). */
void offline_drain(struct offline *o);
/* Moves the clock to `t` (no-op when not later): a second at a time while
 * sends wait, else a minute, checking the SLA at each step, so that what
 * falls due happens when due. */
void offline_advance_to(struct offline *o, int64_t t);
/* Stores a page as a source delivers it, hooks and all. */
int offline_ingest(struct offline *o, const struct mention_page *page, struct ingest_stats *st);
/* Runs a command; returns the answer (new string, caller frees). */
char *offline_command(struct offline *o, const struct chat_command *cmd);

#endif
