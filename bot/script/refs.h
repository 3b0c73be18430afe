/* refs.h — what people type to name a ticket or a teammate, parsed as pure
 * functions ("#42", "@alice", "me", "U123").  Fuzzed.  Chat markup such as
 * Slack's <@U123|alice> never gets here: the chat adapter hands over
 * "@alice" and who that is (struct chat_command's people). */
#ifndef VIGIL_REFS_H
#define VIGIL_REFS_H

#include <stddef.h>

/* "42", "#42" (spaces around allowed) -> 42; -1 when not a ticket number. */
long long refs_ticket(const char *s);

enum refs_kind { REFS_BAD, REFS_ME, REFS_ID, REFS_NAME };

/* "me" -> REFS_ME; "U123" -> REFS_ID (the id in `out`); "@alice" ->
 * REFS_NAME ("alice" in `out`); REFS_BAD when empty, two words or longer
 * than `outlen`. */
enum refs_kind refs_user(const char *s, char *out, size_t outlen);

#endif
