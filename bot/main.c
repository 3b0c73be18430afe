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
#include <fcntl.h>
#include <uv.h>

#include "admin/admin.h"
#include "admin/repl.h"
#include "chat/console.h"
#include "chat/slack.h"
#include "core/config.h"
#include "core/http.h"
#include "core/instance.h"
#include "core/log.h"
#include "core/notify.h"
#include "core/ws.h"
#include "desk/desk.h"
#include "doctor.h"
#include "script/script.h"
#include "source/journal.h"
#include "source/replay.h"
#include "source/tweetlen.h"
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
    uv_signal_t sigint, sigterm, sighup;
    uv_timer_t grace, storecheck, notify;
    int stopping, exit_code, store_told;
    /* systemd (issue 20) */
    int started, ready, wd_withheld, ticks;
    uint64_t wd_ms, last_pet_ms, last_connected_ms;
    const char *cli_level;   /* -l given: a reload keeps it */
};

static void usage(FILE *f)
{
    fprintf(f,
        "usage: vigil <command> [options]\n"
        "\n"
        "commands:\n"
        "  run            run the bot\n"
        "  check-config   validate the config and exit (0 ok, 2 invalid)\n"
        "  repl           attach to the running bot (-e CMD runs CMD and exits)\n"
        "  test [PATH...]  run Lua script tests offline (default scripts/tests/*_test.lua)\n"
        "  new-command NAME  write scripts/NAME.lua and a passing scripts/tests/NAME_test.lua\n"
        "  replay JOURNAL  run a recorded journal offline through scripts (--expect GOLDEN)\n"
        "  doctor         check the config against Slack and X (0: all pass)\n"
        "  version        print the version\n"
        "\n"
        "options:\n"
        "  -c, --config FILE     the config file (else $VIGIL_CONFIG, /etc/vigil/vigil.lua,\n"
        "                        ./config/vigil.lua, the first that exists)\n"
        "  -s, --socket PATH     repl: the admin socket (no config is read)\n"
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

/* A command's form for the chat (issue 19): the script declares it. */
static struct chat_form *on_form(void *arg, const char *verb, const char *user)
{
    return script_form(((struct app *)arg)->scripts, verb, user);
}

/* A reply's length as X counts it, for a form's live "N/280". */
static int on_measure(const char *text)
{
    struct tweetlen t;
    tweetlen_check(text, strlen(text), &t);
    return t.weighted;
}

/* The ticket a chat thread belongs to, for commands typed in it (issue 19). */
static int64_t on_ticket_of(void *arg, const char *channel, const char *ref)
{
    int64_t id = store_ticket_by_ref(((struct app *)arg)->store, ref);
    (void)channel;
    return id > 0 ? id : 0;
}

static int on_has_verb(void *arg, const char *verb)
{
    char **v = script_verbs(((struct app *)arg)->scripts);
    int found = 0;
    for (size_t i = 0; v && v[i] && !found; i++)
        found = strcmp(v[i], verb) == 0;
    script_strv_free(v);
    return found;
}

/* A staff member's App Home (issue 19). */
static int on_home(void *arg, const char *user, struct chat_home *out)
{
    return desk_home(((struct app *)arg)->desk, user, out);
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
    /* App Homes show tickets: refreshed soon, coalesced by the chat */
    if (kind != DESK_EV_JOB && a->chat && a->chat->ops->home_changed)
        a->chat->ops->home_changed(a->chat);
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

/* --- systemd: readiness, status, watchdog ------------------------------ */

#define NOTIFY_TICK_MS 250

static int chat_connected(struct app *a)
{
    const char *st;
    if (strcmp(a->cfg->chat, "slack") != 0)
        return 1;   /* the console is there as long as the process is */
    st = a->chat->ops->state ? a->chat->ops->state(a->chat) : NULL;
    return st && strncmp(st, "connected", 9) == 0;
}

static void send_status(struct app *a, int connected)
{
    struct store_stats st;
    char line[200], wait[48] = "";
    int64_t waiting = desk_outbox_waiting(a->desk), queued;

    memset(&st, 0, sizeof st);
    if (store_stats(a->store, (int64_t)time(NULL), (int64_t)a->cfg->sla_first_response, &st))
        st.open = -1;
    queued = store_job_count(a->store, "queued");
    if (waiting > 0)
        snprintf(wait, sizeof wait, ", oldest waiting %llds", (long long)waiting);
    snprintf(line, sizeof line, "chat %s; %lld tickets open; outbox %lld queued%s",
             connected ? "connected" : "NOT connected", (long long)st.open,
             (long long)queued, wait);
    notify_status(line);
}

/* Every NOTIFY_TICK_MS on the loop: READY=1 once chat is connected and the
 * source started; STATUS= now and then; WATCHDOG=1 while chat is connected
 * or still within slack.give_up_after of losing it.  A timer on the loop
 * itself, so a stuck loop pets nothing either; a bot that sits disconnected
 * (give_up_after 0: retry forever) stops petting and systemd restarts it. */
static void on_notify(uv_timer_t *t)
{
    struct app *a = t->data;
    uint64_t now = uv_now(&a->loop);
    int conn = chat_connected(a), healthy;

    if (conn)
        a->last_connected_ms = now;
    if (!a->ready && conn && a->started) {
        a->ready = 1;
        notify_ready();
        log_info("ready", "chat=%s source=%s", a->cfg->chat, a->cfg->source);
    }
    if (a->ticks++ % 8 == 0 && notify_wanted())   /* two store queries: only for systemd */
        send_status(a, conn);
    if (!a->wd_ms || now - a->last_pet_ms < a->wd_ms / 2)
        return;
    healthy = conn || !a->ready ||
              (a->cfg->slack.give_up_after > 0 &&
               now - a->last_connected_ms < (uint64_t)(a->cfg->slack.give_up_after * 1000));
    if (healthy) {
        notify_watchdog();
        a->last_pet_ms = now;
        a->wd_withheld = 0;
    } else if (!a->wd_withheld) {
        a->wd_withheld = 1;
        log_error("chat is not connected: the watchdog is no longer fed, systemd will "
                  "restart vigil", "chat_state=%s", desk_chat_state(a->desk));
    }
}

/* Something the admins must hear about, outside any script. */
static void on_script_notice(void *arg, const char *text);

/* SIGHUP: read the config file again.  What can change live is moved into
 * the running config (config_reload_into); an invalid file changes
 * nothing, and the log and the admins are told why. */
static void on_sighup(uv_signal_t *s, int signum)
{
    struct app *a = s->data;
    char err[1024], restart[600], text[1400];
    struct config *fresh;
    size_t changed;

    (void)signum;
    if (a->stopping)
        return;
    notify_reloading(0);
    fresh = config_load(a->cfg->path, err, sizeof err);
    if (!fresh) {
        char *clean = log_redact(err);
        log_error("config not reloaded: the running config stays", "path=%s error=%s",
                  a->cfg->path, clean ? clean : err);
        snprintf(text, sizeof text, "vigil: the config was NOT reloaded (the running one "
                 "stays): %s", clean ? clean : err);
        free(clean);
        on_script_notice(a, text);
        notify_reloading(1);
        return;
    }
    changed = config_reload_into(a->cfg, fresh, restart, sizeof restart);
    config_free(fresh);
    desk_sla_reload(a->desk);   /* sla.hours and sla.teams: new calendars */
    if (!a->cli_level)
        log_set_level((enum log_level)log_parse_level(a->cfg->log_level ? a->cfg->log_level
                                                                        : "info"));
    log_info("config reloaded", "path=%s changed=%zu staff=%zu", a->cfg->path, changed,
             a->cfg->nstaff);
    if (*restart) {
        log_warn("config keys changed that take effect only at restart", "keys=%s", restart);
        snprintf(text, sizeof text, "vigil: config reloaded; these changes wait for a "
                 "restart: %s", restart);
        on_script_notice(a, text);
    }
    notify_reloading(1);
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
    uv_timer_stop(&a->notify);
    close_handle((uv_handle_t *)&a->notify);
    close_handle((uv_handle_t *)&a->sighup);
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
    notify_stopping();
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
    sigaddset(&set, SIGHUP);   /* its default action would kill a starting bot */
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

/* One vigil per store (issue 20): the lock is taken before the store is
 * opened, so a second process stops before it reads X or posts anything.
 * Returns the lock's fd, or -1 (said why).  When the lock file cannot be
 * made at all (a directory the bot cannot write), the store is opened only
 * to name the store's own, more precise refusal, then closed. */
static int lock_store(const char *store_path)
{
    pid_t holder;
    int fd = instance_lock(store_path, &holder), err = errno;
    struct store *s;

    if (fd >= 0)
        return fd;
    if (holder > 0) {
        log_error("another vigil is running on this store", "pid=%ld store=%s",
                  (long)holder, store_path);
        fprintf(stderr, "vigil: another vigil (pid %ld) is running on the store %s; "
                "stop it first (two would post every ticket twice)\n", (long)holder, store_path);
        return -1;
    }
    s = store_open(store_path);
    store_close(s);
    log_error("cannot lock the store", "store=%s lock=%s.lock error=%s", store_path, store_path,
              strerror(err));
    return -1;
}

static int run_bot(struct config *cfg, const char *cli_level)
{
    struct app a;
    char *cursor = NULL;
    int rc = 1, lock_fd;

    memset(&a, 0, sizeof a);
    a.cfg = cfg;
    a.cli_level = cli_level;
    signal(SIGPIPE, SIG_IGN);
    if (ensure_parent_dir(cfg->store_path))
        return 1;
    lock_fd = lock_store(cfg->store_path);
    if (lock_fd < 0)
        return 1;
    if (instance_create_private(cfg->store_path)) {
        log_error("cannot create the store", "path=%s error=%s", cfg->store_path, strerror(errno));
        close(lock_fd);
        return 1;
    }
    a.store = store_open(cfg->store_path);
    if (!a.store) {
        close(lock_fd);
        return 1;
    }
    uv_loop_init(&a.loop);
    /* The handles every exit path closes exist from the start, so a start-up
     * failure anywhere below closes them like a normal stop does. */
    uv_timer_init(&a.loop, &a.grace);
    a.grace.data = &a;
    uv_timer_init(&a.loop, &a.storecheck);
    a.storecheck.data = &a;
    uv_timer_init(&a.loop, &a.notify);
    a.notify.data = &a;
    uv_signal_init(&a.loop, &a.sigint);
    uv_signal_init(&a.loop, &a.sigterm);
    uv_signal_init(&a.loop, &a.sighup);
    a.sigint.data = a.sigterm.data = a.sighup.data = &a;
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
    a.chat->form_of = on_form;
    a.chat->measure = on_measure;
    a.chat->ticket_of = on_ticket_of;
    a.chat->has_verb = on_has_verb;
    a.chat->home_of = on_home;
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
    uv_signal_start(&a.sighup, on_sighup, SIGHUP);
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
    a.started = 1;
    a.wd_ms = notify_watchdog_usec() / 1000;
    a.last_connected_ms = uv_now(&a.loop);
    uv_timer_start(&a.notify, on_notify, 0, NOTIFY_TICK_MS);

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
    close(lock_fd);   /* releases the store for the next vigil */
    if (rc == 0)
        log_info("vigil stopped", "");
    return rc;
}

/* check-config: the file loaded; now the shapes Slack and X would reject
 * and the scripts' mistakes the loader would skip.  Takes cfg. */
static int check_config(struct config *cfg)
{
    char shapes[4096], *scripts = NULL;
    size_t n = config_check_shapes(cfg, shapes, sizeof shapes);
    int rc;

    n += script_check_dir(cfg->scripts_dir, &scripts);
    if (n) {
        fprintf(stderr, "vigil: %s: %zu problem%s:\n%s%s", cfg->path, n, n == 1 ? "" : "s",
                shapes, scripts ? scripts : "");
        rc = 2;
    } else {
        printf("%s: ok (chat=%s source=%s staff=%zu)\n", cfg->path, cfg->chat, cfg->source,
               cfg->nstaff);
        rc = 0;
    }
    free(scripts);
    config_free(cfg);
    return rc;
}

/* The config file: -c, then $VIGIL_CONFIG, then the installed
 * /etc/vigil/vigil.lua, then ./config/vigil.lua (a checkout). */
static const char *find_config(const char *given)
{
    const char *env = getenv("VIGIL_CONFIG");
    if (given)
        return given;
    if (env && *env)
        return env;
    if (access("/etc/vigil/vigil.lua", F_OK) == 0)
        return "/etc/vigil/vigil.lua";
    return "config/vigil.lua";
}

int main(int argc, char **argv)
{
    const char *cmd = argc > 1 ? argv[1] : "run";
    const char *path = NULL, *level = NULL, *socket_path = NULL, *cli_level;
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
        } else if ((!strcmp(argv[i], "-s") || !strcmp(argv[i], "--socket")) && i + 1 < argc) {
            socket_path = argv[++i];
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
    path = find_config(path);
    if (!strcmp(cmd, "repl")) {
        unblock_stop_signals();   /* the REPL handles Ctrl-C itself */
        return repl_main(path, socket_path, cmds, ncmds);
    }
    if (socket_path) {
        fprintf(stderr, "vigil: --socket goes with repl\n");
        return 2;
    }
    if (ncmds) {
        fprintf(stderr, "vigil: -e goes with repl\n");
        return 2;
    }
    if (strcmp(cmd, "run") && strcmp(cmd, "check-config") && strcmp(cmd, "doctor")) {
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
    cli_level = level;
    if (!level)
        level = cfg->log_level ? cfg->log_level : "info";
    log_set_level((enum log_level)log_parse_level(level));
    if (!strcmp(cmd, "check-config"))
        return check_config(cfg);
    if (!strcmp(cmd, "doctor")) {
        rc = doctor_run(cfg);
        config_free(cfg);
        log_clear_secrets();
        return rc;
    }
    rc = run_bot(cfg, cli_level);
    config_free(cfg);
    log_clear_secrets();
    return rc;
}
