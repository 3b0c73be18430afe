/* test_config.c — core/config: the shipped config, defaults, the schema's
 * error messages (key, file:line, suggestion), env() and redaction, staff,
 * and the Lua sandbox. */
#include "unit.h"

#include <stdarg.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include "core/config.h"
#include "core/log.h"

/* --- helpers ------------------------------------------------------------ */

static char path[512];
static char err[512];

/* Writes `text` to a scratch file and loads it; `err` holds the message. */
static struct config *load(const char *text)
{
    FILE *f;

    snprintf(path, sizeof path, "%s", unit_tmp("vigil.lua"));
    f = fopen(path, "w");
    if (!f) {
        unit_fail(__FILE__, __LINE__, "cannot write %s", path);
        return NULL;
    }
    fputs(text, f);
    fclose(f);
    return config_load(path, err, sizeof err);
}

/* Checks that loading `text` fails with a message containing each of the
 * NULL-terminated `needles` (the string "@" stands for the config's path). */
static void check_fails(int line, const char *text, ...)
{
    struct config *c = load(text);
    const char *needle;
    va_list ap;

    if (c) {
        unit_fail(__FILE__, line, "config loaded, want an error");
        config_free(c);
        return;
    }
    va_start(ap, text);
    while ((needle = va_arg(ap, const char *)) != NULL) {
        char want[600];
        snprintf(want, sizeof want, "%s", needle);
        if (strncmp(needle, "@", 1) == 0)
            snprintf(want, sizeof want, "%s%s", path, needle + 1);
        if (!strstr(err, want))
            unit_fail(__FILE__, line, "error \"%s\" lacks \"%s\"", err, want);
    }
    va_end(ap);
}
#define FAILS(text, ...) check_fails(__LINE__, (text), __VA_ARGS__, (const char *)NULL)

/* The smallest valid config: the replay source needs its file. */
#define MINIMAL "replay = { file = \"x.jsonl\" }\n"

/* --- the shipped config and defaults ------------------------------------ */

TEST(config_shipped_vigil_lua_loads)
{
    char shipped[1024];
    struct config *c;
    const struct staff *s;

    snprintf(shipped, sizeof shipped, "%s/config/vigil.lua", unit_root());
    c = config_load(shipped, err, sizeof err);
    CHECK(c != NULL);
    if (!c) {
        unit_fail(__FILE__, __LINE__, "%s", err);
        return;
    }
    CHECK_STR(c->chat, "console");
    CHECK_STR(c->source, "replay");
    /* relative paths resolve against the config file's directory */
    snprintf(shipped, sizeof shipped, "%s/config/sample-mentions.jsonl", unit_root());
    CHECK_STR(c->replay_file, shipped);
    snprintf(shipped, sizeof shipped, "%s/config/../var/vigil.db", unit_root());
    CHECK_STR(c->store_path, shipped);
    CHECK_STR(c->x.handle, "AcmeSupport");
    CHECK_STR(c->channel_on_duty, "@support-oncall");
    CHECK_INT(c->nstaff, 4);                    /* three + local-admin */
    s = config_staff(c, "U024BE7LH");
    CHECK(s != NULL);
    if (s) {
        CHECK_STR(s->name, "Alice Jensen");
        CHECK_INT(s->role, ROLE_LEAD);
    }
    CHECK_STR(err, "");
    config_free(c);
}

TEST(config_defaults_fill_unset_keys)
{
    struct config *c = load(MINIMAL);

    CHECK(c != NULL);
    if (!c)
        return;
    CHECK_STR(c->command, "/tw");
    CHECK_STR(c->chat, "console");
    CHECK_STR(c->source, "replay");
    CHECK_STR(c->store_path, "var/vigil.db");
    CHECK_STR(c->admin_user, "local-admin");
    CHECK(c->sla_first_response == 3600);
    CHECK(c->sla_warn_before == 1800);   /* sla.warn's first: 30 and 10 min */
    CHECK_INT(c->outbox_max_attempts, 12);
    CHECK_INT(c->x.max_results, 100);
    CHECK(c->log_level == NULL);
    CHECK_STR(c->path, path);
    config_free(c);
}

TEST(config_values_override_defaults)
{
    struct config *c = load(MINIMAL
                            "command = \"/desk\"\n"
                            "store = { path = \"/tmp/v.db\" }\n"
                            "sla = { first_response = 600, warn_before = 60 }\n"
                            "outbox = { max_attempts = 3 }\n");

    CHECK(c != NULL);
    if (!c)
        return;
    CHECK_STR(c->command, "/desk");
    CHECK_STR(c->store_path, "/tmp/v.db");
    CHECK(c->sla_first_response == 600);
    CHECK(c->sla_warn_before == 60);
    CHECK_INT(c->outbox_max_attempts, 3);
    config_free(c);
}

