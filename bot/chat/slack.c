/* slack.c — the Slack adapter's Socket Mode half and its lifecycle:
 * auth.test, then apps.connections.open mints a URL, lws connects to it on
 * the libuv loop, envelopes are acked at once (slash commands with the
 * script's answer in the ack), one reconnect loop with capped, jittered
 * backoff, and a refresh that opens the new socket before closing the old.
 * The Web API calls live in slack_api.c.  Knows Slack's wire format
 * (through slackparse) and the chat interface; never tickets' storage or X. */
#include "chat/slack.h"

#include <libwebsockets.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>

#include "chat/command.h"
#include "chat/slack_internal.h"
#include "chat/slack_home.h"
#include "chat/slack_thread.h"
#include "chat/slack_views.h"
#include "core/backoff.h"
#include "core/log.h"
#include "core/ws.h"

#define MAX_FRAME (1u << 20)       /* Slack's frames are small; a huge one is hostile */
#define LINK_DISABLED_WAIT 300.0   /* seconds: Socket Mode was switched off */
#define DRAIN_MS 1000              /* a replaced socket is kept this long before closing */
#define LATE_S 2.5                 /* a command that may have waited this long is not run */

struct out {
    struct out *next;
    size_t len;
    unsigned char buf[];           /* LWS_PRE headroom + payload */
};

struct conn {
    struct slack *s;
    struct lws *wsi;
    int id;
    int ready, closing, gone, discard;
    char *rx;
    size_t rxlen;
    struct out *head, *tail;
    int want_ping;
    uint64_t last_rx_ms, last_ping_ms;
    uint64_t drain_until_ms;       /* replaced: still read and acked until then */
    char host[256], path[1024];
    int port, tls;
    uv_getaddrinfo_t gai;
};

static uint64_t now_ms(void)
{
    struct timeval tv;
    gettimeofday(&tv, NULL);
    return (uint64_t)tv.tv_sec * 1000 + (uint64_t)tv.tv_usec / 1000;
}

static void set_state(struct slack *s, const char *fmt, const char *arg)
{
    char when[32];
    time_t t = time(NULL);
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%SZ", &tm);
    snprintf(s->state, sizeof s->state, fmt, arg ? arg : "", when);
}

static int seen(struct slack *s, const char *id)
{
    for (int i = 0; i < RECENT; i++)
        if (s->recent[i] && strcmp(s->recent[i], id) == 0)
            return 1;
    free(s->recent[s->recent_next]);
    s->recent[s->recent_next] = strdup(id);
    s->recent_next = (s->recent_next + 1) % RECENT;
    return 0;
}

/* Undoes seen() for `id`, the newest id remembered. */
static void forget(struct slack *s, const char *id)
{
    int last = (s->recent_next + RECENT - 1) % RECENT;
    if (s->recent[last] && strcmp(s->recent[last], id) == 0) {
        free(s->recent[last]);
        s->recent[last] = NULL;
        s->recent_next = last;
    }
}

/* --- Socket Mode ------------------------------------------------------- */

static void open_connection(struct slack *s);
static void schedule_reconnect(struct slack *s, const char *why);

static void conn_write(struct conn *c, const char *text)
{
    size_t len = strlen(text);
    struct out *o = malloc(sizeof *o + LWS_PRE + len);
    if (!o || !c->wsi || c->gone) {
        free(o);
        log_warn("slack: socket gone before a frame could be sent", "conn=%d", c->id);
        return;
    }
    o->next = NULL;
    o->len = len;
    memcpy(o->buf + LWS_PRE, text, len);
    if (c->tail)
        c->tail->next = o;
    else
        c->head = o;
    c->tail = o;
    lws_callback_on_writable(c->wsi);
}

static void ack(struct conn *c, const char *envelope_id, json_t *payload)
{
    char *text = slack_ack_frame(envelope_id, payload);
    /* An envelope read from a socket we are already closing is acked on the
     * live one: Slack takes acks on any of the app's sockets. */
    if ((c->closing || c->gone || !c->wsi) && c->s->current && c->s->current->ready &&
        !c->s->current->closing)
        c = c->s->current;
    if (text)
        conn_write(c, text);
    free(text);
}

