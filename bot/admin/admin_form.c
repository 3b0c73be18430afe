/* admin_form.c — command forms over the admin socket (issue 19): the REPL
 * asks for the form of "/tw reply 42" and prompts for each field itself,
 * then sends the values back to run the same command a modal would
 * (chat_command_from_form).  Knows the script runtime's forms; never a
 * chat's wire format. */
#include "admin/admin_internal.h"

#include <stdlib.h>
#include <string.h>

#include "chat/command.h"
#include "core/config.h"
#include "script/script.h"

#define MAX_FIELDS 16

/* The form `line` ("/tw reply 42") opens for `user`: when it names a verb
 * with a form that has a required field, and a ticket number alone.  New
 * (chat_form_free) with *ticket set, or NULL. */
static struct chat_form *form_of_line(struct admin *a, const char *user, const char *line,
                                      long long *ticket)
{
    struct chat_command cmd = { 0 };
    struct chat_form *form = NULL;
    char *end = NULL;
    size_t required = 0;

    if (chat_command_parse(&cmd, line, a->cfg->command, 0) < 0)
        return NULL;
    if (cmd.verb && cmd.argc == 1) {
        *ticket = strtoll(cmd.argv[0], &end, 10);
        if (end && !*end && *ticket > 0)
            form = script_form(a->scripts, cmd.verb, user);
    }
    for (size_t i = 0; form && i < form->nfields; i++)
        required += !form->fields[i].optional;
    if (form && (!required || form->nfields > MAX_FIELDS)) {
        chat_form_free(form);
        form = NULL;
    }
    chat_command_clear(&cmd);
    return form;
}

json_t *admin_form(struct admin *a, const char *user, const char *line)
{
    static const char *const kinds[] = { "text", "choice", "flag", "staff" };
    long long ticket = 0;
    struct chat_form *form = form_of_line(a, user, line, &ticket);
    json_t *fields, *out;

    if (!form)
        return NULL;
    fields = json_array();
    for (size_t i = 0; i < form->nfields; i++) {
        const struct chat_field *d = &form->fields[i];
        json_t *opts = json_array();
        for (size_t k = 0; k < d->noptions; k++)
            json_array_append_new(opts, json_pack("{s:s,s:s}", "value", d->options[k],
                                                  "label", d->labels[k]));
        json_array_append_new(fields, json_pack(
            "{s:s,s:s,s:s,s:i,s:b,s:b,s:s?,s:s?,s:o}", "name", d->name, "label", d->label,
            "kind", kinds[d->kind], "max", d->max, "weighted", d->weighted, "optional",
            d->optional, "fills", d->fills, "verb", d->verb, "options", opts));
    }
    out = json_pack("{s:s,s:I,s:o}", "verb", form->verb, "ticket", (json_int_t)ticket,
                    "fields", fields);
    chat_form_free(form);
    return out;
}

char *admin_exec_form(struct admin *a, const char *user, const char *line, json_t *values,
                      const char *fill, int *ok)
{
    long long ticket = 0;
    struct chat_form *form = form_of_line(a, user, line, &ticket);
    struct chat_field_value v[MAX_FIELDS];
    struct chat_command cmd = { 0 };
    size_t n = 0;
    char *answer;
    int failed = 0;

    *ok = 0;
    if (!form)
        return strdup("That command takes no form here; type it whole.");
    for (size_t i = 0; i < form->nfields; i++) {
        const struct chat_field *d = &form->fields[i];
        const char *val = json_string_value(json_object_get(values, d->name));
        char args[400];
        if (*fill && !strcmp(d->name, fill) && d->fills && d->from && val) {
            /* what the choice fills in: "canned fill 42 thanks" */
            snprintf(args, sizeof args, "fill %lld %.300s", ticket, val);
            if (chat_command_set(&cmd, d->from, args, NULL) < 0)
                break;
            goto run;
        }
        if (val)
            v[n++] = (struct chat_field_value){ .name = d->name, .value = val };
    }
    if (*fill) {
        chat_form_free(form);
        return strdup("That form has no such choice to fill in.");
    }
    if (chat_command_from_form(&cmd, a->cfg->command, form, ticket, v, n) < 0) {
        chat_form_free(form);
        return strdup("out of memory");
    }
run:
    cmd.user_id = user;
    cmd.channel = "admin";
    cmd.ticket = ticket;
    cmd.failed = &failed;
    answer = script_run_command(a->scripts, &cmd);
    admin_event(a, "command", cmd.raw);
    *ok = !failed;
    chat_command_clear(&cmd);
    chat_form_free(form);
    return answer;
}
