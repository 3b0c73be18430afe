/* admin.h — the admin commands (:status, :tickets, :show, :inject, :reload,
 * :scripts, :lua, :log, and /tw … as the local admin) shared by the console
 * of `make run` and `vigil repl`, and the admin socket that serves them to
 * the REPL: one JSON object per line (see CONTRIBUTING.md, "Admin socket").
 * Knows the desk, the script runtime and the store; never a wire format. */
#ifndef VIGIL_ADMIN_H
#define VIGIL_ADMIN_H

#include <uv.h>

#include "admin/admin_proto.h"
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

struct journal;
/* Commands run here (/tw … from the REPL) and :inject's mentions go into
 * `j` (borrowed; NULL: not recording), as chat commands and source pages
 * do (issue 21 §5).  The console's own /tw lines are journaled by chat. */
void admin_set_journal(struct admin *a, struct journal *j);

/* Runs one command line as `user`.  Returns new text (never NULL); `*ok`
 * is 0 when the command failed. */
char *admin_exec(struct admin *a, const char *user, const char *line, int *ok);

/* Something happened (a mention, a command, an outbox result, a script
 * error): pushed to every client that asked for :tail. */
void admin_event(struct admin *a, const char *kind, const char *text);

#endif