static char *run_command(struct slack *s, const struct chat_command *cmd)
{
    if (!s->base.on_command)
        return strdup("No commands are loaded.");
    return s->base.on_command(s->base.on_command_arg, cmd);
}

static void on_ephemeral(struct slack *s, void *arg, const struct slack_api *r,
                         const struct http_response *h, double retry_after)
{
    (void)s; (void)arg; (void)h; (void)retry_after;
    if (!r->ok)
        log_warn("slack: could not show an answer", "error=%s", r->error ? r->error : "?");
}

/* Socket Mode envelopes carry no timestamp, so the age of a command is
 * bounded from our side: a frame read now reached the kernel at the
 * earliest when the loop last ran its 250 ms watchdog, since the loop was
 * free to read it from then on.  A long gap (the process paused, or
 * commands queued behind slow ones in one read) means the command may
 * already be past Slack's 3-second ack deadline and Slack has told its
 * user it failed: running it "seconds later" would act behind their back.
 * Such a command is not run, and its user is told so privately.  When the
 * watchdog itself ran first after the gap (libuv runs timers before it
 * polls: a loop blocked by slow work), what was sent during the gap is read
 * in the poll phase of that same loop turn: until the check phase that
 * follows it (on_after_poll) a frame counts as having waited through the
 * gap.  Returns 1 when it is too late. */
static int too_late(struct slack *s, const struct slack_frame_info *f, const char *what)
{
    uint64_t now = uv_hrtime();
    double waited = s->last_tick_ns ? (double)(now - s->last_tick_ns) / 1e9 : 0;
    char text[600];
    json_t *p;

    if (s->stall_open && (double)s->stall_ns / 1e9 > waited)
        waited = (double)s->stall_ns / 1e9;
    if (waited < LATE_S)
        return 0;
    log_warn("slack: command not run: it may have waited past Slack's deadline",
             "user=%s command=%.100s waited=%.1fs", f->user_id ? f->user_id : "?", what, waited);
    if (!f->channel_id || !f->user_id)
        return 1;
    snprintf(text, sizeof text, "Your command `%.200s` was not run: vigil was busy or paused "
             "for %.0f seconds when it arrived, past Slack's 3-second deadline, so Slack may "
             "already have told you it failed. Please send it again.", what, waited);
    p = slack_answer_payload(text);
    json_object_del(p, "response_type");
    json_object_set_new(p, "channel", json_string(f->channel_id));
    json_object_set_new(p, "user", json_string(f->user_id));
    slack_api_call(s, "chat.postEphemeral", p, 0, on_ephemeral, NULL);
    return 1;
}

