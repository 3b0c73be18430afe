/* mention.c — freeing the plain mention structs of mention.h. */
#include "source/mention.h"

#include <stdlib.h>
#include <string.h>

void mention_clear(struct mention *m)
{
    free(m->text);
    free(m->author_id);
    free(m->author_handle);
    free(m->author_name);
    free(m->conversation_id);
    free(m->in_reply_to_user_id);
    free(m->lang);
    free(m->quote_text);
    free(m->quote_author);
    free(m->media);
    memset(m, 0, sizeof *m);
}

void mention_page_free(struct mention_page *p)
{
    if (!p)
        return;
    for (size_t i = 0; i < p->n; i++)
        mention_clear(&p->v[i]);
    free(p->v);
    free(p->newest_id);
    free(p->next_token);
    memset(p, 0, sizeof *p);
}
