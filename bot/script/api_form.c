/* api_form.c — forms (issue 19): a command's declared inputs handed to a
 * chat with their choices resolved for the user who opens them (canned
 * answers, staff), and a submitted form's values as ctx.form for the
 * script.  The declaration itself is read by loader.c. */
#include "script/script_internal.h"

#include <lauxlib.h>
#include <stdlib.h>
#include <string.h>

#include "chat/command.h"
#include "store/store.h"

/* Appends option `value` shown as `label` (both copied).  Returns 0 or -1. */
static int add_option(struct chat_field *d, const char *value, const char *label)
{
    char **o = realloc(d->options, (d->noptions + 1) * sizeof *o);
    char **l;
    if (!o)
        return -1;
    d->options = o;
    l = realloc(d->labels, (d->noptions + 1) * sizeof *l);
    if (!l)
        return -1;
    d->labels = l;
    o[d->noptions] = strdup(value);
    l[d->noptions] = strdup(label);
    if (!o[d->noptions] || !l[d->noptions]) {
        free(o[d->noptions]);
        free(l[d->noptions]);
        return -1;
    }
    d->noptions++;
    return 0;
}

/* A deep copy of `src` (new, chat_form_free), or NULL. */
static struct chat_form *copy_form(const struct chat_form *src)
{
    struct chat_form *f = calloc(1, sizeof *f);
    if (!f)
        return NULL;
    f->fields = calloc(src->nfields ? src->nfields : 1, sizeof *f->fields);
    f->verb = strdup(src->verb);
    if (!f->fields || !f->verb)
        goto fail;
    for (size_t i = 0; i < src->nfields; i++) {
        const struct chat_field *s = &src->fields[i];
        struct chat_field *d = &f->fields[i];
        *d = (struct chat_field){ .kind = s->kind, .max = s->max, .weighted = s->weighted,
                                  .optional = s->optional };
        f->nfields++;
        d->name = strdup(s->name);
        d->label = strdup(s->label);
        d->from = s->from ? strdup(s->from) : NULL;
        d->fills = s->fills ? strdup(s->fills) : NULL;
        d->verb = s->verb ? strdup(s->verb) : NULL;
        if (!d->name || !d->label || (s->from && !d->from) || (s->fills && !d->fills) ||
            (s->verb && !d->verb))
            goto fail;
        for (size_t k = 0; k < s->noptions; k++)
            if (add_option(d, s->options[k], s->labels[k]) < 0)
                goto fail;
    }
    return f;
fail:
    chat_form_free(f);
    return NULL;
}

/* The choices a field takes from the bot's state, for `user`. */
static int resolve(struct script_rt *rt, struct chat_field *d, const char *user)
{
    (void)user;
    if (d->kind == CHAT_FIELD_STAFF) {
        for (size_t i = 0; i < rt->cfg->nstaff; i++)
            if ((!rt->cfg->admin_user || strcmp(rt->cfg->staff[i].id, rt->cfg->admin_user)) &&
                add_option(d, rt->cfg->staff[i].id, rt->cfg->staff[i].name) < 0)
                return -1;
    } else if (d->from && strcmp(d->from, "canned") == 0) {
        char **names = store_canned_names(rt->store);
        int rc = 0;
        for (size_t i = 0; names && names[i] && !rc; i++)
            rc = add_option(d, names[i], names[i]);
        store_strv_free(names);
        return rc;
    }
    return 0;
}

/* The form of `verb` for `user`, choices resolved.  Returns new
 * (chat_form_free), or NULL when the command has none (or out of memory). */
struct chat_form *script_form(struct script_rt *rt, const char *verb, const char *user)
{
    struct chat_form *f = NULL;
    for (size_t i = 0; verb && i < rt->nentries; i++) {
        struct entry *e = &rt->entries[i];
        if (e->verb && strcmp(e->verb, verb) == 0 && e->ref != LUA_NOREF && e->form) {
            f = copy_form(e->form);
            break;
        }
    }
    for (size_t i = 0; f && i < f->nfields; i++)
        if (resolve(rt, &f->fields[i], user) < 0) {
            chat_form_free(f);
            return NULL;
        }
    return f;
}

/* ctx.form: {name = value} of a submitted form (a flag set is "1"; an
 * empty field or a flag not set is absent, so `if ctx.form.dm` reads
 * right); ctx.form itself is absent for a typed command. */
void api_form_push(lua_State *L, const struct chat_command *cmd)
{
    if (!cmd->fields)
        return;
    lua_createtable(L, 0, (int)cmd->nfields);
    for (size_t i = 0; i < cmd->nfields; i++) {
        if (!cmd->fields[i].value || !*cmd->fields[i].value)
            continue;
        lua_pushstring(L, cmd->fields[i].value ? cmd->fields[i].value : "");
        lua_setfield(L, -2, cmd->fields[i].name);
    }
    lua_setfield(L, -2, "form");
}