/* --- schema errors -------------------------------------------------------- */

TEST(config_unknown_key_names_key_line_and_suggestion)
{
    FAILS(MINIMAL "\n" "comand = \"/tw\"\n",
          "unknown key 'comand'", "@:3:", "did you mean 'command'?");
}

TEST(config_unknown_key_without_near_match_has_no_suggestion)
{
    struct config *c = load(MINIMAL "zzzzzzzz = 1\n");

    CHECK(c == NULL);
    config_free(c);
    CHECK(strstr(err, "unknown key 'zzzzzzzz'") != NULL);
    CHECK(strstr(err, "did you mean") == NULL);
}

TEST(config_unknown_nested_key_names_dotted_path)
{
    FAILS(MINIMAL "store = { pth = \"x\" }\n",
          "unknown key 'store.pth'", "@:2:", "did you mean 'store.path'?");
}

TEST(config_wrong_type_names_key_and_wanted_type)
{
    FAILS(MINIMAL "sla = { first_response = \"1h\" }\n",
          "'sla.first_response'", "must be a number", "got string", "@:2:");
    FAILS(MINIMAL "command = 7\n", "'command'", "must be a string");
    FAILS(MINIMAL "store = \"var/x.db\"\n", "'store'", "must be a table");
    FAILS(MINIMAL "outbox = { max_attempts = 2.5 }\n",
          "'outbox.max_attempts'", "whole number");
}

TEST(config_negative_number_rejected)
{
    FAILS(MINIMAL "sla = { warn_before = -1 }\n", "'sla.warn_before'",
          "must not be negative");
}

TEST(config_x_prices_default_to_the_2026_pay_per_use_rates)
{
    struct config *c = load(MINIMAL "x = { prices = { reply = 0.02 }, reach = 100 }\n");

    CHECK(c != NULL);
    if (!c)
        return;
    CHECK(c->x.prices.owned_read == 0.001 && c->x.prices.post_read == 0.005);
    CHECK(c->x.prices.user_read == 0.010 && c->x.prices.post == 0.015);
    CHECK(c->x.prices.dm == 0.015 && c->x.prices.dm_event_read == 0.010);
    CHECK(c->x.prices.reply == 0.02);
    CHECK_INT(c->x.reach, 100);
    config_free(c);
}

TEST(config_x_prices_reject_unknown_items_and_absurd_values)
{
    FAILS(MINIMAL "x = { prices = { replies = 0.01 } }\n", "unknown key 'x.prices.replies'");
    FAILS(MINIMAL "x = { prices = { dm = 15 * 10 } }\n", "'x.prices.dm'",
          "dollars per call");
    FAILS(MINIMAL "x = { reach = 0 }\n", "'x.reach' must be at least 1");
}

TEST(config_warn_before_must_be_below_first_response)
{
    FAILS(MINIMAL "sla = { first_response = 600, warn_before = 600 }\n",
          "'sla.warn_before' (600) must be less than 'sla.first_response' (600)");
}

TEST(config_replay_source_requires_replay_file)
{
    FAILS("source = \"replay\"\n", "missing required key 'replay.file'");
}

TEST(config_chat_irc_rejected)
{
    FAILS(MINIMAL "chat = \"irc\"\n", "@:2:", "key 'chat'",
          "\"console\" or \"slack\"", "got \"irc\"");
}

TEST(config_slack_chat_requires_tokens)
{
    FAILS(MINIMAL "chat = \"slack\"\n", "missing required key 'slack.app_token'");
}

TEST(config_command_must_start_with_slash)
{
    FAILS(MINIMAL "command = \"tw\"\n", "key 'command' must start with '/'");
}

TEST(config_bad_log_level_rejected)
{
    FAILS(MINIMAL "log_level = \"loud\"\n", "key 'log_level'");
}

TEST(config_syntax_error_reports_file_and_line)
{
    FAILS(MINIMAL "\nstore = { path = \"x\" \n\nchat = 1\n", "@:", "'}' expected");
    FAILS("chat = \"console\"\nsource = = 1\n", "@:2:");
}

