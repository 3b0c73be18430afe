/* slack_views.c — command forms as Slack modals (issue 19).  A form_<verb>
 * button opens that command's form with views.open at once (its trigger_id
 * lasts 3 s); typing in a reply box updates its weighted "N/280"
 * (dispatch_action, views.update); a canned picker fills the box with what
 * the script expands; a submission runs the very command a typed line
 * would (chat_command_from_form), and a failure comes back on the field
 * (response_action: errors).  Knows Slack's view payloads and the chat
 * interface; never scripts, tickets' storage or X. */
#include "chat/slack_views.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "chat/command.h"
#include "core/log.h"

#define CALLBACK_ID "vigil_form"
#define MAX_OPTIONS 100            /* Slack: a static_select holds at most 100 */
#define MAX_VALUES 16              /* fields read from one submission */

/* What a view remembers between Slack's calls (private_metadata). */
struct meta {
    char verb[64];
    long long ticket;
    char channel[32];
    int gen;                       /* bumped when a field is refilled: new block ids */
};

static char *meta_dump(const struct meta *m)
{
    json_t *j = json_pack("{s:s,s:I,s:s,s:i}", "v", m->verb, "t", (json_int_t)m->ticket,
                          "c", m->channel, "g", m->gen);
    char *s = j ? json_dumps(j, JSON_COMPACT) : NULL;
    json_decref(j);
    return s;
}

/* Returns 0 and fills `m` from a view's private_metadata, -1 if it is not ours. */
static int meta_parse(const char *text, struct meta *m)
{
    json_t *j = text ? json_loads(text, 0, NULL) : NULL;
    const char *v = json_string_value(json_object_get(j, "v"));
    const char *c = json_string_value(json_object_get(j, "c"));
    int rc = -1;
    memset(m, 0, sizeof *m);
    if (v && c && strlen(v) < sizeof m->verb && strlen(c) < sizeof m->channel) {
        snprintf(m->verb, sizeof m->verb, "%s", v);
        snprintf(m->channel, sizeof m->channel, "%s", c);
        m->ticket = (long long)json_integer_value(json_object_get(j, "t"));
        m->gen = (int)json_integer_value(json_object_get(j, "g"));
        rc = m->ticket > 0 ? 0 : -1;
    }
    json_decref(j);
    return rc;
}

/* A plain_text object cut to `max` characters (Slack counts characters),
 * "…" marking a cut.  New json_t. */
static json_t *plain(const char *text, size_t max)
{
    size_t i, chars = 0, cut = 0;
    char *buf;
    json_t *j;
    for (i = 0; text[i]; i++)
        if (((unsigned char)text[i] & 0xC0) != 0x80 && chars++ == max - 1)
            cut = i;       /* where the max-th character starts: "…" goes there */
    if (chars <= max)
        return json_pack("{s:s,s:s}", "type", "plain_text", "text", *text ? text : " ");
    buf = malloc(cut + sizeof "…");
    if (!buf)
        return NULL;
    memcpy(buf, text, cut);
    memcpy(buf + cut, "…", sizeof "…");
    j = json_pack("{s:s,s:s}", "type", "plain_text", "text", buf);
    free(buf);
    return j;
}

static size_t utf8_chars(const char *s)
{
    size_t n = 0;
    for (; *s; s++)
        n += ((unsigned char)*s & 0xC0) != 0x80;
    return n;
}

static void block_id(char *out, size_t n, const char *prefix, const char *name, int gen)
{
    snprintf(out, n, "%s_%s.%d", prefix, name, gen);
}

/* The field a block id names ("f_text.2" -> "text"), copied to `out`;
 * -1 when it is no field's. */
static int field_of_block(const char *id, char *out, size_t n)
{
    const char *dot = id ? strchr(id, '.') : NULL;
    if (!dot || strncmp(id, "f_", 2) != 0 || dot < id + 2 || (size_t)(dot - id - 2) >= n)
        return -1;
    memcpy(out, id + 2, (size_t)(dot - id - 2));
    out[dot - id - 2] = '\0';
    return 0;
}

