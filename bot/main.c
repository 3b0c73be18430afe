/* main.c — vigil's entry point: parses the command line, loads the config,
 * wires store, desk, scripts, admin socket, chat and source onto one libuv
 * loop, and shuts them down in one order (stop_intake, then
 * finish_shutdown) on SIGINT/SIGTERM, a fatal adapter error or a start-up
 * that failed part way.  The only file that knows every layer. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/stat.h>
#include <unistd.h>
#include <uv.h>

#include "admin/admin.h"
#include "admin/repl.h"
#include "chat/console.h"
#include "chat/slack.h"
#include "core/config.h"
#include "core/http.h"
#include "core/log.h"
#include "core/ws.h"
#include "desk/desk.h"
#include "script/script.h"
#include "source/journal.h"
#include "source/replay.h"
#include "source/x.h"
#include "store/store.h"
#include "test/newcmd.h"
#include "test/replayrun.h"
#include "test/testkit.h"

#define VIGIL_VERSION "0.1.0"
#define SHUTDOWN_GRACE_MS 1500

struct app {
    uv_loop_t loop;
    struct config *cfg;
    struct store *store;
    struct desk *desk;
    struct script_rt *scripts;
    struct admin *admin;
    struct chat *chat;
    struct source *source;
    struct http *http;
    struct lws_context *ws;
    struct journal *journal;     /* record.dir: what comes in; NULL: none */
    uv_signal_t sigint, sigterm;
    uv_timer_t grace, storecheck;
    int stopping, exit_code, store_told;
};

static void usage(FILE *f)
{
    fprintf(f,
        "usage: vigil <command> [options]\n"
        "\n"
        "commands:\n"
        "  run            run the bot (default config: config/vigil.lua)\n"
        "  check-config   validate the config and exit (0 ok, 2 invalid)\n"
        "  repl           attach to the running bot (-e CMD runs CMD and exits)\n"
        "  test [PATH...]  run Lua script tests offline (default scripts/tests/*_test.lua)\n"
        "  new-command NAME  write scripts/NAME.lua and a passing scripts/tests/NAME_test.lua\n"
        "  replay JOURNAL  run a recorded journal offline through scripts (--expect GOLDEN)\n"
        "  version        print the version\n"
        "\n"
        "options:\n"
        "  -c, --config FILE     the config file\n"
        "  -l, --log-level LVL   debug, info, warn or error (overrides log_level)\n"
        "  -V, --version         print the version and exit\n"
        "  -h, --help            print this help and exit\n");
}

/* --- wiring ------------------------------------------------------------ */

static int on_deliver(void *arg, const char *source, const struct mention_page *page,
                      const char *cursor)
{
    struct app *a = arg;
    if (a->stopping)
        return -1;   /* not stored: the source offers it again after restart */
    if (desk_ingest(a->desk, source, page, cursor, NULL) != DESK_OK)
        return -1;
    journal_page(a->journal, desk_now(a->desk), source, page);   /* stored: once */
    return 0;
}

/* Commands from chat, and lines typed at the console: the console also
 * takes the admin commands (:status ...) the REPL has. */
static char *on_command(void *arg, const struct chat_command *cmd)
{
    struct app *a = arg;
    int ok;
    if (cmd->raw[0] == ':' && strcmp(a->cfg->chat, "console") == 0)
        return admin_exec(a->admin, cmd->user_id, cmd->raw, &ok);
    admin_event(a->admin, "command", cmd->raw);
    journal_command(a->journal, desk_now(a->desk), cmd);
    return script_run_command(a->scripts, cmd);
}

/* What the desk did, for :tail. */
static void on_desk_event(void *arg, enum desk_event_kind kind, int64_t ticket_id,
                          const char *what, const char *detail)
{
    struct app *a = arg;
    static const char *const kinds[] = { "ticket", "mention", "outbox", "sla" };
    char text[600];
    if (ticket_id > 0)
        snprintf(text, sizeof text, "#%lld %s%s%s", (long long)ticket_id, what,
                 detail ? ": " : "", detail ? detail : "");
    else
        snprintf(text, sizeof text, "%s%s%s", what, detail ? ": " : "", detail ? detail : "");
    admin_event(a->admin, kinds[kind], text);
}

/* Warnings and errors (script errors among them), for :tail.  Must not log. */
static void on_log_line(void *arg, enum log_level level, const char *line)
{
    if (level >= LOG_WARN)
        admin_event(((struct app *)arg)->admin, "log", line);
}

/* Small persistent values a source keeps (rotated tokens), in the store's
 * kv under the source's name. */
static char *source_load(void *arg, const char *key)
{
    struct app *a = arg;
    return store_kv_get(a->store, a->source->ops->name, key);
}

