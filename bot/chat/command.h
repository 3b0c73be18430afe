/* command.h — a command line as a person types it ("/tw assign 12 @alice",
 * "/assign 12 me", "assign 12 me") turned into a struct chat_command: the
 * one parser the console, the admin socket and the Slack adapter share.
 * Pure (bytes in, struct out), fuzzed; knows no chat's wire format. */
#ifndef VIGIL_COMMAND_H
#define VIGIL_COMMAND_H

#include "chat/chat.h"

/* chat_command_parse flags */
enum {
    /* "<@U123|alice>" and "<@U123>" written in the line name a teammate by
     * chat id: they become "@alice" / "@U123" with the person added to
     * people (the console and REPL, where nothing decoded them before).
     * Off for Slack: its adapter decoded them already, and what is left
     * is text the agent typed. */
    CHAT_PARSE_PEOPLE = 1,
};

/* Parses `line` into cmd's verb (lower case), args (the text after the
 * verb, as typed), argv (args in words) and raw (`line`).  "/<umbrella>
 * reply 3 hi" and "/reply 3 hi" and "reply 3 hi" give verb "reply", args
 * "3 hi"; the umbrella alone gives "help"; an empty line or a lone "/"
 * gives verb NULL (not a command).  user_id, channel and ticket are left
 * as they were; people too unless CHAT_PARSE_PEOPLE found some.  Copies
 * what it keeps.  Returns 0, or -1 when out of memory (cmd then holds
 * nothing).  Free with chat_command_clear. */
int chat_command_parse(struct chat_command *cmd, const char *line, const char *umbrella,
                       unsigned flags);

/* Fills verb (lower-cased), args, argv and raw from pieces, for a command
 * that was never a typed line (a button: verb "assign", args "42 me").
 * `raw` NULL: "verb args".  Copies all three.  Returns 0 or -1 (out of
 * memory).  Free with chat_command_clear. */
int chat_command_set(struct chat_command *cmd, const char *verb, const char *args,
                     const char *raw);

/* Frees what chat_command_parse or chat_command_set allocated and clears
 * verb, args, argv and raw (and people when the parser found them). */
void chat_command_clear(struct chat_command *cmd);

/* Forms (issue 19). */
void chat_form_free(struct chat_form *f);
/* The value of field `name` among `v`, borrowed; NULL when absent. */
const char *chat_form_value(const struct chat_field_value *v, size_t n, const char *name);
/* The command a submitted form stands for: verb form->verb, args the
 * ticket and then each non-empty text, choice and staff field in the
 * form's order ("42 Thanks, fixed"; staff as "@U2"), so a script's
 * run(ctx, args) works as typed; flags and choices that fill another
 * field only in cmd->fields; a flag with a verb set runs that verb.  `values` is
 * borrowed into cmd->fields and must outlive the call.  Returns 0 or -1
 * (out of memory); chat_command_clear frees. */
int chat_command_from_form(struct chat_command *cmd, const char *umbrella,
                           const struct chat_form *form, int64_t ticket,
                           const struct chat_field_value *values, size_t nvalues);

#endif
