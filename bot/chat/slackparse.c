/* slackparse.c — Slack frames and Web API answers to structs, tickets to
 * Block Kit.  The only place that parses Slack's JSON or builds its
 * messages (slack.c and slack_api.c only name a method's arguments); see
 * ../shared/reference/slack.md.  Pure: no I/O, no globals. */
#include "chat/slackparse.h"

#include "chat/command.h"
#include "core/text.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static char *dup_of(json_t *obj, const char *key)
{
    const char *v = json_string_value(json_object_get(obj, key));
    return v ? strdup(v) : NULL;
}

void slack_frame_clear(struct slack_frame_info *f)
{
    char **s[] = { &f->envelope_id, &f->reason, &f->command, &f->text, &f->user_id,
                   &f->user_name, &f->channel_id, &f->response_url, &f->action_id,
                   &f->action_value, &f->message_ts, &f->event_id, &f->event_type,
                   &f->event_user, &f->event_bot_id };
    for (size_t i = 0; i < sizeof s / sizeof s[0]; i++) {
        free(*s[i]);
        *s[i] = NULL;
    }
}

static int parse_slash(json_t *p, struct slack_frame_info *f, char *err, size_t errlen)
{
    f->type = SLACK_SLASH;
    f->command = dup_of(p, "command");
    f->text = dup_of(p, "text");
    f->user_id = dup_of(p, "user_id");
    f->user_name = dup_of(p, "user_name");
    f->channel_id = dup_of(p, "channel_id");
    f->response_url = dup_of(p, "response_url");
    if (!f->command || !f->user_id) {
        snprintf(err, errlen, "slash command without command or user_id");
        return -1;
    }
    if (!f->text)
        f->text = strdup("");
    return 0;
}

static int parse_interactive(json_t *p, struct slack_frame_info *f, char *err, size_t errlen)
{
    const char *type = json_string_value(json_object_get(p, "type"));
    json_t *action = json_array_get(json_object_get(p, "actions"), 0);
    json_t *user = json_object_get(p, "user");
    json_t *container = json_object_get(p, "container");

    if (!type || strcmp(type, "block_actions") != 0) {
        f->type = SLACK_INTERACTIVE_OTHER;
        return 0;
    }
    f->type = SLACK_ACTION;
    f->user_id = dup_of(user, "id");
    f->user_name = dup_of(user, "username");
    f->channel_id = dup_of(json_object_get(p, "channel"), "id");
    if (!f->channel_id)
        f->channel_id = dup_of(container, "channel_id");
    f->message_ts = dup_of(container, "message_ts");
    f->response_url = dup_of(p, "response_url");
    f->action_id = dup_of(action, "action_id");
    f->action_value = dup_of(action, "value");
    if (!f->user_id || !f->action_id) {
        snprintf(err, errlen, "block_actions without user or action");
        return -1;
    }
    return 0;
}

static void parse_event(json_t *p, struct slack_frame_info *f)
{
    json_t *ev = json_object_get(p, "event");
    f->type = SLACK_EVENT;
    f->event_id = dup_of(p, "event_id");
    f->event_type = dup_of(ev, "type");
    f->event_user = dup_of(ev, "user");
    f->event_bot_id = dup_of(ev, "bot_id");
}

int slack_parse_frame(const char *json, size_t len, struct slack_frame_info *f,
                      char *err, size_t errlen)
{
    json_error_t jerr;
    json_t *root = json_loadb(json, len, 0, &jerr), *payload;
    const char *type;
    int rc = -1;

    memset(f, 0, sizeof *f);
    if (!root || !json_is_object(root)) {
        snprintf(err, errlen, "frame is not a JSON object%s%s", root ? "" : ": ",
                 root ? "" : jerr.text);
        goto out;
    }
    type = json_string_value(json_object_get(root, "type"));
    if (!type) {
        snprintf(err, errlen, "frame without a type");
        goto out;
    }
    f->envelope_id = dup_of(root, "envelope_id");
    payload = json_object_get(root, "payload");
    f->retry_attempt = (int)json_integer_value(json_object_get(root, "retry_attempt"));
    if (strcmp(type, "hello") == 0) {
        f->type = SLACK_HELLO;
        f->approx_connection_time = (long)json_integer_value(
            json_object_get(json_object_get(root, "debug_info"), "approximate_connection_time"));
        rc = 0;
    } else if (strcmp(type, "disconnect") == 0) {
        f->type = SLACK_DISCONNECT;
        f->reason = dup_of(root, "reason");
        rc = 0;
    } else if (!f->envelope_id || !json_is_object(payload)) {
        snprintf(err, errlen, "%s envelope without envelope_id or payload", type);
    } else if (strcmp(type, "slash_commands") == 0) {
        rc = parse_slash(payload, f, err, errlen);
    } else if (strcmp(type, "interactive") == 0) {
        rc = parse_interactive(payload, f, err, errlen);
    } else if (strcmp(type, "events_api") == 0) {
        parse_event(payload, f);
        rc = 0;
    } else {
        f->type = SLACK_OTHER;
        rc = 0;
    }
out:
    if (rc)
        slack_frame_clear(f);
    json_decref(root);
    return rc;
}

