/* admin.c — the admin socket server: a private unix socket (mode 0600, a
 * directory nobody else can write, peers of our uid or root, checked with
 * SO_PEERCRED) speaking the line protocol of admin_proto.h, with bounded
 * per-client queues and an idle sweep.  The commands it runs live in
 * admin_cmd.c.  Knows the desk, the script runtime and the store; never a
 * wire format. */
#include "admin/admin.h"

#include <ctype.h>
#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "admin/admin_internal.h"
#include "core/log.h"

/* Answers queued for one client: past HOLD we stop reading its requests
 * until it drains to half of that; past DROP (only :tail events can still
 * add) it is dropped.  A client that asks and never reads once grew the bot
 * by 750 MB in 25 s and stalled the loop. */
#define QUEUE_HOLD (1u << 20)
#define QUEUE_DROP (8u << 20)
#define MAX_CLIENTS 128

struct client {
    uv_pipe_t pipe;
    struct admin *a;
    struct client *next;
    char *buf;
    size_t len, cap;
    char *in;               /* read but not yet handled (while held) */
    size_t in_len, in_pos;
    uint64_t line_since;    /* uv_now when the pending partial line began */
    int tail, closing, held, warned;
};

struct admin *admin_new(uv_loop_t *loop, struct desk *desk, struct script_rt *scripts)
{
    struct admin *a = calloc(1, sizeof *a);
    if (!a)
        return NULL;
    a->loop = loop;
    a->desk = desk;
    a->scripts = scripts;
    a->store = desk_store(desk);
    a->cfg = desk_config(desk);
    a->started = time(NULL);
    return a;
}

/* --- the socket ---------------------------------------------------------- */

static void on_closed(uv_handle_t *h)
{
    struct client *c = h->data;
    free(c->buf);
    free(c->in);
    free(c);
}

static void drop_client(struct client *c)
{
    struct admin *a = c->a;
    if (c->closing)
        return;
    c->closing = 1;
    for (struct client **p = &a->clients; *p; p = &(*p)->next)
        if (*p == c) {
            *p = c->next;
            a->nclients--;
            break;
        }
    uv_close((uv_handle_t *)&c->pipe, on_closed);
}

static size_t queued(struct client *c)
{
    return uv_stream_get_write_queue_size((uv_stream_t *)&c->pipe);
}

static void process_input(struct client *c);
static void alloc_cb(uv_handle_t *h, size_t hint, uv_buf_t *buf);
static void on_read(uv_stream_t *s, ssize_t n, const uv_buf_t *buf);

static void on_written(uv_write_t *w, int status)
{
    struct client *c = w->handle->data;
    free(w->data);
    free(w);
    if (status || c->closing || !c->held || queued(c) > QUEUE_HOLD / 2)
        return;
    /* drained: handle what it sent meanwhile, then listen again */
    c->held = 0;
    process_input(c);
    if (!c->held && !c->closing)
        uv_read_start((uv_stream_t *)&c->pipe, alloc_cb, on_read);
}

/* Sends `obj` (stolen) as one line. */
static void send_json(struct client *c, json_t *obj)
{
    char *text = json_dumps(obj, JSON_COMPACT);
    uv_write_t *w;
    uv_buf_t buf;
    size_t n;

    json_decref(obj);
    if (!text || c->closing) {
        free(text);
        return;
    }
    n = strlen(text);
    text[n] = '\n';   /* json_dumps leaves room: we overwrite the NUL */
    w = malloc(sizeof *w);
    if (!w) {
        free(text);
        return;
    }
    w->data = text;
    buf = uv_buf_init(text, (unsigned)n + 1);
    if (uv_write(w, (uv_stream_t *)&c->pipe, &buf, 1, on_written)) {
        free(text);
        free(w);
        drop_client(c);
        return;
    }
    if (queued(c) > QUEUE_DROP) {
        log_warn("admin: a client is not reading its answers; dropped", "queued=%zu",
                 queued(c));
        drop_client(c);
    }
}

static void reply_error(struct client *c, json_t *id, const char *msg)
{
    send_json(c, json_pack("{s:O?,s:b,s:s}", "id", id, "ok", 0, "error", msg));
}

void admin_req_clear(struct admin_req *r)
{
    free(r->line);
    free(r->id);
    free(r->fields);
    memset(r, 0, sizeof *r);
}

