/* xparse.c — X API v2 mentions page -> struct mention_page, own posts ->
 * struct own_page.  The only place that knows the shape of those pages;
 * no I/O, no globals. */
#include "source/xparse.h"

#include <jansson.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <utf8proc.h>

long long xparse_id(const char *s)
{
    unsigned long long v = 0;
    size_t n = 0;
    if (!s || !*s)
        return -1;
    for (; s[n]; n++) {
        if (s[n] < '0' || s[n] > '9' || n >= 19)
            return -1;
        v = v * 10 + (unsigned)(s[n] - '0');
    }
    return v > INT64_MAX ? -1 : (long long)v;
}

long long xparse_time(const char *s)
{
    struct tm tm;
    const char *end;
    if (!s)
        return 0;
    memset(&tm, 0, sizeof tm);
    end = strptime(s, "%Y-%m-%dT%H:%M:%S", &tm);
    if (!end)
        return 0;
    return (long long)timegm(&tm);
}

char *xparse_unescape(const char *s)
{
    static const struct { const char *ent; char c; } ents[] = {
        { "&amp;", '&' }, { "&lt;", '<' }, { "&gt;", '>' },
    };
    size_t len = strlen(s), o = 0;
    char *out = malloc(len + 1);
    if (!out)
        return NULL;
    for (size_t i = 0; i < len;) {
        int hit = 0;
        if (s[i] == '&')
            for (size_t e = 0; e < sizeof ents / sizeof ents[0]; e++) {
                size_t el = strlen(ents[e].ent);
                if (strncmp(s + i, ents[e].ent, el) == 0) {
                    out[o++] = ents[e].c;
                    i += el;
                    hit = 1;
                    break;
                }
            }
        if (!hit)
            out[o++] = s[i++];
    }
    out[o] = '\0';
    return out;
}

#define REPLACEMENT "\xef\xbf\xbd"   /* U+FFFD in UTF-8 */

/* A JSON string value as a C string: a NUL inside it (JSON_ALLOW_NUL lets
 * "\u0000" through) becomes U+FFFD instead of silently ending the text.
 * Returns new, caller frees; NULL when `obj[key]` is not a string. */
static char *dup_str(json_t *obj, const char *key)
{
    json_t *v = json_object_get(obj, key);
    const char *s = json_string_value(v);
    size_t n = json_string_length(v), o = 0;
    char *out;
    if (!s)
        return NULL;
    out = malloc(n * 3 + 1);
    if (!out)
        return NULL;
    for (size_t i = 0; i < n; i++) {
        if (s[i]) {
            out[o++] = s[i];
        } else {
            memcpy(out + o, REPLACEMENT, 3);
            o += 3;
        }
    }
    out[o] = '\0';
    return out;
}

static int hex4(const char *p, const char *end, unsigned *v)
{
    *v = 0;
    if (end - p < 4)
        return -1;
    for (int i = 0; i < 4; i++) {
        int c = p[i];
        unsigned d = c >= '0' && c <= '9' ? (unsigned)(c - '0')
                   : c >= 'a' && c <= 'f' ? (unsigned)(c - 'a' + 10)
                   : c >= 'A' && c <= 'F' ? (unsigned)(c - 'A' + 10) : 16u;
        if (d > 15)
            return -1;
        *v = *v * 16 + d;
    }
    return 0;
}

/* What X may send but jansson refuses (it rejects the whole document):
 * bytes that are not UTF-8 become U+FFFD, and so do "\uD800"-style escapes
 * of a surrogate without its other half.  Everything else is copied as is,
 * so a page that was valid is parsed unchanged.  Returns new (caller
 * frees, length in *outlen), NULL when out of memory. */
