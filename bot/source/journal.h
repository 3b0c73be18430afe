/* journal.h — what came in, written down: each page of mentions a source
 * delivered, each command with its user, each button, as one JSON line in
 * a file per UTC day (`record = { dir = … }`), and read back one line at a
 * time (`vigil replay`).  Holds only what X and people sent: no token, no
 * header, no config.  Knows mention pages and commands; no adapter. */
#ifndef VIGIL_JOURNAL_H
#define VIGIL_JOURNAL_H

#include <stddef.h>
#include <stdint.h>

#include "chat/chat.h"
#include "source/mention.h"

struct journal;

/* Writes into `dir` (created if missing, one level), files named
 * YYYY-MM-DD.jsonl, mode 0600 (they hold customers' tweets).  Returns new,
 * free with journal_close(); NULL on error (logged). */
struct journal *journal_open(const char *dir);
void journal_close(struct journal *j);
/* Appends one line; `at` is the desk's clock (Unix seconds).  A failed
 * write is logged once and never stops the bot. */
void journal_page(struct journal *j, int64_t at, const char *source,
                  const struct mention_page *page);
void journal_command(struct journal *j, int64_t at, const struct chat_command *cmd);

enum journal_kind { JOURNAL_PAGE, JOURNAL_COMMAND };

/* One line read back.  Everything in it is owned by the entry. */
struct journal_entry {
    enum journal_kind kind;
    int64_t at;
    struct mention_page page;          /* JOURNAL_PAGE */
    struct chat_command cmd;           /* JOURNAL_COMMAND: user, channel, verb, args,
                                        * argv, raw, ticket (a button's) and people */
    char *user, *channel;              /* what cmd points to */
    struct chat_person *people;
};

/* Parses one journal line (`len` bytes).  A page is either "mentions" (as
 * journal_page writes them) or "x_page", an X API v2 mentions page as X
 * returns it (what config/sample-mentions.jsonl holds).  Pure.  Returns 0
 * with `e` filled (free with journal_entry_clear), or -1 with a one-line
 * reason in `err`. */
int journal_parse(const char *line, size_t len, struct journal_entry *e, char *err,
                  size_t errlen);
void journal_entry_clear(struct journal_entry *e);

#endif
