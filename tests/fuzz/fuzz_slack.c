/* fuzz_slack.c — Slack's wire format: Socket Mode frames, Web API answers,
 * conversations.history, and what buttons turn into. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "chat/slackparse.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct slack_frame_info f;
    struct slack_api r;
    char err[256], ts[64];

    if (slack_parse_frame((const char *)data, size, &f, err, sizeof err) == 0) {
        char *cmd = slack_action_command("/tw", f.action_id, f.action_value);
        free(cmd);
        slack_frame_clear(&f);
    }
    slack_parse_api((const char *)data, size, &r);
    slack_api_clear(&r);
    slack_find_ticket((const char *)data, size, 7, ts, sizeof ts);
    return 0;
}