void slack_api_clear(struct slack_api *r)
{
    free(r->error);
    free(r->ts);
    free(r->channel);
    free(r->url);
    free(r->user_id);
    free(r->bot_id);
    free(r->warning);
    free(r->user_name);
    free(r->channel_name);
    memset(r, 0, sizeof *r);
}

int slack_parse_api(const char *json, size_t len, struct slack_api *r)
{
    json_t *root = json_loadb(json, len, 0, NULL), *user, *profile;
    memset(r, 0, sizeof *r);
    if (!root || !json_is_object(root) || !json_is_boolean(json_object_get(root, "ok"))) {
        r->error = strdup("invalid_response");
        json_decref(root);
        return -1;
    }
    r->ok = json_is_true(json_object_get(root, "ok"));
    r->error = dup_of(root, "error");
    r->ts = dup_of(root, "ts");
    if (!r->ts)
        r->ts = dup_of(root, "message_ts");
    r->channel = dup_of(root, "channel");
    r->channel_name = dup_of(json_object_get(root, "channel"), "name");
    r->url = dup_of(root, "url");
    r->user_id = dup_of(root, "user_id");
    r->bot_id = dup_of(root, "bot_id");
    r->warning = dup_of(root, "warning");
    user = json_object_get(root, "user");
    profile = json_object_get(user, "profile");
    r->user_name = dup_of(profile, "display_name");
    if (!r->user_name || !*r->user_name) {
        free(r->user_name);
        r->user_name = dup_of(user, "real_name");
    }
    if (!r->ok && !r->error)
        r->error = strdup("unknown_error");
    json_decref(root);
    return 0;
}

int slack_error_is_transient(const char *error)
{
    static const char *const transient[] = {
        "ratelimited", "rate_limited", "internal_error", "fatal_error", "service_unavailable",
        "request_timeout", "invalid_response", NULL,
    };
    for (int i = 0; error && transient[i]; i++)
        if (strcmp(error, transient[i]) == 0)
            return 1;
    return 0;
}

static int listed(const char *error, const char *const *list)
{
    for (int i = 0; error && list[i]; i++)
        if (strcmp(error, list[i]) == 0)
            return 1;
    return 0;
}

int slack_error_is_blocking(const char *error)
{
    /* What chat.postMessage answers for a channel that cannot take posts
     * (Slack's error lists for chat.postMessage and chat.update). */
    static const char *const blocking[] = {
        "not_in_channel", "is_archived", "channel_not_found", NULL,
    };
    return listed(error, blocking);
}

int slack_error_is_gone(const char *error)
{
    /* chat.update on a deleted message: message_not_found, or
     * cant_update_message; a reply under a deleted parent: thread_not_found. */
    static const char *const gone[] = {
        "message_not_found", "cant_update_message", "thread_not_found", NULL,
    };
    return listed(error, gone);
}

int slack_error_is_bad_token(const char *error)
{
    /* Slack's token errors, common to every Web API method:
     * not_allowed_token_type is a bot token where an app token belongs
     * (apps.connections.open) or the reverse. */
    static const char *const bad[] = {
        "invalid_auth", "not_authed", "account_inactive", "token_revoked",
        "not_allowed_token_type", NULL,
    };
    return listed(error, bad);
}

/* The ts of the first message whose metadata is `event_type` with
 * event_payload.`key` == id. */
static int find_meta(const char *json, size_t len, const char *event_type, const char *key,
                     long long id, char *ts, size_t tslen)
{
    json_t *root = json_loadb(json, len, 0, NULL), *msg;
    size_t i;
    int rc = -1;
    json_array_foreach(json_object_get(root, "messages"), i, msg) {
        json_t *meta = json_object_get(msg, "metadata");
        const char *type = json_string_value(json_object_get(meta, "event_type"));
        json_t *t = json_object_get(json_object_get(meta, "event_payload"), key);
        const char *mts = json_string_value(json_object_get(msg, "ts"));
        if (type && strcmp(type, event_type) == 0 && json_is_integer(t) &&
            json_integer_value(t) == id && mts) {
            snprintf(ts, tslen, "%s", mts);
            rc = 0;
            break;
        }
    }
    json_decref(root);
    return rc;
}

