/* http.c — libcurl multi on libuv (curl's own multi-uv pattern): curl tells
 * us which sockets to watch and when to time out; uv tells curl when they
 * are ready.  Nothing here blocks: DNS goes through curl's threaded
 * resolver, bodies are buffered in memory up to a cap. */
#include "core/http.h"

#include <ctype.h>
#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/log.h"
#include "core/trust.h"

struct http {
    uv_loop_t *loop;
    CURLM *multi;
    uv_timer_t timer;
    int inflight;
    struct xfer *xfers;
};

struct sock {
    uv_poll_t poll;
    curl_socket_t fd;
    struct http *h;
};

struct xfer {
    struct http *h;
    struct xfer *next, *prev;      /* in flight, for http_free */
    CURL *easy;
    struct curl_slist *headers;
    char *body;                    /* request body copy */
    char *resp, *hdrs;
    size_t len, cap, hlen, max;
    int too_big;
    http_done_fn done;
    void *arg;
    char errbuf[CURL_ERROR_SIZE];
};

static void check_done(struct http *h);

static void on_poll(uv_poll_t *p, int status, int events)
{
    struct sock *s = p->data;
    int flags = 0, running;
    if (status < 0)
        flags = CURL_CSELECT_ERR;
    if (events & UV_READABLE)
        flags |= CURL_CSELECT_IN;
    if (events & UV_WRITABLE)
        flags |= CURL_CSELECT_OUT;
    curl_multi_socket_action(s->h->multi, s->fd, flags, &running);
    check_done(s->h);
}

static void free_sock(uv_handle_t *hd) { free(hd->data); }

static int socket_cb(CURL *e, curl_socket_t fd, int what, void *userp, void *sockp)
{
    struct http *h = userp;
    struct sock *s = sockp;
    int events = 0;
    (void)e;

    if (what == CURL_POLL_REMOVE) {
        if (s) {
            uv_poll_stop(&s->poll);
            uv_close((uv_handle_t *)&s->poll, free_sock);
            curl_multi_assign(h->multi, fd, NULL);
        }
        return 0;
    }
    if (!s) {
        s = calloc(1, sizeof *s);
        if (!s)
            return -1;
        s->fd = fd;
        s->h = h;
        if (uv_poll_init_socket(h->loop, &s->poll, fd)) {
            free(s);
            return -1;
        }
        s->poll.data = s;
        curl_multi_assign(h->multi, fd, s);
    }
    if (what & CURL_POLL_IN)
        events |= UV_READABLE;
    if (what & CURL_POLL_OUT)
        events |= UV_WRITABLE;
    uv_poll_start(&s->poll, events, on_poll);
    return 0;
}

static void on_timeout(uv_timer_t *t)
{
    struct http *h = t->data;
    int running;
    curl_multi_socket_action(h->multi, CURL_SOCKET_TIMEOUT, 0, &running);
    check_done(h);
}

static int timer_cb(CURLM *m, long ms, void *userp)
{
    struct http *h = userp;
    (void)m;
    if (ms < 0)
        uv_timer_stop(&h->timer);
    else
        uv_timer_start(&h->timer, on_timeout, ms ? (uint64_t)ms : 1, 0);
    return 0;
}

struct http *http_new(uv_loop_t *loop)
{
    static int global_done;
    struct http *h;

    if (!global_done) {
        if (curl_global_init(CURL_GLOBAL_DEFAULT))
            return NULL;
        global_done = 1;
    }
    h = calloc(1, sizeof *h);
    if (!h)
        return NULL;
    h->loop = loop;
    h->multi = curl_multi_init();
    if (!h->multi) {
        free(h);
        return NULL;
    }
    uv_timer_init(loop, &h->timer);
    h->timer.data = h;
    curl_multi_setopt(h->multi, CURLMOPT_SOCKETFUNCTION, socket_cb);
    curl_multi_setopt(h->multi, CURLMOPT_SOCKETDATA, h);
    curl_multi_setopt(h->multi, CURLMOPT_TIMERFUNCTION, timer_cb);
    curl_multi_setopt(h->multi, CURLMOPT_TIMERDATA, h);
    return h;
}

