/* repl.c — `vigil repl`, the admin console of a running bot.  Speaks the
 * admin socket's line protocol (admin_proto.h); readline's callback interface
 * over poll(), so :tail can stream while Ctrl-C stays ours.  Knows the
 * protocol and readline; nothing of tickets, Slack or X. */
#include "admin/repl.h"

#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>
#include <readline/history.h>
#include <readline/readline.h>

#include "admin/admin_proto.h"
#include "core/buf.h"
#include "core/config.h"
#include "core/text.h"

static int sock = -1, sigpipe_fd[2] = { -1, -1 }, colour, quit, failed, tailing;
/* What the bot sent and no line ended yet.  Its cap is the most the bot
 * keeps queued for a client (admin.c drops one past it). */
#define REPL_MAX_PENDING (8u << 20)
static struct buf rbuf = { .max = REPL_MAX_PENDING };
static long long next_id, waiting_id;
static char history_path[1024], umbrella[32] = "/tw";

static const char *const repl_cmds[] = {
    ":help", ":status", ":tickets", ":show", ":inject", ":reload", ":scripts", ":lua",
    ":tail", ":log", ":quit", NULL,
};

static void on_sigint(int sig)
{
    char c = 'i';
    (void)sig;
    if (write(sigpipe_fd[1], &c, 1) < 0) { /* nothing to do: the next one wakes us */ }
}

static int connect_to(const char *path)
{
    struct sockaddr_un sa;
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0 || strlen(path) >= sizeof sa.sun_path)
        return -1;
    memset(&sa, 0, sizeof sa);
    sa.sun_family = AF_UNIX;
    memcpy(sa.sun_path, path, strlen(path));
    if (connect(fd, (struct sockaddr *)&sa, sizeof sa)) {
        close(fd);
        return -1;
    }
    return fd;
}

static int send_req(json_t *req)
{
    char *text;
    size_t n, off = 0;
    json_object_set_new(req, "id", json_integer(++next_id));
    text = json_dumps(req, JSON_COMPACT);
    json_decref(req);
    if (!text)
        return -1;
    n = strlen(text);
    text[n] = '\n';
    while (off < n + 1) {
        ssize_t w = write(sock, text + off, n + 1 - off);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0) {
            free(text);
            return -1;
        }
        off += (size_t)w;
    }
    free(text);
    return 0;
}

/* Reads what the socket has; returns one complete line (new JSON) or NULL.
 * `*eof` is set when the bot went away. */
static json_t *next_message(int *eof)
{
    for (;;) {
        char chunk[1 << 16];
        char *nl = rbuf.len ? memchr(rbuf.data, '\n', rbuf.len) : NULL;
        ssize_t n;
        if (nl) {
            size_t used = (size_t)(nl - rbuf.data) + 1;
            json_t *msg = json_loadb(rbuf.data, used - 1, 0, NULL);
            buf_consume(&rbuf, used);
            return msg ? msg : json_object();
        }
        n = read(sock, chunk, sizeof chunk);
        if (n < 0 && (errno == EAGAIN || errno == EINTR))
            return NULL;
        if (n <= 0) {
            *eof = 1;
            return NULL;
        }
        if (buf_add(&rbuf, chunk, (size_t)n)) {
            /* longer than the bot ever queues: the stream is lost, as at EOF */
            fprintf(stderr, "vigil repl: a line over %u MiB from the bot\n",
                    REPL_MAX_PENDING >> 20);
            buf_reset(&rbuf);
            *eof = 1;
            return NULL;
        }
    }
}

/* Everything the bot sends quotes outside data (tweets, names, script
 * results): it is neutralised before it reaches the operator's terminal. */
static void print_text(const char *text, int ok)
{
    char *clean = text_for_terminal(text);
    if (!ok && colour)
        printf("\033[31m%s\033[0m\n", clean ? clean : "");
    else
        printf("%s\n", clean ? clean : "");
    fflush(stdout);
    free(clean);
}

static void print_event(json_t *ev)
{
    char *kind = text_for_terminal(json_string_value(json_object_get(ev, "kind")));
    char *text = text_for_terminal(json_string_value(json_object_get(ev, "text")));
    if (colour)
        printf("\033[36m[%s]\033[0m %s\n", kind && *kind ? kind : "?", text ? text : "");
    else
        printf("[%s] %s\n", kind && *kind ? kind : "?", text ? text : "");
    fflush(stdout);
    free(kind);
    free(text);
}

/* Sends `req` and waits for its answer; events meanwhile are printed when
 * tailing.  Returns the answer (new), or NULL (bot gone, or Ctrl-C). */