int slack_find_ticket(const char *json, size_t len, long long id, char *ts, size_t tslen)
{
    return find_meta(json, len, "vigil_ticket", "ticket", id, ts, tslen);
}

int slack_find_line(const char *json, size_t len, long long job, char *ts, size_t tslen)
{
    return find_meta(json, len, "vigil_line", "job", job, ts, tslen);
}

json_t *slack_line_metadata(long long job)
{
    return json_pack("{s:s,s:{s:I}}", "event_type", "vigil_line", "event_payload", "job",
                     (json_int_t)job);
}

char *slack_escape(const char *s)
{
    size_t n = 0, o = 0;
    char *out;
    for (const char *p = s; *p; p++)
        n += *p == '&' ? 5 : (*p == '<' || *p == '>') ? 4 : 1;
    out = malloc(n + 1);
    if (!out)
        return NULL;
    for (const char *p = s; *p; p++) {
        const char *rep = *p == '&' ? "&amp;" : *p == '<' ? "&lt;" : *p == '>' ? "&gt;" : NULL;
        if (rep) {
            memcpy(out + o, rep, strlen(rep));
            o += strlen(rep);
        } else {
            out[o++] = *p;
        }
    }
    out[o] = '\0';
    return out;
}

/* Writes [p, p+n) to `o` with Slack's three entities decoded; returns the
 * bytes written (never more than n).  Anything else that looks like an
 * entity stays: Slack encodes only these, so "&quot;" was typed as such. */
static size_t put_decoded(char *o, const char *p, size_t n)
{
    static const struct { const char *ent; size_t len; char c; } ents[] = {
        { "&amp;", 5, '&' }, { "&lt;", 4, '<' }, { "&gt;", 4, '>' },
    };
    size_t w = 0, i = 0, k;
    while (i < n) {
        for (k = 0; k < 3; k++)
            if (p[i] == '&' && n - i >= ents[k].len && memcmp(p + i, ents[k].ent, ents[k].len) == 0)
                break;
        if (k < 3) {
            o[w++] = ents[k].c;
            i += ents[k].len;
        } else {
            o[w++] = p[i++];
        }
    }
    return w;
}

static int add_person(struct slack_typed *t, const char *id, size_t idlen, const char *name,
                      size_t namelen)
{
    struct chat_person *more = realloc(t->people, (t->npeople + 1) * sizeof *more);
    char *both;
    if (!more)
        return -1;
    t->people = more;
    both = malloc(idlen + namelen + 2);
    if (!both)
        return -1;
    memcpy(both, id, idlen);
    both[idlen] = '\0';
    memcpy(both + idlen + 1, name, namelen);
    both[idlen + 1 + namelen] = '\0';
    t->people[t->npeople].id = both;
    t->people[t->npeople].name = both + idlen + 1;
    t->npeople++;
    return 0;
}

/* One control sequence, `in` (n bytes, without < and >), written at `o` as
 * the agent typed it; returns the bytes written (at most n: the caller's
 * buffer is the input's length), or -1 when out of memory. */
static long put_reference(struct slack_typed *t, char *o, const char *in, size_t n)
{
    const char *bar = memchr(in, '|', n), *label = bar ? bar + 1 : NULL;
    size_t tlen = bar ? (size_t)(bar - in) : n, llen = bar ? n - tlen - 1 : 0, w;

    if (label && !llen)
        label = NULL;
    if (tlen > 1 && in[0] == '@') {              /* <@U1|alice>: a teammate */
        o[0] = '@';
        w = 1 + (label ? put_decoded(o + 1, label, llen) : put_decoded(o + 1, in + 1, tlen - 1));
        if (add_person(t, in + 1, tlen - 1, o + 1, w - 1))
            return -1;
        return (long)w;
    }
    if (tlen > 1 && in[0] == '#') {              /* <#C1|general>: a channel */
        o[0] = '#';
        return 1 + (long)(label ? put_decoded(o + 1, label, llen)
                                : put_decoded(o + 1, in + 1, tlen - 1));
    }
    if (tlen > 1 && in[0] == '!') {              /* <!here>, <!subteam^S1|@team> */
        size_t word = strcspn(in + 1, "^|");
        static const char *const broadcast[] = { "here", "channel", "everyone" };
        word = word < tlen - 1 ? word : tlen - 1;
        for (size_t i = 0; i < 3; i++)
            if (word == strlen(broadcast[i]) && memcmp(in + 1, broadcast[i], word) == 0)
                label = NULL;
        if (label)
            return (long)put_decoded(o, label, llen);
        o[0] = '@';
        return 1 + (long)put_decoded(o + 1, in + 1, word);
    }
    if (tlen > 7 && strncmp(in, "mailto:", 7) == 0)   /* an auto-linked address */
        return (long)(label ? put_decoded(o, label, llen) : put_decoded(o, in + 7, tlen - 7));
    /* A link: the URL, unless the label is the URL without its scheme (Slack
     * auto-linked a bare "example.com": the agent typed the label). */
    w = put_decoded(o, in, tlen);
    if (label) {
        size_t lw = put_decoded(o + w, label, llen);
        const char *scheme = memmem(o, w, "://", 3);
        size_t skip = scheme ? (size_t)(scheme - o) + 3 : 0;
        if (scheme && lw == w - skip && memcmp(o + skip, o + w, lw) == 0) {
            memmove(o, o + w, lw);
            w = lw;
        }
    }
    return (long)w;
}