static void handle_frame(struct conn *c, const char *data, size_t len)
{
    struct slack *s = c->s;
    struct slack_frame_info f;
    char err[200];

    if (slack_parse_frame(data, len, &f, err, sizeof err)) {
        log_warn("slack: ignoring a frame", "conn=%d error=%s", c->id, err);
        return;
    }
    /* forms: their buttons, modals and submissions (slack_views.c) */
    if (f.envelope_id && (f.type == SLACK_ACTION || f.type == SLACK_INTERACTIVE_OTHER)) {
        json_t *payload = NULL;
        if (seen(s, f.envelope_id)) {
            ack(c, f.envelope_id, NULL);
            slack_frame_clear(&f);
            return;
        }
        /* a submission that waited past Slack's deadline: Slack told its
         * user it failed and kept the modal open; they send it again */
        if (f.type == SLACK_INTERACTIVE_OTHER && too_late(s, &f, "a form")) {
            ack(c, f.envelope_id, NULL);
            slack_frame_clear(&f);
            return;
        }
        if (slack_views_handle(s, data, len, &payload)) {
            ack(c, f.envelope_id, payload);
            slack_frame_clear(&f);
            return;
        }
        forget(s, f.envelope_id);   /* not a form's: handled below, deduped there */
    }
    switch (f.type) {
    case SLACK_HELLO: {
        struct conn *old = s->current;
        c->ready = 1;
        s->current = c;
        s->opening = 0;
        s->attempt = 0;
        s->link_disabled = 0;
        s->last_ready_ms = now_ms();
        set_state(s, "connected (socket %s) since %s", NULL);
        log_info("slack: connected", "conn=%d refresh_in=%lds", c->id, f.approx_connection_time);
        /* The new socket is live: only now may the old one go, after a
         * short drain, since Slack may have sent on it a moment ago and a
         * closing socket drops what it reads. */
        if (old && old != c && !old->closing && !old->drain_until_ms)
            old->drain_until_ms = now_ms() + DRAIN_MS;
        break;
    }
    case SLACK_DISCONNECT:
        log_info("slack: asked to reconnect", "conn=%d reason=%s", c->id,
                 f.reason ? f.reason : "?");
        if (f.reason && strcmp(f.reason, "link_disabled") == 0) {
            log_error("Slack disabled Socket Mode for this app; enable it in the app settings",
                      "retry_in=%.0fs", LINK_DISABLED_WAIT);
            s->link_disabled = 1;
            c->closing = 1;
            if (c->wsi)
                lws_callback_on_writable(c->wsi);
        } else if (f.reason && strcmp(f.reason, "too_many_websockets") == 0) {
            /* close this one and any stray sockets but the live one */
            for (int i = 0; i < MAX_CONNS; i++)
                if (s->conns[i] && (s->conns[i] == c || s->conns[i] != s->current) &&
                    !s->conns[i]->closing) {
                    s->conns[i]->closing = 1;
                    if (s->conns[i]->wsi)
                        lws_callback_on_writable(s->conns[i]->wsi);
                }
        } else if (c == s->current) {
            open_connection(s);   /* warning, refresh_requested: new socket first */
        }
        break;
    case SLACK_SLASH: {
        char line[4200];
        char *answer;
        struct slack_typed typed;
        struct chat_command cmd = { 0 };
        if (seen(s, f.envelope_id)) {
            log_info("slack: redelivered command not run again", "envelope=%s", f.envelope_id);
            ack(c, f.envelope_id, NULL);
            break;
        }
        /* Scripts, the desk and customers get what the agent typed, not
         * Slack's escaped form (&amp;, <https://…>, <@U1|alice>) */
        if (slack_typed_text(f.text, &typed)) {
            ack(c, f.envelope_id, slack_answer_payload("vigil is out of memory; try again."));
            break;
        }
        snprintf(line, sizeof line, "%s %s", f.command, typed.text);
        if (too_late(s, &f, line)) {
            ack(c, f.envelope_id, NULL);
            slack_typed_clear(&typed);
            break;
        }
        /* the people Slack named: "@alice" in the text is typed.people's U1 */
        cmd.user_id = f.user_id;
        cmd.channel = f.channel_id;
        cmd.people = typed.people;
        cmd.npeople = typed.npeople;
        if (chat_command_parse(&cmd, line, s->cfg->command, 0) < 0)
            answer = strdup("vigil is out of memory; try again.");
        else
            answer = run_command(s, &cmd);
        ack(c, f.envelope_id, slack_answer_payload(answer));
        free(answer);
        chat_command_clear(&cmd);
        slack_typed_clear(&typed);
        break;
    }
    case SLACK_ACTION: {
        char *answer;
        struct chat_command cmd = { .user_id = f.user_id, .channel = f.channel_id };
        ack(c, f.envelope_id, NULL);   /* buttons: ack first, answer privately after */
        if (seen(s, f.envelope_id))
            break;
        /* a button is its verb and ticket: no command line to re-parse */
        if (slack_action_command(s->cfg->command, f.action_id, f.action_value, &cmd) < 0) {
            log_warn("slack: unknown button", "action=%s", f.action_id);
            break;
        }
        if (too_late(s, &f, cmd.raw)) {
            chat_command_clear(&cmd);
            break;
        }
        answer = run_command(s, &cmd);
        if (f.channel_id && answer) {
            json_t *p = slack_answer_payload(answer);
            json_object_del(p, "response_type");
            json_object_set_new(p, "channel", json_string(f.channel_id));
            json_object_set_new(p, "user", json_string(f.user_id));
            slack_api_call(s, "chat.postEphemeral", p, 0, on_ephemeral, NULL);
        }
        chat_command_clear(&cmd);
        free(answer);
        break;
    }
    case SLACK_EVENT:
        ack(c, f.envelope_id, NULL);
        if (f.event_id && seen(s, f.event_id))
            break;   /* a retry of an event already handled */
        if ((f.event_bot_id && s->bot_id && strcmp(f.event_bot_id, s->bot_id) == 0) ||
            (f.event_user && s->bot_user_id && strcmp(f.event_user, s->bot_user_id) == 0))
            break;   /* our own message */
        log_debug("slack: event", "type=%s", f.event_type ? f.event_type : "?");
        if (f.event_type && strcmp(f.event_type, "message") == 0)
            slack_thread_message(s, data, len);   /* a command in a ticket's thread? */
        else if (f.event_type && strcmp(f.event_type, "app_home_opened") == 0)
            slack_home_opened(s, data, len);
        break;
    default:
        if (f.envelope_id)
            ack(c, f.envelope_id, NULL);
        break;
    }
    slack_frame_clear(&f);
}

