/* replay.h — the offline source: replays recorded X mentions pages from a
 * JSON-lines file, one page per interval; replies and DMs go to the log. */
#ifndef VIGIL_REPLAY_H
#define VIGIL_REPLAY_H

#include <uv.h>

#include "source/source.h"

/* Returns new, destroyed with ops->destroy; NULL when the file cannot be
 * read (logged).  `path` is copied. */
struct source *replay_new(uv_loop_t *loop, const char *path, double interval);

#endif