int slack_typed_text(const char *s, struct slack_typed *out)
{
    size_t o = 0;
    const char *p = s;

    memset(out, 0, sizeof *out);
    out->text = malloc(strlen(s) + 1);
    if (!out->text)
        goto fail;
    while (*p) {
        /* A raw '<' is always Slack's: what the agent typed came as &lt; */
        const char *end = *p == '<' ? strchr(p, '>') : NULL;
        if (end) {
            long w = put_reference(out, out->text + o, p + 1, (size_t)(end - p - 1));
            if (w < 0)
                goto fail;
            o += (size_t)w;
            p = end + 1;
        } else {
            size_t run = 1 + strcspn(p + 1, "<");
            o += put_decoded(out->text + o, p, run);
            p += run;
        }
    }
    out->text[o] = '\0';
    return 0;
fail:
    slack_typed_clear(out);
    return -1;
}

void slack_typed_clear(struct slack_typed *t)
{
    for (size_t i = 0; i < t->npeople; i++)
        free((char *)t->people[i].id);   /* id and name share one allocation */
    free(t->people);
    free(t->text);
    memset(t, 0, sizeof *t);
}

/* Cuts at `max` bytes on a UTF-8 boundary, adding an ellipsis. */
static char *clip(const char *s, size_t max)
{
    size_t n = strlen(s);
    char *out;
    if (n <= max)
        return strdup(s);
    while (max > 0 && ((unsigned char)s[max] & 0xC0) == 0x80)
        max--;
    out = malloc(max + 4);
    if (!out)
        return NULL;
    memcpy(out, s, max);
    memcpy(out + max, "…", 4);
    return out;
}

/* Escaped text (slack_escape) with a zero-width space (U+200B) before each
 * *, _, ~ and ` that could open formatting: Slack opens bold, italics,
 * strike and code only where the mark does not follow a letter or digit,
 * so a customer's "*Closed*" shows as typed instead of looking like vigil's
 * own status, while "not_in_channel" or "@mettek_dk" stay byte for byte.
 * Returns new, caller frees. */
static char *neutralise(const char *s)
{
    char *esc = slack_escape(s), *out;
    size_t n = 0;
    if (!esc)
        return NULL;
    out = malloc(strlen(esc) * 4 + 1);
    if (out) {
        for (const char *p = esc; *p; p++) {
            if (strchr("*_~`", *p) && !(p > esc && isalnum((unsigned char)p[-1]))) {
                memcpy(out + n, "\xe2\x80\x8b", 3);
                n += 3;
            }
            out[n++] = *p;
        }
        out[n] = '\0';
    }
    free(esc);
    return out;
}

/* Untrusted text for a mrkdwn line: one line of at most `max` bytes, cut
 * between UTF-8 characters (text_excerpt), then neutralised; at most
 * 5 * max bytes.  Returns new, caller frees. */
static char *inline_text(const char *s, size_t max)
{
    char *line = malloc(max), *out;
    if (!line)
        return NULL;
    text_excerpt(s, line, max);
    out = neutralise(line);
    free(line);
    return out;
}

/* A link Slack cannot misread: the URL is vigil's own (xlink percent-encodes
 * it) but is checked anyway, since "|" or ">" in it would end the link
 * early; a URL that does not qualify shows the label without a link. */
static void link_to(char *out, size_t len, const char *url, const char *label)
{
    if (url && strncmp(url, "https://", 8) == 0 && !strpbrk(url, "<>|& \t\r\n"))
        snprintf(out, len, "<%s|%s>", url, label);
    else
        snprintf(out, len, "%s", label);
}

/* The customer's own words, multi-line: a rich_text quote holding plain
 * text elements, which Slack never parses for mrkdwn, mentions or links,
 * so the tweet can neither ping anyone nor draw lines that look like
 * vigil's.  Cut near `max` bytes between UTF-8 characters.  New json_t. */