int admin_parse_request(const char *line, size_t len, struct admin_req *r, char *err,
                        size_t errlen)
{
    json_error_t jerr;
    json_t *req = json_loadb(line, len, 0, &jerr);
    const char *op, *l, *kind;
    int rc = -1;

    memset(r, 0, sizeof *r);
    if (!req || !json_is_object(req)) {
        snprintf(err, errlen, "not a JSON object: %s", req ? "wrong type" : jerr.text);
        r->id = strdup("null");
        json_decref(req);
        return -1;
    }
    r->id = json_object_get(req, "id")
          ? json_dumps(json_object_get(req, "id"), JSON_ENCODE_ANY | JSON_COMPACT)
          : strdup("null");
    op = json_string_value(json_object_get(req, "op"));
    l = json_string_value(json_object_get(req, "line"));
    kind = json_string_value(json_object_get(req, "kind"));
    if (!op || (strcmp(op, ADMIN_OP_EXEC) && strcmp(op, ADMIN_OP_COMPLETE) &&
                strcmp(op, ADMIN_OP_TAIL) && strcmp(op, ADMIN_OP_PING) &&
                strcmp(op, ADMIN_OP_FORM))) {
        snprintf(err, errlen, "%s \"op\" (exec, complete, tail, ping, form)",
                 op ? "unknown" : "missing");
    } else if ((!strcmp(op, ADMIN_OP_EXEC) || !strcmp(op, ADMIN_OP_FORM)) && !l) {
        snprintf(err, errlen, "%s needs \"line\"", op);
    } else if (json_object_get(req, "fields") && !json_is_object(json_object_get(req, "fields"))) {
        snprintf(err, errlen, "\"fields\" must be an object of strings");
    } else {
        const char *fill = json_string_value(json_object_get(req, "fill"));
        if (json_is_object(json_object_get(req, "fields")))
            r->fields = json_dumps(json_object_get(req, "fields"), JSON_COMPACT);
        snprintf(r->fill, sizeof r->fill, "%s", fill ? fill : "");
        snprintf(r->op, sizeof r->op, "%s", op);
        r->line = l ? strdup(l) : NULL;
        snprintf(r->kind, sizeof r->kind, "%s", kind ? kind : "");
        r->on = json_is_true(json_object_get(req, "on"));
        rc = 0;
    }
    json_decref(req);
    return rc;
}

static void handle_line(struct client *c, const char *line, size_t len)
{
    struct admin *a = c->a;
    struct admin_req r;
    char err[300];
    json_t *id;

    if (admin_parse_request(line, len, &r, err, sizeof err)) {
        id = json_loads(r.id ? r.id : "null", JSON_DECODE_ANY, NULL);
        reply_error(c, id, err);
        json_decref(id);
        admin_req_clear(&r);
        return;
    }
    id = json_loads(r.id, JSON_DECODE_ANY, NULL);
    if (!strcmp(r.op, ADMIN_OP_EXEC) && r.fields) {
        /* a form the REPL prompted for (issue 19) */
        int ok;
        json_t *values = json_loads(r.fields, 0, NULL);
        char *text = admin_exec_form(a, a->cfg->admin_user, r.line, values, r.fill, &ok);
        json_decref(values);
        send_json(c, json_pack("{s:O?,s:b,s:s}", "id", id, "ok", ok, "text", text));
        free(text);
    } else if (!strcmp(r.op, ADMIN_OP_FORM)) {
        json_t *form = admin_form(a, a->cfg->admin_user, r.line);
        send_json(c, json_pack("{s:O?,s:b,s:o?}", "id", id, "ok", 1, "form", form));
    } else if (!strcmp(r.op, ADMIN_OP_EXEC)) {
        int ok;
        char *text = admin_exec(a, a->cfg->admin_user, r.line, &ok);
        send_json(c, json_pack("{s:O?,s:b,s:s}", "id", id, "ok", ok, "text", text));
        free(text);
    } else if (!strcmp(r.op, ADMIN_OP_COMPLETE)) {
        send_json(c, json_pack("{s:O?,s:b,s:o}", "id", id, "ok", 1, "items", admin_complete(a, r.kind)));
    } else if (!strcmp(r.op, ADMIN_OP_TAIL)) {
        c->tail = r.on;
        send_json(c, json_pack("{s:O?,s:b}", "id", id, "ok", 1));
    } else {
        send_json(c, json_pack("{s:O?,s:b}", "id", id, "ok", 1));
    }
    json_decref(id);
    admin_req_clear(&r);
}

