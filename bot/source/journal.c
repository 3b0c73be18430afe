/* journal.c — see journal.h.  A line per event, flushed as written: a
 * crash loses at most the line being written, and a day's file can be
 * replayed (or grepped) while the bot keeps writing the next one. */
#include "source/journal.h"

#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "chat/command.h"
#include "core/log.h"
#include "source/xparse.h"

struct journal {
    char *dir;
    char day[16];      /* the open file's day, YYYY-MM-DD */
    FILE *f;
    int told;          /* a write failure was logged */
};

struct journal *journal_open(const char *dir)
{
    struct journal *j;
    if (mkdir(dir, 0700) && errno != EEXIST) {
        log_error("cannot create the record folder", "path=%s error=%s", dir, strerror(errno));
        return NULL;
    }
    j = calloc(1, sizeof *j);
    if (j)
        j->dir = strdup(dir);
    if (!j || !j->dir) {
        free(j);
        return NULL;
    }
    return j;
}

void journal_close(struct journal *j)
{
    if (!j)
        return;
    if (j->f)
        fclose(j->f);
    free(j->dir);
    free(j);
}

static void failed(struct journal *j, const char *why)
{
    if (j->told)
        return;
    j->told = 1;
    log_error("cannot write the record journal; the bot goes on without it",
              "dir=%s error=%s", j->dir, why);
}

/* Writes `o` (taken) as a line of the file of `at`'s UTC day. */
static void write_line(struct journal *j, int64_t at, json_t *o)
{
    time_t t = (time_t)at;
    struct tm tm;
    char day[16], path[1024];
    char *line = NULL;

    if (!o)
        return;
    if (!gmtime_r(&t, &tm) || !strftime(day, sizeof day, "%Y-%m-%d", &tm))
        goto out;
    if (!j->f || strcmp(day, j->day) != 0) {
        int fd;
        if (j->f)
            fclose(j->f);
        j->f = NULL;
        snprintf(path, sizeof path, "%s/%s.jsonl", j->dir, day);
        fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
        j->f = fd >= 0 ? fdopen(fd, "a") : NULL;
        if (!j->f) {
            if (fd >= 0)
                close(fd);
            failed(j, strerror(errno));
            goto out;
        }
        snprintf(j->day, sizeof j->day, "%s", day);
    }
    line = json_dumps(o, JSON_COMPACT | JSON_ENSURE_ASCII | JSON_PRESERVE_ORDER);
    if (!line || fprintf(j->f, "%s\n", line) < 0 || fflush(j->f))
        failed(j, line ? strerror(errno) : "out of memory");
    else
        j->told = 0;
out:
    free(line);
    json_decref(o);
}

static json_t *str_or_null(const char *s) { return s ? json_string(s) : json_null(); }

void journal_page(struct journal *j, int64_t at, const char *source,
                  const struct mention_page *page)
{
    json_t *o, *list;
    if (!j || !page->n)
        return;   /* an empty poll changes nothing a replay could show */
    list = json_array();
    for (size_t i = 0; list && i < page->n; i++) {
        const struct mention *m = &page->v[i];
        json_array_append_new(list, json_pack("{s:I,s:I,s:o,s:o,s:o,s:o,s:o,s:o,s:o,s:I,s:b,s:b}",
            "id", (json_int_t)m->id, "original_id", (json_int_t)m->original_id,
            "text", str_or_null(m->text), "author_id", str_or_null(m->author_id),
            "handle", str_or_null(m->author_handle), "name", str_or_null(m->author_name),
            "conversation_id", str_or_null(m->conversation_id),
            "in_reply_to_user_id", str_or_null(m->in_reply_to_user_id),
            "lang", str_or_null(m->lang), "created_at", (json_int_t)m->created_at,
            "retweet", m->is_retweet, "injected", m->injected));
    }
    o = json_pack("{s:I,s:s,s:s,s:o}", "at", (json_int_t)at, "kind", "page", "source",
                  source ? source : "", "mentions", list ? list : json_array());
    write_line(j, at, o);
}

void journal_command(struct journal *j, int64_t at, const struct chat_command *cmd)
{
    json_t *o, *people;
    if (!j || !cmd->verb)
        return;
    people = json_array();
    for (size_t i = 0; people && i < cmd->npeople; i++)
        json_array_append_new(people, json_pack("{s:o,s:o}", "id",
                              str_or_null(cmd->people[i].id), "name",
                              str_or_null(cmd->people[i].name)));
    o = json_pack("{s:I,s:s,s:o,s:o,s:s,s:s,s:o,s:I,s:o}", "at", (json_int_t)at,
                  "kind", cmd->ticket ? "button" : "command",
                  "user", str_or_null(cmd->user_id), "channel", str_or_null(cmd->channel),
                  "verb", cmd->verb, "args", cmd->args ? cmd->args : "",
                  "raw", str_or_null(cmd->raw), "ticket", (json_int_t)cmd->ticket,
                  "people", people ? people : json_array());
    write_line(j, at, o);
}

/* --- reading -------------------------------------------------------------- */

