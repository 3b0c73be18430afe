/* ws.h — the libwebsockets context, run on vigil's libuv loop as a foreign
 * loop.  Owns the context's lifetime and its two-phase destroy; websocket
 * clients (the Slack adapter) register their protocol here.  Knows no
 * Slack. */
#ifndef VIGIL_WS_H
#define VIGIL_WS_H

#include <uv.h>

struct lws_context;
struct lws_protocols;

/* Creates the context on `loop`.  `protocols` ends with a zeroed entry and
 * outlives the context.  Returns NULL on failure (logged). */
struct lws_context *ws_context_new(uv_loop_t *loop, const struct lws_protocols *protocols);
/* For a client protocol's LWS_CALLBACK_OPENSSL_LOAD_EXTRA_CLIENT_VERIFY_CERTS
 * (`ssl_ctx` is the callback's user pointer): trust the OS certificate
 * directory, as OpenSSL would ($SSL_CERT_DIR honoured).  0, or 1 (logged). */
int ws_trust_os_certs(void *ssl_ctx);
/* Phase 1 (before the loop drains) and phase 2 (after uv_run returned). */
void ws_context_close(struct lws_context *ctx);
void ws_context_finish(struct lws_context *ctx);

#endif
