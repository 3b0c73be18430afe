/* admin.c — admin commands and the admin socket.  The commands are the
 * same for the console of `make run` and for `vigil repl`; the socket
 * speaks one JSON object per line:
 *   {"id":1,"op":"exec","line":":status"} -> {"id":1,"ok":true,"text":"..."}
 *   {"id":2,"op":"complete","kind":"verbs"} -> {"id":2,"ok":true,"items":[...]}
 *   {"id":3,"op":"tail","on":true} -> ok, then {"event":"tail","kind":...,"text":...}
 *   {"id":4,"op":"ping"} -> {"id":4,"ok":true}
 * Peers must run as our uid (or root), checked with SO_PEERCRED. */
#include "admin/admin.h"

#include <ctype.h>
#include <errno.h>
#include <jansson.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "chat/command.h"
#include "core/log.h"
#include "core/text.h"
#include "source/mention.h"
#include "source/source.h"
#include "source/xlink.h"

#define MAX_LINE (1u << 20)
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

struct admin {
    uv_loop_t *loop;
    struct desk *desk;
    struct script_rt *scripts;
    struct store *store;
    const struct config *cfg;
    uv_pipe_t server;
    int listening;
    struct client *clients;
    size_t nclients;
    uv_timer_t sweep;       /* drops clients idle on half a line */
    int sweeping;
    time_t started;
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

/* --- text helpers ------------------------------------------------------- */

struct sbuf {
    char *s;
    size_t len, cap;
};

static void sb_printf(struct sbuf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void sb_printf(struct sbuf *b, const char *fmt, ...)
{
    va_list ap;
    int n;
    va_start(ap, fmt);
    n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0)
        return;
    if (b->len + (size_t)n + 1 > b->cap) {
        size_t cap = b->cap ? b->cap : 256;
        char *ns;
        while (cap < b->len + (size_t)n + 1)
            cap *= 2;
        ns = realloc(b->s, cap);
        if (!ns)
            return;
        b->s = ns;
        b->cap = cap;
    }
    va_start(ap, fmt);
    vsnprintf(b->s + b->len, b->cap - b->len, fmt, ap);
    va_end(ap);
    b->len += (size_t)n;
}

static char *sb_take(struct sbuf *b)
{
    if (!b->s)
        return strdup("");
    while (b->len && b->s[b->len - 1] == '\n')
        b->s[--b->len] = '\0';
    return b->s;
}

static void ago(int64_t secs, char *out, size_t len)
{
    if (secs < 60)
        snprintf(out, len, "%llds", (long long)secs);
    else if (secs < 3600)
        snprintf(out, len, "%lldm", (long long)secs / 60);
    else if (secs < 86400)
        snprintf(out, len, "%lldh", (long long)secs / 3600);
    else
        snprintf(out, len, "%lldd", (long long)secs / 86400);
}

static const char *status_of(const struct ticket *t)
{
    return strcmp(t->state, "closed") == 0 ? "closed" : t->escalated ? "escalated"
         : t->assignee ? "assigned" : "new";
}

/* --- commands ---------------------------------------------------------- */

static char *cmd_help(void)
{
    return strdup(
        "/tw <verb> ...      run a command as the local admin (/tw help lists them)\n"
        ":status             uptime, chat and source state, outbox, scripts, store, memory\n"
        ":tickets [filter]   open (default), mine, unassigned, escalated, closed, all\n"
        ":show <ticket>      a ticket and its whole audit trail\n"
        ":inject @handle text  a test mention through the real ingest path\n"
        ":reload [name]      reload one script, or all\n"
        ":scripts            every script and whether it loaded\n"
        ":lua <code>         Lua in the bot's runtime (admin, same budgets)\n"
        ":tail               live mentions, commands, outbox results, errors (Ctrl-C stops)\n"
        ":log <level>        debug, info, warn or error\n"
        ":quit               leave (Ctrl-D too)");
}

static long rss_kb(void)
{
    FILE *f = fopen("/proc/self/statm", "r");
    long pages = 0, resident = 0;
    if (f) {
        if (fscanf(f, "%ld %ld", &pages, &resident) != 2)
            resident = 0;
        fclose(f);
    }
    return resident * (sysconf(_SC_PAGESIZE) / 1024);
}

static char *cmd_status(struct admin *a)
{
    struct sbuf b = { 0 };
    struct source_usage u;
    char up[32], *depths = store_job_depths(a->store), *list = script_list(a->scripts);
    char blocked[1024];
    int scripts = 0, broken = 0;
    for (char *p = list; p && *p; p = strchr(p, '\n') ? strchr(p, '\n') + 1 : p + strlen(p)) {
        scripts++;
        if (strstr(p, "error:") && (!strchr(p, '\n') || strstr(p, "error:") < strchr(p, '\n')))
            broken++;
    }
    ago((int64_t)(time(NULL) - a->started), up, sizeof up);
    sb_printf(&b, "uptime      %s\n", up);
    sb_printf(&b, "chat        %s\n", desk_chat_state(a->desk));
    desk_blocked(a->desk, blocked, sizeof blocked);
    for (char *line = blocked, *nl; *line; line = nl ? nl + 1 : line + strlen(line)) {
        nl = strchr(line, '\n');
        sb_printf(&b, "            blocked: %.*s\n", nl ? (int)(nl - line) : (int)strlen(line),
                  line);
    }
    sb_printf(&b, "source      %s\n", desk_source_state(a->desk));
    if (desk_source_usage(a->desk, &u) == 0) {
        char items[400] = "nothing billed yet";
        size_t n = 0;
        for (size_t i = 0; i < u.n && n < sizeof items; i++)
            if (u.v[i].count)
                n += (size_t)snprintf(items + n, sizeof items - n, "%s%s: %lld", n ? ", " : "",
                                      u.v[i].label, (long long)u.v[i].count);
        sb_printf(&b, "cost today  about $%.3f at x.prices (UTC day): %s\n", u.total, items);
    }
    sb_printf(&b, "outbox      %s (failed: %lld)", depths && *depths ? depths : "empty",
              (long long)store_job_count(a->store, "failed"));
    {
        int64_t waiting = desk_outbox_waiting(a->desk);
        if (waiting > 0)
            sb_printf(&b, ", oldest waiting %llds", (long long)waiting);
        sb_printf(&b, "\n");
    }
    sb_printf(&b, "tickets     %lld (%lld mentions)\n", (long long)store_ticket_count(a->store),
              (long long)store_mention_count(a->store));
    sb_printf(&b, "scripts     %d loaded, %d with errors%s\n", scripts, broken,
              broken ? " (:scripts shows them)" : "");
    sb_printf(&b, "store       %s, %lld KiB\n", a->cfg->store_path,
              (long long)store_size_bytes(a->store) / 1024);
    {
        char why[160];
        int64_t since = store_failing_since(a->store, why, sizeof why);
        if (since)
            sb_printf(&b, "store       FAILING for %llds: %s\n",
                      (long long)(time(NULL) - since), why);
    }
    sb_printf(&b, "memory      %ld KiB resident, Lua %zu KiB\n", rss_kb(),
              script_memory(a->scripts) / 1024);
    free(depths);
    free(list);
    return sb_take(&b);
}

static char *cmd_tickets(struct admin *a, const char *user, const char *filter, int *ok)
{
    const char *where = *filter ? filter : "open", *arg = NULL;
    struct sbuf b = { 0 };
    size_t n;
    int64_t *ids, now = desk_now(a->desk);

    if (strcmp(where, "mine") == 0) {
        where = "assignee";
        arg = user;
    } else if (strcmp(where, "open") && strcmp(where, "unassigned") && strcmp(where, "escalated") &&
               strcmp(where, "closed") && strcmp(where, "all")) {
        *ok = 0;
        return strdup(":tickets takes open, mine, unassigned, escalated, closed or all");
    }
    ids = store_ticket_list(a->store, where, arg, 200, &n);
    if (!n) {
        free(ids);
        return strdup("No tickets.");
    }
    sb_printf(&b, "%-6s %-9s %-20s %-16s %-5s %s\n", "#", "STATUS", "CUSTOMER", "ASSIGNEE", "AGE",
              "TEXT");
    for (size_t i = 0; i < n; i++) {
        struct ticket t;
        char handle[40], text[80], age[16];
        if (store_ticket_get(a->store, ids[i], &t))
            continue;
        snprintf(handle, sizeof handle, "@%s", t.customer_handle);
        text_excerpt(t.text, text, sizeof text);
        ago(now - t.opened_at, age, sizeof age);
        sb_printf(&b, "#%-5lld %-9s %-20.20s %-16.16s %-5s %s\n", (long long)t.id, status_of(&t),
                  handle, t.assignee ? desk_staff_name(a->desk, t.assignee) : "-", age, text);
        store_ticket_clear(&t);
    }
    free(ids);
    return sb_take(&b);
}

static char *cmd_show(struct admin *a, const char *ref, int *ok)
{
    struct sbuf b = { 0 };
    char url[160];
    struct ticket t;
    struct event *ev;
    size_t n;
    long long id = strtoll(*ref == '#' ? ref + 1 : ref, NULL, 10);

    if (id <= 0 || store_ticket_get(a->store, id, &t)) {
        *ok = 0;
        return strdup(id <= 0 ? "usage: :show <ticket>" : "There is no such ticket.");
    }
    sb_printf(&b, "#%lld %s  @%s%s%s%s\n", id, status_of(&t), t.customer_handle,
              t.customer_name ? " (" : "", t.customer_name ? t.customer_name : "",
              t.customer_name ? ")" : "");
    sb_printf(&b, "%s\n", t.text);
    xlink_status_url(t.customer_handle, t.tweet_id, url, sizeof url);
    sb_printf(&b, "%s\n", url);
    sb_printf(&b, "assignee %s · priority %s · tags %s · chat %s%s\n",
              t.assignee ? desk_staff_name(a->desk, t.assignee) : "-", t.priority,
              *t.tags ? t.tags : "-", t.chat_ref ? t.chat_ref : "(not posted yet)",
              t.injected ? " · injected" : "");
    sb_printf(&b, "audit trail:\n");
    ev = store_events_of(a->store, id, &n);
    for (size_t i = 0; i < n; i++) {
        char when[32], detail[200];
        time_t tt = (time_t)ev[i].at;
        struct tm tm;
        localtime_r(&tt, &tm);
        strftime(when, sizeof when, "%Y-%m-%d %H:%M:%S", &tm);
        text_excerpt(ev[i].detail ? ev[i].detail : "", detail, sizeof detail);
        sb_printf(&b, "  %s  %-14.14s %-14s %s\n", when, ev[i].actor, ev[i].action, detail);
    }
    store_events_free(ev, n);
    store_ticket_clear(&t);
    return sb_take(&b);
}

static char *cmd_inject(struct admin *a, const char *args, int *ok)
{
    char handle[64], author[80], conv[24], text_out[200];
    const char *text;
    struct mention m = { 0 };
    struct mention_page p = { 0 };
    size_t hl;
    int64_t id, tid;

    while (isspace((unsigned char)*args))
        args++;
    if (*args == '@')
        args++;
    hl = strcspn(args, " \t");
    text = args + hl;
    while (isspace((unsigned char)*text))
        text++;
    if (!hl || hl >= sizeof handle || !*text) {
        *ok = 0;
        return strdup("usage: :inject @handle text of the tweet");
    }
    memcpy(handle, args, hl);
    handle[hl] = '\0';
    /* above every stored id, so it sorts as the newest tweet */
    id = store_mention_max_id(a->store);
    id = (id > 0 ? id : 1900000000000000000LL) + 1;
    snprintf(author, sizeof author, "injected:%s", handle);
    snprintf(conv, sizeof conv, "%lld", (long long)id);
    m.id = m.original_id = id;
    m.text = (char *)text;
    m.author_id = author;
    m.author_handle = handle;
    m.author_name = handle;
    m.conversation_id = conv;
    m.created_at = desk_now(a->desk);
    m.injected = 1;
    p.v = &m;
    p.n = 1;
    if (desk_ingest(a->desk, "inject", &p, NULL, NULL) != DESK_OK) {
        *ok = 0;
        return strdup("The injected mention was not stored (see log).");
    }
    tid = store_ticket_find_open(a->store, author, conv);
    text_excerpt(text, text_out, sizeof text_out);
    log_info("mention injected", "handle=%s ticket=%lld", handle, (long long)tid);
    {
        char *out = NULL;
        if (asprintf(&out, "Injected @%s: ticket #%lld (\"%s\")", handle, (long long)tid,
                     text_out) < 0)
            out = NULL;
        return out ? out : strdup("Injected.");
    }
}

char *admin_exec(struct admin *a, const char *user, const char *line, int *ok)
{
    char verb[32];
    const char *rest;
    size_t n;

    *ok = 1;
    while (isspace((unsigned char)*line))
        line++;
    if (*line == '/') {
        struct chat_command cmd = { .user_id = user, .channel = "admin" };
        char *answer;
        if (chat_command_parse(&cmd, line, a->cfg->command, CHAT_PARSE_PEOPLE) < 0)
            return strdup("out of memory");
        answer = script_run_command(a->scripts, &cmd);
        chat_command_clear(&cmd);
        admin_event(a, "command", line);
        return answer;
    }
    if (*line != ':') {
        *ok = 0;
        return strdup("Commands start with / (like /tw help) or : (like :help).");
    }
    n = strcspn(line, " \t");
    if (n >= sizeof verb) {
        *ok = 0;
        return strdup("Unknown command. Type :help.");
    }
    memcpy(verb, line, n);
    verb[n] = '\0';
    rest = line + n;
    while (isspace((unsigned char)*rest))
        rest++;
    if (!strcmp(verb, ":help"))
        return cmd_help();
    if (!strcmp(verb, ":status"))
        return cmd_status(a);
    if (!strcmp(verb, ":tickets"))
        return cmd_tickets(a, user, rest, ok);
    if (!strcmp(verb, ":show"))
        return cmd_show(a, rest, ok);
    if (!strcmp(verb, ":inject"))
        return cmd_inject(a, rest, ok);
    if (!strcmp(verb, ":reload")) {
        int failed = script_reload(a->scripts, *rest ? rest : NULL);
        *ok = failed == 0;
        return strdup(failed == 0 ? "Reloaded." : failed < 0 ? "No such script."
                                   : "Some scripts did not load; :scripts says why.");
    }
    if (!strcmp(verb, ":scripts"))
        return script_list(a->scripts);
    if (!strcmp(verb, ":lua")) {
        const struct staff *s = config_staff(a->cfg, user);
        if (!s || s->role != ROLE_ADMIN) {
            *ok = 0;
            desk_audit(a->desk, 0, user, "denied", ":lua");
            return strdup(":lua is for admins.");
        }
        if (!*rest) {
            *ok = 0;
            return strdup("usage: :lua <code>");
        }
        return script_eval(a->scripts, user, rest, ok);
    }
    if (!strcmp(verb, ":log")) {
        int level = log_parse_level(rest);
        if (level < 0) {
            *ok = 0;
            return strdup("usage: :log debug|info|warn|error");
        }
        log_set_level((enum log_level)level);
        return strdup("Log level set.");
    }
    if (!strcmp(verb, ":tail"))
        return strdup("The console shows everything as it happens already.");
    *ok = 0;
    return strdup("Unknown command. Type :help.");
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

static json_t *complete(struct admin *a, const char *kind)
{
    json_t *items = json_array();
    if (!strcmp(kind, "verbs")) {
        char **v = script_verbs(a->scripts);
        for (char **p = v; p && *p; p++)
            json_array_append_new(items, json_string(*p));
        script_strv_free(v);
    } else if (!strcmp(kind, "tickets")) {
        size_t n;
        int64_t *ids = store_ticket_list(a->store, "open", NULL, 500, &n);
        for (size_t i = 0; i < n; i++) {
            char s[24];
            snprintf(s, sizeof s, "%lld", (long long)ids[i]);
            json_array_append_new(items, json_string(s));
        }
        free(ids);
    } else if (!strcmp(kind, "staff")) {
        for (size_t i = 0; i < a->cfg->nstaff; i++) {
            char first[128];
            size_t fl = strcspn(a->cfg->staff[i].name, " ");
            snprintf(first, sizeof first, "%.*s", (int)fl, a->cfg->staff[i].name);
            for (char *p = first; *p; p++)
                *p = (char)tolower((unsigned char)*p);
            json_array_append_new(items, json_string(first));
        }
    } else if (!strcmp(kind, "canned")) {
        char **v = store_canned_names(a->store);
        for (char **p = v; p && *p; p++)
            json_array_append_new(items, json_string(*p));
        store_strv_free(v);
    }
    return items;
}

void admin_req_clear(struct admin_req *r)
{
    free(r->line);
    free(r->id);
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
    if (!op || (strcmp(op, "exec") && strcmp(op, "complete") && strcmp(op, "tail") &&
                strcmp(op, "ping"))) {
        snprintf(err, errlen, "%s \"op\" (exec, complete, tail, ping)", op ? "unknown" : "missing");
    } else if (!strcmp(op, "exec") && !l) {
        snprintf(err, errlen, "exec needs \"line\"");
    } else {
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
    if (!strcmp(r.op, "exec")) {
        int ok;
        char *text = admin_exec(a, a->cfg->admin_user, r.line, &ok);
        send_json(c, json_pack("{s:O?,s:b,s:s}", "id", id, "ok", ok, "text", text));
        free(text);
    } else if (!strcmp(r.op, "complete")) {
        send_json(c, json_pack("{s:O?,s:b,s:o}", "id", id, "ok", 1, "items", complete(a, r.kind)));
    } else if (!strcmp(r.op, "tail")) {
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
        if (c->len + 1 >= MAX_LINE) {
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
