/* slack_home.c — the App Home tab (issue 19): published with views.publish
 * when a staff member opens it, and again after tickets change, coalesced
 * by one timer (never once per change) and paced under Slack's rate for
 * views.publish (Tier 4, 100+ a minute).  Rows carry the ticket message's
 * buttons (Reply, Note, Assign to me, Close).  Knows Slack's views and the
 * chat interface; never tickets' storage. */
#include "chat/slack_home.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/log.h"

#define MAX_BLOCKS 100           /* Slack: a view holds at most 100 blocks */
#define PACE_MS 700              /* per user per round: 86 publishes a minute at most */
#define MIN_ROUND_MS 2000        /* changes within this are one refresh */

static json_t *plain(const char *text)
{
    return json_pack("{s:s,s:s}", "type", "plain_text", "text", *text ? text : " ");
}

static json_t *button(const char *action, const char *label, long long id, const char *style)
{
    char value[24];
    json_t *b;
    snprintf(value, sizeof value, "%lld", id);
    b = json_pack("{s:s,s:s,s:o,s:s}", "type", "button", "action_id", action, "text",
                  plain(label), "value", value);
    if (style)
        json_object_set_new(b, "style", json_string(style));
    return b;
}

/* "due in 12 min", "8 min overdue", "answered". */
static void time_left(const struct ticket_view *v, long long now, char *out, size_t len)
{
    long long left = (long long)v->sla_due_at - now;
    if (v->first_response_at)
        snprintf(out, len, "answered");
    else if (left >= 0)
        snprintf(out, len, "due in %lld min", (left + 59) / 60);
    else
        snprintf(out, len, "%lld min overdue", (-left + 59) / 60);
}

/* One line of text: newlines and tabs become spaces, cut near `max` bytes
 * on a character boundary.  Writes into out (len > max + 4). */
static void one_line(const char *s, size_t max, char *out, size_t len)
{
    size_t i = 0;
    for (; s && s[i] && i < max && i + 4 < len; i++)
        out[i] = s[i] == '\n' || s[i] == '\r' || s[i] == '\t' ? ' ' : s[i];
    while (i > 0 && s[i] && ((unsigned char)s[i] & 0xC0) == 0x80)
        i--;
    if (s && s[i] && i + 4 < len) {
        memcpy(out + i, "…", sizeof "…");
        return;
    }
    out[i] = '\0';
}

/* Appends a list: a header, then two blocks per ticket (its line in
 * plain_text, which Slack never parses: a tweet pings no one; its
 * buttons), while `room` blocks remain (one kept for "and N more"). */
static void add_list(json_t *blocks, const char *title, const struct ticket_view *v, size_t n,
                     long long now, const char *empty)
{
    char head[120], line[700], left[40], excerpt[300];
    size_t shown = 0;
    snprintf(head, sizeof head, "%s (%zu)", title, n);
    json_array_append_new(blocks, json_pack("{s:s,s:o}", "type", "header", "text", plain(head)));
    if (!n)
        json_array_append_new(blocks, json_pack("{s:s,s:[o]}", "type", "context", "elements",
                                                plain(empty)));
    for (size_t i = 0; i < n; i++) {
        json_t *actions;
        if (json_array_size(blocks) + 2 > MAX_BLOCKS - 4)
            break;               /* keep room for the next lists' headers */
        time_left(&v[i], now, left, sizeof left);
        one_line(v[i].text, 200, excerpt, sizeof excerpt);
        snprintf(line, sizeof line, "#%lld · @%.60s · %s · %s%s\n%s", (long long)v[i].id,
                 v[i].customer_handle ? v[i].customer_handle : "?", v[i].status, left,
                 v[i].assignee_name ? "" : " · unassigned", excerpt);
        json_array_append_new(blocks, json_pack("{s:s,s:o}", "type", "section", "text",
                                                plain(line)));
        actions = json_array();
        json_array_append_new(actions, button("form_reply", "Reply", v[i].id, "primary"));
        json_array_append_new(actions, button("form_note", "Note", v[i].id, NULL));
        if (!v[i].assignee_name)
            json_array_append_new(actions, button("assign_me", "Assign to me", v[i].id, NULL));
        json_array_append_new(actions, button("close", "Close", v[i].id, NULL));
        json_array_append_new(blocks, json_pack("{s:s,s:o}", "type", "actions", "elements",
                                                actions));
        shown++;
    }
    if (shown < n && json_array_size(blocks) < MAX_BLOCKS) {
        snprintf(line, sizeof line, "and %zu more: /tw tickets", n - shown);
        json_array_append_new(blocks, json_pack("{s:s,s:[o]}", "type", "context", "elements",
                                                plain(line)));
    }
}