static int source_save(void *arg, const char *key, const char *value)
{
    struct app *a = arg;
    return store_kv_set(a->store, a->source->ops->name, key, value) ? -1 : 0;
}

/* Today's tally of something the source is billed for, per UTC day of
 * the desk's clock (the day X's invoice counts in). */
static int64_t source_count(void *arg, const char *item, int64_t add)
{
    struct app *a = arg;
    time_t now = (time_t)desk_now(a->desk);
    struct tm tm;
    char day[16];

    if (!gmtime_r(&now, &tm) || !strftime(day, sizeof day, "%Y-%m-%d", &tm))
        return -1;
    return store_usage_add(a->store, day, a->source->ops->name, item, add);
}

/* Something the admins must hear about (a script failed to load, X
 * refused the credentials): where they look. */
static void on_script_notice(void *arg, const char *text)
{
    struct app *a = arg;
    if (strcmp(a->cfg->chat, "console") == 0)
        console_print(a->chat, text);
    else
        desk_post_channel(a->desk, a->cfg->channel_escalations, text);
}

static void on_fatal(void *arg, const char *why);

static void told_cb(void *arg, const struct send_result *r) { (void)arg; (void)r; }

/* Every STORE_CHECK_MS: is the store file still the one opened (a cheap
 * stat), and has it been failing for a while?  A deleted or replaced store
 * stops the bot (exit 1): after a restart on a new file every ticket would
 * be posted again.  A store failing for `store.alert_after` seconds tells
 * the admins once, straight through chat (the outbox lives in the failing
 * store). */
#define STORE_CHECK_MS 2000

static void on_storecheck(uv_timer_t *t)
{
    struct app *a = t->data;
    char why[160], text[400];
    int64_t since;

    if (store_check(a->store)) {
        on_fatal(a, "the store file was deleted or replaced (see the error above)");
        return;
    }
    since = store_failing_since(a->store, why, sizeof why);
    if (!since) {
        a->store_told = 0;
        return;
    }
    if (a->store_told || (double)((int64_t)time(NULL) - since) < a->cfg->store_alert_after)
        return;
    a->store_told = 1;
    log_error("the store has been failing; mentions and commands wait", "path=%s error=%s "
              "for=%llds", a->cfg->store_path, why, (long long)((int64_t)time(NULL) - since));
    snprintf(text, sizeof text, "vigil cannot write its store %s: %s. New mentions and commands "
             "wait until it can (mentions are read again from X then). Check the disk and who "
             "holds the file.", a->cfg->store_path, why);
    if (strcmp(a->cfg->chat, "console") == 0)
        console_print(a->chat, text);
    else if (a->cfg->channel_escalations)
        a->chat->ops->post_channel(a->chat, a->cfg->channel_escalations, text, told_cb, NULL);
}

static void close_handle(uv_handle_t *h)
{
    if (!uv_is_closing(h))
        uv_close(h, NULL);
}

/* Second half of shutdown: everything in flight is done or given up. */
static void finish_shutdown(struct app *a)
{
    uv_timer_stop(&a->grace);
    close_handle((uv_handle_t *)&a->grace);
    uv_timer_stop(&a->storecheck);
    close_handle((uv_handle_t *)&a->storecheck);
    ws_context_close(a->ws);
    http_free(a->http);   /* aborted sends go back to the queue */
    a->http = NULL;
    if (a->source)
        a->source->ops->destroy(a->source);
    close_handle((uv_handle_t *)&a->sigint);
    close_handle((uv_handle_t *)&a->sigterm);
}

static void on_grace(uv_timer_t *t)
{
    struct app *a = t->data;
    int pending = desk_inflight(a->desk) + (a->http ? http_inflight(a->http) : 0);
    static int waited;

    waited += 50;
    if (pending && waited < SHUTDOWN_GRACE_MS)
        return;
    if (pending)
        log_warn("shutdown: giving up on sends still in flight; they stay queued",
                 "pending=%d", pending);
    finish_shutdown(a);
}

/* First half of shutdown, the one order for a stop and for a start-up that
 * failed part way: stop taking new work (what is queued stays queued in the
 * store).  Whatever was not created yet is skipped. */
static void stop_intake(struct app *a)
{
    a->stopping = 1;
    if (a->source)
        a->source->ops->stop(a->source);
    if (a->chat && a->chat->ops)
        a->chat->ops->stop(a->chat);
    if (a->scripts)
        script_unwatch(a->scripts);
    log_set_sink(NULL, NULL);
    admin_close(a->admin);
    if (a->desk)
        desk_stop(a->desk);
}

static void app_stop(struct app *a, const char *why)
{
    if (a->stopping)
        return;
    log_info("shutting down", "reason=%s", why);
    stop_intake(a);
    uv_timer_start(&a->grace, on_grace, 0, 50);
}

