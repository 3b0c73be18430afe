/* doctor.c — `vigil doctor`: is this config accepted by the services it
 * names?  Slack: both tokens (apps.connections.open, auth.test), the bot
 * token's scopes (auth.test's x-oauth-scopes header), each channel and the
 * bot's membership (conversations.info), each staff id (users.info).  X:
 * the credentials, the handle's user id (users/by/username, users/me) and
 * the rate-limit budget (x-rate-limit-* headers).  Blocking curl easy
 * handles: it runs alone, never inside the bot's loop.  Knows the two
 * services' URLs and answers as far as a check needs; prints, decides
 * nothing for the bot. */
#include "doctor.h"

#include <curl/curl.h>
#include <jansson.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "core/buf.h"
#include "core/config.h"
#include "source/oauth.h"

#define DOCTOR_TIMEOUT_S 15L

/* The bot token's scopes vigil uses (config/slack-app-manifest.yml); the
 * groups:* pair only when a configured channel is private. */
static const char *const public_scopes[] = {
    "chat:write", "commands", "users:read", "channels:history", "channels:read", NULL,
};
static const char *const private_scopes[] = { "groups:history", "groups:read", NULL };

struct answer {
    long status;
    json_t *body;             /* new, or NULL when not JSON */
    char scopes[1024];        /* x-oauth-scopes */
    long rl_limit, rl_remaining, rl_reset;   /* -1 when absent */
    char error[CURL_ERROR_SIZE];
};

struct doctor {
    const struct config *cfg;
    int failed, passed;
};

static void check(struct doctor *d, int ok, const char *fix, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* One checklist line; a failure gets its fix underneath. */
static void check(struct doctor *d, int ok, const char *fix, const char *fmt, ...)
{
    va_list ap;
    printf("%s  ", ok ? "ok  " : "FAIL");
    va_start(ap, fmt);
    vprintf(fmt, ap);
    va_end(ap);
    printf("\n");
    if (!ok && fix)
        printf("      fix: %s\n", fix);
    if (ok)
        d->passed++;
    else
        d->failed++;
}

static size_t on_body(char *p, size_t size, size_t n, void *arg)
{
    return buf_add(arg, p, size * n) == 0 ? size * n : 0;
}

static size_t on_header(char *p, size_t size, size_t n, void *arg)
{
    struct answer *a = arg;
    size_t len = size * n;
    char line[1200];
    const char *v;

    if (len >= sizeof line)
        return len;
    memcpy(line, p, len);
    line[len] = '\0';
    line[strcspn(line, "\r\n")] = '\0';
    v = strchr(line, ':');
    if (!v)
        return len;
    *(char *)v++ = '\0';
    v += strspn(v, " \t");
    if (!strcasecmp(line, "x-oauth-scopes"))
        snprintf(a->scopes, sizeof a->scopes, "%s", v);
    else if (!strcasecmp(line, "x-rate-limit-limit"))
        a->rl_limit = strtol(v, NULL, 10);
    else if (!strcasecmp(line, "x-rate-limit-remaining"))
        a->rl_remaining = strtol(v, NULL, 10);
    else if (!strcasecmp(line, "x-rate-limit-reset"))
        a->rl_reset = strtol(v, NULL, 10);
    return len;
}

/* One request.  `form` (may be NULL) makes it a form-encoded POST.
 * Returns 0 with `a` filled (a->body new: json_decref it), -1 when no
 * answer came (a->error says why). */
static int request(const char *url, const char *authz, const char *form, struct answer *a)
{
    CURL *h = curl_easy_init();
    struct curl_slist *hdr = NULL;
    struct buf body = { .max = 8u << 20 };
    CURLcode rc;

    memset(a, 0, sizeof *a);
    a->rl_limit = a->rl_remaining = a->rl_reset = -1;
    if (!h) {
        snprintf(a->error, sizeof a->error, "out of memory");
        return -1;
    }
    hdr = curl_slist_append(hdr, authz);
    if (form)
        hdr = curl_slist_append(hdr, "Content-Type: application/x-www-form-urlencoded");
    curl_easy_setopt(h, CURLOPT_URL, url);
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, hdr);
    if (form)
        curl_easy_setopt(h, CURLOPT_POSTFIELDS, form);
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, &body);
    curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(h, CURLOPT_HEADERDATA, a);
    curl_easy_setopt(h, CURLOPT_ERRORBUFFER, a->error);
    curl_easy_setopt(h, CURLOPT_TIMEOUT, DOCTOR_TIMEOUT_S);
    curl_easy_setopt(h, CURLOPT_USERAGENT, "vigil-doctor");
    curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
    rc = curl_easy_perform(h);
    if (rc == CURLE_OK) {
        curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &a->status);
        a->body = json_loadb(buf_str(&body), body.len, 0, NULL);
    } else if (!a->error[0]) {
        snprintf(a->error, sizeof a->error, "%s", curl_easy_strerror(rc));
    }
    buf_free(&body);
    curl_slist_free_all(hdr);
    curl_easy_cleanup(h);
    return rc == CURLE_OK ? 0 : -1;
}