static const struct chat_field *find_field(const struct chat_form *f, const char *name)
{
    for (size_t i = 0; i < f->nfields; i++)
        if (strcmp(f->fields[i].name, name) == 0)
            return &f->fields[i];
    return NULL;
}

/* The values of `form`'s fields in a view's state: names borrowed from
 * `form`, values from `view`. */
static size_t read_values(const struct chat_form *form, json_t *view,
                          struct chat_field_value *v, size_t max)
{
    json_t *values = json_object_get(json_object_get(view, "state"), "values"), *block;
    const char *bid;
    size_t n = 0;
    json_object_foreach(values, bid, block) {
        json_t *el = json_object_get(block, "v"), *sel;
        const char *type = json_string_value(json_object_get(el, "type"));
        const char *val = NULL;
        const struct chat_field *d;
        char name[64];
        if (n >= max || !type || field_of_block(bid, name, sizeof name) < 0)
            continue;
        d = find_field(form, name);
        if (!d)
            continue;
        if (strcmp(type, "plain_text_input") == 0) {
            val = json_string_value(json_object_get(el, "value"));
        } else if (strcmp(type, "static_select") == 0) {
            sel = json_object_get(el, "selected_option");
            val = json_string_value(json_object_get(sel, "value"));
        } else if (strcmp(type, "checkboxes") == 0) {
            sel = json_object_get(el, "selected_options");
            val = json_array_size(sel) ? "1" : "";
        }
        v[n].name = d->name;
        v[n].value = val ? val : "";
        n++;
    }
    return n;
}

/* One field as an input block (new), or NULL when it cannot be shown (a
 * choice with nothing to choose).  `initial` may be NULL. */
static json_t *field_block(const struct chat_field *d, const char *initial, int gen)
{
    json_t *b, *el, *opts;
    char bid[100];
    block_id(bid, sizeof bid, "f", d->name, gen);
    switch (d->kind) {
    case CHAT_FIELD_TEXT:
        el = json_pack("{s:s,s:s,s:b}", "type", "plain_text_input", "action_id", "v",
                       "multiline", d->max == 0 || d->max > 150);
        if (d->max && !d->weighted)
            json_object_set_new(el, "max_length", json_integer(d->max));
        if (d->weighted)   /* X's weight is not Slack's count: we count, live */
            json_object_set_new(el, "dispatch_action_config", json_pack(
                "{s:[s]}", "trigger_actions_on", "on_character_entered"));
        if (initial && *initial)
            json_object_set_new(el, "initial_value", json_string(initial));
        break;
    case CHAT_FIELD_CHOICE:
    case CHAT_FIELD_STAFF:
        if (!d->noptions)
            return NULL;
        opts = json_array();
        for (size_t k = 0; k < d->noptions && k < MAX_OPTIONS; k++)
            json_array_append_new(opts, json_pack("{s:o,s:s}", "text", plain(d->labels[k], 75),
                                                  "value", d->options[k]));
        el = json_pack("{s:s,s:s,s:o,s:o}", "type", "static_select", "action_id", "v",
                       "placeholder", plain(d->kind == CHAT_FIELD_STAFF ? "Pick a teammate"
                                                                         : "Pick one", 150),
                       "options", opts);
        for (size_t k = 0; initial && *initial && k < d->noptions && k < MAX_OPTIONS; k++)
            if (strcmp(d->options[k], initial) == 0)
                json_object_set(el, "initial_option", json_array_get(opts, k));
        break;
    case CHAT_FIELD_FLAG:
    default:
        el = json_pack("{s:s,s:s,s:[{s:o,s:s}]}", "type", "checkboxes", "action_id", "v",
                       "options", "text", plain(d->label, 75), "value", "1");
        if (initial && *initial)
            json_object_set_new(el, "initial_options", json_copy(json_object_get(el, "options")));
        break;
    }
    b = json_pack("{s:s,s:s,s:o,s:o,s:b}", "type", "input", "block_id", bid, "label",
                  plain(d->label, 150), "element", el, "optional", d->optional);
    if ((d->kind == CHAT_FIELD_TEXT && d->weighted) || d->fills)
        json_object_set_new(b, "dispatch_action", json_true());
    return b;
}