static void complete_xfer(struct xfer *x, CURLcode code)
{
    struct http_response r = { 0 };
    long status = 0;

    curl_easy_getinfo(x->easy, CURLINFO_RESPONSE_CODE, &status);
    r.status = code == CURLE_OK ? status : 0;
    r.body = x->resp ? x->resp : "";
    r.len = x->len;
    r.headers = x->hdrs ? x->hdrs : "";
    if (x->too_big)
        r.error = "response too large";
    else if (code != CURLE_OK)
        r.error = x->errbuf[0] ? x->errbuf : curl_easy_strerror(code);
    if (x->too_big)
        r.status = 0;
    if (x->prev)
        x->prev->next = x->next;
    else
        x->h->xfers = x->next;
    if (x->next)
        x->next->prev = x->prev;
    x->done(x->arg, &r);
    curl_slist_free_all(x->headers);
    curl_easy_cleanup(x->easy);
    free(x->body);
    free(x->resp);
    free(x->hdrs);
    free(x);
}

static void check_done(struct http *h)
{
    CURLMsg *msg;
    int left;
    for (;;) {
        struct xfer *x;
        CURL *e;
        CURLcode code;
        msg = curl_multi_info_read(h->multi, &left);
        if (!msg)
            break;
        if (msg->msg != CURLMSG_DONE)
            continue;
        e = msg->easy_handle;
        code = msg->data.result;
        curl_easy_getinfo(e, CURLINFO_PRIVATE, (char **)&x);
        curl_multi_remove_handle(h->multi, e);
        h->inflight--;
        complete_xfer(x, code);
    }
}

static void free_http(uv_handle_t *hd) { free(hd->data); }

void http_free(struct http *h)
{
    if (!h)
        return;
    while (h->xfers) {
        struct xfer *x = h->xfers;
        curl_multi_remove_handle(h->multi, x->easy);
        h->inflight--;
        snprintf(x->errbuf, sizeof x->errbuf, "aborted");
        complete_xfer(x, CURLE_ABORTED_BY_CALLBACK);
    }
    curl_multi_cleanup(h->multi);
    uv_timer_stop(&h->timer);
    uv_close((uv_handle_t *)&h->timer, free_http);   /* frees h */
}

int http_inflight(struct http *h) { return h->inflight; }

static size_t on_body(char *p, size_t size, size_t n, void *userp)
{
    struct xfer *x = userp;
    size_t len = size * n;
    if (x->len + len > x->max) {
        x->too_big = 1;
        return 0;   /* aborts the transfer */
    }
    if (x->len + len + 1 > x->cap) {
        size_t cap = x->cap ? x->cap : 4096;
        char *nr;
        while (cap < x->len + len + 1)
            cap *= 2;
        nr = realloc(x->resp, cap);
        if (!nr)
            return 0;
        x->resp = nr;
        x->cap = cap;
    }
    memcpy(x->resp + x->len, p, len);
    x->len += len;
    x->resp[x->len] = '\0';
    return len;
}

static size_t on_header(char *p, size_t size, size_t n, void *userp)
{
    struct xfer *x = userp;
    size_t len = size * n;
    char *nh;
    if (x->hlen + len > 65536)
        return len;   /* ignore absurd header blocks rather than fail */
    nh = realloc(x->hdrs, x->hlen + len + 1);
    if (!nh)
        return 0;
    x->hdrs = nh;
    /* lower-case the name so lookups need not care */
    for (size_t i = 0; i < len; i++) {
        char c = p[i];
        int in_name = !memchr(p, ':', i + 1);
        x->hdrs[x->hlen + i] = in_name ? (char)tolower((unsigned char)c) : c;
    }
    x->hlen += len;
    x->hdrs[x->hlen] = '\0';
    return len;
}

int http_header(const struct http_response *r, const char *name, char *out, size_t len)
{
    size_t nlen = strlen(name);
    const char *p = r->headers, *found = NULL;
    /* the last occurrence wins: after a redirect or 100-continue, later blocks are the answer */
    while (p && *p) {
        const char *eol = strchr(p, '\n');
        if (strncmp(p, name, nlen) == 0 && p[nlen] == ':')
            found = p + nlen + 1;
        p = eol ? eol + 1 : NULL;
    }
    if (!found)
        return -1;
    while (*found == ' ' || *found == '\t')
        found++;
    {
        size_t vlen = strcspn(found, "\r\n");
        if (vlen >= len)
            vlen = len - 1;
        memcpy(out, found, vlen);
        out[vlen] = '\0';
    }
    return 0;
}

