/* test_slack_home.c — the App Home view (issue 19): within Slack's 100
 * blocks whatever the lists hold, and a tweet in a row can ping nobody. */
#include "unit.h"

#include <stdlib.h>
#include <string.h>

#include "chat/slack_home.h"

TEST(app_home_stays_within_100_blocks_and_says_how_many_more)
{
    struct ticket_view v[40];
    struct chat_home h = { 0 };
    json_t *view, *blocks;
    char *dump;
    for (int i = 0; i < 40; i++)
        v[i] = (struct ticket_view){ .id = i + 1, .status = "new", .customer_handle = "ann",
                                     .text = "<!channel> @here line one\nline two",
                                     .sla_due_at = 1000 + i * 60 };
    h.mine = v;
    h.nmine = 40;
    h.queue = v;
    h.nqueue = 40;
    h.breaching = v;
    h.nbreaching = 40;
    h.now = 1000;
    view = slack_home_view(&h);
    blocks = json_object_get(view, "blocks");
    CHECK_STR(json_string_value(json_object_get(view, "type")), "home");
    CHECK(json_array_size(blocks) <= 100);
    dump = json_dumps(blocks, JSON_COMPACT);
    CHECK(strstr(dump, "and ") != NULL && strstr(dump, " more: /tw tickets") != NULL);
    CHECK(strstr(dump, "\"mrkdwn\"") == NULL);      /* every text is plain_text */
    CHECK(strstr(dump, "#1 · @ann · new · due in 0 min · unassigned\\n<!channel>") != NULL);
    CHECK(strstr(dump, "Yours (40)") != NULL && strstr(dump, "Unassigned, by time left (40)"));
    free(dump);
    json_decref(view);
}

TEST(app_home_with_nothing_to_show_says_so)
{
    struct chat_home h = { .opened_today = 3, .answered_today = 2, .in_target_today = 1 };
    json_t *view = slack_home_view(&h);
    char *dump = json_dumps(view, JSON_COMPACT);
    CHECK(strstr(dump, "Today (UTC): 3 new, 2 answered, 1 of them within target") != NULL);
    CHECK(strstr(dump, "The queue is empty.") != NULL);
    CHECK(strstr(dump, "No open tickets assigned to you.") != NULL);
    free(dump);
    json_decref(view);
}