TEST(config_missing_file_is_an_error)
{
    struct config *c = config_load(unit_tmp("no-such.lua"), err, sizeof err);

    CHECK(c == NULL);
    config_free(c);
    CHECK(strstr(err, "no-such.lua") != NULL);
    CHECK(strstr(err, "cannot read config") != NULL);
}

/* --- env() and secrets ---------------------------------------------------- */

TEST(config_env_reads_the_variable)
{
    struct config *c;

    setenv("VIGIL_TEST_STORE", "/srv/vigil/store.db", 1);
    c = load(MINIMAL "store = { path = env(\"VIGIL_TEST_STORE\") }\n");
    unsetenv("VIGIL_TEST_STORE");
    CHECK(c != NULL);
    if (c)
        CHECK_STR(c->store_path, "/srv/vigil/store.db");
    config_free(c);
    log_clear_secrets();
}

TEST(config_env_unset_variable_names_it_and_the_line)
{
    unsetenv("VIGIL_TEST_UNSET");
    FAILS(MINIMAL "\nslack = { bot_token = env(\"VIGIL_TEST_UNSET\") }\n",
          "VIGIL_TEST_UNSET", "is not set", "@:3:");
    log_clear_secrets();
}

TEST(config_env_values_are_redacted_in_logs)
{
    struct config *c;
    char *r;

    setenv("VIGIL_TEST_TOKEN", "xoxb-env-token-123", 1);
    c = load(MINIMAL "slack = { bot_token = env(\"VIGIL_TEST_TOKEN\") }\n");
    unsetenv("VIGIL_TEST_TOKEN");
    CHECK(c != NULL);
    if (c) {
        CHECK_STR(c->slack.bot_token, "xoxb-env-token-123");
        r = log_redact(c->slack.bot_token);
        CHECK_STR(r, "[redacted]");
        free(r);
    }
    config_free(c);
    log_clear_secrets();
}

TEST(config_env_value_redacted_even_for_a_plain_key)
{
    struct config *c;
    char *r;

    setenv("VIGIL_TEST_HANDLE", "SecretHandle", 1);
    c = load(MINIMAL "x = { handle = env(\"VIGIL_TEST_HANDLE\") }\n");
    unsetenv("VIGIL_TEST_HANDLE");
    CHECK(c != NULL);
    r = log_redact("handle SecretHandle");
    CHECK_STR(r, "handle [redacted]");
    free(r);
    config_free(c);
    log_clear_secrets();
}

TEST(config_inline_secret_is_redacted_too)
{
    struct config *c = load(MINIMAL "slack = { bot_token = \"xoxb-inline-456\" }\n");
    char *r;

    CHECK(c != NULL);
    r = log_redact("token=xoxb-inline-456");
    CHECK_STR(r, "token=[redacted]");
    free(r);
    config_free(c);
    log_clear_secrets();
}

TEST(config_plain_key_written_inline_is_not_a_secret)
{
    struct config *c = load(MINIMAL "x = { handle = \"AcmeSupport\" }\n");
    char *r = log_redact("AcmeSupport");

    CHECK(c != NULL);
    CHECK_STR(r, "AcmeSupport");
    free(r);
    config_free(c);
}

/* --- staff ---------------------------------------------------------------- */

TEST(config_staff_entries_are_parsed)
{
    struct config *c = load(MINIMAL
        "staff = {\n"
        "  [\"U1\"] = { name = \"Alice Jensen\", initials = \"AJx\", role = \"lead\" },\n"
        "  [\"U2\"] = { name = \"bob van-dyke\" },\n"
        "  [\"U3\"] = { role = \"admin\" },\n"
        "}\n");
    const struct staff *s;

    CHECK(c != NULL);
    if (!c) {
        unit_fail(__FILE__, __LINE__, "%s", err);
        return;
    }
    CHECK_INT(c->nstaff, 4);
    s = config_staff(c, "U1");
    CHECK(s != NULL);
    if (s) {
        CHECK_STR(s->name, "Alice Jensen");
        CHECK_STR(s->initials, "AJx");
        CHECK_INT(s->role, ROLE_LEAD);
    }
    s = config_staff(c, "U2");          /* defaults: initials from name, agent */
    CHECK(s != NULL);
    if (s) {
        CHECK_STR(s->initials, "BVD");
        CHECK_INT(s->role, ROLE_AGENT);
    }
    s = config_staff(c, "U3");          /* no name: the id stands in */
    CHECK(s != NULL);
    if (s) {
        CHECK_STR(s->name, "U3");
        CHECK_STR(s->initials, "U");
        CHECK_INT(s->role, ROLE_ADMIN);
    }
    CHECK(config_staff(c, "U4") == NULL);
    config_free(c);
}

