/* console.c — the offline chat adapter.  Renders tickets, thread lines and
 * channel posts to stdout, and reads commands from stdin: with readline's
 * callback interface on a terminal (the loop never blocks), line by line
 * from a pipe, not at all otherwise.  Tweet text is untrusted: terminal
 * control characters are neutralised before anything is printed. */
#include "chat/console.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <readline/history.h>
#include <readline/readline.h>

#include "chat/command.h"
#include "core/buf.h"
#include "core/log.h"
#include "core/text.h"

struct console {
    struct chat base;
    uv_loop_t *loop;
    uv_poll_t poll;           /* stdin on a tty: readline */
    uv_pipe_t pipe;           /* stdin from a pipe: plain lines */
    char *admin_user;
    char *umbrella;           /* "/tw": lines are parsed as Slack's would be */
    void (*quit)(void *arg);
    void *quit_arg;
    long long next_ref;
    int mode;                 /* 0 none, 1 readline, 2 pipe */
    int colour;
    /* The last status line shown per ticket (by id modulo the table): an
     * update that changes nothing visible is not printed again. */
    struct { int64_t id; unsigned long hash; } shown[512];
    struct form_session *form; /* a form being filled in, one prompt per field */
    char *partial;            /* pipe mode: an unfinished line */
    size_t partial_len;
    char state[64];
};

#define to_console(c) ((struct console *)(c))

#define FORM_MAX 16

/* A command's form asked field by field (issue 19): "reply 42" alone. */
struct form_session {
    struct chat_form *form;
    int64_t ticket;
    size_t order[FORM_MAX];   /* fields in the order asked: a choice that fills a
                                 field comes right before that field */
    size_t n, at;
    char *values[FORM_MAX];   /* by field index; NULL: not given */
};

/* Readline's callback interface keeps one global handler, so one console. */
static struct console *active;

/* --- output ------------------------------------------------------------- */

/* Set while readline runs our line handler: the line is already finished
 * on screen, so output goes straight out, without redrawing the prompt. */
static int in_handler;

static void emit(struct console *c, const char *text)
{
    int readline_on = c && c->mode == 1 && !in_handler;
    char *saved = NULL;
    int point = 0;

    if (readline_on) {
        point = rl_point;
        saved = rl_copy_text(0, rl_end);
        rl_save_prompt();
        rl_replace_line("", 0);
        rl_redisplay();
    }
    fputs(text, stdout);
    fflush(stdout);
    if (readline_on) {
        rl_restore_prompt();
        rl_replace_line(saved ? saved : "", 0);
        rl_point = point;
        rl_redisplay();
        free(saved);
    }
}

void console_print(struct chat *chat, const char *text)
{
    struct console *c = to_console(chat);
    char *clean = text_for_terminal(text);
    size_t n = strlen(clean ? clean : "") + 2;
    char *line = malloc(n);
    if (line) {
        snprintf(line, n, "%s\n", clean ? clean : "");
        emit(c, line);
    }
    free(line);
    free(clean);
}

static const char *paint(struct console *c, const char *code)
{
    return c->colour ? code : "";
}

static void fmt_clock(int64_t t, char *out, size_t len)
{
    struct tm tm;
    time_t tt = (time_t)t;
    localtime_r(&tt, &tm);
    strftime(out, len, "%H:%M", &tm);
}

static void sla_text(const struct ticket_view *t, char *out, size_t len)
{
    const char *target = t->sla_target ? t->sla_target : "first response";
    int64_t left = t->sla_due_at - (int64_t)time(NULL);
    char when[16];
    if (!t->sla_target && t->first_response_at)
        snprintf(out, len, "answered");
    else if (!t->sla_target && strcmp(t->status, "closed") == 0)
        snprintf(out, len, "closed unanswered");
    else if (left > 3600) {   /* paused outside business hours, or far off */
        time_t due = (time_t)t->sla_due_at;
        struct tm tm;
        localtime_r(&due, &tm);
        strftime(when, sizeof when, "%a %H:%M", &tm);
        snprintf(out, len, "%s due %s", target, when);
    } else if (left >= 0)
        snprintf(out, len, "%lld min to %s", (long long)(left + 59) / 60, target);
    else
        snprintf(out, len, "%s %lld min overdue", target, (long long)(-left + 59) / 60);
}