static void conn_free(struct conn *c)
{
    while (c->head) {
        struct out *o = c->head;
        c->head = o->next;
        free(o);
    }
    free(c->rx);
    free(c);
}

/* The socket is over, for whatever reason. */
static void conn_gone(struct conn *c, const char *why)
{
    struct slack *s = c->s;
    if (c->gone)
        return;
    c->gone = 1;
    for (int i = 0; i < MAX_CONNS; i++)
        if (s->conns[i] == c)
            s->conns[i] = NULL;
    if (!c->ready)
        s->opening = 0;
    log_info("slack: socket closed", "conn=%d why=%s", c->id, why);
    if (c == s->current) {
        s->current = NULL;
        set_state(s, "disconnected%s since %s", "");
        if (!s->stopping)
            schedule_reconnect(s, why);
    } else if (!c->ready && !s->stopping && !s->current) {
        schedule_reconnect(s, why);
    }
}

static int ws_callback(struct lws *wsi, enum lws_callback_reasons reason, void *user,
                       void *in, size_t len)
{
    struct conn *c = user;
    switch (reason) {
    case LWS_CALLBACK_OPENSSL_LOAD_EXTRA_CLIENT_VERIFY_CERTS:
        return ws_trust_os_certs(user);   /* user is the SSL_CTX, not a conn */
    case LWS_CALLBACK_CLIENT_ESTABLISHED:
        c->last_rx_ms = now_ms();
        log_debug("slack: socket open, waiting for hello", "conn=%d", c->id);
        break;
    case LWS_CALLBACK_CLIENT_RECEIVE: {
        char *nrx;
        c->last_rx_ms = now_ms();
        if (c->discard)
            break;   /* the rest of an oversized frame: dropped, never buffered */
        if (c->rxlen + len > MAX_FRAME) {
            /* Returning -1 here tears the wsi down under lws's feet while it
             * still holds fragments of the frame: drop the data instead, and
             * close the socket from WRITEABLE, as any close. */
            log_error("slack: frame larger than 1 MiB; closing the socket", "conn=%d", c->id);
            c->discard = 1;
            free(c->rx);
            c->rx = NULL;
            c->rxlen = 0;
            c->closing = 1;
            lws_callback_on_writable(wsi);
            conn_gone(c, "oversized frame");
            break;
        }
        nrx = realloc(c->rx, c->rxlen + len + 1);
        if (!nrx)
            return -1;
        c->rx = nrx;
        memcpy(c->rx + c->rxlen, in, len);
        c->rxlen += len;
        if (lws_is_final_fragment(wsi) && !lws_remaining_packet_payload(wsi)) {
            c->rx[c->rxlen] = '\0';
            handle_frame(c, c->rx, c->rxlen);
            c->rxlen = 0;
        }
        break;
    }
    case LWS_CALLBACK_CLIENT_RECEIVE_PONG:
        c->last_rx_ms = now_ms();
        break;
    case LWS_CALLBACK_CLIENT_WRITEABLE: {
        struct out *o = c->head;
        if (o) {
            c->head = o->next;
            if (!c->head)
                c->tail = NULL;
            if (lws_write(wsi, o->buf + LWS_PRE, o->len, LWS_WRITE_TEXT) < (int)o->len) {
                free(o);
                return -1;
            }
            free(o);
        } else if (c->want_ping) {
            unsigned char ping[LWS_PRE + 4];
            c->want_ping = 0;
            if (lws_write(wsi, ping + LWS_PRE, 0, LWS_WRITE_PING) < 0)
                return -1;
        } else if (c->closing) {
            /* Debian's lws loses the close frame if we return -1 here */
            lws_close_reason(wsi, LWS_CLOSE_STATUS_NORMAL, (unsigned char *)"bye", 3);
            lws_set_timeout(wsi, PENDING_TIMEOUT_HTTP_KEEPALIVE_IDLE, LWS_TO_KILL_ASYNC);
            return 0;
        }
        if (c->head || c->want_ping || c->closing)
            lws_callback_on_writable(wsi);
        break;
    }
    case LWS_CALLBACK_CLIENT_CONNECTION_ERROR:
        if (c)
            conn_gone(c, in ? (const char *)in : "connection error");
        break;
    case LWS_CALLBACK_CLIENT_CLOSED:
        if (c)
            conn_gone(c, "closed");
        break;
    case LWS_CALLBACK_WSI_DESTROY:
        if (c) {
            conn_gone(c, "destroyed");
            conn_free(c);
        }
        break;
    default:
        break;
    }
    return 0;
}

