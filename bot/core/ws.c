/* ws.c — libwebsockets on the libuv loop (foreign loop), with lws's own log
 * routed through ours.  See ../shared/reference/event-loop.md for why each
 * step is the way it is. */
#include "core/ws.h"

#include <libwebsockets.h>
#include <openssl/ssl.h>
#include <string.h>

#include "core/log.h"
#include "core/trust.h"

static void lws_log(int level, const char *line)
{
    char msg[512];
    size_t n = strlen(line);
    if (n >= sizeof msg)
        n = sizeof msg - 1;
    memcpy(msg, line, n);
    while (n && (msg[n - 1] == '\n' || msg[n - 1] == '\r'))
        n--;
    msg[n] = '\0';
    log_msg(level & LLL_ERR ? LOG_ERROR : level & LLL_WARN ? LOG_WARN : LOG_DEBUG,
            "libwebsockets", "detail=%s", msg);
}

static const struct lws_protocols no_protocols[] = {
    { "vigil-none", lws_callback_http_dummy, 0, 0, 0, NULL, 0 },
    { NULL, NULL, 0, 0, 0, NULL, 0 },
};

/* lws writes NULL through info.pcontext when the context is freed, long
 * after ws_context_new returned: it must point at storage that lives as
 * long (one context per process). */
static struct lws_context *live_ctx;

struct lws_context *ws_context_new(uv_loop_t *loop, const struct lws_protocols *protocols)
{
    struct lws_context_creation_info info;
    struct lws_context *created;
    void *foreign[1] = { loop };

    lws_set_log_level(LLL_ERR | LLL_WARN, lws_log);
    memset(&info, 0, sizeof info);
    info.port = CONTEXT_PORT_NO_LISTEN;
    info.protocols = protocols ? protocols : no_protocols;
    /* No OS CA bundle at creation: OpenSSL parses all ~140 certificates of
     * it, which was a third of vigil's startup (~30 ms) and 0.8 MB of heap.
     * The client protocol trusts the OS certificate directory instead
     * (ws_trust_os_certs), looked up lazily by subject hash. */
    info.options = LWS_SERVER_OPTION_LIBUV | LWS_SERVER_OPTION_DO_SSL_GLOBAL_INIT |
                   LWS_SERVER_OPTION_DISABLE_OS_CA_CERTS;
    info.foreign_loops = foreign;
    /* With a foreign loop, creation can fail after returning non-NULL: lws
     * then NULLs *pcontext.  Start it non-NULL to tell the two apart. */
    live_ctx = (struct lws_context *)&info;
    info.pcontext = &live_ctx;
    created = lws_create_context(&info);
    if (!created || !live_ctx) {
        log_error("cannot create the websocket context (is libwebsockets-evlib-uv installed?)", "");
        return NULL;
    }
    return created;
}

int ws_trust_os_certs(void *ssl_ctx)
{
    const char *dir = trust_cert_dir();
    if (!ssl_ctx || SSL_CTX_load_verify_locations(ssl_ctx, NULL, dir) != 1) {
        log_error("cannot use the system's trusted certificates; TLS connections will fail",
                  "dir=%s", dir);
        return 1;
    }
    return 0;
}

void ws_context_close(struct lws_context *ctx)
{
    if (ctx)
        lws_context_destroy(ctx);
}

void ws_context_finish(struct lws_context *ctx)
{
    /* With a foreign loop lws never finishes by itself: destroy again once
     * uv_run has drained its handles. */
    if (ctx)
        lws_context_destroy(ctx);
}