static void on_signal(uv_signal_t *s, int signum)
{
    app_stop(s->data, signum == SIGINT ? "SIGINT" : "SIGTERM");
}

static void on_quit(void *arg)
{
    app_stop(arg, "quit");
}

/* An adapter cannot go on (bad credentials, unreachable past its limit):
 * stop cleanly and exit non-zero so a supervisor restarts or alerts. */
static void on_fatal(void *arg, const char *why)
{
    struct app *a = arg;
    log_error("cannot continue", "reason=%s", why);
    a->exit_code = 1;
    app_stop(a, "fatal");
}

static void block_stop_signals(int how)
{
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGTERM);
    sigprocmask(how, &set, NULL);
}

static void unblock_stop_signals(void) { block_stop_signals(SIG_UNBLOCK); }

static int ensure_parent_dir(const char *path)
{
    char dir[1024];
    char *slash;
    snprintf(dir, sizeof dir, "%s", path);
    slash = strrchr(dir, '/');
    if (!slash)
        return 0;
    *slash = '\0';
    if (mkdir(dir, 0700) && errno != EEXIST) {
        log_error("cannot create directory", "path=%s error=%s", dir, strerror(errno));
        return -1;
    }
    return 0;
}

static int run_bot(struct config *cfg)
{
    struct app a;
    char *cursor = NULL;
    int rc = 1;

    memset(&a, 0, sizeof a);
    a.cfg = cfg;
    signal(SIGPIPE, SIG_IGN);
    if (ensure_parent_dir(cfg->store_path))
        return 1;
    a.store = store_open(cfg->store_path);
    if (!a.store)
        return 1;
    uv_loop_init(&a.loop);
    /* The handles every exit path closes exist from the start, so a start-up
     * failure anywhere below closes them like a normal stop does. */
    uv_timer_init(&a.loop, &a.grace);
    a.grace.data = &a;
    uv_timer_init(&a.loop, &a.storecheck);
    a.storecheck.data = &a;
    uv_signal_init(&a.loop, &a.sigint);
    uv_signal_init(&a.loop, &a.sigterm);
    a.sigint.data = a.sigterm.data = &a;
    a.ws = ws_context_new(&a.loop, strcmp(cfg->chat, "slack") == 0 ? slack_ws_protocols() : NULL);
    a.http = http_new(&a.loop);
    a.desk = desk_new(&a.loop, a.store, cfg);
    if (!a.ws || !a.http || !a.desk)
        goto out;
    if (cfg->record_dir) {
        a.journal = journal_open(cfg->record_dir);
        if (!a.journal)
            goto out;
    }

    if (strcmp(cfg->chat, "console") == 0)
        a.chat = console_new(&a.loop, cfg->admin_user, cfg->command, on_quit, &a);
    else
        a.chat = slack_new(&a.loop, a.ws, a.http, cfg, on_fatal, &a);
    if (strcmp(cfg->source, "replay") == 0)
        a.source = replay_new(&a.loop, cfg->replay_file, cfg->replay_interval);
    else
        a.source = x_new(&a.loop, a.http, cfg);
    if (!a.chat || !a.source)
        goto out;
    a.chat->on_command = on_command;
    a.chat->on_command_arg = &a;
    a.source->deliver = on_deliver;
    a.source->deliver_arg = &a;
    a.source->notice = on_script_notice;
    a.source->load = source_load;
    a.source->save = source_save;
    a.source->count = source_count;
    a.source->svc_arg = &a;
    desk_set_adapters(a.desk, a.chat, a.source);
    a.scripts = script_new(&a.loop, a.desk);
    if (!a.scripts)
        goto out;
    script_set_notice(a.scripts, on_script_notice, &a);
    script_load_all(a.scripts);
    script_watch(a.scripts);
    desk_set_hooks(a.desk, script_desk_hooks(a.scripts));
    a.admin = admin_new(&a.loop, a.desk, a.scripts);
    if (!a.admin || ensure_parent_dir(cfg->admin_socket) || admin_listen(a.admin)) {
        rc = 1;
        goto out;
    }
    admin_set_journal(a.admin, a.journal);   /* the REPL's commands, :inject */
    desk_set_observer(a.desk, on_desk_event, &a);
    log_set_sink(on_log_line, &a);

    uv_signal_start(&a.sigint, on_signal, SIGINT);
    uv_signal_start(&a.sigterm, on_signal, SIGTERM);
    /* main() held these back until now; one that came meanwhile runs
     * on_signal on the first loop turn. */
    unblock_stop_signals();

    log_info("vigil started", "version=%s chat=%s source=%s store=%s tickets=%lld",
             VIGIL_VERSION, cfg->chat, cfg->source, cfg->store_path,
             (long long)store_ticket_count(a.store));
    if (a.chat->ops->start(a.chat) || desk_start(a.desk))
        goto out;
    uv_timer_start(&a.storecheck, on_storecheck, STORE_CHECK_MS, STORE_CHECK_MS);
    cursor = store_cursor_get(a.store, a.source->ops->name);
    if (a.source->ops->start(a.source, cursor))
        goto out;
    free(cursor);
    cursor = NULL;

    uv_run(&a.loop, UV_RUN_DEFAULT);
    rc = a.exit_code;

out:
    free(cursor);
    if (!a.stopping) {
        /* start-up failed: close what was opened, as a stop does */
        stop_intake(&a);
        finish_shutdown(&a);
        uv_run(&a.loop, UV_RUN_DEFAULT);
    }
    ws_context_finish(a.ws);
    if (uv_loop_close(&a.loop) != 0)
        log_warn("event loop closed with handles still open", "");
    if (a.chat)
        a.chat->ops->destroy(a.chat);
    admin_free(a.admin);
    script_free(a.scripts);
    desk_free(a.desk);
    journal_close(a.journal);
    store_close(a.store);
    if (rc == 0)
        log_info("vigil stopped", "");
    return rc;
}

