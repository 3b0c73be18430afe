/* fuzz_slack.c — Slack's wire format: Socket Mode frames, Web API answers,
 * conversations.history, what buttons turn into, and slash command text
 * turned back into what the agent typed. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "chat/command.h"
#include "chat/slackparse.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct slack_frame_info f;
    struct slack_api r;
    char err[256], ts[64];

    struct slack_typed typed;
    char *text = malloc(size + 1);

    if (slack_parse_frame((const char *)data, size, &f, err, sizeof err) == 0) {
        struct chat_command cmd = { 0 };
        if (slack_action_command("/tw", f.action_id, f.action_value, &cmd) == 0)
            chat_command_clear(&cmd);
        if (f.text && slack_typed_text(f.text, &typed) == 0)
            slack_typed_clear(&typed);
        slack_frame_clear(&f);
    }
    if (text) {   /* the bytes themselves as command text */
        memcpy(text, data, size);
        text[size] = '\0';
        if (slack_typed_text(text, &typed) == 0) {
            if (strlen(typed.text) > strlen(text))
                abort();   /* decoding never grows the text */
            slack_typed_clear(&typed);
        }
        free(text);
    }
    slack_parse_api((const char *)data, size, &r);
    {
        char url[64], id[16];   /* small: the size checks are fuzzed too */
        if (slack_parse_upload_url((const char *)data, size, url, sizeof url, id,
                                   sizeof id) == 0 && strncmp(url, "http", 4) != 0)
            abort();
    }
    slack_api_clear(&r);
    slack_find_ticket((const char *)data, size, 7, ts, sizeof ts);
    return 0;
}