/* The live length under a weighted box: "17/280", marked when over. */
static json_t *count_block(const struct slack *s, const struct chat_field *d, const char *text,
                           const char *note)
{
    char line[700], bid[100];
    int n = s->base.measure ? s->base.measure(text ? text : "") : (int)utf8_chars(text ? text : "");
    if (note)
        snprintf(line, sizeof line, "%d/%d · %.600s", n, d->max, note);
    else
        snprintf(line, sizeof line, n > d->max ? "%d/%d · too long for X" : "%d/%d", n, d->max);
    block_id(bid, sizeof bid, "n", d->name, 0);
    return json_pack("{s:s,s:s,s:[o]}", "type", "context", "block_id", bid, "elements",
                     plain(line, 700));
}

/* The modal for `form` (borrowed): `quote` (taken, may be NULL) first,
 * then each field with its value from `v` (may be empty); `note` goes
 * under the weighted box (a canned answer that could not fill it).  New. */
static json_t *form_view(const struct slack *s, const struct chat_form *form,
                         const struct meta *m, json_t *quote,
                         const struct chat_field_value *v, size_t nv, const char *note)
{
    char title[80], *md = meta_dump(m);
    json_t *blocks = json_array(), *view;
    if (quote)
        json_array_append_new(blocks, quote);
    for (size_t i = 0; i < form->nfields; i++) {
        const struct chat_field *d = &form->fields[i];
        const char *val = chat_form_value(v, nv, d->name);
        json_t *b = field_block(d, val, m->gen);
        if (b)
            json_array_append_new(blocks, b);
        if (d->kind == CHAT_FIELD_TEXT && d->weighted)
            json_array_append_new(blocks, count_block(s, d, val, note));
    }
    snprintf(title, sizeof title, "%c%s #%lld", m->verb[0] - 32 * (m->verb[0] >= 'a' &&
             m->verb[0] <= 'z'), m->verb + 1, m->ticket);
    view = json_pack("{s:s,s:s,s:o,s:o,s:o,s:s,s:o}", "type", "modal", "callback_id",
                     CALLBACK_ID, "title", plain(title, 24), "submit", plain("Send", 24),
                     "close", plain("Cancel", 24), "private_metadata", md ? md : "",
                     "blocks", blocks);
    free(md);
    return view;
}

static void on_view_api(struct slack *s, void *arg, const struct slack_api *r,
                        const struct http_response *h, double retry_after)
{
    (void)s; (void)h; (void)retry_after;
    /* hash_conflict: a newer keystroke's update won the race; nothing lost */
    if (!r->ok && r->error && strcmp(r->error, "hash_conflict") == 0)
        log_debug("slack: a form update was overtaken", "method=%s", (const char *)arg);
    else if (!r->ok)
        log_warn("slack: a form could not be shown", "method=%s error=%s", (const char *)arg,
                 r->error ? r->error : "?");
}

static void tell(struct slack *s, const char *channel, const char *user, const char *text)
{
    json_t *p = slack_answer_payload(text);
    if (!p || !channel || !user) {
        json_decref(p);
        return;
    }
    json_object_del(p, "response_type");
    json_object_set_new(p, "channel", json_string(channel));
    json_object_set_new(p, "user", json_string(user));
    slack_api_call(s, "chat.postEphemeral", p, 0, on_view_api, "chat.postEphemeral");
}

static struct chat_form *form_of(struct slack *s, const char *verb, const char *user)
{
    return s->base.form_of ? s->base.form_of(s->base.on_command_arg, verb, user) : NULL;
}

/* The modal of `verb`'s form for ticket `ticket`, opened at once with the
 * interaction's trigger; `message` (borrowed, may be NULL) is the ticket
 * message whose quote of the tweet the modal shows. */