int main(int argc, char **argv)
{
    const char *cmd = argc > 1 ? argv[1] : "run";
    const char *path = "config/vigil.lua", *level = NULL;
    char *cmds[64];
    int ncmds = 0;
    struct config *cfg;
    char err[1024];
    int rc;

    if (argc > 1 && !strcmp(argv[1], "test"))
        return testkit_main(argc - 2, argv + 2);
    if (argc > 1 && !strcmp(argv[1], "new-command"))
        return newcmd_main(argc - 2, argv + 2);
    if (argc > 1 && !strcmp(argv[1], "replay"))
        return replayrun_main(argc - 2, argv + 2);
    /* A SIGTERM during start-up must still mean a clean stop, not death by
     * default action: hold it until the loop's handlers are in place. */
    block_stop_signals(SIG_BLOCK);
    if (argc > 1 && argv[1][0] == '-')
        cmd = "run";
    for (int i = (argc > 1 && argv[1][0] != '-') ? 2 : 1; i < argc; i++) {
        if ((!strcmp(argv[i], "-c") || !strcmp(argv[i], "--config")) && i + 1 < argc) {
            path = argv[++i];
        } else if ((!strcmp(argv[i], "-l") || !strcmp(argv[i], "--log-level")) && i + 1 < argc) {
            level = argv[++i];
        } else if (!strcmp(argv[i], "-e") && i + 1 < argc && ncmds < 64) {
            cmds[ncmds++] = argv[++i];
        } else if (!strcmp(argv[i], "-V") || !strcmp(argv[i], "--version")) {
            printf("vigil %s\n", VIGIL_VERSION);
            return 0;
        } else if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) {
            usage(stdout);
            return 0;
        } else {
            fprintf(stderr, "vigil: unknown argument '%s'\n", argv[i]);
            usage(stderr);
            return 2;
        }
    }
    if (!strcmp(cmd, "version") || !strcmp(cmd, "--version")) {
        printf("vigil %s\n", VIGIL_VERSION);
        return 0;
    }
    if (!strcmp(cmd, "help")) {
        usage(stdout);
        return 0;
    }
    if (!strcmp(cmd, "repl")) {
        unblock_stop_signals();   /* the REPL handles Ctrl-C itself */
        return repl_main(path, cmds, ncmds);
    }
    if (ncmds) {
        fprintf(stderr, "vigil: -e goes with repl\n");
        return 2;
    }
    if (strcmp(cmd, "run") && strcmp(cmd, "check-config")) {
        fprintf(stderr, "vigil: unknown command '%s'\n", cmd);
        usage(stderr);
        return 2;
    }
    if (level && log_parse_level(level) < 0) {
        fprintf(stderr, "vigil: --log-level must be debug, info, warn or error\n");
        return 2;
    }
    cfg = config_load(path, err, sizeof err);
    if (!cfg) {
        char *clean = log_redact(err);
        fprintf(stderr, "vigil: invalid config: %s\n", clean ? clean : err);
        free(clean);
        return 2;
    }
    if (!level)
        level = cfg->log_level ? cfg->log_level : "info";
    log_set_level((enum log_level)log_parse_level(level));
    if (!strcmp(cmd, "check-config")) {
        printf("%s: ok (chat=%s source=%s staff=%zu)\n", path, cfg->chat, cfg->source,
               cfg->nstaff);
        config_free(cfg);
        return 0;
    }
    rc = run_bot(cfg);
    config_free(cfg);
    log_clear_secrets();
    return rc;
}