/* Issue 17 §6: language, earlier tickets, the quoted post and media, as
 * lines for the terminal (each untrusted string through text_for_terminal). */
static void details(const struct ticket_view *t, struct buf *b)
{
    char *lang = t->lang && *t->lang ? text_for_terminal(t->lang) : NULL;
    if (lang || t->earlier > 0) {
        buf_printf(b, "  %s%s%s", lang ? "lang: " : "", lang ? lang : "",
                   lang && t->earlier > 0 ? " · " : "");
        if (t->earlier > 0)
            buf_printf(b, "%lld earlier ticket%s", (long long)t->earlier,
                       t->earlier == 1 ? "" : "s");
        buf_addstr(b, "\n");
    }
    free(lang);
    if (t->quote_text) {
        char *q = text_for_terminal(t->quote_text);
        char *who = text_for_terminal(t->quote_author ? t->quote_author : "?");
        buf_printf(b, "  ↪ quoting @%s: %s\n", who ? who : "?", q ? q : "");
        free(q);
        free(who);
    }
    if (t->media && *t->media) {
        char *m = text_for_terminal(t->media);
        for (char *p = m; p && *p; p++)
            if (*p == '\n')
                *p = ' ';                        /* one link after the other */
        buf_printf(b, "  media: %s\n", m ? m : "");
        free(m);
    }
}

static void render(struct console *c, const struct ticket_view *t)
{
    struct buf more = { 0 };
    char *text = text_for_terminal(t->text), *name = text_for_terminal(t->customer_name ? t->customer_name : "");
    char *handle = text_for_terminal(t->customer_handle), when[16], sla[64], head[512];
    size_t n;
    char *out;

    fmt_clock(t->tweeted_at, when, sizeof when);
    sla_text(t, sla, sizeof sla);
    snprintf(head, sizeof head, "%s#%lld %s%s%s  @%s%s%s%s · %s · %s%s%s%s%s%s%s",
             paint(c, "\033[1m"), (long long)t->id,
             paint(c, strcmp(t->status, "new") == 0 ? "\033[33m" : "\033[36m"),
             t->status, paint(c, "\033[0m"),
             handle ? handle : "?", name && *name ? " (" : "", name ? name : "",
             name && *name ? ")" : "", when, sla,
             t->assignee_name ? " · " : "", t->assignee_name ? t->assignee_name : "",
             t->tags && *t->tags ? " · tags: " : "", t->tags && *t->tags ? t->tags : "",
             t->injected ? " · injected" : "", t->mentions > 1 ? " · follow-ups" : "");
    details(t, &more);
    n = strlen(head) + strlen(text ? text : "") + strlen(t->tweet_url) + 256 +
        strlen(buf_str(&more));
    out = malloc(n);
    if (out) {
        snprintf(out, n, "%s\n  %s\n%s  %s%s%s\n  [Assign to me] [Escalate] [Close]\n", head,
                 text ? text : "", buf_str(&more), paint(c, "\033[2m"), t->tweet_url,
                 paint(c, "\033[0m"));
        emit(c, out);
    }
    buf_free(&more);
    free(out);
    free(text);
    free(name);
    free(handle);
}

/* --- chat_ops ---------------------------------------------------------- */

static void ok_ref(struct console *c, send_done_fn done, void *arg)
{
    char ref[32];
    struct send_result r = { SEND_OK, ref, NULL, 0 };
    snprintf(ref, sizeof ref, "console:m%lld", ++c->next_ref);
    done(arg, &r);
}

static unsigned long hash_str(const char *s)
{
    unsigned long h = 5381;
    while (*s)
        h = h * 33 + (unsigned char)*s++;
    return h;
}

