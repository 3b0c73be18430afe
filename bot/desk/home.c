/* home.c — what a staff member's App Home shows (issue 19): their open
 * tickets, the unassigned queue by time left to the first-response target,
 * the tickets about to miss it, and today's figures, as a chat_home for the
 * chat adapter to render.  Reads the store; knows no chat's wire format. */
#include "desk/desk_internal.h"

#include "chat/chat.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define HOME_ROWS 12     /* per list: a Home holds 100 blocks, a row takes 2 */

struct home_row {
    struct ticket t;
    char url[160];
};

struct home_owned {
    struct home_row rows[3 * HOME_ROWS];
    struct ticket_view views[3 * HOME_ROWS];
    size_t n;
};

static void release(struct chat_home *h)
{
    struct home_owned *o = h->owned;
    for (size_t i = 0; o && i < o->n; i++)
        store_ticket_clear(&o->rows[i].t);
    free(o);
    h->owned = NULL;
}

/* Appends the ticket `id` as a view; returns 0, or -1 when it cannot be read. */
static int add_view(struct desk *d, struct home_owned *o, int64_t id)
{
    struct home_row *r = &o->rows[o->n];
    struct ticket_view *v = &o->views[o->n];
    if (o->n >= 3 * HOME_ROWS || store_ticket_get(d->store, id, &r->t))
        return -1;
    desk_permalink(d, r->t.customer_handle, r->t.tweet_id, r->url, sizeof r->url);
    *v = (struct ticket_view){
        .id = r->t.id, .status = desk_ticket_status(&r->t),
        .customer_handle = r->t.customer_handle, .customer_name = r->t.customer_name,
        .text = r->t.text, .tweet_id = r->t.tweet_id, .tweet_url = r->url,
        .assignee_name = r->t.assignee ? desk_staff_name(d, r->t.assignee) : NULL,
        .tags = r->t.tags, .priority = r->t.priority,
        .tweeted_at = r->t.sla_due_at - (int64_t)d->cfg->sla_first_response,
        .sla_due_at = r->t.sla_due_at, .first_response_at = r->t.first_response_at,
        .injected = r->t.injected,
    };
    o->n++;
    return 0;
}

/* The views of list `where` (store_ticket_list), at most HOME_ROWS, those
 * `keep` accepts.  Returns where they start in o->views; *n their count. */
static const struct ticket_view *add_list(struct desk *d, struct home_owned *o, const char *where,
                                          const char *arg, int64_t due_before, size_t *n)
{
    size_t got = 0, start = o->n;
    int64_t *ids = store_ticket_list(d->store, where, arg, HOME_ROWS, &got);
    for (size_t i = 0; i < got; i++) {
        if (add_view(d, o, ids[i]) < 0)
            continue;
        /* about to breach: unanswered, due before `due_before` */
        if (due_before && (o->views[o->n - 1].first_response_at ||
                           o->views[o->n - 1].sla_due_at > due_before)) {
            store_ticket_clear(&o->rows[--o->n].t);
        }
    }
    free(ids);
    *n = o->n - start;
    return &o->views[start];
}

int desk_home(struct desk *d, const char *user, struct chat_home *out)
{
    struct home_owned *o = calloc(1, sizeof *o);
    struct store_stats st;
    int64_t now = desk_now(d), midnight = now - now % 86400;

    memset(out, 0, sizeof *out);
    if (!o)
        return -1;
    if (store_stats(d->store, midnight, (int64_t)d->cfg->sla_first_response, &st)) {
        free(o);
        return -1;
    }
    out->owned = o;
    out->release = release;
    out->now = now;
    out->mine = add_list(d, o, "assignee", user, 0, &out->nmine);
    out->queue = add_list(d, o, "queue", NULL, 0, &out->nqueue);
    out->breaching = add_list(d, o, "sla", NULL, now + (int64_t)d->cfg->sla_warn_before,
                              &out->nbreaching);
    out->open = st.open;
    out->unassigned = st.unassigned;
    out->opened_today = st.opened;
    out->answered_today = st.answered;
    out->in_target_today = st.answered_in_target;
    return 0;
}
