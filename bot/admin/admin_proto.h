/* admin_proto.h — the admin socket's line protocol, shared by the server
 * (admin.c) and its client (repl.c): one JSON object per line each way
 * (CONTRIBUTING.md, "Admin socket"):
 *   {"id":1,"op":"exec","line":":status"} -> {"id":1,"ok":true,"text":"..."}
 *   {"id":2,"op":"complete","kind":"verbs"} -> {"id":2,"ok":true,"items":[...]}
 *   {"id":3,"op":"tail","on":true} -> ok, then {"event":"tail","kind":...,"text":...}
 *   {"id":4,"op":"ping"} -> {"id":4,"ok":true}
 *   {"id":5,"op":"form","line":"/tw reply 42"} -> {"id":5,"ok":true,"form":{…}} (or no form)
 *   {"id":6,"op":"exec","line":"/tw reply 42","fields":{"text":"…"}} -> as exec
 *   … "fields":{"canned":"thanks"},"fill":"canned"} -> the text that choice fills in
 * A request that cannot be served answers {"id":…,"ok":false,"error":"…"}. */
#ifndef VIGIL_ADMIN_PROTO_H
#define VIGIL_ADMIN_PROTO_H

#include <stddef.h>

/* The requests ("op") a server answers, spelt once for both ends. */
#define ADMIN_OP_EXEC "exec"
#define ADMIN_OP_COMPLETE "complete"
#define ADMIN_OP_TAIL "tail"
#define ADMIN_OP_PING "ping"
#define ADMIN_OP_FORM "form"      /* issue 19: a command's form, for the REPL to prompt */
/* A request line longer than this closes the connection. */
#define ADMIN_MAX_LINE (1u << 20)

/* One request line of the admin socket protocol, parsed (pure; fuzzed). */
struct admin_req {
    char op[16];        /* exec, complete, tail, ping */
    char *line;         /* exec: new string, or NULL */
    char kind[16];      /* complete */
    int on;             /* tail */
    char *id;           /* the request's id as JSON text (new), "null" when absent */
    char *fields;       /* exec of a form: its values as a JSON object's text (new), or NULL */
    char fill[32];      /* exec of a form: only fill in what field `fill` picked ("canned") */
};
/* Returns 0 and fills `r` (free with admin_req_clear), or -1 with the
 * reason in `err` (r->id is still filled when the line was an object). */
int admin_parse_request(const char *line, size_t len, struct admin_req *r, char *err,
                        size_t errlen);
void admin_req_clear(struct admin_req *r);

#endif