static json_t *quote_block(const char *text, size_t max)
{
    char *body = clip(text, max);
    json_t *b = body ? json_pack("{s:s,s:[{s:s,s:[{s:s,s:s}]}]}", "type", "rich_text",
                                 "elements", "type", "rich_text_quote", "elements", "type",
                                 "text", "text", *body ? body : " ")
                     : NULL;
    free(body);
    return b;
}

static json_t *mrkdwn(const char *text)
{
    return json_pack("{s:s,s:s,s:b}", "type", "mrkdwn", "text", text, "verbatim", 1);
}

static json_t *button(const char *action, const char *label, const char *value,
                      const char *style)
{
    json_t *b = json_pack("{s:s,s:s,s:{s:s,s:s},s:s}", "type", "button", "action_id", action,
                          "text", "type", "plain_text", "text", label, "value", value);
    if (style)
        json_object_set_new(b, "style", json_string(style));
    return b;
}

static void sla_line(const struct ticket_view *v, long long now, char *out, size_t len)
{
    const char *target = v->sla_target ? v->sla_target : "first response";
    long long left = v->sla_due_at - now;
    if (!v->sla_target && v->first_response_at)
        snprintf(out, len, "answered");
    else if (!v->sla_target && strcmp(v->status, "closed") == 0)
        snprintf(out, len, "closed without a reply");
    else if (left > 3600)   /* the clock may pause for the night: say when, not how long */
        snprintf(out, len, "%s due <!date^%lld^{date_short_pretty} {time}|%lld>", target,
                 (long long)v->sla_due_at, (long long)v->sla_due_at);
    else if (left >= 0)
        snprintf(out, len, "%s due in %lld min", target, (left + 59) / 60);
    else
        snprintf(out, len, ":warning: %s %lld min overdue", target, (-left + 59) / 60);
}

/* " · lang: es · 3 earlier tickets" (issue 17 §6) appended to `out`. */
static void details_line(const struct ticket_view *v, char *out, size_t len)
{
    char *lang = v->lang && *v->lang ? inline_text(v->lang, 16) : NULL;
    snprintf(out, len, "%s%s%s", lang ? " · lang: " : "", lang ? lang : "",
             v->earlier > 0 ? " · " : "");
    if (v->earlier > 0)
        snprintf(out + strlen(out), len - strlen(out), "%lld earlier ticket%s",
                 (long long)v->earlier, v->earlier == 1 ? "" : "s");
    free(lang);
}

/* The quoted post (plain text in a rich_text quote, like the tweet: it
 * can ping no one) and the media as links (link_to refuses a URL Slack
 * could misread).  Issue 17 §6. */
static void add_details(json_t *blocks, const struct ticket_view *v)
{
    if (v->quote_text) {
        size_t n = strlen(v->quote_text) + 200;
        char *line = malloc(n), *author = inline_text(v->quote_author ? v->quote_author
                                                                       : "?", 64);
        json_t *q;
        if (line && author) {
            snprintf(line, n, "Quoting @%s: %s", author, v->quote_text);
            q = quote_block(line, 1500);
            if (q)
                json_array_append_new(blocks, q);
        }
        free(line);
        free(author);
    }
    if (v->media && *v->media) {
        char links[1400] = "Media:", url[600], label[24];
        int k = 0;
        for (const char *p = v->media; *p && k < 8;) {
            size_t len = strcspn(p, "\n");
            if (len < sizeof url) {
                memcpy(url, p, len);
                url[len] = '\0';
                snprintf(label, sizeof label, "%d", ++k);
                snprintf(links + strlen(links), sizeof links - strlen(links), " ");
                link_to(links + strlen(links), sizeof links - strlen(links), url, label);
            }
            p += len + (p[len] == '\n');
        }
        json_array_append_new(blocks, json_pack("{s:s,s:[o]}", "type", "context", "elements",
                                                mrkdwn(links)));
    }
}

