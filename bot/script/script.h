/* script.h — the Lua command runtime: one sandboxed Lua state holding every
 * script of scripts/ (commands), scripts/hooks/ (hooks) and lua/ (their
 * library), each in its own environment, run under an instruction, a time
 * and a memory budget, reloaded from disk as files are saved.  Takes
 * commands as struct chat_command (chat/chat.h: already split, no chat
 * markup).  Knows the desk and the store (kv, canned); never a wire format. */
#ifndef VIGIL_SCRIPT_H
#define VIGIL_SCRIPT_H

#include <stddef.h>
#include <uv.h>

#include "chat/chat.h"
#include "desk/desk.h"

struct script_rt;

/* Borrows desk (and through it store and config).  Returns new, free with
 * script_free(); NULL on error (logged). */
struct script_rt *script_new(uv_loop_t *loop, struct desk *desk);
void script_free(struct script_rt *rt);
/* Loads every script and hook; a broken file is reported and skipped.
 * Returns the number of files that failed. */
int script_load_all(struct script_rt *rt);
/* Watches scripts/, scripts/hooks/ and lua/ with inotify; saves reload. */
int script_watch(struct script_rt *rt);
void script_unwatch(struct script_rt *rt);
/* Runs a command as the chat adapter handed it over (verb, argv, people:
 * no chat markup).  Returns the answer for the user: new string, caller
 * frees.  Never NULL. */
char *script_run_command(struct script_rt *rt, const struct chat_command *cmd);
/* 1 when the last script_run_command was refused (unknown verb, denied,
 * too long) or its script raised (ctx:fail, an error); 0 when it returned.
 * `vigil repl -e` exits 1 on it. */
int script_last_failed(struct script_rt *rt);
/* check-config (issue 20), without a runtime: every command file of `dir`
 * whose name cannot be a verb (skipped by the loader), does not compile, or
 * whose command{} holds an unknown key (`role` for `roles`).  Returns how
 * many; *report is new text, one problem a line (caller frees), or NULL. */
size_t script_check_dir(const char *dir, char **report);
/* The form command `verb` declares (form = {…}), its choices resolved for
 * `user` (canned answers, staff).  New, chat_form_free (chat/command.h);
 * NULL when it declares none. */
struct chat_form *script_form(struct script_rt *rt, const char *verb, const char *user);
/* The hooks table for desk_set_hooks(). */
const struct desk_hooks *script_desk_hooks(struct script_rt *rt);
/* Called with a message for the admins (a script failed to load). */
void script_set_notice(struct script_rt *rt, void (*fn)(void *arg, const char *text),
                       void *arg);
/* Reloads one script by file name ("assign.lua", "hooks/sla.lua") or every
 * one (NULL).  Returns the number of failures. */
int script_reload(struct script_rt *rt, const char *name);
/* Lines "name state" for :scripts (new string, caller frees). */
char *script_list(struct script_rt *rt);
/* Loaded verbs, sorted: NULL-terminated array, free with script_strv_free. */
char **script_verbs(struct script_rt *rt);
void script_strv_free(char **v);
/* :lua — evaluates `code` as admin `user` in a fresh sandboxed environment
 * with `ctx` (as for a command) and `vigil`, under the same budgets.  An
 * expression is returned as is ("1+1"), statements run ("return x").
 * Returns new text: the results pretty-printed, or the error; `*ok` says
 * which. */
char *script_eval(struct script_rt *rt, const char *user, const char *code, int *ok);
/* Benchmarks only (`make bench` measures what the budget costs): 0 runs
 * scripts without the instruction-count hook, so nothing stops an endless
 * loop.  The bot never calls it. */
void script_set_budget_hook(struct script_rt *rt, int on);
/* Lua memory in use, bytes. */
size_t script_memory(struct script_rt *rt);

#endif