/* --- Slack ---------------------------------------------------------------- */

/* A Web API call with `token`; returns the answer's "ok", and its "error"
 * (borrowed from a->body) in *err. */
static int slack_call(const struct config *c, const char *method, const char *token,
                      const char *form, struct answer *a, const char **err)
{
    char url[512], authz[600];
    snprintf(url, sizeof url, "%s%s", c->slack.api_url, method);
    snprintf(authz, sizeof authz, "Authorization: Bearer %s", token);
    *err = NULL;
    if (request(url, authz, form ? form : "", a)) {
        *err = a->error;
        return 0;
    }
    if (!json_is_true(json_object_get(a->body, "ok"))) {
        *err = json_string_value(json_object_get(a->body, "error"));
        if (!*err)
            *err = a->status != 200 ? "HTTP error" : "not ok";
        return 0;
    }
    return 1;
}

static int has_scope(const char *list, const char *scope)
{
    size_t n = strlen(scope);
    for (const char *p = list; *p; p += strcspn(p, ",") + (p[strcspn(p, ",")] == ',')) {
        p += strspn(p, " ");
        if (strncmp(p, scope, n) == 0 && (p[n] == ',' || p[n] == '\0' || p[n] == ' '))
            return 1;
    }
    return 0;
}

static void check_slack(struct doctor *d)
{
    const struct config *c = d->cfg;
    const char *chans[][2] = { { "channels.mentions", c->channel_mentions },
                               { "channels.escalations", c->channel_escalations } };
    char missing[300] = "", form[300];
    struct answer a;
    const char *err;
    int ok, private_chan = 0, bot_ok;

    memset(&a, 0, sizeof a);   /* a check skipped by its prefix leaves `a` untouched */
    ok = strncmp(c->slack.app_token, "xapp-", 5) == 0 &&
         slack_call(c, "apps.connections.open", c->slack.app_token, NULL, &a, &err);
    check(d, ok, "create an app-level token with the connections:write scope (the app's Basic "
          "Information page, App-Level Tokens) and put it in slack.app_token",
          "slack.app_token opens Socket Mode%s%s", ok ? "" : ": ",
          ok ? "" : strncmp(c->slack.app_token, "xapp-", 5) ? "not an xapp- token" : err);

    json_decref(a.body);
    memset(&a, 0, sizeof a);
    bot_ok = strncmp(c->slack.bot_token, "xoxb-", 5) == 0 &&
             slack_call(c, "auth.test", c->slack.bot_token, NULL, &a, &err);
    check(d, bot_ok, "use the Bot User OAuth Token (xoxb-...) of the app's OAuth & "
          "Permissions page in slack.bot_token; reinstall the app if it was revoked",
          "slack.bot_token is a valid bot token%s%s", bot_ok ? "" : ": ",
          bot_ok ? "" : strncmp(c->slack.bot_token, "xoxb-", 5) ? "not an xoxb- token" : err);
    if (!bot_ok) {
        json_decref(a.body);
        return;
    }

    for (size_t i = 0; i < sizeof chans / sizeof chans[0]; i++) {
        struct answer ci;
        json_t *ch;
        char fix[400];
        if (!chans[i][1])
            continue;
        snprintf(form, sizeof form, "channel=%s", chans[i][1]);
        ok = slack_call(c, "conversations.info", c->slack.bot_token, form, &ci, &err);
        ch = json_object_get(ci.body, "channel");
        if (ok && json_is_true(json_object_get(ch, "is_private")))
            private_chan = 1;
        if (!ok) {
            snprintf(fix, sizeof fix, "%s must be a channel id (like C0123ABCD) the bot can "
                     "see: the channel's details, About tab, at the bottom", chans[i][0]);
            check(d, 0, fix, "%s %s exists: %s", chans[i][0], chans[i][1], err);
        } else if (json_is_true(json_object_get(ch, "is_archived"))) {
            check(d, 0, "unarchive the channel or name another one",
                  "%s %s is archived", chans[i][0], chans[i][1]);
        } else {
            int member = json_is_true(json_object_get(ch, "is_member"));
            snprintf(fix, sizeof fix, "in #%s, type /invite @ and the app's name",
                     json_string_value(json_object_get(ch, "name")) ?
                     json_string_value(json_object_get(ch, "name")) : chans[i][1]);
            check(d, member, fix, "%s %s (#%s): the bot is a member", chans[i][0], chans[i][1],
                  json_string_value(json_object_get(ch, "name")) ?
                  json_string_value(json_object_get(ch, "name")) : "?");
        }
        json_decref(ci.body);
    }

    for (int i = 0; public_scopes[i]; i++)
        if (!has_scope(a.scopes, public_scopes[i]))
            snprintf(missing + strlen(missing), sizeof missing - strlen(missing), "%s%s",
                     *missing ? ", " : "", public_scopes[i]);
    for (int i = 0; private_chan && private_scopes[i]; i++)
        if (!has_scope(a.scopes, private_scopes[i]))
            snprintf(missing + strlen(missing), sizeof missing - strlen(missing), "%s%s",
                     *missing ? ", " : "", private_scopes[i]);
    check(d, !*missing, "add the missing scopes under OAuth & Permissions, Bot Token Scopes "
          "(config/slack-app-manifest.yml lists them), then reinstall the app to the workspace",
          "the bot token has the scopes vigil uses%s%s", *missing ? "; missing: " : "", missing);
    json_decref(a.body);

    for (size_t i = 0; i < c->nstaff; i++) {
        struct answer ui;
        const struct staff *s = &c->staff[i];
        if (!strcmp(s->id, c->admin_user) && !strcmp(s->id, "local-admin"))
            continue;   /* the built-in REPL identity */
        snprintf(form, sizeof form, "user=%s", s->id);
        ok = slack_call(c, "users.info", c->slack.bot_token, form, &ui, &err);
        if (ok && json_is_true(json_object_get(json_object_get(ui.body, "user"), "deleted"))) {
            ok = 0;
            err = "deactivated";
        }
        check(d, ok, "staff keys are member ids: the person's profile, More, Copy member ID",
              "staff %s (%s) is a workspace member%s%s", s->id, s->name, ok ? "" : ": ",
              ok ? "" : err);
        json_decref(ui.body);
    }
}