json_t *slack_ticket_message(const struct ticket_view *v, long long now)
{
    static const char *const labels[][2] = {
        { "new", "New" }, { "assigned", "Assigned" }, { "escalated", "Escalated" },
        { "closed", "Closed" },
    };
    const char *label = v->status;
    /* Every customer or staff string is bounded (inline_text) before it
     * meets a fixed buffer, so no snprintf below cuts a UTF-8 character. */
    char head[2000], ctx[2400], fallback[1600], value[32], sla[160], block_id[40], at[400];
    char link[1200];
    char *handle = inline_text(v->customer_handle ? v->customer_handle : "?", 64);
    char *name = inline_text(v->customer_name ? v->customer_name : "", 200);
    json_t *body = quote_block(v->text ? v->text : "", 2900);
    char *assignee = v->assignee_name ? inline_text(v->assignee_name, 120) : NULL;
    char *tags = v->tags && *v->tags ? inline_text(v->tags, 300) : NULL;
    char *fb_text = inline_text(v->text ? v->text : "", 200);
    json_t *msg = NULL, *blocks, *actions;

    for (size_t i = 0; i < sizeof labels / sizeof labels[0]; i++)
        if (strcmp(v->status, labels[i][0]) == 0)
            label = labels[i][1];
    if (!handle || !name || !body || !fb_text)
        goto out;
    snprintf(value, sizeof value, "%lld", (long long)v->id);
    snprintf(block_id, sizeof block_id, "t%lld", (long long)v->id);
    snprintf(at, sizeof at, "@%s", handle);
    link_to(link, sizeof link, v->tweet_url, at);
    snprintf(head, sizeof head, "*#%lld* · *%s*%s · %s%s%s%s", (long long)v->id, label,
             v->injected ? " (injected)" : "", link, *name ? " (" : "", name,
             *name ? ")" : "");
    sla_line(v, now, sla, sizeof sla);
    snprintf(ctx, sizeof ctx, "Tweeted <!date^%lld^{date_short_pretty} {time}|%lld> · %s · %s%s%s%s%s",
             (long long)v->tweeted_at, (long long)v->tweeted_at, sla,
             assignee ? "assigned to " : "unassigned", assignee ? assignee : "",
             tags ? " · tags: " : "", tags ? tags : "",
             v->mentions > 1 ? " · follow-ups in thread" : "");
    details_line(v, ctx + strlen(ctx), sizeof ctx - strlen(ctx));
    snprintf(fallback, sizeof fallback, "#%lld @%s: %s", (long long)v->id, handle, fb_text);

    blocks = json_array();
    json_array_append_new(blocks, json_pack("{s:s,s:o}", "type", "section", "text", mrkdwn(head)));
    json_array_append_new(blocks, body);
    body = NULL;
    json_array_append_new(blocks, json_pack("{s:s,s:[o]}", "type", "context", "elements",
                                            mrkdwn(ctx)));
    add_details(blocks, v);
    actions = json_array();
    if (strcmp(v->status, "closed") == 0) {
        json_array_append_new(actions, button("reopen", "Reopen", value, NULL));
    } else {
        /* form_<verb>: opens that command's form (slack_views.c) */
        json_array_append_new(actions, button("form_reply", "Reply", value, NULL));
        json_array_append_new(actions, button("form_note", "Note", value, NULL));
        json_array_append_new(actions, button("assign_me", "Assign to me", value, "primary"));
        json_array_append_new(actions, button("form_assign", "Assign…", value, NULL));
        if (strcmp(v->status, "escalated") != 0)
            /* with its reason (the form); "escalate" stays known for older messages */
            json_array_append_new(actions, button("form_escalate", "Escalate", value, "danger"));
        json_array_append_new(actions, button("close", "Close", value, NULL));
    }
    json_array_append_new(blocks, json_pack("{s:s,s:s,s:o}", "type", "actions", "block_id",
                                            block_id, "elements", actions));
    msg = json_pack("{s:s,s:o,s:s,s:b,s:b,s:{s:s,s:{s:I,s:s}}}", "text", fallback,
                    "blocks", blocks, "parse", "none", "unfurl_links", 0, "unfurl_media", 0,
                    "metadata", "event_type", "vigil_ticket", "event_payload", "ticket",
                    (json_int_t)v->id, "tweet_id", v->tweet_id ? v->tweet_id : "");
out:
    free(handle);
    free(name);
    json_decref(body);
    free(assignee);
    free(tags);
    free(fb_text);
    return msg;
}

json_t *slack_digest_message(const struct ticket_view *v, size_t n, size_t backlog)
{
    json_t *blocks = json_array(), *ids = json_array();
    char head[300], line[3000];

    snprintf(head, sizeof head, ":rotating_light: *Busy: %zu new tickets waiting.* New tickets "
             "are listed in digests like this until the backlog clears; each keeps its number, "
             "and gets its own message as soon as someone works on it (`/tw assign N me`).",
             backlog);
    json_array_append_new(blocks, json_pack("{s:s,s:o}", "type", "section", "text", mrkdwn(head)));
    for (size_t i = 0; i < n && i < 40; i++) {
        char *handle = inline_text(v[i].customer_handle ? v[i].customer_handle : "?", 64);
        char *ex = inline_text(v[i].text ? v[i].text : "", 300);
        char at[400], link[1200];
        snprintf(at, sizeof at, "@%s", handle ? handle : "?");
        link_to(link, sizeof link, v[i].tweet_url, at);
        snprintf(line, sizeof line, "*#%lld* %s: %s", (long long)v[i].id, link, ex ? ex : "");
        json_array_append_new(blocks, json_pack("{s:s,s:o}", "type", "section", "text",
                                                mrkdwn(line)));
        json_array_append_new(ids, json_integer(v[i].id));
        free(handle);
        free(ex);
    }
    snprintf(line, sizeof line, "Digest of %zu new tickets (%zu waiting)", n, backlog);
    return json_pack("{s:s,s:o,s:s,s:b,s:b,s:{s:s,s:{s:o}}}", "text", line, "blocks", blocks,
                     "parse", "none", "unfurl_links", 0, "unfurl_media", 0, "metadata",
                     "event_type", "vigil_digest", "event_payload", "tickets", ids);
}

