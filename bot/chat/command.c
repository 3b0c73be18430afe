/* command.c — typed command lines into struct chat_command; see command.h.
 * Knows the umbrella slash command and chat-id mentions ("<@U1|name>"),
 * nothing of any chat's transport or escaping. */
#include "chat/command.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* What a parsed command points into (cmd->owned). */
struct owned {
    char *verb, *args, *raw;
    char *words;                  /* args with a NUL after each word */
    const char **argv;            /* argc + 1, into words */
    char *line;                   /* the line after CHAT_PARSE_PEOPLE */
    struct chat_person *people;   /* ids and names point into names */
    char *names;
    size_t npeople;
};

static void owned_free(struct owned *o)
{
    if (!o)
        return;
    free(o->verb);
    free(o->args);
    free(o->raw);
    free(o->words);
    free(o->argv);
    free(o->line);
    free(o->people);
    free(o->names);
    free(o);
}

void chat_command_clear(struct chat_command *cmd)
{
    struct owned *o = cmd->owned;
    if (!o)
        return;
    if (o->people && cmd->people == o->people) {
        cmd->people = NULL;
        cmd->npeople = 0;
    }
    owned_free(o);
    cmd->owned = NULL;
    cmd->verb = cmd->args = cmd->raw = NULL;
    cmd->argv = NULL;
    cmd->argc = 0;
}

/* Splits o->args into o->words / o->argv.  Returns the word count, or -1
 * when out of memory. */
static long split_words(struct owned *o)
{
    size_t n = 0, i = 0;
    char *p;
    o->words = strdup(o->args);
    if (!o->words)
        return -1;
    for (p = o->words; *p; ) {
        while (*p && isspace((unsigned char)*p))
            p++;
        if (*p)
            n++;
        while (*p && !isspace((unsigned char)*p))
            p++;
    }
    o->argv = calloc(n + 1, sizeof *o->argv);
    if (!o->argv)
        return -1;
    for (p = o->words; *p; ) {
        while (*p && isspace((unsigned char)*p))
            *p++ = '\0';
        if (*p)
            o->argv[i++] = p;
        while (*p && !isspace((unsigned char)*p))
            p++;
    }
    return (long)n;
}

/* Fills cmd from o, verb (vlen bytes, NULL: none), args and raw (copied). */
static int fill(struct chat_command *cmd, struct owned *o, const char *verb, size_t vlen,
                const char *args, const char *raw)
{
    long argc;
    if (verb) {
        o->verb = strndup(verb, vlen);
        if (!o->verb)
            goto fail;
    }
    for (char *c = o->verb; c && *c; c++)
        *c = (char)tolower((unsigned char)*c);
    o->args = strdup(args);
    o->raw = strdup(raw);
    if (!o->args || !o->raw)
        goto fail;
    argc = split_words(o);
    if (argc < 0)
        goto fail;
    cmd->verb = o->verb;
    cmd->args = o->args;
    cmd->argv = o->argv;
    cmd->argc = (size_t)argc;
    cmd->raw = o->raw;
    if (o->npeople) {
        cmd->people = o->people;
        cmd->npeople = o->npeople;
    }
    cmd->owned = o;
    return 0;
fail:
    owned_free(o);
    cmd->owned = NULL;
    return -1;
}

int chat_command_set(struct chat_command *cmd, const char *verb, const char *args,
                     const char *raw)
{
    struct owned *o = calloc(1, sizeof *o);
    char *made = NULL;
    int rc;
    chat_command_clear(cmd);
    if (!o)
        return -1;
    if (!raw && asprintf(&made, "%s%s%s", verb, *args ? " " : "", args) < 0) {
        free(o);
        return -1;
    }
    rc = fill(cmd, o, verb, strlen(verb), args, raw ? raw : made);
    free(made);
    return rc;
}

/* "<@U1|name>" or "<@U1>" at `p`: its length, the id and the name (the id
 * when there is none); 0 when `p` is something else. */
static size_t mention_at(const char *p, const char **id, size_t *idlen, const char **name,
                         size_t *namelen)
{
    const char *q = p + 2;
    if (strncmp(p, "<@", 2) != 0)
        return 0;
    *id = q;
    *idlen = strcspn(q, "|> \t\r\n<");
    if (!*idlen)
        return 0;
    q += *idlen;
    *name = *id;
    *namelen = *idlen;
    if (*q == '|') {
        size_t n = strcspn(q + 1, "|> \t\r\n<");
        if (n) {
            *name = q + 1;
            *namelen = n;
        }
        q += 1 + n;
    }
    return *q == '>' ? (size_t)(q + 1 - p) : 0;
}

/* CHAT_PARSE_PEOPLE: o->line is `line` with each mention written "@name",
 * o->people who they are.  Returns 0 or -1 (out of memory). */