static const struct lws_protocols protocols[] = {
    { "vigil-slack", ws_callback, 0, 0, 0, NULL, 0 },
    { NULL, NULL, 0, 0, 0, NULL, 0 },
};

const struct lws_protocols *slack_ws_protocols(void) { return protocols; }

static int parse_ws_url(const char *url, struct conn *c)
{
    const char *p, *host, *slash;
    size_t hlen;
    if (strncmp(url, "wss://", 6) == 0) {
        c->tls = 1;
        c->port = 443;
        p = url + 6;
    } else if (strncmp(url, "ws://", 5) == 0) {
        c->tls = 0;
        c->port = 80;
        p = url + 5;
    } else {
        return -1;
    }
    host = p;
    slash = strchr(p, '/');
    hlen = slash ? (size_t)(slash - p) : strlen(p);
    if (!hlen || hlen >= sizeof c->host)
        return -1;
    memcpy(c->host, host, hlen);
    c->host[hlen] = '\0';
    if (strchr(c->host, ':')) {
        char *colon = strrchr(c->host, ':'), *end = NULL;
        long port = strtol(colon + 1, &end, 10);
        if (end == colon + 1 || *end || port <= 0 || port > 65535)
            return -1;
        c->port = (int)port;
        *colon = '\0';
    }
    snprintf(c->path, sizeof c->path, "%s", slash ? slash : "/");
    return 0;
}