static json_t *call(json_t *req)
{
    long long id;
    if (send_req(req))
        return NULL;
    id = next_id;
    for (;;) {
        struct pollfd p[2] = { { sock, POLLIN, 0 }, { sigpipe_fd[0], POLLIN, 0 } };
        int eof = 0;
        json_t *msg;
        for (msg = next_message(&eof); msg; msg = next_message(&eof)) {
            json_t *mid = json_object_get(msg, "id");
            if (json_object_get(msg, "event")) {
                if (tailing)
                    print_event(msg);
            } else if (json_integer_value(mid) == id) {
                return msg;
            }
            json_decref(msg);
        }
        if (eof)
            return NULL;
        if (poll(p, 2, -1) < 0 && errno != EINTR)
            return NULL;
        if (p[1].revents & POLLIN) {
            char c;
            if (read(sigpipe_fd[0], &c, 1) > 0) {
                waiting_id = id;   /* its answer, when it comes, is ignored */
                printf("\n(interrupted)\n");
                return NULL;
            }
        }
    }
}

/* Runs one line; prints the result.  Returns 0, or 1 when it failed. */
static int exec_remote(const char *line)
{
    json_t *ans;
    int ok;
    while (*line == ' ' || *line == '\t')
        line++;
    if (!*line)
        return 0;
    if (!strcmp(line, ":quit") || !strcmp(line, ":q")) {
        quit = 1;
        return 0;
    }
    ans = call(json_pack("{s:s,s:s}", "op", ADMIN_OP_EXEC, "line", line));
    if (!ans) {
        if (sock >= 0 && !waiting_id)
            fprintf(stderr, "vigil repl: the bot went away\n"), quit = 1;
        waiting_id = 0;
        return 1;
    }
    ok = json_is_true(json_object_get(ans, "ok"));
    print_text(json_string_value(json_object_get(ans, "text")) ?
               json_string_value(json_object_get(ans, "text")) :
               json_string_value(json_object_get(ans, "error")) ?
               json_string_value(json_object_get(ans, "error")) : "?", ok);
    json_decref(ans);
    return ok ? 0 : 1;
}

/* --- forms (issue 19): "/tw reply 42" alone asks for each field ---------- */

#define FORM_FIELDS 16

/* Asks for one field; returns its value (new; "" for none), or NULL to
 * cancel.  `filled` (may be NULL) is kept when Enter is pressed. */
static char *ask_field(json_t *f, const char *filled)
{
    const char *kind = json_string_value(json_object_get(f, "kind"));
    json_t *opts = json_object_get(f, "options");
    int optional = json_is_true(json_object_get(f, "optional"));
    long long max = json_integer_value(json_object_get(f, "max"));
    char prompt[300], *in;
    size_t k;

    for (;;) {
        printf("%s", json_string_value(json_object_get(f, "label")));
        if (!strcmp(kind, "flag"))
            printf(" [y/N]");
        else if (!strcmp(kind, "text") && max)
            printf(" (at most %lld%s)", max,
                   json_is_true(json_object_get(f, "weighted")) ? " as X counts" : " characters");
        for (k = 0; k < json_array_size(opts); k++)
            printf("%s %zu) %s", k ? "," : ":", k + 1,
                   json_string_value(json_object_get(json_array_get(opts, k), "label")));
        if (filled)
            printf("\n  [%s] (Enter keeps it)", filled);
        printf(optional ? " (Enter: none)\n" : " (Enter alone cancels)\n");
        fflush(stdout);
        snprintf(prompt, sizeof prompt, "  > ");
        in = readline(prompt);
        if (!in)
            return NULL;
        if (!*in) {
            free(in);
            return filled ? strdup(filled) : optional ? strdup("") : NULL;
        }
        if (!strcmp(kind, "flag")) {
            int yes = in[0] == 'y' || in[0] == 'Y';
            free(in);
            return strdup(yes ? "1" : "");
        }
        if (!strcmp(kind, "choice") || !strcmp(kind, "staff")) {
            char *end = NULL;
            long n = strtol(in, &end, 10);
            for (k = 0; k < json_array_size(opts); k++) {
                json_t *o = json_array_get(opts, k);
                const char *v = json_string_value(json_object_get(o, "value"));
                if ((end && !*end && n == (long)k + 1) || !strcmp(in, v) ||
                    !strcasecmp(in, json_string_value(json_object_get(o, "label")))) {
                    free(in);
                    return strdup(v);
                }
            }
            printf("That is none of the choices; try again.\n");
            free(in);
            continue;
        }
        /* text: the bot counts the weighted length; a plain max is checked here */
        if (max && !json_is_true(json_object_get(f, "weighted")) && (long long)strlen(in) > max) {
            printf("Too long: %zu/%lld; type it again.\n", strlen(in), max);
            free(in);
            continue;
        }
        return in;
    }
}