json_t *slack_text_message(const char *text)
{
    char *esc = neutralise(text ? text : ""), *body = esc ? clip(esc, 2900) : NULL;
    char *fb = esc ? clip(esc, 3000) : NULL;
    json_t *msg = NULL;
    if (body && fb)
        msg = json_pack("{s:s,s:[{s:s,s:o}],s:s,s:b,s:b}", "text", fb, "blocks", "type",
                        "section", "text", mrkdwn(*body ? body : " "), "parse", "none",
                        "unfurl_links", 0, "unfurl_media", 0);
    free(esc);
    free(body);
    free(fb);
    return msg;
}

int slack_id_shaped(const char *id, char kind)
{
    size_t n = id ? strlen(id) : 0;
    if (n < 2 || n > 32)
        return 0;
    if (kind == 'S' ? id[0] != 'S' : id[0] != 'U' && id[0] != 'W')
        return 0;
    return strspn(id + 1, "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789") == n - 1;
}

json_t *slack_alert_message(const struct chat_ping *ping, size_t nping, const char *text)
{
    char head[CHAT_MAX_PINGS * 48 + 1] = "", *line;
    size_t used = 0, len;
    json_t *msg = slack_text_message(text), *block;
    const char *body;

    if (!msg)
        return NULL;
    for (size_t i = 0; i < nping && i < CHAT_MAX_PINGS; i++) {
        const char *id = ping[i].id;
        int n = 0;
        if (slack_id_shaped(id, 'S'))
            n = snprintf(head + used, sizeof head - used, "<!subteam^%s> ", id);
        else if (slack_id_shaped(id, 'U'))
            n = snprintf(head + used, sizeof head - used, "<@%s> ", id);
        if (n > 0 && (size_t)n < sizeof head - used)
            used += (size_t)n;
        else
            head[used] = '\0';
    }
    if (!used)
        return msg;
    /* the mentions go in front of the escaped line, in the section and in
     * the fallback text (which is what notifications show) */
    block = json_object_get(json_array_get(json_object_get(msg, "blocks"), 0), "text");
    for (int k = 0; k < 2; k++) {   /* the section, then the fallback text */
        json_t *holder = k == 0 ? block : msg;
        body = json_string_value(json_object_get(holder, "text"));
        len = used + strlen(body ? body : "") + 1;
        line = malloc(len);
        if (!line) {
            json_decref(msg);
            return NULL;
        }
        snprintf(line, len, "%s%s", head, body ? body : "");
        json_object_set_new(holder, "text", json_string(line));
        free(line);
    }
    return msg;
}

json_t *slack_line_message(const char *text, const char *resend)
{
    json_t *msg = slack_text_message(text), *blocks;
    if (!msg)
        return NULL;
    /* chat.update takes neither of these (the spec's chat.update has no
     * unfurl arguments): the message keeps what its post gave it */
    json_object_del(msg, "unfurl_links");
    json_object_del(msg, "unfurl_media");
    blocks = json_object_get(msg, "blocks");
    if (resend && json_array_append_new(blocks, json_pack(
            "{s:s,s:[{s:s,s:s,s:{s:s,s:s},s:s}]}", "type", "actions", "elements", "type",
            "button", "action_id", "resend", "text", "type", "plain_text", "text", "Resend",
            "value", resend))) {
        json_decref(msg);
        return NULL;
    }
    return msg;
}

