/* admin_internal.h — what the admin commands (admin_cmd.c) and the admin
 * socket server (admin.c) share.  Private to bot/admin/admin*.c. */
#ifndef VIGIL_ADMIN_INTERNAL_H
#define VIGIL_ADMIN_INTERNAL_H

#include <jansson.h>
#include <time.h>
#include <uv.h>

#include "admin/admin.h"

struct client;

struct admin {
    uv_loop_t *loop;
    struct desk *desk;
    struct script_rt *scripts;
    struct store *store;
    const struct config *cfg;
    uv_pipe_t server;
    int listening;
    struct client *clients;
    size_t nclients;
    uv_timer_t sweep;       /* drops clients idle on half a line */
    int sweeping;
    time_t started;
    struct journal *journal;   /* borrowed; NULL: not recording */
};

/* The items the REPL completes for `kind` (verbs, tickets, staff, canned;
 * anything else: none).  Returns a new JSON array. */
json_t *admin_complete(struct admin *a, const char *kind);
/* Forms (issue 19, admin_form.c).  The form "/tw reply 42" opens for
 * `user` as JSON ({verb, ticket, fields: [{name, label, kind, max,
 * weighted, optional, fills, verb, options: [{value, label}]}]}), new; NULL
 * when the line opens none (type it whole). */
json_t *admin_form(struct admin *a, const char *user, const char *line);
/* Runs that form with `values` ({name: "value"}, borrowed) as `user`; *ok
 * is 0 when the command failed.  `fill` not "": runs only what the choice
 * field `fill` fills in ("<from> fill <ticket> <choice>").  Returns the
 * answer, new. */
char *admin_exec_form(struct admin *a, const char *user, const char *line, json_t *values,
                      const char *fill, int *ok);

#endif