TEST(config_staff_bad_role_rejected_with_choices)
{
    FAILS(MINIMAL "staff = { [\"U1\"] = { name = \"A\", role = \"boss\" } }\n",
          "staff[\"U1\"].role", "\"agent\", \"lead\" or \"admin\"", "got \"boss\"",
          "@:2:");
}

TEST(config_staff_unknown_field_rejected)
{
    FAILS(MINIMAL "staff = { [\"U1\"] = { name = \"A\", email = \"a@x\" } }\n",
          "unknown key 'staff[\"U1\"].email'", "known: name, initials, role");
}

TEST(config_staff_field_wrong_type_rejected)
{
    FAILS(MINIMAL "staff = { [\"U1\"] = { name = 5 } }\n",
          "staff[\"U1\"].name", "must be a string");
    FAILS(MINIMAL "staff = { \"U1\" }\n", "staff keys must be chat user ids");
}

TEST(config_local_admin_is_built_in)
{
    struct config *c = load(MINIMAL);
    const struct staff *s;

    CHECK(c != NULL);
    if (!c)
        return;
    CHECK_INT(c->nstaff, 1);
    s = config_staff(c, "local-admin");
    CHECK(s != NULL);
    if (s) {
        CHECK_INT(s->role, ROLE_ADMIN);
        CHECK_STR(s->initials, "LA");
    }
    config_free(c);
}

TEST(config_admin_user_may_name_a_staff_member)
{
    struct config *c = load(MINIMAL "admin = { user = \"U9\" }\n"
                            "staff = { [\"U9\"] = { name = \"Root\", role = \"admin\" } }\n");

    CHECK(c != NULL);
    if (!c)
        return;
    CHECK_INT(c->nstaff, 1);                    /* no local-admin added */
    CHECK(config_staff(c, "local-admin") == NULL);
    config_free(c);
}

TEST(config_admin_user_not_in_staff_rejected)
{
    FAILS(MINIMAL "admin = { user = \"U404\" }\n",
          "key 'admin.user' (\"U404\") is not in staff", "@:2:");
}

TEST(config_role_names_round_trip)
{
    CHECK_INT(config_parse_role("agent"), ROLE_AGENT);
    CHECK_INT(config_parse_role("lead"), ROLE_LEAD);
    CHECK_INT(config_parse_role("admin"), ROLE_ADMIN);
    CHECK_INT(config_parse_role("none"), -1);
    CHECK_INT(config_parse_role("root"), -1);
    CHECK_STR(config_role_name(ROLE_LEAD), "lead");
}

/* --- the sandbox ---------------------------------------------------------- */

TEST(config_lua_expressions_are_evaluated)
{
    struct config *c = load(MINIMAL
                            "local hour = 60 * 60\n"
                            "sla = { first_response = 2 * hour, warn_before = hour // 4 }\n"
                            "command = string.format(\"/%s\", \"tw2\")\n");

    CHECK(c != NULL);
    if (!c)
        return;
    CHECK(c->sla_first_response == 7200);
    CHECK(c->sla_warn_before == 900);
    CHECK_STR(c->command, "/tw2");
    config_free(c);
}

/* Loads `text` in a child process that SIGALRM kills after `secs`, so a
 * hang fails the test instead of stalling the suite.  Returns 1 when the
 * load failed with an error containing `needle`, 0 when it loaded or said
 * something else, -1 when it hung (or crashed). */
static int fails_within(const char *text, const char *needle, unsigned secs)
{
    pid_t pid;
    int status = 0;

    fflush(stdout);
    pid = fork();
    if (pid == 0) {
        struct config *c;
        int ok;

        alarm(secs);
        c = load(text);
        ok = c == NULL && strstr(err, needle) != NULL;
        config_free(c);
        _exit(ok ? 0 : 1);              /* _exit: keep the parent's scratch dir */
    }
    if (pid < 0 || waitpid(pid, &status, 0) != pid)
        return -1;
    if (!WIFEXITED(status))
        return -1;
    return WEXITSTATUS(status) == 0;
}

TEST(config_endless_loop_fails_instead_of_hanging)
{
    /* 120 s: the budget is ~0.2 s natively, ~10 s under valgrind. */
    CHECK_INT(fails_within(MINIMAL "while true do end\n",
                           "takes too long to evaluate (endless loop?)", 120), 1);
}

