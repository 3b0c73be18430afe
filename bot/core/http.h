/* http.h — asynchronous HTTP over the libcurl multi interface, driven by
 * the libuv loop (socket and timer callbacks).  Knows HTTP only: no Slack,
 * no X.  Every request has a timeout and a response size cap. */
#ifndef VIGIL_HTTP_H
#define VIGIL_HTTP_H

#include <stddef.h>
#include <uv.h>

struct http;

struct http_request {
    const char *method;              /* "GET", "POST", ... */
    const char *url;
    const char *const *headers;      /* "Name: value" strings, NULL-terminated; may be NULL */
    const char *body;                /* may be NULL */
    size_t body_len;
    long timeout_ms;                 /* whole request; 0 = 30 s */
    size_t max_body;                 /* response cap in bytes; 0 = 8 MiB */
};

struct http_response {
    long status;                     /* 0 when no HTTP answer (see error) */
    const char *body;                /* NUL-terminated, `len` bytes */
    size_t len;
    const char *error;               /* transport error in words, NULL when none */
    const char *headers;             /* raw header block, lower-cased names */
};

/* Borrowed response, valid only during the callback. */
typedef void (*http_done_fn)(void *arg, const struct http_response *r);

/* Returns new, free with http_free() before the loop is closed. */
struct http *http_new(uv_loop_t *loop);
/* Aborts requests in flight (their callbacks run with error "aborted"). */
void http_free(struct http *h);
/* Copies everything in `req`.  Returns 0, or -1 when it could not start
 * (then `done` is not called). */
int http_send(struct http *h, const struct http_request *req, http_done_fn done, void *arg);
/* Value of header `name` (lower case) in `r`, copied into `out`; 0 if found. */
int http_header(const struct http_response *r, const char *name, char *out, size_t len);
int http_inflight(struct http *h);
/* `pairs` is name, value, name, value, ..., NULL (values never NULL).
 * Returns them as an application/x-www-form-urlencoded body, escaped by
 * curl's URL API (space as '+'); "" for none.  Returns new, caller frees
 * with free(); NULL when out of memory. */
char *http_form_encode(const char *const *pairs);

#endif