json_t *slack_button_line_message(const char *text, const char *actions, const char *value)
{
    static const struct { const char *action, *id, *label, *style; } labels[] = {
        { .action = "undo", .label = "Undo", .style = "danger" },
        { .action = "send_anyway", .label = "Send anyway", .style = "danger" },
        { .action = "approve", .label = "Approve", .style = "primary" },
        /* Edit opens edit.lua's form (slack_views.c: "form_<verb>"), the
         * draft quoted above the box (issue 19 met issue 18) */
        { .action = "edit", .id = "form_edit", .label = "Edit", .style = NULL },
        { .action = "reject", .label = "Reject", .style = "danger" },
    };
    json_t *msg = slack_line_message(text, NULL), *row = json_array();
    const char *p = actions;

    while (msg && row && *p) {
        size_t n = strcspn(p, ","), i;
        for (i = 0; i < sizeof labels / sizeof labels[0]; i++)
            if (strlen(labels[i].action) == n && strncmp(p, labels[i].action, n) == 0)
                break;
        if (i == sizeof labels / sizeof labels[0] ||
            json_array_append_new(row, button(labels[i].id ? labels[i].id : labels[i].action,
                                              labels[i].label, value, labels[i].style)))
            goto fail;
        p += n + (p[n] == ',');
    }
    if (msg && row && json_array_size(row) &&
        !json_array_append_new(json_object_get(msg, "blocks"),
                               json_pack("{s:s,s:O}", "type", "actions", "elements", row))) {
        json_decref(row);
        return msg;
    }
fail:
    json_decref(row);
    json_decref(msg);
    return NULL;
}

int slack_action_command(const char *umbrella, const char *action_id, const char *value,
                         struct chat_command *cmd)
{
    static const struct { const char *action, *verb, *args; } map[] = {
        { .action = "assign_me", .verb = "assign", .args = "%s me" },
        { .action = "escalate", .verb = "escalate", .args = "%s" },
        { .action = "close", .verb = "close", .args = "%s" },
        { .action = "reopen", .verb = "reopen", .args = "%s" },
        { .action = "resend", .verb = "resend", .args = "%s" },
        { .action = "undo", .verb = "undo", .args = "%s" },
        { .action = "send_anyway", .verb = "reply!", .args = "%s" },
        { .action = "approve", .verb = "approve", .args = "%s" },
        { .action = "edit", .verb = "edit", .args = "%s" },   /* drafts before form_edit */
        { .action = "reject", .verb = "reject", .args = "%s" },
    };
    char args[64], raw[160];
    if (!value || strspn(value, "0123456789") != strlen(value) || !*value || strlen(value) > 18)
        return -1;
    for (size_t i = 0; i < sizeof map / sizeof map[0]; i++)
        if (action_id && strcmp(action_id, map[i].action) == 0) {
            snprintf(args, sizeof args, map[i].args, value);
            snprintf(raw, sizeof raw, "%s %s %s", umbrella, map[i].verb, args);
            if (chat_command_set(cmd, map[i].verb, args, raw) < 0)
                return -1;
            cmd->ticket = strtoll(value, NULL, 10);
            return 0;
        }
    return -1;
}

/* An answer for Slack: escaped (it may quote tweets), and in a code block
 * when it has several lines, so aligned columns stay aligned. */
json_t *slack_answer_payload(const char *answer)
{
    char *esc = slack_escape(answer ? answer : "");
    char *text = NULL;
    json_t *p;
    if (!esc)
        return NULL;
    if (strlen(esc) > 3000) {
        /* Slack shows at most a few thousand characters; a script that
         * returns a novel must not break the socket with a huge frame */
        size_t cut = 2900;
        while (cut > 0 && ((unsigned char)esc[cut] & 0xC0) == 0x80)
            cut--;
        memcpy(esc + cut, "\n… (cut)", sizeof "\n… (cut)");
    }
    if (strchr(esc, '\n') && asprintf(&text, "```%s```", esc) < 0)
        text = NULL;
    p = json_pack("{s:s,s:s}", "text", text ? text : esc, "response_type", "ephemeral");
    free(text);
    free(esc);
    return p;
}

char *slack_ack_frame(const char *envelope_id, json_t *payload)
{
    json_t *a = json_pack("{s:s}", "envelope_id", envelope_id);
    char *text;
    if (payload)
        json_object_set_new(a, "payload", payload);
    text = a ? json_dumps(a, JSON_COMPACT) : NULL;
    json_decref(a);
    return text;
}

int slack_parse_upload_url(const char *json, size_t len, char *url, size_t urllen,
                           char *file_id, size_t idlen)
{
    json_t *root = json_loadb(json, len, 0, NULL);
    const char *u = json_string_value(json_object_get(root, "upload_url"));
    const char *id = json_string_value(json_object_get(root, "file_id"));
    int rc = -1;
    if (json_is_true(json_object_get(root, "ok")) && u && id && *id &&
        (strncmp(u, "https://", 8) == 0 || strncmp(u, "http://", 7) == 0) &&
        !strpbrk(u, " \t\r\n") && strlen(u) < urllen && strlen(id) < idlen) {
        snprintf(url, urllen, "%s", u);
        snprintf(file_id, idlen, "%s", id);
        rc = 0;
    }
    json_decref(root);
    return rc;
}