TEST(config_endless_loop_inside_pcall_still_fails)
{
    CHECK_INT(fails_within(MINIMAL "while true do pcall(function() while true do end end) end\n",
                           "takes too long to evaluate (endless loop?)", 120), 1);
}

TEST(config_os_and_io_are_not_reachable)
{
    FAILS(MINIMAL "os.exit(3)\n", "@:2:", "'os'");
    FAILS(MINIMAL "io.open(\"/etc/passwd\")\n", "@:2:", "'io'");
    FAILS(MINIMAL "require(\"os\")\n", "@:2:", "'require'");
    FAILS(MINIMAL "dofile(\"/etc/passwd\")\n", "@:2:", "'dofile'");
    FAILS(MINIMAL "load(\"return 1\")\n", "@:2:", "'load'");
}

TEST(config_runtime_error_reports_line)
{
    FAILS(MINIMAL "\n\nerror(\"custom failure\")\n", "@:4:", "custom failure");
}

/* --- service (issue 20): relative paths, reload, check-config shapes ----- */

#include <sys/stat.h>

#include "script/script.h"

TEST(config_relative_paths_resolve_against_the_config_files_directory)
{
    struct config *c = load(MINIMAL "store = { path = \"state/v.db\" }\n"
                            "scripts = { dir = \"/abs/scripts\" }\n");
    char want[600], *slash = strrchr(path, '/');

    CHECK(c != NULL);
    if (!c)
        return;
    snprintf(want, sizeof want, "%.*s/state/v.db", (int)(slash - path), path);
    CHECK_STR(c->store_path, want);
    snprintf(want, sizeof want, "%.*s/x.jsonl", (int)(slash - path), path);
    CHECK_STR(c->replay_file, want);
    CHECK_STR(c->scripts_dir, "/abs/scripts");
    config_free(c);
}

TEST(config_store_and_socket_default_to_the_systemd_directories)
{
    struct config *c;
    setenv("STATE_DIRECTORY", "/var/lib/vigil:/var/lib/other", 1);
    setenv("RUNTIME_DIRECTORY", "/run/vigil", 1);
    c = load(MINIMAL);
    unsetenv("STATE_DIRECTORY");
    unsetenv("RUNTIME_DIRECTORY");
    CHECK(c != NULL);
    if (!c)
        return;
    CHECK_STR(c->store_path, "/var/lib/vigil/vigil.db");
    CHECK_STR(c->admin_socket, "/run/vigil/vigil.sock");
    config_free(c);
}

TEST(config_reload_moves_staff_and_channels_and_names_what_needs_a_restart)
{
    struct config *live = load(MINIMAL "channels = { escalations = \"#old\" }\n"
                               "staff = { U1 = { name = \"Ann\" } }\n");
    struct config *fresh = load(MINIMAL "channels = { escalations = \"#new\" }\n"
                                "command = \"/support\"\n"
                                "staff = { U1 = { name = \"Ann\" }, U2 = { name = \"Ben\" } }\n");
    char restart[200];

    CHECK(live && fresh);
    if (!live || !fresh)
        goto out;
    CHECK_INT(config_reload_into(live, fresh, restart, sizeof restart), 1);
    CHECK_STR(live->channel_escalations, "#new");
    CHECK_STR(fresh->channel_escalations, "#old");    /* freed with fresh */
    CHECK(config_staff(live, "U2") != NULL);
    CHECK_STR(live->command, "/tw");                  /* waits for a restart */
    CHECK_STR(restart, "command");
out:
    config_free(live);
    config_free(fresh);
}

TEST(config_load_public_reads_no_environment_variable)
{
    struct config *c;
    unsetenv("VIGIL_TEST_UNSET");
    c = load(MINIMAL "admin = { socket = \"/run/v.sock\" }\n"
             "slack = { bot_token = env(\"VIGIL_TEST_UNSET\") }\n");
    CHECK(c == NULL);                                 /* config_load needs it */
    c = config_load_public(path, err, sizeof err);
    CHECK(c != NULL);
    if (!c)
        return;
    CHECK_STR(c->admin_socket, "/run/v.sock");
    config_free(c);
}

/* Loads `body` (with a real scripts dir and replay file) and returns the
 * shape problems, one a line, in `out`. */