/* A ticket's message ref is "console:<ticket id>": the terminal has no
 * threads, so thread lines name their ticket instead. */
static void console_post_ticket(struct chat *chat, const char *channel,
                                const struct ticket_view *t, send_done_fn done, void *arg)
{
    char ref[32];
    struct send_result r = { SEND_OK, ref, NULL, 0 };
    (void)channel;
    render(to_console(chat), t);
    snprintf(ref, sizeof ref, "console:%lld", (long long)t->id);
    done(arg, &r);
}

static void console_update_ticket(struct chat *chat, const char *channel, const char *ref,
                                  const struct ticket_view *t, send_done_fn done, void *arg)
{
    struct console *c = to_console(chat);
    char line[600], *handle = text_for_terminal(t->customer_handle), sla[64];
    struct send_result r = { SEND_OK, ref, NULL, 0 };
    (void)channel;
    unsigned long h;
    (void)channel;
    sla_text(t, sla, sizeof sla);
    snprintf(line, sizeof line, "%s#%lld is now %s%s%s · @%s · %s%s\n", paint(c, "\033[2m"),
             (long long)t->id, t->status, t->assignee_name ? " · " : "",
             t->assignee_name ? t->assignee_name : "", handle ? handle : "?", sla,
             paint(c, "\033[0m"));
    h = hash_str(t->status) * 31 + hash_str(t->assignee_name ? t->assignee_name : "") * 7 +
        (t->first_response_at != 0);
    if (c->shown[t->id % 512].id != t->id || c->shown[t->id % 512].hash != h) {
        c->shown[t->id % 512].id = t->id;
        c->shown[t->id % 512].hash = h;
        /* the first update after posting only repeats what was shown */
        if (strcmp(t->status, "new") != 0 || t->first_response_at)
            emit(c, line);
    }
    free(handle);
    done(arg, &r);
}

static void console_post_thread(struct chat *chat, const char *channel, const char *ref,
                                const char *text, send_done_fn done, void *arg)
{
    struct console *c = to_console(chat);
    char *clean = text_for_terminal(text);
    size_t n = strlen(clean ? clean : "") + 64;
    char *line = malloc(n);
    const char *id = strncmp(ref, "console:", 8) == 0 ? ref + 8 : ref;
    (void)channel;
    if (line) {
        snprintf(line, n, "%s#%s ↳%s %s\n", paint(c, "\033[35m"), id, paint(c, "\033[0m"),
                 clean ? clean : "");
        emit(c, line);
    }
    free(line);
    free(clean);
    ok_ref(c, done, arg);
}

static void console_post_channel(struct chat *chat, const char *channel, const char *text,
                                 send_done_fn done, void *arg);

/* An alert: the line, after who it notifies ("@Alice"), which is what a
 * chat would turn into pings; the terminal notifies no one. */
static void console_post_alert(struct chat *chat, const char *channel, const char *thread,
                               const struct chat_ping *ping, size_t nping, const char *text,
                               int64_t job, send_done_fn done, void *arg)
{
    char who[CHAT_MAX_PINGS * 72 + 16] = "", *line;
    size_t used = 0;
    (void)job;
    for (size_t i = 0; i < nping && i < CHAT_MAX_PINGS; i++) {
        const char *name = ping[i].name && *ping[i].name ? ping[i].name : ping[i].id;
        int n = snprintf(who + used, sizeof who - used, "%s%s%s",
                         used ? " " : "\xf0\x9f\x94\x94 ", *name == '@' ? "" : "@", name);
        if (n < 0 || (size_t)n >= sizeof who - used)
            break;
        used += (size_t)n;
    }
    line = malloc(strlen(text) + used + 3);
    if (!line) {
        done(arg, &(struct send_result){ SEND_RETRY, NULL, "out of memory", 0 });
        return;
    }
    snprintf(line, strlen(text) + used + 3, "%s%s%s", who, used ? ": " : "", text);
    if (thread)
        console_post_thread(chat, channel, thread, line, done, arg);
    else
        console_post_channel(chat, channel, line, done, arg);
    free(line);
}