static char *repair_json(const char *in, size_t len, size_t *outlen)
{
    char *out = malloc(len * 3 + 1);
    const char *p = in, *end = in + len;
    size_t o = 0;
    if (!out)
        return NULL;
    while (p < end) {
        unsigned hi, lo;
        utf8proc_int32_t cp;
        utf8proc_ssize_t n;
        if (*p == '\\' && end - p >= 2 && p[1] == 'u' && hex4(p + 2, end, &hi) == 0 &&
            hi >= 0xD800 && hi <= 0xDFFF) {
            if (hi <= 0xDBFF && end - p >= 12 && p[6] == '\\' && p[7] == 'u' &&
                hex4(p + 8, end, &lo) == 0 && lo >= 0xDC00 && lo <= 0xDFFF) {
                memcpy(out + o, p, 12);          /* a proper pair */
                o += 12;
                p += 12;
            } else {
                memcpy(out + o, "\\uFFFD", 6);
                o += 6;
                p += 6;
            }
            continue;
        }
        if (*p == '\\' && end - p >= 2) {       /* any other escape, "\\" included */
            out[o++] = *p++;
            out[o++] = *p++;
            continue;
        }
        n = utf8proc_iterate((const utf8proc_uint8_t *)p, end - p, &cp);
        if (n < 1) {
            memcpy(out + o, REPLACEMENT, 3);
            o += 3;
            p++;
        } else {
            memcpy(out + o, p, (size_t)n);
            o += (size_t)n;
            p += n;
        }
    }
    out[o] = '\0';
    *outlen = o;
    return out;
}

/* users: borrowed array from includes.users; returns the user with `id`. */
static json_t *find_user(json_t *users, const char *id)
{
    size_t i;
    json_t *u;
    if (!id)
        return NULL;
    json_array_foreach(users, i, u) {
        const char *uid = json_string_value(json_object_get(u, "id"));
        if (uid && strcmp(uid, id) == 0)
            return u;
    }
    return NULL;
}

/* includes.<kind>[] entry whose `key` is `id`, borrowed; NULL when none. */
static json_t *find_by(json_t *list, const char *key, const char *id)
{
    size_t i;
    json_t *v;
    json_array_foreach(list, i, v) {
        const char *k = json_string_value(json_object_get(v, key));
        if (k && id && strcmp(k, id) == 0)
            return v;
    }
    return NULL;
}

/* The quoted post and the media of `tw`, from the page's includes (what
 * expansions=referenced_tweets.id,attachments.media_keys asked for).  A
 * quote or a media key X left out of includes is simply not shown. */
static void parse_details(json_t *tw, json_t *includes, struct mention *m)
{
    json_t *r, *key, *users = json_object_get(includes, "users");
    size_t i, len = 0;

    json_array_foreach(json_object_get(tw, "referenced_tweets"), i, r) {
        const char *type = json_string_value(json_object_get(r, "type"));
        json_t *q, *u;
        char *text;
        if (!type || strcmp(type, "quoted") != 0 || m->quote_text)
            continue;
        q = find_by(json_object_get(includes, "tweets"), "id",
                    json_string_value(json_object_get(r, "id")));
        text = q ? dup_str(q, "text") : NULL;
        if (!text)
            continue;
        m->quote_text = xparse_unescape(text);
        free(text);
        u = find_user(users, json_string_value(json_object_get(q, "author_id")));
        m->quote_author = u ? dup_str(u, "username") : dup_str(q, "author_id");
    }
    json_array_foreach(json_object_get(json_object_get(tw, "attachments"), "media_keys"), i,
                       key) {
        json_t *md = find_by(json_object_get(includes, "media"), "media_key",
                             json_string_value(key));
        /* photos have url; videos and GIFs only a preview image */
        const char *url = json_string_value(json_object_get(md, "url"));
        char *grown;
        size_t ul;
        if (!url)
            url = json_string_value(json_object_get(md, "preview_image_url"));
        if (!url || strncmp(url, "https://", 8) != 0 || strpbrk(url, " \n\r\t<>\"|"))
            continue;   /* only a plain https link is shown as one */
        ul = strlen(url);
        grown = realloc(m->media, len + ul + 2);
        if (!grown)
            return;
        m->media = grown;
        if (len)
            m->media[len++] = '\n';
        memcpy(m->media + len, url, ul + 1);
        len += ul;
    }
}