static void open_form(struct slack *s, json_t *p, const char *verb, long long ticket,
                      const char *channel, json_t *message)
{
    const char *user = json_string_value(json_object_get(json_object_get(p, "user"), "id"));
    const char *trigger = json_string_value(json_object_get(p, "trigger_id"));
    json_t *blocks = json_object_get(message, "blocks"), *b, *quote = NULL;
    struct chat_form *form;
    struct meta m = { .gen = 0 };
    size_t i;

    if (!user || !channel || !trigger || ticket <= 0 || strlen(verb) >= sizeof m.verb ||
        strlen(channel) >= sizeof m.channel)
        return;
    form = form_of(s, verb, user);
    if (!form) {
        tell(s, channel, user, "That command has no form here; type it instead.");
        return;
    }
    snprintf(m.verb, sizeof m.verb, "%s", verb);
    snprintf(m.channel, sizeof m.channel, "%s", channel);
    m.ticket = ticket;
    /* the customer's words, as our own ticket message quoted them */
    json_array_foreach(blocks, i, b)
        if (!quote && strcmp(json_string_value(json_object_get(b, "type")) ?: "", "rich_text") == 0) {
            quote = json_deep_copy(b);
            json_object_del(quote, "block_id");
        }
    /* a thread line of ours (a draft's Edit button): its text, as the
     * thread shows it: we escaped it when we posted it, so it is mrkdwn
     * that can ping nobody */
    if (!quote && json_is_string(json_object_get(message, "text"))) {
        char text[2900];   /* a context element takes 3,000 */
        size_t n;
        snprintf(text, sizeof text, "%s", json_string_value(json_object_get(message, "text")));
        n = strlen(text);
        if (n == sizeof text - 1) {   /* cut: drop a UTF-8 sequence left half */
            size_t at = n;
            unsigned char lead;
            while (at > 0 && ((unsigned char)text[at - 1] & 0xC0) == 0x80)
                at--;
            lead = at > 0 ? (unsigned char)text[at - 1] : 0;
            if (lead >= 0xC0 && at - 1 + (lead >= 0xF0 ? 4u : lead >= 0xE0 ? 3u : 2u) > n)
                text[at - 1] = '\0';
        }
        quote = json_pack("{s:s,s:[{s:s,s:s}]}", "type", "context", "elements", "type", "mrkdwn",
                          "text", text);
    }
    slack_api_call(s, "views.open", json_pack("{s:s,s:o}", "trigger_id", trigger, "view",
                                              form_view(s, form, &m, quote, NULL, 0, NULL)),
                   0, on_view_api, "views.open");
    chat_form_free(form);
}

/* Something done inside an open modal: the count, or a canned fill. */
static void view_action(struct slack *s, json_t *p, json_t *action)
{
    json_t *view = json_object_get(p, "view"), *quote = NULL, *b, *update;
    const char *user = json_string_value(json_object_get(json_object_get(p, "user"), "id"));
    const char *bid = json_string_value(json_object_get(action, "block_id"));
    struct chat_field_value v[MAX_VALUES];
    char name[64], fill_args[400], raw[500], *answer = NULL;
    const struct chat_field *d;
    struct chat_form *form = NULL;
    struct chat_command cmd = { 0 };
    struct meta m;
    const char *note = NULL;
    size_t nv, i;
    int failed = 0;

    if (meta_parse(json_string_value(json_object_get(view, "private_metadata")), &m) < 0 ||
        !user || field_of_block(bid, name, sizeof name) < 0)
        return;
    form = form_of(s, m.verb, user);
    d = form ? find_field(form, name) : NULL;
    if (!d)
        goto out;
    nv = read_values(form, view, v, MAX_VALUES);
    if (d->fills && d->from) {
        /* "<from> fill <ticket> <choice>": the script expands its answer */
        const char *choice = chat_form_value(v, nv, d->name);
        if (!choice || !*choice || !s->base.on_command)
            goto out;
        snprintf(fill_args, sizeof fill_args, "fill %lld %.300s", m.ticket, choice);
        snprintf(raw, sizeof raw, "%s %s %s", s->cfg->command, d->from, fill_args);
        if (chat_command_set(&cmd, d->from, fill_args, raw) < 0)
            goto out;
        cmd.user_id = user;
        cmd.channel = m.channel;
        cmd.ticket = m.ticket;
        cmd.failed = &failed;
        answer = s->base.on_command(s->base.on_command_arg, &cmd);
        if (failed) {
            note = answer;
        } else {
            for (i = 0; i < nv; i++)
                if (strcmp(v[i].name, d->fills) == 0)
                    v[i].value = answer;
            if (i == nv && nv < MAX_VALUES)
                v[nv++] = (struct chat_field_value){ .name = d->fills, .value = answer };
            m.gen++;       /* new block ids: Slack shows the new initial values */
        }
    }
    json_array_foreach(json_object_get(view, "blocks"), i, b)
        if (!quote && strcmp(json_string_value(json_object_get(b, "type")) ?: "", "rich_text") == 0)
            quote = json_deep_copy(b);
    update = json_pack("{s:s,s:o}", "view_id", json_string_value(json_object_get(view, "id")) ?: "",
                       "view", form_view(s, form, &m, quote, v, nv, note));
    /* hash: Slack refuses an update of a view changed since (a race of keystrokes) */
    if (json_is_string(json_object_get(view, "hash")))
        json_object_set(update, "hash", json_object_get(view, "hash"));
    slack_api_call(s, "views.update", update, 0, on_view_api, "views.update");
out:
    free(answer);
    chat_command_clear(&cmd);
    chat_form_free(form);
}