/* The terminal cannot rewrite a line: the new state is printed as a new
 * one, marked as the update of the ticket's line it replaces. */
static void console_update_line(struct chat *chat, const char *channel, const char *ref,
                                const char *text, const char *resend, send_done_fn done,
                                void *arg)
{
    struct console *c = to_console(chat);
    char *clean = text_for_terminal(text);
    size_t n = strlen(clean ? clean : "") + 96;
    char *line = malloc(n);
    struct send_result r = { SEND_OK, ref, NULL, 0 };
    (void)channel;
    if (line) {
        snprintf(line, n, "%s↻%s %s%s\n", paint(c, "\033[35m"), paint(c, "\033[0m"),
                 clean ? clean : "", resend ? "  [Resend]" : "");
        emit(c, line);
    }
    free(line);
    free(clean);
    done(arg, &r);
}

static void console_post_channel(struct chat *chat, const char *channel, const char *text,
                                 send_done_fn done, void *arg)
{
    struct console *c = to_console(chat);
    char *clean = text_for_terminal(text);
    size_t n = strlen(clean ? clean : "") + strlen(channel) + 64;
    char *line = malloc(n);
    if (line) {
        snprintf(line, n, "%s[%s]%s %s\n", paint(c, "\033[1;31m"), channel,
                 paint(c, "\033[0m"), clean ? clean : "");
        emit(c, line);
    }
    free(line);
    free(clean);
    ok_ref(c, done, arg);
}

static const char *console_state(struct chat *chat)
{
    return to_console(chat)->state;
}

/* --- input ------------------------------------------------------------- */

static void form_end(struct console *c)
{
    struct form_session *f = c->form;
    if (!f)
        return;
    for (size_t i = 0; i < FORM_MAX; i++)
        free(f->values[i]);
    chat_form_free(f->form);
    free(f);
    c->form = NULL;
}

/* Asks for the field the session is at. */
static void form_prompt(struct console *c)
{
    struct form_session *f = c->form;
    const struct chat_field *d = &f->form->fields[f->order[f->at]];
    char line[4000];
    size_t len = 0;
    const char *filled = f->values[f->order[f->at]];

    len += (size_t)snprintf(line, sizeof line, "%s", d->label);
    if (d->kind == CHAT_FIELD_FLAG)
        len += (size_t)snprintf(line + len, sizeof line - len, " [y/N]");
    else if (d->kind == CHAT_FIELD_TEXT && d->max)
        len += (size_t)snprintf(line + len, sizeof line - len, " (at most %d%s)", d->max,
                                d->weighted ? " as X counts" : " characters");
    for (size_t k = 0; (d->kind == CHAT_FIELD_CHOICE || d->kind == CHAT_FIELD_STAFF) &&
         k < d->noptions && len < sizeof line - 200; k++)
        len += (size_t)snprintf(line + len, sizeof line - len, "%s %zu) %s",
                                k ? "," : ":", k + 1, d->labels[k]);
    if (filled && len < sizeof line - 100)
        len += (size_t)snprintf(line + len, sizeof line - len, "\n  [%s] (Enter keeps it)",
                                filled);
    if (d->optional && len < sizeof line - 40)
        snprintf(line + len, sizeof line - len, " (Enter: none)");
    else if (len < sizeof line - 40)
        snprintf(line + len, sizeof line - len, " (Enter alone cancels)");
    console_print(&c->base, line);
}