static int parse_tweet(json_t *tw, json_t *includes, struct mention *m)
{
    json_t *users = json_object_get(includes, "users");
    const char *id = json_string_value(json_object_get(tw, "id"));
    char *text = NULL;
    const char *author = json_string_value(json_object_get(tw, "author_id"));
    json_t *hist = json_object_get(tw, "edit_history_tweet_ids");
    json_t *refs = json_object_get(tw, "referenced_tweets"), *r, *user;
    size_t i;

    memset(m, 0, sizeof *m);
    m->id = xparse_id(id);
    if (m->id <= 0 || !json_is_string(json_object_get(tw, "text")) || !author)
        return -1;
    m->original_id = m->id;
    if (json_array_size(hist) > 0) {
        long long orig = xparse_id(json_string_value(json_array_get(hist, 0)));
        if (orig > 0)
            m->original_id = orig;
    }
    json_array_foreach(refs, i, r) {
        const char *type = json_string_value(json_object_get(r, "type"));
        if (type && strcmp(type, "retweeted") == 0)
            m->is_retweet = 1;
    }
    text = dup_str(tw, "text");
    m->text = text ? xparse_unescape(text) : NULL;
    free(text);
    m->author_id = strdup(author);
    m->conversation_id = dup_str(tw, "conversation_id");
    m->in_reply_to_user_id = dup_str(tw, "in_reply_to_user_id");
    m->lang = dup_str(tw, "lang");
    m->created_at = xparse_time(json_string_value(json_object_get(tw, "created_at")));
    user = find_user(users, author);
    m->author_handle = user ? dup_str(user, "username") : NULL;
    m->author_name = user ? dup_str(user, "name") : NULL;
    /* X may leave the author out of includes: fall back to the id. */
    if (!m->author_handle)
        m->author_handle = strdup(author);
    if (!m->text || !m->author_id || !m->author_handle) {
        mention_clear(m);
        return -1;
    }
    parse_details(tw, includes, m);
    return 0;
}

static int cmp_id(const void *a, const void *b)
{
    const struct mention *x = a, *y = b;
    return x->id < y->id ? -1 : x->id > y->id;
}

int xparse_mentions_page(const char *json, size_t len, struct mention_page *page,
                         char *err, size_t errlen)
{
    json_error_t jerr;
    size_t fixed_len = 0;
    char *fixed = repair_json(json, len, &fixed_len);
    json_t *root = fixed ? json_loadb(fixed, fixed_len, JSON_REJECT_DUPLICATES | JSON_ALLOW_NUL,
                                      &jerr)
                         : NULL;
    json_t *data, *users, *meta, *tw;
    size_t i;
    int rc = -1;

    memset(page, 0, sizeof *page);
    if (!fixed) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    free(fixed);
    if (!root) {
        snprintf(err, errlen, "not JSON: %s at line %d column %d", jerr.text, jerr.line,
                 jerr.column);
        return -1;
    }
    if (!json_is_object(root)) {
        snprintf(err, errlen, "not a mentions page: top level is not an object");
        goto out;
    }
    data = json_object_get(root, "data");
    meta = json_object_get(root, "meta");
    users = json_object_get(json_object_get(root, "includes"), "users");
    if (data && !json_is_array(data)) {
        snprintf(err, errlen, "not a mentions page: \"data\" is not an array");
        goto out;
    }
    if (!data && !meta) {
        snprintf(err, errlen, "not a mentions page: neither \"data\" nor \"meta\"");
        goto out;
    }
    page->nerrors = json_array_size(json_object_get(root, "errors"));
    page->included_users = json_array_size(users);
    page->included_posts = json_array_size(json_object_get(json_object_get(root, "includes"),
                                                           "tweets"));
    if (json_array_size(data)) {
        page->v = calloc(json_array_size(data), sizeof *page->v);
        if (!page->v) {
            snprintf(err, errlen, "out of memory");
            goto out;
        }
    }
    json_array_foreach(data, i, tw) {
        if (json_is_object(tw) &&
            parse_tweet(tw, json_object_get(root, "includes"), &page->v[page->n]) == 0)
            page->n++;
        else
            page->nerrors++;
    }
    /* The API sends newest first; the desk wants tweet order. */
    if (page->n > 1)
        qsort(page->v, page->n, sizeof *page->v, cmp_id);
    page->newest_id = dup_str(meta, "newest_id");
    page->next_token = dup_str(meta, "next_token");
    if (page->newest_id && xparse_id(page->newest_id) <= 0) {
        snprintf(err, errlen, "not a mentions page: meta.newest_id is not a tweet id");
        goto out;
    }
    rc = 0;
out:
    if (rc)
        mention_page_free(page);
    json_decref(root);
    return rc;
}

