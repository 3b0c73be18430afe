/* admin_cmd.c — the admin commands (:status, :tickets, :show, :inject,
 * :reload, :scripts, :lua, :log, and /tw … as the local admin), the same
 * for the console of `make run` and for `vigil repl`, and the completion
 * lists the REPL asks for.  Knows the desk, the script runtime and the
 * store; never the socket or a wire format. */
#include "admin/admin_internal.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "chat/command.h"
#include "core/buf.h"
#include "core/log.h"
#include "core/text.h"
#include "source/journal.h"
#include "source/mention.h"
#include "source/source.h"
#include "source/xlink.h"

/* --- text helpers ------------------------------------------------------- */

/* The answer built in `b`, without its trailing newlines.  Returns new
 * (caller frees); `b` is left empty. */
static char *take_text(struct buf *b)
{
    char *s = buf_take(b);
    size_t n = s ? strlen(s) : 0;
    while (n && s[n - 1] == '\n')
        s[--n] = '\0';
    return s;
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
    return desk_ticket_status(t);
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
    struct buf b = { 0 };
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
    buf_printf(&b, "uptime      %s\n", up);
    buf_printf(&b, "chat        %s\n", desk_chat_state(a->desk));
    desk_blocked(a->desk, blocked, sizeof blocked);
    for (char *line = blocked, *nl; *line; line = nl ? nl + 1 : line + strlen(line)) {
        nl = strchr(line, '\n');
        buf_printf(&b, "            blocked: %.*s\n", nl ? (int)(nl - line) : (int)strlen(line),
                  line);
    }
    buf_printf(&b, "source      %s\n", desk_source_state(a->desk));
    if (desk_source_usage(a->desk, &u) == 0) {
        char items[400] = "nothing billed yet";
        size_t n = 0;
        for (size_t i = 0; i < u.n && n < sizeof items; i++)
            if (u.v[i].count)
                n += (size_t)snprintf(items + n, sizeof items - n, "%s%s: %lld", n ? ", " : "",
                                      u.v[i].label, (long long)u.v[i].count);
        buf_printf(&b, "cost today  about $%.3f at x.prices (UTC day): %s\n", u.total, items);
    }
    buf_printf(&b, "outbox      %s (failed: %lld)", depths && *depths ? depths : "empty",
              (long long)store_job_count(a->store, "failed"));
    {
        int64_t waiting = desk_outbox_waiting(a->desk);
        if (waiting > 0)
            buf_printf(&b, ", oldest waiting %llds", (long long)waiting);
        buf_printf(&b, "\n");
    }
    buf_printf(&b, "tickets     %lld (%lld mentions)\n", (long long)store_ticket_count(a->store),
              (long long)store_mention_count(a->store));
    buf_printf(&b, "scripts     %d loaded, %d with errors%s\n", scripts, broken,
              broken ? " (:scripts shows them)" : "");
    buf_printf(&b, "store       %s, %lld KiB\n", a->cfg->store_path,
              (long long)store_size_bytes(a->store) / 1024);
    {
        char why[160];
        int64_t since = store_failing_since(a->store, why, sizeof why);
        if (since)
            buf_printf(&b, "store       FAILING for %llds: %s\n",
                      (long long)(time(NULL) - since), why);
    }
    buf_printf(&b, "memory      %ld KiB resident, Lua %zu KiB\n", rss_kb(),
              script_memory(a->scripts) / 1024);
    free(depths);
    free(list);
    return take_text(&b);
}

static char *cmd_tickets(struct admin *a, const char *user, const char *filter, int *ok)
{
    struct buf b = { 0 };
    size_t n;
    int64_t *ids, now = desk_now(a->desk);

    if (desk_ticket_list(a->desk, *filter ? filter : "open", user, 200, &ids, &n) != DESK_OK) {
        char msg[160];
        *ok = 0;
        snprintf(msg, sizeof msg, ":tickets takes %s", desk_ticket_filter_names());
        return strdup(msg);
    }
    if (!n) {
        free(ids);
        return strdup("No tickets.");
    }
    buf_printf(&b, "%-6s %-9s %-20s %-16s %-5s %s\n", "#", "STATUS", "CUSTOMER", "ASSIGNEE", "AGE",
              "TEXT");
    for (size_t i = 0; i < n; i++) {
        struct ticket t;
        char handle[40], text[80], age[16];
        if (store_ticket_get(a->store, ids[i], &t))
            continue;
        snprintf(handle, sizeof handle, "@%s", t.customer_handle);
        text_excerpt(t.text, text, sizeof text);
        ago(now - t.opened_at, age, sizeof age);
        buf_printf(&b, "#%-5lld %-9s %-20.20s %-16.16s %-5s %s\n", (long long)t.id, status_of(&t),
                  handle, t.assignee ? desk_staff_name(a->desk, t.assignee) : "-", age, text);
        store_ticket_clear(&t);
    }
    free(ids);
    return take_text(&b);
}

static char *cmd_show(struct admin *a, const char *ref, int *ok)
{
    struct buf b = { 0 };
    char url[160];
    struct ticket t;
    struct event *ev;
    size_t n;
    long long id = strtoll(*ref == '#' ? ref + 1 : ref, NULL, 10);

    if (id <= 0 || store_ticket_get(a->store, id, &t)) {
        *ok = 0;
        return strdup(id <= 0 ? "usage: :show <ticket>" : "There is no such ticket.");
    }
    buf_printf(&b, "#%lld %s  @%s%s%s%s\n", id, status_of(&t), t.customer_handle,
              t.customer_name ? " (" : "", t.customer_name ? t.customer_name : "",
              t.customer_name ? ")" : "");
    buf_printf(&b, "%s\n", t.text);
    desk_permalink(a->desk, t.customer_handle, t.tweet_id, url, sizeof url);
    buf_printf(&b, "%s\n", url);
    buf_printf(&b, "assignee %s · priority %s · tags %s · chat %s%s\n",
              t.assignee ? desk_staff_name(a->desk, t.assignee) : "-", t.priority,
              *t.tags ? t.tags : "-", t.chat_ref ? t.chat_ref : "(not posted yet)",
              t.injected ? " · injected" : "");
    buf_printf(&b, "audit trail:\n");
    ev = store_events_of(a->store, id, &n);
    for (size_t i = 0; i < n; i++) {
        char when[32], detail[200];
        time_t tt = (time_t)ev[i].at;
        struct tm tm;
        localtime_r(&tt, &tm);
        strftime(when, sizeof when, "%Y-%m-%d %H:%M:%S", &tm);
        text_excerpt(ev[i].detail ? ev[i].detail : "", detail, sizeof detail);
        buf_printf(&b, "  %s  %-14.14s %-14s %s\n", when, ev[i].actor, ev[i].action, detail);
    }
    store_events_free(ev, n);
    store_ticket_clear(&t);
    return take_text(&b);
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
    journal_page(a->journal, desk_now(a->desk), "inject", &p);   /* stored: once */
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

void admin_set_journal(struct admin *a, struct journal *j)
{
    a->journal = j;
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
        journal_command(a->journal, desk_now(a->desk), &cmd);   /* before it runs, as chat's */
        answer = script_run_command(a->scripts, &cmd);
        *ok = !script_last_failed(a->scripts);
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

json_t *admin_complete(struct admin *a, const char *kind)
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