/* "/tw reply 42" alone (interactive only): when the bot says the command
 * has a form, asks for its fields (a choice that fills a field first) and
 * runs it with them.  Returns -1 when the line opens no form (run it as
 * typed), else what exec_remote returns. */
static int exec_form(const char *line)
{
    json_t *ans = call(json_pack("{s:s,s:s}", "op", ADMIN_OP_FORM, "line", line));
    json_t *form = json_object_get(ans, "form"), *fields, *values, *res;
    char *vals[FORM_FIELDS] = { 0 };
    size_t order[FORM_FIELDS], n = 0, nf, i, j;
    int rc = 1, ok;

    if (!json_is_object(form)) {
        json_decref(ans);
        return -1;
    }
    fields = json_object_get(form, "fields");
    nf = json_array_size(fields) < FORM_FIELDS ? json_array_size(fields) : FORM_FIELDS;
    for (i = 0; i < nf; i++) {       /* a choice that fills a field is asked right before it */
        const char *name = json_string_value(json_object_get(json_array_get(fields, i), "name"));
        if (json_is_string(json_object_get(json_array_get(fields, i), "fills")))
            continue;
        for (j = 0; j < nf; j++) {
            json_t *g = json_array_get(fields, j);
            const char *fills = json_string_value(json_object_get(g, "fills"));
            if (fills && !strcmp(fills, name) && json_array_size(json_object_get(g, "options")))
                order[n++] = j;
        }
        order[n++] = i;
    }
    values = json_object();
    for (i = 0; i < n; i++) {
        json_t *f = json_array_get(fields, order[i]);
        const char *name = json_string_value(json_object_get(f, "name"));
        const char *fills = json_string_value(json_object_get(f, "fills"));
        {
            char *v = ask_field(f, vals[order[i]]);
            free(vals[order[i]]);
            vals[order[i]] = v;
        }
        if (!vals[order[i]]) {
            printf("Cancelled; nothing was run.\n");
            goto out;
        }
        json_object_set_new(values, name, json_string(vals[order[i]]));
        if (fills && *vals[order[i]]) {   /* the bot fills the text in (placeholders) */
            res = call(json_pack("{s:s,s:s,s:O,s:s}", "op", ADMIN_OP_EXEC, "line", line,
                                 "fields", values, "fill", name));
            ok = json_is_true(json_object_get(res, "ok"));
            for (j = 0; j < nf && ok; j++)
                if (!strcmp(json_string_value(json_object_get(json_array_get(fields, j), "name")),
                            fills)) {
                    free(vals[j]);
                    vals[j] = strdup(json_string_value(json_object_get(res, "text")) ?: "");
                }
            if (!ok)
                print_text(json_string_value(json_object_get(res, "text")) ?: "?", 0);
            json_decref(res);
        }
    }
    res = call(json_pack("{s:s,s:s,s:O}", "op", ADMIN_OP_EXEC, "line", line, "fields", values));
    if (res) {
        ok = json_is_true(json_object_get(res, "ok"));
        print_text(json_string_value(json_object_get(res, "text")) ?: "?", ok);
        rc = !ok;
        json_decref(res);
    }
out:
    for (i = 0; i < FORM_FIELDS; i++)
        free(vals[i]);
    json_decref(values);
    json_decref(ans);
    return rc;
}

/* :tail: stream events until Ctrl-C (or EOF of the bot). */
static void tail(void)
{
    json_t *ans = call(json_pack("{s:s,s:b}", "op", ADMIN_OP_TAIL, "on", 1));
    if (!ans)
        return;
    json_decref(ans);
    tailing = 1;
    printf("(tailing: Ctrl-C stops)\n");
    fflush(stdout);
    for (;;) {
        struct pollfd p[2] = { { sock, POLLIN, 0 }, { sigpipe_fd[0], POLLIN, 0 } };
        int eof = 0;
        json_t *msg;
        for (msg = next_message(&eof); msg; msg = next_message(&eof)) {
            if (json_object_get(msg, "event"))
                print_event(msg);
            json_decref(msg);
        }
        if (eof) {
            quit = 1;
            break;
        }
        if (poll(p, 2, -1) < 0 && errno != EINTR)
            break;
        if (p[1].revents & POLLIN) {
            char c;
            if (read(sigpipe_fd[0], &c, 1) > 0)
                break;
        }
    }
    tailing = 0;
    ans = call(json_pack("{s:s,s:b}", "op", ADMIN_OP_TAIL, "on", 0));
    json_decref(ans);
}