json_t *slack_home_view(const struct chat_home *h)
{
    json_t *blocks = json_array();
    char figures[400];
    snprintf(figures, sizeof figures, "Today (UTC): %lld new, %lld answered, %lld of them "
             "within target · now %lld open, %lld unassigned", h->opened_today,
             h->answered_today, h->in_target_today, h->open, h->unassigned);
    json_array_append_new(blocks, json_pack("{s:s,s:o}", "type", "section", "text",
                                            plain(figures)));
    add_list(blocks, "About to miss the target", h->breaching, h->nbreaching, h->now,
             "Nothing is about to miss its first-response target.");
    add_list(blocks, "Yours", h->mine, h->nmine, h->now, "No open tickets assigned to you.");
    add_list(blocks, "Unassigned, by time left", h->queue, h->nqueue, h->now,
             "The queue is empty.");
    return json_pack("{s:s,s:s,s:o}", "type", "home", "callback_id", "vigil_home", "blocks",
                     blocks);
}

static void on_published(struct slack *s, void *arg, const struct slack_api *r,
                         const struct http_response *h, double retry_after)
{
    (void)s; (void)arg; (void)h;
    if (!r->ok)
        log_warn("slack: App Home not published", "error=%s retry_after=%.0f",
                 r->error ? r->error : "?", retry_after);
}

static void publish(struct slack *s, const char *user)
{
    struct chat_home h;
    if (!s->base.home_of || s->base.home_of(s->base.on_command_arg, user, &h) < 0)
        return;
    slack_api_call(s, "views.publish", json_pack("{s:s,s:o}", "user_id", user, "view",
                                                 slack_home_view(&h)), 0, on_published, NULL);
    h.release(&h);
}

static void on_round(uv_timer_t *t)
{
    struct slack *s = t->data;
    s->home_dirty = 0;
    for (int i = 0; i < HOME_USERS; i++)
        if (s->home_users[i][0])
            publish(s, s->home_users[i]);
}

void slack_home_opened(struct slack *s, const char *data, size_t len)
{
    json_t *root = json_loadb(data, len, 0, NULL);
    json_t *ev = json_object_get(json_object_get(root, "payload"), "event");
    const char *user = json_string_value(json_object_get(ev, "user"));
    const char *tab = json_string_value(json_object_get(ev, "tab"));
    int slot = -1;

    if (!user || !tab || strcmp(tab, "home") != 0 || strlen(user) >= sizeof s->home_users[0] ||
        !config_staff(s->cfg, user))
        goto out;   /* only staff get the desk's Home */
    for (int i = 0; i < HOME_USERS && slot < 0; i++)
        if (strcmp(s->home_users[i], user) == 0)
            slot = i;
    for (int i = 0; i < HOME_USERS && slot < 0; i++)
        if (!s->home_users[i][0])
            slot = i;
    if (slot < 0) {             /* full: the one who opened it longest ago goes */
        slot = s->home_next;
        s->home_next = (s->home_next + 1) % HOME_USERS;
    }
    snprintf(s->home_users[slot], sizeof s->home_users[slot], "%s", user);
    publish(s, user);
out:
    json_decref(root);
}

void slack_home_changed(struct chat *c)
{
    struct slack *s = to_slack(c);
    int n = 0;
    if (s->stopping || s->home_dirty)
        return;
    for (int i = 0; i < HOME_USERS; i++)
        n += s->home_users[i][0] != 0;
    if (!n)
        return;
    s->home_dirty = 1;
    uv_timer_start(&s->home_timer, on_round, MIN_ROUND_MS + (uint64_t)n * PACE_MS, 0);
}