static void on_resolved(uv_getaddrinfo_t *req, int status, struct addrinfo *res)
{
    struct conn *c = req->data;
    struct slack *s = c->s;
    struct lws_client_connect_info i;
    char ip[64] = "";

    if (status == 0 && res) {
        if (res->ai_family == AF_INET)
            uv_ip4_name((struct sockaddr_in *)res->ai_addr, ip, sizeof ip);
        else
            uv_ip6_name((struct sockaddr_in6 *)res->ai_addr, ip, sizeof ip);
    }
    uv_freeaddrinfo(res);
    if (!ip[0] || s->stopping) {
        if (!s->stopping)
            log_warn("slack: cannot resolve the websocket host", "host=%s error=%s", c->host,
                     status ? uv_strerror(status) : "no address");
        s->opening = 0;
        if (!s->stopping)
            schedule_reconnect(s, "DNS failure");
        free(c);
        return;
    }
    memset(&i, 0, sizeof i);
    i.context = s->ctx;
    i.address = ip;             /* resolved by us: lws would block the loop */
    i.port = c->port;
    i.path = c->path;
    i.host = c->host;           /* TLS SNI and certificate checks use this */
    i.origin = c->host;
    i.ssl_connection = c->tls ? LCCSCF_USE_SSL : 0;
    i.alpn = "http/1.1";
    i.local_protocol_name = "vigil-slack";
    i.userdata = c;
    i.pwsi = &c->wsi;
    for (int k = 0; k < MAX_CONNS; k++)
        if (!s->conns[k]) {
            s->conns[k] = c;
            break;
        }
    if (!lws_client_connect_via_info(&i)) {
        /* lws may already have called CONNECTION_ERROR (and freed nothing of ours) */
        if (!c->gone)
            conn_gone(c, "connect failed");
        conn_free(c);
    }
}

static void connect_ws(struct slack *s, const char *url)
{
    struct conn *c = calloc(1, sizeof *c);
    struct addrinfo hints;
    char port[8];
    int live = 0;

    for (int k = 0; k < MAX_CONNS; k++)
        live += s->conns[k] != NULL;
    if (!c || live >= MAX_CONNS || parse_ws_url(url, c)) {
        log_error("slack: cannot use the websocket URL", "live=%d", live);
        free(c);
        s->opening = 0;
        schedule_reconnect(s, "bad websocket URL");
        return;
    }
    c->s = s;
    c->id = ++s->next_conn_id;
    c->gai.data = c;
    memset(&hints, 0, sizeof hints);
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    snprintf(port, sizeof port, "%d", c->port);
    if (uv_getaddrinfo(s->loop, &c->gai, on_resolved, c->host, port, &hints)) {
        free(c);
        s->opening = 0;
        schedule_reconnect(s, "cannot resolve");
    }
}

static void on_connections_open(struct slack *s, void *arg, const struct slack_api *r,
                                const struct http_response *h, double retry_after)
{
    (void)arg;
    (void)h;
    if (s->stopping) {
        s->opening = 0;
        return;
    }
    if (!r->ok || !r->url) {
        s->opening = 0;
        if (slack_error_is_bad_token(r->error)) {
            char why[200];
            snprintf(why, sizeof why, "Slack rejected the app token (apps.connections.open: "
                     "%s): check slack.app_token (xapp-…, connections:write)", r->error);
            s->fatal(s->fatal_arg, why);
            return;
        }
        if (retry_after > 0)
            log_warn("slack: apps.connections.open rate limited", "retry_after=%.0f", retry_after);
        schedule_reconnect(s, r->error ? r->error : "apps.connections.open failed");
        return;
    }
    connect_ws(s, r->url);
}

static void open_connection(struct slack *s)
{
    if (s->opening || s->stopping)
        return;
    s->opening = 1;
    if (slack_api_call(s, "apps.connections.open", NULL, 1, on_connections_open, NULL)) {
        s->opening = 0;
        schedule_reconnect(s, "cannot start apps.connections.open");
    }
}

static void on_reconnect_timer(uv_timer_t *t)
{
    struct slack *s = t->data;
    if (!s->authed)
        s->base.ops->start(&s->base);
    else if (!s->current)
        open_connection(s);
}

static void check_give_up(struct slack *s)
{
    uint64_t since = s->last_ready_ms ? s->last_ready_ms : s->started_ms;
    if (s->cfg->slack.give_up_after > 0 && !s->current &&
        now_ms() - since > (uint64_t)(s->cfg->slack.give_up_after * 1000)) {
        char why[160];
        snprintf(why, sizeof why, "cannot reach Slack for more than %.0f s (slack.give_up_after)",
                 s->cfg->slack.give_up_after);
        s->fatal(s->fatal_arg, why);
    }
}