/* --- completion ------------------------------------------------------- */

static char **items;      /* candidates for the word being completed */

static void set_items(json_t *arr, const char *prefix)
{
    size_t i, n = json_array_size(arr);
    json_t *v;
    for (char **p = items; p && *p; p++)
        free(*p);
    free(items);
    items = calloc(n + 1, sizeof *items);
    if (!items)
        return;
    n = 0;
    json_array_foreach(arr, i, v) {
        char *s = NULL, *clean = text_for_terminal(json_string_value(v));
        if (clean && asprintf(&s, "%s%s", prefix, clean) >= 0)
            items[n++] = s;
        free(clean);
    }
}

static void fetch(const char *kind, const char *prefix)
{
    json_t *ans = call(json_pack("{s:s,s:s}", "op", ADMIN_OP_COMPLETE, "kind", kind));
    set_items(json_object_get(ans, "items"), prefix);
    json_decref(ans);
}

static char *generator(const char *text, int state)
{
    static int i;
    size_t len = strlen(text);
    if (!state)
        i = 0;
    while (items && items[i]) {
        const char *s = items[i++];
        if (strncmp(s, text, len) == 0)
            return strdup(s);
    }
    return NULL;
}

static int word_count(const char *line, int end)
{
    int n = 0, in = 0;
    for (int i = 0; i < end; i++) {
        if (line[i] == ' ' || line[i] == '\t')
            in = 0;
        else if (!in)
            in = 1, n++;
    }
    return n;
}

static char **complete(const char *text, int start, int end)
{
    char first[64] = "";
    int words = word_count(rl_line_buffer, start);
    (void)end;
    rl_attempted_completion_over = 1;   /* never fall back to file names */
    sscanf(rl_line_buffer, "%63s", first);
    if (text[0] == '@') {
        fetch("staff", "@");
    } else if (words == 0) {
        json_t *arr = json_array();
        for (int i = 0; repl_cmds[i]; i++)
            json_array_append_new(arr, json_string(repl_cmds[i]));
        json_array_append_new(arr, json_string(umbrella));
        if (text[0] == '/') {   /* /verb as its own command */
            json_t *ans = call(json_pack("{s:s,s:s}", "op", ADMIN_OP_COMPLETE, "kind", "verbs"));
            size_t i;
            json_t *v;
            json_array_foreach(json_object_get(ans, "items"), i, v) {
                char s[80];
                snprintf(s, sizeof s, "/%s", json_string_value(v));
                json_array_append_new(arr, json_string(s));
            }
            json_decref(ans);
        }
        set_items(arr, "");
        json_decref(arr);
    } else if (!strcmp(first, umbrella) && words == 1) {
        fetch("verbs", "");
    } else if (!strcmp(first, ":reload") && words == 1) {
        fetch("verbs", "");
    } else if ((!strcmp(first, ":show") && words == 1) ||
               (!strcmp(first, umbrella) && words == 2) ||
               (first[0] == '/' && strcmp(first, umbrella) && words == 1)) {
        fetch("tickets", "");
    } else if (strstr(rl_line_buffer, " canned ") && words == 3) {
        fetch("canned", "");
    } else {
        return NULL;
    }
    return rl_completion_matches(text, generator);
}

/* --- interactive ------------------------------------------------------- */

static void on_line(char *line)
{
    if (!line) {        /* Ctrl-D */
        quit = 1;
        printf("\n");
        return;
    }
    if (*line) {
        add_history(line);
        if (history_path[0])
            append_history(1, history_path);
    }
    if (!strcmp(line, ":tail")) {
        rl_callback_handler_remove();
        tail();
        if (!quit)
            rl_callback_handler_install(colour ? "\001\033[1m\002vigil>\001\033[0m\002 " : "vigil> ",
                                        on_line);
    } else if (*line == '/') {
        /* a form prompts with readline itself: off the callback interface meanwhile */
        rl_callback_handler_remove();
        if (exec_form(line) < 0)
            exec_remote(line);
        if (!quit)
            rl_callback_handler_install(colour ? "\001\033[1m\002vigil>\001\033[0m\002 " : "vigil> ",
                                        on_line);
    } else {
        exec_remote(line);
    }
    free(line);
}

