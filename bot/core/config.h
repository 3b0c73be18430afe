/* config.h — vigil's configuration: a Lua file evaluated in a sandbox,
 * validated against a fixed schema, turned into a plain struct.
 * Owns every string in struct config.  Names every section (slack, x, ...)
 * but knows nothing of what the keys drive. */
#ifndef VIGIL_CONFIG_H
#define VIGIL_CONFIG_H

#include <stddef.h>

#include "core/shift.h"

/* issue 18: a trainee is an agent below agent, for approval = { roles = {"trainee"} } */
enum staff_role { ROLE_NONE, ROLE_TRAINEE, ROLE_AGENT, ROLE_LEAD, ROLE_ADMIN };

struct staff {
    char *id;          /* chat user id, e.g. "U024BE7LH" or "local-admin" */
    char *name;
    char *initials;
    enum staff_role role;
    /* presence and auto-assignment: working hours (staff[id].shift) */
    char *shift_text;  /* as written; NULL: always on shift */
    struct shift shift;
};

/* SLA business hours (issue 17 §2): one calendar, parsed from sla.hours. */
#define CONFIG_SPANS 4               /* opening spans per weekday */
struct config_hours {
    char *timezone;                  /* IANA name ("Europe/Berlin"); "UTC" by default */
    int spans[7][CONFIG_SPANS][2];   /* per weekday, 0 = Sunday: [from, to) minutes after midnight */
    int nspans[7];
    int *holidays;                   /* local dates as yyyymmdd, sorted */
    size_t nholidays;
};

struct config {
    char *path;                      /* the file it came from */
    char *chat;                      /* "console" | "slack" */
    char *source;                    /* "replay" | "x" */
    char *command;                   /* umbrella slash command, "/tw" */
    char *log_level;

    char *store_path;
    double store_alert_after;        /* seconds of store failure before the admins are told */
    char *scripts_dir, *scripts_lib;
    char *admin_socket, *admin_user;
    double admin_idle_timeout;       /* seconds a client may sit on half a line */

    char *channel_mentions, *channel_escalations, *channel_on_duty;

    struct staff *staff;
    size_t nstaff;

    double sla_first_response, sla_warn_before, sla_check_interval;
    /* SLA policy (issue 17 §1-§2): follow-up target, warnings, business
     * hours, who alerts ping, per-team hours */
#define CONFIG_WARNS 4
    double sla_follow_up;            /* seconds to the next response after a follow-up */
    double sla_warn[CONFIG_WARNS];   /* business seconds before a target, descending */
    size_t nsla_warn;
    struct config_hours sla_hours;   /* all week, UTC, when sla.hours is not set */
    char **sla_notify;               /* chat ids an unassigned ticket's alerts ping */
    size_t nsla_notify;
    struct config_team_hours { char *team; struct config_hours hours; } *sla_teams;
    size_t nsla_teams;               /* sla.teams: hours for tickets tagged with the team */

    char *reply_signature;           /* appended to public replies; {initials} */
    /* issue 18: going public safely */
    double reply_hold;               /* seconds a reply or DM waits for an undo; 0: none */
    double reply_collision_window;   /* another agent's reply this recent holds a reply (s) */
    char *approval_roles;            /* roles whose replies need a lead's approval: "trainee,agent" */
    char *approval_people;           /* staff ids whose replies do: "U3,U4" */

    char *replay_file;
    double replay_interval;

    double outbox_x_rate;            /* sends per second to X, per target */
    double outbox_max_backoff;
    int outbox_max_attempts;         /* X sends only: chat jobs retry forever */
    double outbox_alert_after;       /* admins hear of a job waiting longer (s); 0: never */

    struct {
        char *app_token, *bot_token, *api_url;
        double give_up_after, ping_interval, idle_timeout;
        double post_rate;
        int digest_threshold;
        /* commands in a ticket's thread (issue 19): "" (a line starting with
         * a verb), "!" ("!reply …") or "@" (a mention of the bot first) */
        char *thread_prefix;
    } slack;

    struct {
        char *api_url, *handle, *user_id, *bearer_token;
        struct { char *consumer_key, *consumer_secret, *token, *token_secret; } oauth1;
        struct { char *client_id, *client_secret, *access_token, *refresh_token; } oauth2;
        double poll_interval;
        int max_results, backfill;
        int reach;                   /* how many recent mentions X serves (800) */
        /* USD per unit, X's pay-per-use prices (x.prices) */
        struct {
            double owned_read, post_read, user_read, reply, post, dm, dm_event_read;
        } prices;
    } x;

    double script_instructions;      /* VM instructions per invocation */
    double script_memory_mb;
    double script_time_budget;       /* wall seconds per invocation (0.25) */

    /* auto-assignment (scripts/hooks/autoassign.lua reads them) */
    char *autoassign_mode;           /* "off" | "round_robin" | "least_loaded" */
    int autoassign_cap;              /* open tickets an agent may hold before being skipped */

    /* record and replay (issue 21): where what comes in is journaled, one
     * JSON-lines file per UTC day; NULL: nothing is recorded */
    char *record_dir;
};

/* Loads and validates `path`.  Returns new, caller frees with config_free();
 * NULL on error, with a message naming the key (and file:line where Lua can
 * tell) written to `err` (always NUL-terminated).
 * Values read with env("NAME") are registered as secrets with the logger. */
struct config *config_load(const char *path, char *err, size_t errlen);
void config_free(struct config *c);
/* As config_load, but env("NAME") returns a placeholder and reads no
 * environment variable: for `vigil repl`, which needs only the paths and
 * must not need the production secrets. */
struct config *config_load_public(const char *path, char *err, size_t errlen);

/* SIGHUP (issue 20): moves every value that takes effect without a restart
 * (staff, channels, SLA, reply signature, outbox and post rates, X poll
 * interval and prices, log_level) from `fresh` into `live`; their old values
 * go to `fresh`, which the caller then frees with config_free().  Pointers
 * into the old staff array or old strings die with `fresh`: modules must
 * read them through `live` each time (they do).  Writes the keys that
 * changed but need a restart to `restart` (comma-separated, "" when none).
 * Returns how many reloadable keys changed (staff not counted). */
size_t config_reload_into(struct config *live, struct config *fresh, char *restart,
                          size_t len);

/* check-config (issue 20): the shapes Slack or X would reject, checked
 * without contacting them: token prefixes (xapp-, xoxb-), channel ids (not
 * #names) and staff user ids when chat = "slack", x.handle without '@', a
 * missing scripts.dir or replay.file.  Writes one problem a line, each with
 * its fix, to `out`; returns how many. */
size_t config_check_shapes(const struct config *c, char *out, size_t len);

/* Returns the staff entry for a chat user id, or NULL.  Borrowed. */
const struct staff *config_staff(const struct config *c, const char *id);
/* issue 18: 1 when staff `id`'s public replies need a lead's approval
 * (approval.roles or approval.people names them). */
int config_needs_approval(const struct config *c, const char *id);
const char *config_role_name(enum staff_role role);
int config_parse_role(const char *name);

#endif
