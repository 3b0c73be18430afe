/* admin.h — the admin commands (:status, :tickets, :show, :inject, :reload,
 * :scripts, :lua, :log, and /tw … as the local admin) shared by the console
 * of `make run` and `vigil repl`, and the admin socket that serves them to
 * the REPL: one JSON object per line (see CONTRIBUTING.md, "Admin socket").
 * Knows the desk, the script runtime and the store; never a wire format. */
#ifndef VIGIL_ADMIN_H
#define VIGIL_ADMIN_H

#include <uv.h>

#include "desk/desk.h"
#include "script/script.h"

struct admin;

/* Borrows everything.  Returns new, free with admin_free() after the loop
 * drained (admin_close() closes the socket first). */
struct admin *admin_new(uv_loop_t *loop, struct desk *desk, struct script_rt *scripts);
/* Listens on cfg->admin_socket (mode 0600; peers must share our uid or be
 * root).  Returns 0, or -1 (logged; another vigil may be running). */
int admin_listen(struct admin *a);
void admin_close(struct admin *a);
void admin_free(struct admin *a);

/* Runs one command line as `user`.  Returns new text (never NULL); `*ok`
 * is 0 when the command failed. */
char *admin_exec(struct admin *a, const char *user, const char *line, int *ok);

/* One request line of the admin socket protocol, parsed (pure; fuzzed). */
struct admin_req {
    char op[16];        /* exec, complete, tail, ping */
    char *line;         /* exec: new string, or NULL */
    char kind[16];      /* complete */
    int on;             /* tail */
    char *id;           /* the request's id as JSON text (new), "null" when absent */
};
/* Returns 0 and fills `r` (free with admin_req_clear), or -1 with the
 * reason in `err` (r->id is still filled when the line was an object). */
int admin_parse_request(const char *line, size_t len, struct admin_req *r, char *err,
                        size_t errlen);
void admin_req_clear(struct admin_req *r);

/* Something happened (a mention, a command, an outbox result, a script
 * error): pushed to every client that asked for :tail. */
void admin_event(struct admin *a, const char *kind, const char *text);

#endif