static void alloc_cb(uv_handle_t *h, size_t hint, uv_buf_t *buf)
{
    (void)h;
    buf->base = malloc(hint);
    buf->len = buf->base ? hint : 0;
}

/* Handles the lines in c->in, stopping (held, reading stopped) as soon as
 * the client's queued answers pass QUEUE_HOLD: the rest waits in c->in. */
static void process_input(struct client *c)
{
    while (c->in_pos < c->in_len && !c->closing) {
        char ch = c->in[c->in_pos++];
        if (ch == '\n') {
            handle_line(c, c->buf ? c->buf : "", c->len);
            c->len = 0;
            if (!c->closing && queued(c) > QUEUE_HOLD) {
                if (!c->warned++)
                    log_warn("admin: a client is not reading its answers; holding its "
                             "requests until it does", "queued=%zu", queued(c));
                c->held = 1;
                uv_read_stop((uv_stream_t *)&c->pipe);
                return;
            }
            continue;
        }
        if (c->len == 0)
            c->line_since = uv_now(c->a->loop);
        if (c->len + 1 >= ADMIN_MAX_LINE) {
            reply_error(c, NULL, "line longer than 1 MiB; closing");
            log_warn("admin: client sent an oversized line; closed", "");
            drop_client(c);
            break;
        }
        if (c->len + 2 > c->cap) {
            size_t cap = c->cap ? c->cap * 2 : 256;
            char *nb = realloc(c->buf, cap);
            if (!nb) {
                drop_client(c);
                break;
            }
            c->buf = nb;
            c->cap = cap;
        }
        c->buf[c->len++] = ch;
        c->buf[c->len] = '\0';
    }
    free(c->in);
    c->in = NULL;
    c->in_len = c->in_pos = 0;
}

static void on_read(uv_stream_t *s, ssize_t n, const uv_buf_t *buf)
{
    struct client *c = s->data;
    if (n < 0) {
        free(buf->base);
        drop_client(c);   /* EOF or error: a client that went away mid-stream is fine */
        return;
    }
    if (n == 0 || c->closing) {
        free(buf->base);
        return;
    }
    /* reading is stopped while held, so c->in is empty here */
    free(c->in);
    c->in = buf->base;
    c->in_len = (size_t)n;
    c->in_pos = 0;
    process_input(c);
}

/* Every few seconds: a client that has sat on half a line longer than
 * admin.idle_timeout is dropped (each may hold up to 1 MiB). */
static void on_sweep(uv_timer_t *t)
{
    struct admin *a = t->data;
    uint64_t now = uv_now(a->loop), limit = (uint64_t)(a->cfg->admin_idle_timeout * 1000);
    struct client *c = a->clients, *next;
    for (; c; c = next) {
        next = c->next;
        if (c->len > 0 && !c->closing && !c->held && now - c->line_since > limit) {
            log_warn("admin: a client left half a line idle; dropped", "bytes=%zu", c->len);
            reply_error(c, NULL, "idle in the middle of a line; closing");
            drop_client(c);
        }
    }
}

static void on_connection(uv_stream_t *server, int status)
{
    struct admin *a = server->data;
    struct client *c;
    struct ucred cred;
    socklen_t len = sizeof cred;
    uv_os_fd_t fd;

    if (status < 0)
        return;
    c = calloc(1, sizeof *c);
    if (!c)
        return;
    c->a = a;
    uv_pipe_init(a->loop, &c->pipe, 0);
    c->pipe.data = c;
    if (uv_accept(server, (uv_stream_t *)&c->pipe)) {
        uv_close((uv_handle_t *)&c->pipe, on_closed);
        return;
    }
    c->next = a->clients;
    a->clients = c;
    a->nclients++;
    if (a->nclients > MAX_CLIENTS) {
        log_warn("admin: too many clients; refused one", "max=%d", MAX_CLIENTS);
        reply_error(c, NULL, "refused: too many admin clients");
        drop_client(c);
        return;
    }
    if (uv_fileno((uv_handle_t *)&c->pipe, &fd) ||
        getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) ||
        (cred.uid != getuid() && cred.uid != 0)) {
        log_warn("admin: refused a client of another user", "uid=%ld", (long)cred.uid);
        reply_error(c, NULL, "refused: the admin socket is for the bot's own user");
        drop_client(c);
        return;
    }
    uv_read_start((uv_stream_t *)&c->pipe, alloc_cb, on_read);
}