static char *dup_field(json_t *o, const char *k)
{
    const char *s = json_string_value(json_object_get(o, k));
    return s ? strdup(s) : NULL;
}

static int parse_mentions(json_t *list, struct mention_page *page, char *err, size_t errlen)
{
    size_t n = json_array_size(list);
    if (!json_is_array(list)) {
        snprintf(err, errlen, "\"mentions\" is not a list");
        return -1;
    }
    page->v = n ? calloc(n, sizeof *page->v) : NULL;
    if (n && !page->v) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    for (size_t i = 0; i < n; i++) {
        json_t *m = json_array_get(list, i);
        struct mention *v = &page->v[page->n];
        if (!json_is_integer(json_object_get(m, "id")) ||
            !json_is_string(json_object_get(m, "text"))) {
            page->nerrors++;   /* as X's parser does: skip it, count it */
            continue;
        }
        v->id = json_integer_value(json_object_get(m, "id"));
        v->original_id = json_integer_value(json_object_get(m, "original_id"));
        if (!v->original_id)
            v->original_id = v->id;
        v->text = dup_field(m, "text");
        v->author_id = dup_field(m, "author_id");
        v->author_handle = dup_field(m, "handle");
        v->author_name = dup_field(m, "name");
        v->conversation_id = dup_field(m, "conversation_id");
        v->in_reply_to_user_id = dup_field(m, "in_reply_to_user_id");
        v->lang = dup_field(m, "lang");
        v->created_at = json_integer_value(json_object_get(m, "created_at"));
        v->is_retweet = json_is_true(json_object_get(m, "retweet"));
        v->injected = json_is_true(json_object_get(m, "injected"));
        page->n++;
    }
    return 0;
}

static int parse_command(json_t *o, struct journal_entry *e, char *err, size_t errlen)
{
    const char *verb = json_string_value(json_object_get(o, "verb"));
    const char *args = json_string_value(json_object_get(o, "args"));
    const char *raw = json_string_value(json_object_get(o, "raw"));
    json_t *people = json_object_get(o, "people");
    size_t n = json_array_size(people);

    e->user = dup_field(o, "user");
    e->channel = dup_field(o, "channel");
    if (!verb || !e->user) {
        snprintf(err, errlen, "a command needs \"user\" and \"verb\"");
        return -1;
    }
    if (chat_command_set(&e->cmd, verb, args ? args : "", raw)) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    e->cmd.user_id = e->user;
    e->cmd.channel = e->channel;
    e->cmd.ticket = json_integer_value(json_object_get(o, "ticket"));
    if (n) {
        e->people = calloc(n, sizeof *e->people);
        if (!e->people) {
            snprintf(err, errlen, "out of memory");
            return -1;
        }
        for (size_t i = 0; i < n; i++) {
            e->people[i].id = dup_field(json_array_get(people, i), "id");
            e->people[i].name = dup_field(json_array_get(people, i), "name");
        }
        e->cmd.people = e->people;
        e->cmd.npeople = n;
    }
    return 0;
}

int journal_parse(const char *line, size_t len, struct journal_entry *e, char *err,
                  size_t errlen)
{
    json_error_t jerr;
    json_t *o = json_loadb(line, len, 0, &jerr);
    const char *kind;
    int rc = -1;

    memset(e, 0, sizeof *e);
    if (!json_is_object(o)) {
        snprintf(err, errlen, "not a JSON object: %s", o ? "" : jerr.text);
        goto out;
    }
    e->at = json_integer_value(json_object_get(o, "at"));
    kind = json_string_value(json_object_get(o, "kind"));
    if (!json_is_integer(json_object_get(o, "at")) || !kind) {
        snprintf(err, errlen, "a journal line needs \"at\" and \"kind\"");
        goto out;
    }
    if (strcmp(kind, "page") == 0) {
        json_t *x = json_object_get(o, "x_page");
        e->kind = JOURNAL_PAGE;
        if (x) {
            char *s = json_dumps(x, JSON_COMPACT);
            rc = s ? xparse_mentions_page(s, strlen(s), &e->page, err, errlen) : -1;
            free(s);
        } else {
            rc = parse_mentions(json_object_get(o, "mentions"), &e->page, err, errlen);
        }
    } else if (strcmp(kind, "command") == 0 || strcmp(kind, "button") == 0) {
        e->kind = JOURNAL_COMMAND;
        rc = parse_command(o, e, err, errlen);
    } else {
        snprintf(err, errlen, "unknown kind \"%s\"", kind);
    }
out:
    json_decref(o);
    if (rc)
        journal_entry_clear(e);
    return rc;
}

void journal_entry_clear(struct journal_entry *e)
{
    size_t n = e->cmd.npeople;
    mention_page_free(&e->page);
    chat_command_clear(&e->cmd);
    for (size_t i = 0; e->people && i < n; i++) {
        free((char *)e->people[i].id);
        free((char *)e->people[i].name);
    }
    free(e->people);
    free(e->user);
    free(e->channel);
    memset(e, 0, sizeof *e);
}