static int decode_people(struct owned *o, const char *line)
{
    size_t n = 0, room = 0, w = 0, at = 0, len;
    const char *p, *id, *name;
    size_t idlen, namelen;

    for (p = line; *p; p++) {
        len = mention_at(p, &id, &idlen, &name, &namelen);
        if (len) {
            n++;
            room += idlen + namelen + 2;
            p += len - 1;
        }
    }
    o->line = malloc(strlen(line) + 1);
    if (!o->line)
        return -1;
    if (n) {
        o->people = calloc(n, sizeof *o->people);
        o->names = malloc(room);
        if (!o->people || !o->names)
            return -1;
    }
    for (p = line; *p; ) {
        len = mention_at(p, &id, &idlen, &name, &namelen);
        if (!len) {
            o->line[w++] = *p++;
            continue;
        }
        /* "@name" is never longer than "<@id|name>" or "<@id>" */
        o->line[w++] = '@';
        memcpy(o->line + w, name, namelen);
        w += namelen;
        memcpy(o->names + at, id, idlen);
        o->names[at + idlen] = '\0';
        memcpy(o->names + at + idlen + 1, name, namelen);
        o->names[at + idlen + 1 + namelen] = '\0';
        o->people[o->npeople].id = o->names + at;
        o->people[o->npeople].name = o->names + at + idlen + 1;
        o->npeople++;
        at += idlen + namelen + 2;
        p += len;
    }
    o->line[w] = '\0';
    return 0;
}

int chat_command_parse(struct chat_command *cmd, const char *line, const char *umbrella,
                       unsigned flags)
{
    struct owned *o = calloc(1, sizeof *o);
    const char *p, *start;
    size_t ulen = umbrella ? strlen(umbrella) : 0;

    chat_command_clear(cmd);
    if (!o)
        return -1;
    if ((flags & CHAT_PARSE_PEOPLE) && decode_people(o, line) < 0) {
        owned_free(o);
        return -1;
    }
    p = o->line ? o->line : line;
    while (*p && isspace((unsigned char)*p))
        p++;
    if (ulen && strncmp(p, umbrella, ulen) == 0 && (!p[ulen] || isspace((unsigned char)p[ulen]))) {
        p += ulen;
        while (*p && isspace((unsigned char)*p))
            p++;
        if (!*p)
            return fill(cmd, o, "help", 4, p, line);
    } else if (*p == '/') {
        p++;
    }
    start = p;
    while (*p && !isspace((unsigned char)*p))
        p++;
    if (p == start)
        return fill(cmd, o, NULL, 0, "", line);
    {
        const char *verb = start;
        size_t vlen = (size_t)(p - start);
        while (*p && isspace((unsigned char)*p))
            p++;
        return fill(cmd, o, verb, vlen, p, line);
    }
}

/* --- forms (issue 19) ---------------------------------------------------- */

void chat_form_free(struct chat_form *f)
{
    if (!f)
        return;
    for (size_t i = 0; i < f->nfields; i++) {
        struct chat_field *d = &f->fields[i];
        for (size_t k = 0; k < d->noptions; k++) {
            free(d->options[k]);
            free(d->labels[k]);
        }
        free(d->options);
        free(d->labels);
        free(d->name);
        free(d->label);
        free(d->from);
        free(d->fills);
        free(d->verb);
    }
    free(f->fields);
    free(f->verb);
    free(f->title);
    free(f);
}

const char *chat_form_value(const struct chat_field_value *v, size_t n, const char *name)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(v[i].name, name) == 0)
            return v[i].value;
    return NULL;
}

int chat_command_from_form(struct chat_command *cmd, const char *umbrella,
                           const struct chat_form *form, int64_t ticket,
                           const struct chat_field_value *values, size_t nvalues)
{
    char *args = NULL, *raw = NULL;
    const char *verb = form->verb;
    size_t len = 0;
    FILE *m;
    int rc = -1;

    for (size_t i = 0; i < form->nfields; i++) {
        const struct chat_field *d = &form->fields[i];
        const char *v = chat_form_value(values, nvalues, d->name);
        if (d->kind == CHAT_FIELD_FLAG && d->verb && v && *v)
            verb = d->verb;
    }
    m = open_memstream(&args, &len);
    if (!m)
        return -1;
    fprintf(m, "%lld", (long long)ticket);
    /* Flags have no place in a typed line: the script reads them in ctx.form */
    for (size_t i = 0; i < form->nfields; i++) {
        const struct chat_field *d = &form->fields[i];
        const char *v = chat_form_value(values, nvalues, d->name);
        if (d->kind == CHAT_FIELD_FLAG || d->fills || !v || !*v)
            continue;
        fprintf(m, d->kind == CHAT_FIELD_STAFF ? " @%s" : " %s", v);
    }
    if (fclose(m) != 0 || !args)
        goto out;
    if (asprintf(&raw, "%s %s %s", umbrella, verb, args) < 0) {
        raw = NULL;
        goto out;
    }
    if (chat_command_set(cmd, verb, args, raw) < 0)
        goto out;
    cmd->ticket = ticket;
    cmd->fields = values;
    cmd->nfields = nvalues;
    rc = 0;
out:
    free(args);
    free(raw);
    return rc;
}