static size_t shapes_of(const char *body, char *out, size_t len)
{
    char text[2048], sdir[520], replay[520];
    struct config *c;
    size_t n;
    FILE *f;

    snprintf(sdir, sizeof sdir, "%s", unit_tmp("scripts"));
    mkdir(sdir, 0700);
    snprintf(replay, sizeof replay, "%s", unit_tmp("replay.jsonl"));
    f = fopen(replay, "w");
    if (f)
        fclose(f);
    snprintf(text, sizeof text, "scripts = { dir = \"%s\" }\nreplay = { file = \"%s\" }\n%s",
             sdir, replay, body);
    c = load(text);
    if (!c) {
        unit_fail(__FILE__, __LINE__, "config did not load: %s", err);
        snprintf(out, len, "(not loaded)");
        return 99;
    }
    n = config_check_shapes(c, out, len);
    config_free(c);
    return n;
}

#define SLACK_OK "chat = \"slack\"\n" \
    "slack = { app_token = \"xapp-1-A\", bot_token = \"xoxb-1-B\" }\n" \
    "channels = { mentions = \"C0123ABCD\", escalations = \"G0123ABCD\" }\n" \
    "staff = { U024BE7LH = { name = \"Ann\" }, W0G9QF9C6 = { name = \"Ben\" } }\n" \
    "x = { handle = \"Acme_Support\" }\n"

TEST(check_config_accepts_well_shaped_slack_ids_tokens_and_handle)
{
    char out[2048];
    CHECK_INT(shapes_of(SLACK_OK, out, sizeof out), 0);
    CHECK_STR(out, "");
}

TEST(check_config_names_tokens_of_the_wrong_type)
{
    char out[2048];
    CHECK_INT(shapes_of(SLACK_OK "slack = { app_token = \"xoxb-1\", bot_token = \"xoxp-2\" }\n",
                        out, sizeof out), 2);
    CHECK(strstr(out, "slack.app_token must be an app-level token (xapp-...)") != NULL);
    CHECK(strstr(out, "(xoxp- is a user token)") != NULL);
    CHECK(strstr(out, "xoxp-2") == NULL);             /* never the token itself */
}

TEST(check_config_wants_channel_ids_not_names_for_slack)
{
    char out[2048];
    CHECK_INT(shapes_of(SLACK_OK "channels = { mentions = \"#support\", escalations = "
                        "\"C0123ABCD\" }\n", out, sizeof out), 1);
    CHECK(strstr(out, "channels.mentions must be a Slack channel id like C0123ABCD, not "
                      "\"#support\"") != NULL);
    /* the console has no ids: #names are fine there */
    CHECK_INT(shapes_of("channels = { mentions = \"#support\" }\n", out, sizeof out), 0);
}

TEST(check_config_wants_staff_keys_that_are_slack_user_ids)
{
    char out[2048];
    CHECK_INT(shapes_of(SLACK_OK "staff = { alice = { name = \"Ann\" }, U1 = {} }\n",
                        out, sizeof out), 1);
    CHECK(strstr(out, "staff key \"alice\" is not a Slack user id") != NULL);
}

TEST(check_config_wants_the_x_handle_without_at)
{
    char out[2048];
    CHECK_INT(shapes_of("x = { handle = \"@AcmeSupport\" }\n", out, sizeof out), 1);
    CHECK(strstr(out, "x.handle must be the handle without '@'") != NULL);
}

TEST(check_config_names_a_missing_scripts_dir_and_replay_file)
{
    char out[2048];
    struct config *c = load("scripts = { dir = \"no-such-dir\" }\n"
                            "replay = { file = \"no-such.jsonl\" }\n");
    CHECK(c != NULL);
    if (!c)
        return;
    CHECK_INT(config_check_shapes(c, out, sizeof out), 2);
    CHECK(strstr(out, "no-such-dir\" is not a directory") != NULL);
    CHECK(strstr(out, "no-such.jsonl\" cannot be read") != NULL);
    config_free(c);
}

static void write_file(const char *dir, const char *name, const char *text)
{
    char p[700];
    FILE *f;
    snprintf(p, sizeof p, "%s/%s", dir, name);
    f = fopen(p, "w");
    if (f) {
        fputs(text, f);
        fclose(f);
    }
}