/* The one reconnect loop: a single timer, never two attempts at once. */
static void schedule_reconnect(struct slack *s, const char *why)
{
    double delay;
    if (s->stopping || uv_is_active((uv_handle_t *)&s->reconnect) || s->opening)
        return;
    check_give_up(s);
    if (s->stopping)
        return;
    delay = s->link_disabled ? LINK_DISABLED_WAIT : backoff_delay(++s->attempt, 1.0, 60.0);
    log_warn("slack: not connected; retrying", "in=%.1fs attempt=%d why=%s", delay,
             s->attempt, why);
    set_state(s, "reconnecting (%s) since %s", why);
    uv_timer_start(&s->reconnect, on_reconnect_timer, (uint64_t)(delay * 1000), 0);
}

/* The check phase after the poll that read what waited through a stall. */
static void on_after_poll(uv_check_t *h)
{
    struct slack *s = h->data;
    s->stall_open = 0;
    uv_check_stop(h);
}

static void on_watchdog(uv_timer_t *t)
{
    struct slack *s = t->data;
    uint64_t now = now_ms();
    uint64_t idle = (uint64_t)(s->cfg->slack.idle_timeout * 1000);
    uint64_t tick = uv_hrtime();

    if (s->last_tick_ns && tick - s->last_tick_ns > (uint64_t)(LATE_S * 1e9)) {
        s->stall_ns = tick - s->last_tick_ns;   /* the loop did not run: paused or blocked */
        s->stall_open = 1;
        uv_check_start(&s->after_poll, on_after_poll);
    }
    s->last_tick_ns = tick;
    uint64_t ping = (uint64_t)(s->cfg->slack.ping_interval * 1000);

    for (int i = 0; i < MAX_CONNS; i++) {
        struct conn *c = s->conns[i];
        if (!c || !c->wsi || c->closing || !c->last_rx_ms)
            continue;
        if (c->drain_until_ms && now >= c->drain_until_ms) {
            log_debug("slack: closing the replaced socket", "conn=%d", c->id);
            c->closing = 1;
            lws_callback_on_writable(c->wsi);
            continue;
        }
        if (idle && now - c->last_rx_ms > idle) {
            log_warn("slack: no traffic on the socket; treating it as dead", "conn=%d idle=%.0fs",
                     c->id, (double)(now - c->last_rx_ms) / 1000);
            c->closing = 1;
            lws_set_timeout(c->wsi, PENDING_TIMEOUT_HTTP_KEEPALIVE_IDLE, LWS_TO_KILL_ASYNC);
            /* A dead peer answers no close frame: reconnect now, let lws
             * reap the old socket when it gets to it. */
            conn_gone(c, "no traffic");
            continue;
        }
        if (ping && now - c->last_ping_ms >= ping) {
            c->last_ping_ms = now;
            c->want_ping = 1;
            lws_callback_on_writable(c->wsi);
        }
    }
    if (!s->current)
        check_give_up(s);
}

static void on_auth(struct slack *s, void *arg, const struct slack_api *r,
                    const struct http_response *h, double retry_after)
{
    (void)arg;
    (void)h;
    (void)retry_after;
    s->opening = 0;
    if (s->stopping)
        return;
    if (r->ok) {
        s->authed = 1;
        free(s->bot_user_id);
        free(s->bot_id);
        s->bot_user_id = r->user_id ? strdup(r->user_id) : NULL;
        s->bot_id = r->bot_id ? strdup(r->bot_id) : NULL;
        free(s->team_url);
        s->team_url = r->url ? strdup(r->url) : NULL;
        log_info("slack: authenticated", "bot_user=%s", r->user_id ? r->user_id : "?");
        open_connection(s);
    } else if (slack_error_is_bad_token(r->error)) {
        char why[200];
        snprintf(why, sizeof why, "Slack rejected the bot token (auth.test: %s): check "
                 "slack.bot_token (xoxb-…)", r->error);
        s->fatal(s->fatal_arg, why);
    } else {
        schedule_reconnect(s, r->error ? r->error : "auth.test failed");
    }
}