long long xparse_snowflake_time(long long id)
{
    return id > 0 ? ((id >> 22) + 1288834974657LL) / 1000 : 0;
}

long long xparse_id_time(const char *s)
{
    return xparse_snowflake_time(xparse_id(s));
}

void xparse_problem(const char *json, size_t len, char *detail, size_t dlen, char *type,
                    size_t tlen)
{
    json_t *root = json_loadb(json, len, 0, NULL), *first;
    const char *d, *t, *slash;
    detail[0] = type[0] = '\0';
    if (!root || !json_is_object(root)) {
        snprintf(detail, dlen, "%s", len ? "the answer was not JSON" : "empty answer");
        json_decref(root);
        return;
    }
    first = json_array_get(json_object_get(root, "errors"), 0);
    d = json_string_value(json_object_get(root, "detail"));
    if (!d)
        d = json_string_value(json_object_get(first, "message"));
    if (!d)
        d = json_string_value(json_object_get(first, "detail"));
    if (!d)
        d = json_string_value(json_object_get(root, "title"));
    if (!d)
        d = json_string_value(json_object_get(root, "error_description"));
    if (!d)
        d = json_string_value(json_object_get(root, "error"));
    snprintf(detail, dlen, "%s", d ? d : "no detail");
    t = json_string_value(json_object_get(root, "type"));
    if (!t)
        t = json_string_value(json_object_get(first, "type"));
    slash = t ? strrchr(t, '/') : NULL;
    snprintf(type, tlen, "%s", slash ? slash + 1 : t ? t : "");
    json_decref(root);
}

int xparse_data_field(const char *json, size_t len, const char *field, char *out,
                      size_t outlen)
{
    json_t *root = json_loadb(json, len, 0, NULL);
    const char *v = json_string_value(json_object_get(json_object_get(root, "data"), field));
    int rc = -1;
    if (v && *v) {
        snprintf(out, outlen, "%s", v);
        rc = 0;
    }
    json_decref(root);
    return rc;
}

int xparse_deleted(const char *json, size_t len)
{
    json_t *root = json_loadb(json, len, 0, NULL);
    json_t *v = json_object_get(json_object_get(root, "data"), "deleted");
    int rc = json_is_boolean(v) ? json_is_true(v) : -1;
    json_decref(root);
    return rc;
}

int xparse_token(const char *json, size_t len, char **access, char **refresh)
{
    json_t *root = json_loadb(json, len, 0, NULL);
    const char *a = json_string_value(json_object_get(root, "access_token"));
    const char *r = json_string_value(json_object_get(root, "refresh_token"));
    int rc = -1;
    *access = *refresh = NULL;
    if (a && *a) {
        *access = strdup(a);
        *refresh = r && *r ? strdup(r) : NULL;
        rc = 0;
    }
    json_decref(root);
    return rc;
}

long long xparse_snowflake_at(long long t)
{
    long long ms = t * 1000 - 1288834974657LL;
    return ms > 0 ? ms << 22 : 0;
}

/* X shortens every link it posts to https://t.co/…; entities.urls maps each
 * back.  Returns `text` with the links put back (new string; NULL: no memory). */
static char *expand_links(const char *text, json_t *urls)
{
    char *out = strdup(text);
    size_t i;
    json_t *u;

    json_array_foreach(urls, i, u) {
        const char *from = json_string_value(json_object_get(u, "url"));
        const char *to = json_string_value(json_object_get(u, "expanded_url"));
        char *hit, *next;
        size_t fl, tl, len;
        hit = out && from && to && *from ? strstr(out, from) : NULL;
        if (!hit)
            continue;
        fl = strlen(from);
        tl = strlen(to);
        len = strlen(out);
        next = malloc(len - fl + tl + 1);
        if (!next) {
            free(out);
            return NULL;
        }
        memcpy(next, out, (size_t)(hit - out));
        memcpy(next + (hit - out), to, tl);
        memcpy(next + (hit - out) + tl, hit + fl, len - (size_t)(hit - out) - fl + 1);
        free(out);
        out = next;
    }
    return out;
}