TEST(check_config_finds_unknown_command_keys_and_files_that_cannot_be_commands)
{
    char dir[520], *report = NULL;

    snprintf(dir, sizeof dir, "%s", unit_tmp("cmds"));
    mkdir(dir, 0700);
    write_file(dir, "ok.lua", "return command { usage = \"ok\", roles = \"admin\",\n"
                              "  run = function(ctx, args) return 'ok' end }\n");
    write_file(dir, "wipe.lua", "local t = require('vigil.text')\n"
                                "return command { role = \"admin\", run = function() end }\n");
    write_file(dir, "Refund Policy.lua", "return command { run = function() end }\n");
    write_file(dir, "broken.lua", "return command {\n");
    write_file(dir, "notes.txt", "not a script\n");
    CHECK_INT(script_check_dir(dir, &report), 3);
    CHECK(report != NULL);
    if (report) {
        CHECK(strstr(report, "unknown key 'role'") != NULL);
        CHECK(strstr(report, "Refund Policy.lua: a command's file name must be") != NULL);
        CHECK(strstr(report, "broken.lua") != NULL);
        CHECK(strstr(report, "ok.lua") == NULL);
        CHECK(strstr(report, "notes.txt") == NULL);
    }
    free(report);
}

TEST(check_config_passes_the_shipped_scripts)
{
    char dir[520], *report = NULL;
    snprintf(dir, sizeof dir, "%s/scripts", unit_root());
    CHECK_INT(script_check_dir(dir, &report), 0);
    if (report)
        unit_fail(__FILE__, __LINE__, "%s", report);
    free(report);
}

TEST(config_approval_names_trainees_and_people_whose_replies_need_a_lead)
{
    struct config *c = load(MINIMAL
        "staff = { U1 = { name = 'Ann', role = 'trainee' }, U2 = { name = 'Bo' },\n"
        "          U3 = { name = 'Cy', role = 'lead' } }\n"
        "approval = { roles = { 'trainee' }, people = { 'U3' } }\n"
        "reply = { hold = 2.5, collision_window = 0 }\n");

    CHECK(c != NULL);
    if (!c)
        return;
    CHECK_INT(config_needs_approval(c, "U1"), 1);    /* by role */
    CHECK_INT(config_needs_approval(c, "U2"), 0);    /* an agent */
    CHECK_INT(config_needs_approval(c, "U3"), 1);    /* by name */
    CHECK_INT(config_needs_approval(c, "U9"), 0);    /* not staff */
    CHECK(c->reply_hold == 2.5 && c->reply_collision_window == 0);
    config_free(c);
    c = load(MINIMAL);
    CHECK(c && c->reply_hold == 5 && c->reply_collision_window == 120);
    CHECK(c && !config_needs_approval(c, "local-admin"));
    config_free(c);
    FAILS(MINIMAL "approval = { roles = { 'intern' } }\n", "'approval.roles'", "\"intern\"");
    FAILS(MINIMAL "approval = { people = 'U1' }\n", "'approval.people' must be a list");
    FAILS(MINIMAL "reply = { hold = 3600 }\n", "'reply.hold'", "0 to 600");
}


/* --- SLA policy (issue 17): business hours, follow-up, warnings, pings ---- */

TEST(config_sla_policy_reads_hours_holidays_warnings_and_who_to_ping)
{
    struct config *c = load(MINIMAL
        "sla = { first_response = 3600, follow_up = 1800, warn = { 600, 1200 },\n"
        "  notify = \"S0123ONCALL\",\n"
        "  hours = { timezone = \"Europe/Berlin\", weekdays = \"09:00-17:00\",\n"
        "            fri = { \"09:00-12:00\", \"13:00-15:00\" }, sat = false,\n"
        "            holidays = { \"2026-12-25\", \"2026-12-24\" } },\n"
        "  teams = { billing = { timezone = \"America/New_York\", weekdays = \"08:00-20:00\" } } }\n");
    CHECK(c != NULL);
    if (!c)
        return;
    CHECK(c->sla_follow_up == 1800);
    CHECK_INT(c->nsla_warn, 2);
    CHECK(c->sla_warn[0] == 1200 && c->sla_warn[1] == 600);   /* in the order they come */
    CHECK(c->sla_warn_before == 1200);
    CHECK_INT(c->nsla_notify, 1);
    CHECK_STR(c->sla_notify[0], "S0123ONCALL");
    CHECK_STR(c->sla_hours.timezone, "Europe/Berlin");
    CHECK_INT(c->sla_hours.nspans[0], 0);                      /* Sunday: closed */
    CHECK_INT(c->sla_hours.nspans[1], 1);
    CHECK_INT(c->sla_hours.spans[1][0][0], 9 * 60);
    CHECK_INT(c->sla_hours.spans[1][0][1], 17 * 60);
    CHECK_INT(c->sla_hours.nspans[5], 2);
    CHECK_INT(c->sla_hours.spans[5][1][1], 15 * 60);
    CHECK_INT(c->sla_hours.nspans[6], 0);
    CHECK_INT(c->sla_hours.nholidays, 2);
    CHECK_INT(c->sla_hours.holidays[0], 20261224);
    CHECK_INT(c->nsla_teams, 1);
    CHECK_STR(c->sla_teams[0].team, "billing");
    CHECK_STR(c->sla_teams[0].hours.timezone, "America/New_York");
    config_free(c);
}