/* Runs the form's command with what was given. */
static void form_run(struct console *c)
{
    struct form_session *f = c->form;
    struct chat_field_value v[FORM_MAX];
    struct chat_command cmd = { 0 };
    size_t n = 0;
    char *answer = NULL;

    for (size_t i = 0; i < f->form->nfields; i++)
        if (f->values[i])
            v[n++] = (struct chat_field_value){ .name = f->form->fields[i].name,
                                                .value = f->values[i] };
    if (chat_command_from_form(&cmd, c->umbrella, f->form, f->ticket, v, n) < 0) {
        console_print(&c->base, "vigil is out of memory; try again.");
    } else {
        cmd.user_id = c->admin_user;
        cmd.channel = "console";
        answer = c->base.on_command(c->base.on_command_arg, &cmd);
        if (answer)
            console_print(&c->base, answer);
    }
    free(answer);
    chat_command_clear(&cmd);
    form_end(c);
}

/* A choice that fills a field: the script's filled text for it. */
static void form_fill(struct console *c, const struct chat_field *d, const char *choice)
{
    struct form_session *f = c->form;
    struct chat_command cmd = { 0 };
    char args[400];
    int failed = 0;
    char *answer;

    snprintf(args, sizeof args, "fill %lld %.300s", (long long)f->ticket, choice);
    if (chat_command_set(&cmd, d->from, args, NULL) < 0)
        return;
    cmd.user_id = c->admin_user;
    cmd.channel = "console";
    cmd.failed = &failed;
    answer = c->base.on_command(c->base.on_command_arg, &cmd);
    chat_command_clear(&cmd);
    for (size_t i = 0; !failed && answer && i < f->form->nfields; i++)
        if (strcmp(f->form->fields[i].name, d->fills) == 0) {
            free(f->values[i]);
            f->values[i] = answer;
            return;
        }
    if (answer)
        console_print(&c->base, answer);
    free(answer);
}

/* One line typed while a form is open: the answer to its current field. */
static void form_line(struct console *c, const char *line)
{
    struct form_session *f = c->form;
    size_t i = f->order[f->at];
    const struct chat_field *d = &f->form->fields[i];
    char *value = NULL;

    if (!*line && f->values[i]) {
        value = strdup(f->values[i]);          /* Enter keeps the filled text */
    } else if (!*line && !d->optional) {
        console_print(&c->base, "Cancelled; nothing was run.");
        form_end(c);
        return;
    } else if (!*line) {
        value = strdup("");
    } else if (d->kind == CHAT_FIELD_FLAG) {
        value = strdup(line[0] == 'y' || line[0] == 'Y' ? "1" : "");
    } else if (d->kind == CHAT_FIELD_CHOICE || d->kind == CHAT_FIELD_STAFF) {
        char *end = NULL;
        long k = strtol(line, &end, 10);
        for (size_t o = 0; o < d->noptions && !value; o++)
            if ((end && !*end && k == (long)o + 1) || strcmp(line, d->options[o]) == 0 ||
                strcasecmp(line, d->labels[o]) == 0)
                value = strdup(d->options[o]);
        if (!value) {
            console_print(&c->base, "That is none of the choices; try again.");
            form_prompt(c);
            return;
        }
    } else {
        int n = d->weighted && c->base.measure ? c->base.measure(line) : (int)strlen(line);
        if (d->max && n > d->max) {
            char msg[120];
            snprintf(msg, sizeof msg, "Too long: %d/%d%s; type it again.", n, d->max,
                     d->weighted ? " as X counts it" : "");
            console_print(&c->base, msg);
            form_prompt(c);
            return;
        }
        value = strdup(line);
    }
    free(f->values[i]);
    f->values[i] = value;
    if (value && *value && d->fills && d->from)
        form_fill(c, d, value);
    if (++f->at < f->n)
        form_prompt(c);
    else
        form_run(c);
}

/* "reply 42" alone, for a command whose form has a required field: start
 * asking.  Returns 1 when a form was started. */