static int parse_own(json_t *tw, struct own_post *p)
{
    const char *id = json_string_value(json_object_get(tw, "id"));
    const char *text = json_string_value(json_object_get(tw, "text"));
    json_t *r;
    size_t i;
    char *plain;

    memset(p, 0, sizeof *p);
    if (xparse_id(id) <= 0 || !text)
        return -1;
    snprintf(p->id, sizeof p->id, "%s", id);
    json_array_foreach(json_object_get(tw, "referenced_tweets"), i, r) {
        const char *type = json_string_value(json_object_get(r, "type"));
        const char *rid = json_string_value(json_object_get(r, "id"));
        if (type && strcmp(type, "replied_to") == 0 && xparse_id(rid) > 0)
            snprintf(p->replied_to, sizeof p->replied_to, "%s", rid);
    }
    plain = xparse_unescape(text);
    if (!plain)
        return -1;
    p->text = expand_links(plain, json_object_get(json_object_get(tw, "entities"), "urls"));
    free(plain);
    return p->text ? 0 : -1;
}

int xparse_own_posts(const char *json, size_t len, struct own_page *page, char *err,
                     size_t errlen)
{
    json_error_t jerr;
    json_t *root = json_loadb(json, len, JSON_REJECT_DUPLICATES, &jerr);
    json_t *data, *meta, *tw, *next;
    size_t i;
    int rc = -1;

    memset(page, 0, sizeof *page);
    if (!root) {
        snprintf(err, errlen, "not JSON: %s at line %d column %d", jerr.text, jerr.line,
                 jerr.column);
        return -1;
    }
    data = json_object_get(root, "data");
    meta = json_object_get(root, "meta");
    if (!json_is_object(root) || (data && !json_is_array(data)) || (!data && !meta)) {
        snprintf(err, errlen, "not a page of posts: no \"data\" array or \"meta\"");
        goto out;
    }
    next = json_object_get(meta, "next_token");
    if (next && (!json_is_string(next) || !*json_string_value(next))) {
        snprintf(err, errlen, "not a page of posts: meta.next_token is not a token");
        goto out;
    }
    page->nerrors = json_array_size(json_object_get(root, "errors"));
    if (json_array_size(data))
        page->v = calloc(json_array_size(data), sizeof *page->v);
    if (json_array_size(data) && !page->v) {
        snprintf(err, errlen, "out of memory");
        goto out;
    }
    json_array_foreach(data, i, tw) {
        if (json_is_object(tw) && parse_own(tw, &page->v[page->n]) == 0)
            page->n++;
        else
            page->nerrors++;
    }
    if (next)
        page->next_token = strdup(json_string_value(next));
    if (next && !page->next_token) {
        snprintf(err, errlen, "out of memory");
        goto out;
    }
    rc = 0;
out:
    if (rc)
        own_page_free(page);
    json_decref(root);
    return rc;
}

void own_page_free(struct own_page *page)
{
    for (size_t i = 0; i < page->n; i++)
        free(page->v[i].text);
    free(page->v);
    free(page->next_token);
    memset(page, 0, sizeof *page);
}

/* `shown` is `sent`, perhaps behind the "@a @b " X puts in front of a reply. */
static int same_text(const char *shown, const char *sent)
{
    for (;;) {
        if (strcmp(shown, sent) == 0)
            return 1;
        if (*shown != '@')
            return 0;
        shown++;
        while ((*shown >= 'a' && *shown <= 'z') || (*shown >= 'A' && *shown <= 'Z') ||
               (*shown >= '0' && *shown <= '9') || *shown == '_')
            shown++;
        if (*shown != ' ')
            return 0;
        while (*shown == ' ')
            shown++;
    }
}

const struct own_post *xparse_find_reply(const struct own_page *page, const char *in_reply_to,
                                         const char *text)
{
    if (!in_reply_to || !*in_reply_to || !text)
        return NULL;   /* a post that replies to nothing proves no reply */
    for (size_t i = 0; i < page->n; i++)
        if (strcmp(page->v[i].replied_to, in_reply_to) == 0 && same_text(page->v[i].text, text))
            return &page->v[i];
    return NULL;
}