char *http_form_encode(const char *const *pairs)
{
    CURLU *u = curl_url();
    char *pair = NULL, *query = NULL, *out = NULL;
    CURLUcode rc = CURLUE_OK;

    if (!u)
        return NULL;
    for (; pairs[0]; pairs += 2) {
        size_t n = strlen(pairs[0]) + strlen(pairs[1]) + 2;
        pair = malloc(n);
        if (!pair)
            goto out;
        snprintf(pair, n, "%s=%s", pairs[0], pairs[1]);
        /* the first '=' stays, everything else is percent-encoded */
        rc = curl_url_set(u, CURLUPART_QUERY, pair, CURLU_APPENDQUERY | CURLU_URLENCODE);
        free(pair);
        pair = NULL;
        if (rc)
            goto out;
    }
    rc = curl_url_get(u, CURLUPART_QUERY, &query, 0);
    if (rc == CURLUE_NO_QUERY)
        out = strdup("");
    else if (rc == CURLUE_OK)
        out = strdup(query);
out:
    curl_free(query);
    curl_url_cleanup(u);
    return out;
}

int http_send(struct http *h, const struct http_request *req, http_done_fn done, void *arg)
{
    struct xfer *x = calloc(1, sizeof *x);
    if (!x)
        return -1;
    x->h = h;
    x->done = done;
    x->arg = arg;
    x->max = req->max_body ? req->max_body : (8u << 20);
    x->easy = curl_easy_init();
    if (!x->easy)
        goto fail;
    for (const char *const *hd = req->headers; hd && *hd; hd++) {
        struct curl_slist *l = curl_slist_append(x->headers, *hd);
        if (!l)
            goto fail;
        x->headers = l;
    }
    /* curl adds "Expect: 100-continue" to large POSTs; servers differ on it. */
    x->headers = curl_slist_append(x->headers, "Expect:");
    curl_easy_setopt(x->easy, CURLOPT_URL, req->url);
    curl_easy_setopt(x->easy, CURLOPT_CUSTOMREQUEST, req->method);
    if (req->body) {
        x->body = malloc(req->body_len + 1);
        if (!x->body)
            goto fail;
        memcpy(x->body, req->body, req->body_len);
        x->body[req->body_len] = '\0';
        curl_easy_setopt(x->easy, CURLOPT_POSTFIELDS, x->body);
        curl_easy_setopt(x->easy, CURLOPT_POSTFIELDSIZE, (long)req->body_len);
    } else if (strcmp(req->method, "GET") == 0) {
        curl_easy_setopt(x->easy, CURLOPT_HTTPGET, 1L);
    }
    /* A request that changes something goes on a connection of its own.
     * On a reused keep-alive connection that dies before a byte of answer,
     * curl resends the very same request by itself, assuming the server had
     * dropped an idle connection: but the server may have acted on it (X
     * posted the reply), and the copy carries the same signed header (X
     * refuses the reused OAuth nonce with 401).  Only vigil's own retry,
     * signed anew and checked against what X holds, may send it again. */
    if (strcmp(req->method, "GET") != 0 && strcmp(req->method, "HEAD") != 0) {
        curl_easy_setopt(x->easy, CURLOPT_FRESH_CONNECT, 1L);
        curl_easy_setopt(x->easy, CURLOPT_FORBID_REUSE, 1L);
    }
    curl_easy_setopt(x->easy, CURLOPT_HTTPHEADER, x->headers);
    curl_easy_setopt(x->easy, CURLOPT_TIMEOUT_MS, req->timeout_ms ? req->timeout_ms : 30000L);
    curl_easy_setopt(x->easy, CURLOPT_CONNECTTIMEOUT_MS, 10000L);
    curl_easy_setopt(x->easy, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(x->easy, CURLOPT_ACCEPT_ENCODING, "");   /* gzip, transparently */
    curl_easy_setopt(x->easy, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(x->easy, CURLOPT_WRITEDATA, x);
    curl_easy_setopt(x->easy, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(x->easy, CURLOPT_HEADERDATA, x);
    curl_easy_setopt(x->easy, CURLOPT_ERRORBUFFER, x->errbuf);
    curl_easy_setopt(x->easy, CURLOPT_PRIVATE, x);
    curl_easy_setopt(x->easy, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(x->easy, CURLOPT_USERAGENT, "vigil/0.1");
    /* The OS certificate directory, not the bundle (see core/trust.h). */
    curl_easy_setopt(x->easy, CURLOPT_CAINFO, NULL);
    curl_easy_setopt(x->easy, CURLOPT_CAPATH, trust_cert_dir());
    if (curl_multi_add_handle(h->multi, x->easy) != CURLM_OK)
        goto fail;
    x->next = h->xfers;
    if (h->xfers)
        h->xfers->prev = x;
    h->xfers = x;
    h->inflight++;
    return 0;
fail:
    if (x->easy)
        curl_easy_cleanup(x->easy);
    curl_slist_free_all(x->headers);
    free(x->body);
    free(x);
    return -1;
}