static int form_start(struct console *c, const struct chat_command *cmd)
{
    struct form_session *f;
    struct chat_form *form;
    char *end = NULL;
    long long ticket;
    size_t required = 0;

    if (!c->base.form_of || cmd->argc != 1)
        return 0;
    ticket = strtoll(cmd->argv[0], &end, 10);
    if (!end || *end || ticket <= 0)
        return 0;
    form = c->base.form_of(c->base.on_command_arg, cmd->verb, c->admin_user);
    for (size_t i = 0; form && i < form->nfields; i++)
        required += !form->fields[i].optional;
    if (!required) {
        /* "escalate 42", "assign 42": complete as typed, they run as ever */
        chat_form_free(form);
        return 0;
    }
    f = calloc(1, sizeof *f);
    if (!f || form->nfields > FORM_MAX) {
        free(f);
        chat_form_free(form);
        return 0;
    }
    f->form = form;
    f->ticket = ticket;
    for (size_t i = 0; i < form->nfields; i++) {
        if (form->fields[i].fills)
            continue;                          /* asked before what it fills */
        for (size_t j = 0; j < form->nfields; j++)
            if (form->fields[j].fills && strcmp(form->fields[j].fills, form->fields[i].name) == 0 &&
                form->fields[j].noptions)
                f->order[f->n++] = j;
        f->order[f->n++] = i;
    }
    c->form = f;
    form_prompt(c);
    return 1;
}

static void run_line(struct console *c, const char *line)
{
    struct chat_command cmd = { 0 };
    char *answer;

    while (*line == ' ' || *line == '\t')
        line++;
    if (c->form) {
        form_line(c, line);
        return;
    }
    if (!*line)
        return;
    if (strcmp(line, ":quit") == 0 || strcmp(line, ":q") == 0) {
        if (c->quit)
            c->quit(c->quit_arg);
        return;
    }
    if (!c->base.on_command) {
        console_print(&c->base, "No commands are loaded.");
        return;
    }
    cmd.user_id = c->admin_user;
    cmd.channel = "console";
    /* "<@U2|bob>" typed here names a teammate as it would in Slack */
    if (chat_command_parse(&cmd, line, c->umbrella, CHAT_PARSE_PEOPLE) < 0) {
        console_print(&c->base, "vigil is out of memory; try again.");
        return;
    }
    if (cmd.verb && form_start(c, &cmd)) {
        chat_command_clear(&cmd);
        return;
    }
    answer = c->base.on_command(c->base.on_command_arg, &cmd);
    chat_command_clear(&cmd);
    if (answer)
        console_print(&c->base, answer);
    free(answer);
}

static void on_readline(char *line)
{
    struct console *c = active;
    if (!line) {
        /* Ctrl-D */
        rl_callback_handler_remove();
        c->mode = 0;
        fputs("\n", stdout);
        if (c->quit)
            c->quit(c->quit_arg);
        return;
    }
    if (*line)
        add_history(line);
    in_handler = 1;
    run_line(c, line);
    in_handler = 0;
    free(line);
}

/* Log lines, above the prompt like everything else. */
static void log_above_prompt(void *arg, const char *line)
{
    size_t n = strlen(line) + 2;
    char *text = malloc(n);
    if (!text)
        return;
    snprintf(text, n, "%s\n", line);
    emit(arg, text);
    free(text);
}

static void on_stdin_poll(uv_poll_t *h, int status, int events)
{
    (void)h;
    (void)events;
    if (status == 0 && active && active->mode == 1)
        rl_callback_read_char();
}

static void alloc_cb(uv_handle_t *h, size_t hint, uv_buf_t *buf)
{
    (void)h;
    buf->base = malloc(hint);
    buf->len = buf->base ? hint : 0;
}

static void on_pipe_read(uv_stream_t *s, ssize_t n, const uv_buf_t *buf)
{
    struct console *c = s->data;
    if (n < 0) {
        /* EOF on a piped stdin: no more commands, the bot keeps running. */
        uv_read_stop(s);
        free(buf->base);
        return;
    }
    for (ssize_t i = 0; i < n; i++) {
        char ch = buf->base[i];
        if (ch == '\n') {
            char *line = c->partial ? c->partial : strdup("");
            if (line) {
                line[c->partial_len] = '\0';
                run_line(c, line);
            }
            free(line);
            c->partial = NULL;
            c->partial_len = 0;
        } else if (c->partial_len < 100000) {
            char *p = realloc(c->partial, c->partial_len + 2);
            if (!p)
                continue;
            c->partial = p;
            c->partial[c->partial_len++] = ch;
            c->partial[c->partial_len] = '\0';
        }
    }
    free(buf->base);
}

