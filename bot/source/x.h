/* x.h — the X API v2 source: polls mentions, sends replies and DMs. */
#ifndef VIGIL_X_H
#define VIGIL_X_H

#include <uv.h>

#include "core/config.h"
#include "core/http.h"
#include "source/source.h"

/* Borrows everything.  Returns new, destroyed with ops->destroy. */
struct source *x_new(uv_loop_t *loop, struct http *http, const struct config *cfg);

#endif