/* --- X ---------------------------------------------------------------------- */

static void x_budget(struct doctor *d, const struct answer *a, const char *what)
{
    char fix[300];
    long wait = a->rl_reset > 0 ? a->rl_reset - (long)time(NULL) : -1;
    if (a->rl_remaining < 0)
        return;
    snprintf(fix, sizeof fix, "wait %lds for the window to reset (x-rate-limit-reset); "
             "another app using the same credentials shares this budget", wait > 0 ? wait : 0);
    check(d, a->rl_remaining > 0, fix, "X rate-limit budget for %s: %ld of %ld left%s", what,
          a->rl_remaining, a->rl_limit,
          a->rl_remaining > 0 ? "" : " (exhausted)");
}

static const char *x_error(const struct answer *a)
{
    json_t *e = json_array_get(json_object_get(a->body, "errors"), 0);
    const char *m = json_string_value(json_object_get(a->body, "detail"));
    if (!m)
        m = json_string_value(json_object_get(e, "detail"));
    if (!m)
        m = json_string_value(json_object_get(a->body, "title"));
    if (!a->status)
        return a->error;
    return m ? m : "HTTP error";
}

static void check_x(struct doctor *d)
{
    const struct config *c = d->cfg;
    char url[600], authz[2048];
    const char *id;
    struct answer a;
    int ok;

    snprintf(url, sizeof url, "%susers/by/username/%s", c->x.api_url, c->x.handle);
    if (c->x.bearer_token || c->x.oauth2.access_token) {
        snprintf(authz, sizeof authz, "Authorization: Bearer %s",
                 c->x.bearer_token ? c->x.bearer_token : c->x.oauth2.access_token);
    } else {
        struct oauth1_keys k = { c->x.oauth1.consumer_key, c->x.oauth1.consumer_secret,
                                 c->x.oauth1.token, c->x.oauth1.token_secret };
        char nonce[33], *h;
        oauth_nonce(nonce);
        h = oauth1_header("GET", url, &k, nonce, (long long)time(NULL));
        snprintf(authz, sizeof authz, "%s", h ? h : "");
        free(h);
    }
    ok = request(url, authz, NULL, &a) == 0 && (a.status == 200 || a.status == 404);
    check(d, ok, "check the X credential (x.bearer_token, else x.oauth2 / x.oauth1) on the "
          "app's Keys and tokens page; regenerate it if it was revoked",
          "X accepts the read credential%s%s", ok ? "" : ": ", ok ? "" : x_error(&a));
    if (ok) {
        id = json_string_value(json_object_get(json_object_get(a.body, "data"), "id"));
        if (!id) {
            check(d, 0, "x.handle is the support account's handle, without @",
                  "X has an account @%s", c->x.handle);
        } else if (c->x.user_id && strcmp(c->x.user_id, id) != 0) {
            char fix[200];
            snprintf(fix, sizeof fix, "set x.user_id = \"%s\" or remove it (it is looked up "
                     "from the handle)", id);
            check(d, 0, fix, "x.user_id %s is @%s's id (X says %s)", c->x.user_id,
                  c->x.handle, id);
        } else {
            check(d, 1, NULL, "X has an account @%s, user id %s", c->x.handle, id);
        }
        x_budget(d, &a, "user lookups");
    }
    json_decref(a.body);

    if (c->x.oauth1.token) {
        struct oauth1_keys k = { c->x.oauth1.consumer_key, c->x.oauth1.consumer_secret,
                                 c->x.oauth1.token, c->x.oauth1.token_secret };
        char nonce[33], *h;
        const char *who;
        snprintf(url, sizeof url, "%susers/me", c->x.api_url);
        oauth_nonce(nonce);
        h = oauth1_header("GET", url, &k, nonce, (long long)time(NULL));
        snprintf(authz, sizeof authz, "%s", h ? h : "");
        free(h);
        ok = request(url, authz, NULL, &a) == 0 && a.status == 200;
        who = json_string_value(json_object_get(json_object_get(a.body, "data"), "username"));
        if (!ok)
            check(d, 0, "regenerate the Access Token and Secret (Keys and tokens, with Read "
                  "and Write permission) and the consumer keys into x.oauth1",
                  "x.oauth1 signs requests for replies and DMs: %s", x_error(&a));
        else
            check(d, who && !strcasecmp(who, c->x.handle), "create the access token while "
                  "logged in as the support handle: replies are posted as its owner",
                  "x.oauth1 acts as @%s%s%s", who ? who : "?",
                  who && !strcasecmp(who, c->x.handle) ? "" : ", not @", 
                  who && !strcasecmp(who, c->x.handle) ? "" : c->x.handle);
        json_decref(a.body);
    }
}

int doctor_run(const struct config *cfg)
{
    struct doctor d = { .cfg = cfg };

    curl_global_init(CURL_GLOBAL_DEFAULT);
    printf("vigil doctor: %s (chat=%s source=%s)\n", cfg->path, cfg->chat, cfg->source);
    if (!strcmp(cfg->chat, "slack"))
        check_slack(&d);
    if (!strcmp(cfg->source, "x"))
        check_x(&d);
    if (!d.passed && !d.failed)
        printf("nothing to check: chat = \"console\" and source = \"replay\" use no service\n");
    else if (d.failed)
        printf("%d of %d checks failed\n", d.failed, d.failed + d.passed);
    else
        printf("all %d checks passed\n", d.passed);
    curl_global_cleanup();
    return d.failed ? 1 : 0;
}