static int console_start(struct chat *chat)
{
    struct console *c = to_console(chat);
    struct stat st;

    active = c;
    if (isatty(STDIN_FILENO) && isatty(STDOUT_FILENO)) {
        if (uv_poll_init(c->loop, &c->poll, STDIN_FILENO) == 0) {
            /* uv made the tty non-blocking; the parent shell shares it. */
            int fl = fcntl(STDIN_FILENO, F_GETFL);
            if (fl >= 0)
                fcntl(STDIN_FILENO, F_SETFL, fl & ~O_NONBLOCK);
            c->poll.data = c;
            rl_catch_signals = 0;
            rl_catch_sigwinch = 0;
            rl_callback_handler_install("vigil> ", on_readline);
            uv_poll_start(&c->poll, UV_READABLE, on_stdin_poll);
            c->mode = 1;
            log_set_writer(log_above_prompt, c);
        }
    } else if (fstat(STDIN_FILENO, &st) == 0 && (S_ISFIFO(st.st_mode) || S_ISSOCK(st.st_mode))) {
        if (uv_pipe_init(c->loop, &c->pipe, 0) == 0) {
            if (uv_pipe_open(&c->pipe, STDIN_FILENO) == 0) {
                c->pipe.data = c;
                uv_read_start((uv_stream_t *)&c->pipe, alloc_cb, on_pipe_read);
                c->mode = 2;
            } else {
                uv_close((uv_handle_t *)&c->pipe, NULL);
            }
        }
    }
    snprintf(c->state, sizeof c->state, "console (%s)",
             c->mode == 1 ? "interactive" : c->mode == 2 ? "commands from a pipe" : "output only");
    return 0;
}

static void console_stop(struct chat *chat)
{
    struct console *c = to_console(chat);
    if (c->mode == 1) {
        log_set_writer(NULL, NULL);
        rl_callback_handler_remove();
        uv_poll_stop(&c->poll);
        uv_close((uv_handle_t *)&c->poll, NULL);
        fputs("\n", stdout);
        fflush(stdout);
    } else if (c->mode == 2) {
        uv_read_stop((uv_stream_t *)&c->pipe);
        uv_close((uv_handle_t *)&c->pipe, NULL);
    }
    c->mode = -1;   /* handles are closing; nothing may restart them */
}

static void console_destroy(struct chat *chat)
{
    struct console *c = to_console(chat);
    if (active == c)
        active = NULL;
    form_end(c);
    free(c->partial);
    free(c->admin_user);
    free(c->umbrella);
    free(c);
}

static const struct chat_ops console_ops = {
    .name = "console",
    .start = console_start,
    .stop = console_stop,
    .destroy = console_destroy,
    .post_ticket = console_post_ticket,
    .update_ticket = console_update_ticket,
    .post_thread = console_post_thread,
    .post_channel = console_post_channel,
    .state = console_state,
    .update_line = console_update_line,
    .post_alert = console_post_alert,
};

struct chat *console_new(uv_loop_t *loop, const char *admin_user, const char *umbrella,
                         void (*quit)(void *arg), void *quit_arg)
{
    struct console *c = calloc(1, sizeof *c);
    const char *no_colour = getenv("NO_COLOR");
    if (!c)
        return NULL;
    c->base.ops = &console_ops;
    c->loop = loop;
    c->admin_user = strdup(admin_user);
    c->umbrella = strdup(umbrella);
    c->quit = quit;
    c->quit_arg = quit_arg;
    c->colour = isatty(STDOUT_FILENO) && !(no_colour && *no_colour);
    snprintf(c->state, sizeof c->state, "console");
    return &c->base;
}