/* The ack payload for a submission: NULL (close the modal) or errors. */
static json_t *submit(struct slack *s, json_t *p)
{
    json_t *view = json_object_get(p, "view"), *errors = json_object();
    const char *user = json_string_value(json_object_get(json_object_get(p, "user"), "id"));
    struct chat_field_value v[MAX_VALUES];
    struct chat_form *form = NULL;
    struct chat_command cmd = { 0 };
    char bid[100], msg[600], *answer = NULL;
    const char *first = NULL;
    struct meta m;
    size_t nv;
    int failed = 0;

    if (meta_parse(json_string_value(json_object_get(view, "private_metadata")), &m) < 0 ||
        !user)
        goto out;
    form = form_of(s, m.verb, user);
    if (!form) {
        tell(s, m.channel, user, "That form is gone (its script changed); type the command.");
        goto out;
    }
    nv = read_values(form, view, v, MAX_VALUES);
    for (size_t i = 0; i < form->nfields; i++) {
        const struct chat_field *d = &form->fields[i];
        const char *val = chat_form_value(v, nv, d->name);
        int n;
        block_id(bid, sizeof bid, "f", d->name, m.gen);
        if (!first && d->kind == CHAT_FIELD_TEXT)
            first = d->name;
        if ((!val || !*val) && !d->optional && (d->kind != CHAT_FIELD_CHOICE || d->noptions)) {
            json_object_set_new(errors, bid, json_string("Please fill this in."));
            continue;
        }
        if (!val || d->kind != CHAT_FIELD_TEXT || !d->max)
            continue;
        n = d->weighted && s->base.measure ? s->base.measure(val) : (int)utf8_chars(val);
        if (n > d->max) {
            snprintf(msg, sizeof msg, "Too long: %d/%d%s.", n, d->max,
                     d->weighted ? " as X counts it (links count 23, emoji 2)" : "");
            json_object_set_new(errors, bid, json_string(msg));
        }
    }
    if (json_object_size(errors))
        goto out;
    if (chat_command_from_form(&cmd, s->cfg->command, form, m.ticket, v, nv) < 0 ||
        !s->base.on_command)
        goto out;
    cmd.user_id = user;
    cmd.channel = m.channel;
    cmd.failed = &failed;
    answer = s->base.on_command(s->base.on_command_arg, &cmd);
    if (failed) {
        /* the script's refusal, on the field it is about (the text) */
        json_t *t = plain(answer ? answer : "Refused.", 1900);
        block_id(bid, sizeof bid, "f", first ? first : form->nfields ? form->fields[0].name
                                                                    : "text", m.gen);
        json_object_set(errors, bid, json_object_get(t, "text"));
        json_decref(t);
    } else {
        tell(s, m.channel, user, answer);
    }
out:
    free(answer);
    chat_command_clear(&cmd);
    chat_form_free(form);
    if (!json_object_size(errors)) {
        json_decref(errors);
        return NULL;
    }
    return json_pack("{s:s,s:o}", "response_action", "errors", "errors", errors);
}