TEST(config_sla_defaults_warn_at_30_and_10_minutes_around_the_clock)
{
    struct config *c = load(MINIMAL);
    CHECK(c != NULL);
    if (!c)
        return;
    CHECK_INT(c->nsla_warn, 2);
    CHECK(c->sla_warn[0] == 1800 && c->sla_warn[1] == 600);
    CHECK(c->sla_follow_up == c->sla_first_response);
    CHECK_STR(c->sla_hours.timezone, "UTC");
    for (int i = 0; i < 7; i++)
        CHECK_INT(c->sla_hours.spans[i][0][1] * c->sla_hours.nspans[i], 24 * 60);
    CHECK_INT(c->nsla_notify, 0);
    config_free(c);
}

TEST(config_sla_warn_before_alone_is_still_the_one_warning)
{
    struct config *c = load(MINIMAL "sla = { warn_before = 300 }\n");
    CHECK(c != NULL);
    if (!c)
        return;
    CHECK_INT(c->nsla_warn, 1);
    CHECK(c->sla_warn[0] == 300);
    config_free(c);
}

TEST(config_sla_policy_mistakes_name_the_key)
{
    FAILS(MINIMAL "sla = { warn_before = 300, warn = { 600 } }\n", "'sla.warn' replaces it");
    FAILS(MINIMAL "sla = { warn = { 3600 } }\n", "'sla.warn' (3600) must be less than");
    FAILS(MINIMAL "sla = { warn = { 600, \"x\" } }\n", "'sla.warn'", "not a number");
    FAILS(MINIMAL "sla = { notify = \"<!channel>\" }\n", "'sla.notify'", "not a chat id");
    FAILS(MINIMAL "sla = { notify = { \"U1\", \"U1\" } }\n", "names \"U1\" twice");
    FAILS(MINIMAL "sla = { hours = { timezone = \"Mars/Olympus\", weekdays = \"09:00-17:00\" } }\n",
          "'sla.hours.timezone'", "Mars/Olympus");
    FAILS(MINIMAL "sla = { hours = { weekdays = \"17:00-09:00\" } }\n", "'sla.hours.weekdays'",
          "17:00-09:00");
    FAILS(MINIMAL "sla = { hours = { mon = { \"09:00-12:00\", \"11:00-13:00\" } } }\n",
          "'sla.hours.mon'", "not overlapping");
    FAILS(MINIMAL "sla = { hours = { weekday = \"09:00-17:00\" } }\n",
          "unknown key 'sla.hours.weekday'");
    FAILS(MINIMAL "sla = { hours = { weekdays = \"09:00-17:00\", holidays = { \"2026-02-29\" } } }\n",
          "'sla.hours.holidays'", "2026-02-29");
    FAILS(MINIMAL "sla = { hours = { sun = false } }\n", "opens on no day of the week");
    FAILS(MINIMAL "sla = { teams = { billing = { weekdays = \"9-17\" } } }\n",
          "'sla.teams.billing.weekdays'");
}

TEST(config_reload_moves_the_sla_policy_whole)
{
    struct config *live = load(MINIMAL "sla = { warn = { 900 } }\n");
    struct config *fresh = load(MINIMAL "sla = { warn = { 1200, 300 }, notify = \"S0ONCALL\",\n"
                                "  hours = { timezone = \"Europe/Berlin\", weekdays = \"09:00-17:00\" },\n"
                                "  teams = { billing = { weekdays = \"08:00-12:00\" } } }\n");
    char restart[200];

    CHECK(live && fresh);
    if (!live || !fresh)
        goto out;
    config_reload_into(live, fresh, restart, sizeof restart);
    CHECK_STR(restart, "");                           /* none of it waits for a restart */
    CHECK_INT(live->nsla_warn, 2);
    CHECK(live->sla_warn[0] == 1200);
    CHECK_INT(live->nsla_notify, 1);
    CHECK_STR(live->sla_hours.timezone, "Europe/Berlin");
    CHECK_INT(live->nsla_teams, 1);
    CHECK_INT(fresh->nsla_teams, 0);                  /* the old policy, freed with fresh */
out:
    config_free(live);
    config_free(fresh);
}