/* The socket's directory must be ours (or root's) and writable by nobody
 * else: whoever can write it can swap the socket for their own, and the
 * REPL would then talk to them. */
static int check_socket_dir(const char *path)
{
    char dir[1024];
    const char *slash = strrchr(path, '/');
    struct stat st;

    if (!slash)
        snprintf(dir, sizeof dir, ".");
    else
        snprintf(dir, sizeof dir, "%.*s", (int)(slash == path ? 1 : slash - path), path);
    if (stat(dir, &st)) {
        log_error("cannot check the admin socket's directory", "dir=%s error=%s", dir,
                  strerror(errno));
        return -1;
    }
    if ((st.st_mode & (S_IWGRP | S_IWOTH)) || (st.st_uid != getuid() && st.st_uid != 0)) {
        log_error("the admin socket's directory is not private: others can write it or "
                  "own it; use a directory only this user can write (0700)",
                  "dir=%s mode=%03o owner=%ld", dir, (unsigned)(st.st_mode & 0777),
                  (long)st.st_uid);
        return -1;
    }
    return 0;
}

int admin_listen(struct admin *a)
{
    const char *path = a->cfg->admin_socket;
    struct sockaddr_un sa;
    struct stat st;
    int probe;

    if (strlen(path) >= sizeof sa.sun_path) {
        log_error("admin.socket path is too long", "path=%s", path);
        return -1;
    }
    if (check_socket_dir(path))
        return -1;
    /* Only a socket is ever replaced: a regular file (or a link) at this
     * path is someone's data or a trap, and stays. */
    if (lstat(path, &st) == 0 && !S_ISSOCK(st.st_mode)) {
        log_error("admin.socket names a file that is not a socket; not replacing it",
                  "path=%s", path);
        return -1;
    }
    /* A socket file that answers belongs to a running vigil: never steal it. */
    memset(&sa, 0, sizeof sa);
    sa.sun_family = AF_UNIX;
    memcpy(sa.sun_path, path, strlen(path));
    probe = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (probe >= 0 && connect(probe, (struct sockaddr *)&sa, sizeof sa) == 0) {
        close(probe);
        log_error("another vigil is running on this admin socket", "path=%s", path);
        return -1;
    }
    if (probe >= 0)
        close(probe);
    unlink(path);
    uv_pipe_init(a->loop, &a->server, 0);
    a->server.data = a;
    if (uv_pipe_bind(&a->server, path) || chmod(path, 0600) ||
        uv_listen((uv_stream_t *)&a->server, 64, on_connection)) {
        log_error("cannot listen on the admin socket", "path=%s error=%s", path, strerror(errno));
        uv_close((uv_handle_t *)&a->server, NULL);
        return -1;
    }
    a->listening = 1;
    uv_timer_init(a->loop, &a->sweep);
    a->sweep.data = a;
    {
        /* check a few times per idle period, at most once a second */
        uint64_t every = (uint64_t)(a->cfg->admin_idle_timeout * 250);
        every = every < 100 ? 100 : every > 1000 ? 1000 : every;
        uv_timer_start(&a->sweep, on_sweep, every, every);
    }
    a->sweeping = 1;
    log_info("admin socket listening", "path=%s", path);
    return 0;
}

void admin_close(struct admin *a)
{
    if (!a)
        return;
    while (a->clients)
        drop_client(a->clients);
    if (a->sweeping) {
        a->sweeping = 0;
        uv_close((uv_handle_t *)&a->sweep, NULL);
    }
    if (a->listening) {
        a->listening = 0;
        uv_close((uv_handle_t *)&a->server, NULL);
        unlink(a->cfg->admin_socket);
    }
}

void admin_free(struct admin *a)
{
    free(a);
}

void admin_event(struct admin *a, const char *kind, const char *text)
{
    if (!a)
        return;
    for (struct client *c = a->clients; c; c = c->next)
        if (c->tail && !c->closing)
            send_json(c, json_pack("{s:s,s:s,s:s,s:I}", "event", "tail", "kind", kind, "text",
                                   text ? text : "", "ts", (json_int_t)time(NULL)));
}