int slack_views_handle(struct slack *s, const char *data, size_t len, json_t **ack_payload)
{
    json_t *root = json_loadb(data, len, 0, NULL), *p, *action;
    const char *type, *ptype, *aid, *ctype, *cb;
    int handled = 0;

    *ack_payload = NULL;
    type = json_string_value(json_object_get(root, "type"));
    p = json_object_get(root, "payload");
    ptype = json_string_value(json_object_get(p, "type"));
    if (!type || strcmp(type, "interactive") != 0 || !ptype)
        goto out;
    cb = json_string_value(json_object_get(json_object_get(p, "view"), "callback_id"));
    if (strcmp(ptype, "block_actions") == 0) {
        action = json_array_get(json_object_get(p, "actions"), 0);
        aid = json_string_value(json_object_get(action, "action_id"));
        ctype = json_string_value(json_object_get(json_object_get(p, "container"), "type"));
        if (aid && ctype && strcmp(ctype, "message") == 0 && strncmp(aid, "form_", 5) == 0) {
            const char *value = json_string_value(json_object_get(action, "value"));
            handled = 1;
            if (value && *value && strlen(value) <= 18 &&
                strspn(value, "0123456789") == strlen(value))
                open_form(s, p, aid + 5, strtoll(value, NULL, 10),
                          json_string_value(json_object_get(json_object_get(p, "container"),
                                                            "channel_id")),
                          json_object_get(p, "message"));
        } else if (aid && ctype && strcmp(ctype, "view") == 0 && strncmp(aid, "form_", 5) == 0 &&
                   strcmp(json_string_value(json_object_get(json_object_get(p, "view"), "type"))
                          ?: "", "home") == 0) {
            /* a row's button on the App Home: answers go to the ticket channel */
            const char *value = json_string_value(json_object_get(action, "value"));
            handled = 1;
            if (value && *value && strlen(value) <= 18 &&
                strspn(value, "0123456789") == strlen(value))
                open_form(s, p, aid + 5, strtoll(value, NULL, 10), s->cfg->channel_mentions,
                          NULL);
        } else if (ctype && strcmp(ctype, "view") == 0 && cb && strcmp(cb, CALLBACK_ID) == 0) {
            handled = 1;
            view_action(s, p, action);
        }
    } else if (cb && strcmp(cb, CALLBACK_ID) == 0 && strcmp(ptype, "view_submission") == 0) {
        handled = 1;
        *ack_payload = submit(s, p);
    } else if (strcmp(ptype, "message_action") == 0 &&
               strcmp(json_string_value(json_object_get(p, "callback_id")) ?: "",
                      "reply_to_customer") == 0) {
        /* the "Reply to customer" shortcut on any message of a ticket's thread */
        json_t *msg = json_object_get(p, "message");
        const char *channel = json_string_value(json_object_get(json_object_get(p, "channel"),
                                                                "id"));
        const char *parent = json_string_value(json_object_get(msg, "thread_ts"));
        long long ticket;
        if (!parent)
            parent = json_string_value(json_object_get(msg, "ts"));
        handled = 1;
        ticket = parent && s->base.ticket_of
                 ? (long long)s->base.ticket_of(s->base.on_command_arg, channel, parent) : 0;
        if (ticket > 0)
            open_form(s, p, "reply", ticket, channel,
                      json_object_get(msg, "thread_ts") ? NULL : msg);   /* the ticket's own */
        else
            tell(s, channel, json_string_value(json_object_get(json_object_get(p, "user"), "id")),
                 "That message is not in a ticket's thread.");
    } else if (cb && strcmp(cb, CALLBACK_ID) == 0 && strcmp(ptype, "view_closed") == 0) {
        handled = 1;   /* nothing was half-done: a form acts only on submission */
    }
out:
    json_decref(root);
    return handled;
}