static void history_file(void)
{
    const char *state = getenv("XDG_STATE_HOME"), *home = getenv("HOME");
    char dir[900];
    if (state && *state)
        snprintf(dir, sizeof dir, "%s/vigil", state);
    else if (home && *home)
        snprintf(dir, sizeof dir, "%s/.local/state/vigil", home);
    else
        return;
    /* mkdir -p, quietly: without a history file the REPL still works */
    for (char *p = dir + 1; *p; p++)
        if (*p == '/') {
            *p = '\0';
            mkdir(dir, 0700);
            *p = '/';
        }
    mkdir(dir, 0700);
    snprintf(history_path, sizeof history_path, "%s/history", dir);
    if (read_history(history_path) != 0)
        write_history(history_path);   /* append_history needs the file to exist */
    history_truncate_file(history_path, 2000);
}

static void interactive(void)
{
    history_file();
    rl_catch_signals = 0;
    rl_attempted_completion_function = complete;
    /* readline's default breaks words at '@': staff names complete after it */
    rl_basic_word_break_characters = " \t\n\"\\'`$><=;|&{(";
    printf("vigil repl: attached. :help lists commands, Ctrl-D leaves.\n");
    fflush(stdout);
    rl_callback_handler_install(colour ? "\001\033[1m\002vigil>\001\033[0m\002 " : "vigil> ",
                                on_line);
    while (!quit) {
        struct pollfd p[3] = { { 0, POLLIN, 0 }, { sock, POLLIN, 0 }, { sigpipe_fd[0], POLLIN, 0 } };
        if (poll(p, 3, -1) < 0 && errno != EINTR)
            break;
        if (p[2].revents & POLLIN) {       /* Ctrl-C at the prompt: a fresh line */
            char c;
            if (read(sigpipe_fd[0], &c, 1) > 0) {
                rl_replace_line("", 0);
                printf("\n");
                rl_on_new_line();
                rl_redisplay();
            }
        }
        if (p[1].revents & (POLLIN | POLLHUP)) {
            int eof = 0;
            json_t *msg;
            for (msg = next_message(&eof); msg; msg = next_message(&eof))
                json_decref(msg);   /* late answers of interrupted commands */
            if (eof) {
                rl_callback_handler_remove();
                fprintf(stderr, "\nvigil repl: the bot went away\n");
                failed = 1;
                break;
            }
        }
        if (p[0].revents & (POLLIN | POLLHUP))
            rl_callback_read_char();
    }
    rl_callback_handler_remove();
}

/* The socket comes from --socket, or from the config read without its
 * secrets (config_load_public): the operator's shell needs no tokens. */
int repl_main(const char *config_path, const char *socket_path, char **cmds, int ncmds)
{
    char err[1024];
    struct config *cfg = NULL;
    const char *nc = getenv("NO_COLOR");
    struct sigaction sa;

    if (!socket_path) {
        cfg = config_load_public(config_path, err, sizeof err);
        if (!cfg) {
            fprintf(stderr, "vigil repl: invalid config: %s\n", err);
            return 2;
        }
        snprintf(umbrella, sizeof umbrella, "%s", cfg->command);
        socket_path = cfg->admin_socket;
    }
    sock = connect_to(socket_path);
    if (sock < 0) {
        fprintf(stderr, "vigil repl: no bot is running on %s; start one with `make run` or "
                "`build/vigil run -c %s`\n", socket_path, config_path);
        config_free(cfg);
        return 1;
    }
    config_free(cfg);
    if (pipe2(sigpipe_fd, O_CLOEXEC | O_NONBLOCK))
        return 1;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_sigint;
    sigaction(SIGINT, &sa, NULL);   /* no SA_RESTART: poll wakes up */
    signal(SIGPIPE, SIG_IGN);
    colour = isatty(STDOUT_FILENO) && !(nc && *nc);

    if (ncmds > 0) {
        for (int i = 0; i < ncmds && !quit; i++)
            failed |= !strcmp(cmds[i], ":tail") ? (tail(), 0) : exec_remote(cmds[i]);
    } else if (isatty(STDIN_FILENO)) {
        interactive();
    } else {
        char *line = NULL;
        size_t cap = 0;
        ssize_t n;
        while (!quit) {
            n = getline(&line, &cap, stdin);
            if (n < 0)
                break;
            while (n > 0 && (line[n - 1] == '\n' || line[n - 1] == '\r'))
                line[--n] = '\0';
            failed |= !strcmp(line, ":tail") ? (tail(), 0) : exec_remote(line);
        }
        free(line);
    }
    close(sock);
    return failed ? 1 : 0;
}