static int slack_start(struct chat *c)
{
    struct slack *s = to_slack(c);
    if (!s->started_ms)
        s->started_ms = now_ms();
    set_state(s, "connecting%s since %s", "");
    s->opening = 1;
    if (slack_api_call(s, "auth.test", json_object(), 0, on_auth, NULL)) {
        s->opening = 0;
        schedule_reconnect(s, "cannot start auth.test");
    }
    if (!uv_is_active((uv_handle_t *)&s->watchdog)) {
        s->last_tick_ns = uv_hrtime();
        uv_timer_start(&s->watchdog, on_watchdog, 250, 250);
    }
    return 0;
}

static void slack_stop(struct chat *c)
{
    struct slack *s = to_slack(c);
    s->stopping = 1;
    uv_timer_stop(&s->reconnect);
    uv_timer_stop(&s->watchdog);
    uv_close((uv_handle_t *)&s->reconnect, NULL);
    uv_close((uv_handle_t *)&s->watchdog, NULL);
    uv_check_stop(&s->after_poll);
    uv_close((uv_handle_t *)&s->after_poll, NULL);
    uv_timer_stop(&s->home_timer);
    uv_close((uv_handle_t *)&s->home_timer, NULL);
    for (int i = 0; i < MAX_CONNS; i++)
        if (s->conns[i] && s->conns[i]->wsi) {
            s->conns[i]->closing = 1;
            lws_callback_on_writable(s->conns[i]->wsi);
        }
}

static void slack_destroy(struct chat *c)
{
    struct slack *s = to_slack(c);
    /* lws destroyed every wsi (and our conns with them) before this runs */
    for (int i = 0; i < RECENT; i++)
        free(s->recent[i]);
    for (int i = 0; i < 64; i++)
        free(s->users[i].name);
    free(s->team_url);
    free(s->bot_user_id);
    free(s->bot_id);
    free(s);
}

static const char *slack_state(struct chat *c)
{
    return to_slack(c)->state;
}

static const struct chat_ops slack_ops = {
    .name = "slack",
    .start = slack_start,
    .stop = slack_stop,
    .destroy = slack_destroy,
    .post_ticket = slack_post_ticket,
    .update_ticket = slack_update_ticket,
    .post_thread = slack_post_thread,
    .post_channel = slack_post_channel,
    .state = slack_state,
    .find_ticket = slack_find_ticket_op,
    .post_digest = slack_post_digest,
    .update_line = slack_update_line,
    .post_line = slack_post_line,
    .find_line = slack_find_line_op,
    .update_line_button = slack_update_line_button,
    .home_changed = slack_home_changed,
    .post_alert = slack_post_alert,
    .upload_file = slack_upload_file,
    .message_link = slack_message_link,
};

struct chat *slack_new(uv_loop_t *loop, struct lws_context *ws, struct http *http,
                       const struct config *cfg, void (*fatal)(void *arg, const char *why),
                       void *fatal_arg)
{
    struct slack *s = calloc(1, sizeof *s);
    if (!s)
        return NULL;
    s->base.ops = &slack_ops;
    s->loop = loop;
    s->ctx = ws;
    s->http = http;
    s->cfg = cfg;
    s->fatal = fatal;
    s->fatal_arg = fatal_arg;
    uv_timer_init(loop, &s->reconnect);
    uv_timer_init(loop, &s->watchdog);
    uv_check_init(loop, &s->after_poll);
    uv_timer_init(loop, &s->home_timer);
    s->reconnect.data = s->watchdog.data = s->after_poll.data = s;
    s->home_timer.data = s;
    snprintf(s->state, sizeof s->state, "not started");
    return &s->base;
}
