/* replayrun.c — see replayrun.h.  The journal is read a line at a time
 * (a day of a busy handle is tens of MB; only the transcript, which is
 * smaller, is held to compare it).  Before each entry the clock moves to
 * the entry's time the way offline_advance_to moves it, so SLA warnings,
 * breaches and spaced sends happen at their journal time; after the last
 * entry it runs on until nothing waits to be sent.  The transcript says
 * what people and customers would have seen, in order, one line each
 * (answers indented under their command), with the journal's times. */
#include "test/replayrun.h"

#include <glob.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "core/log.h"
#include "source/journal.h"
#include "test/offline.h"

/* How long after the last entry sends may still wait to go out. */
#define TAIL_SECONDS 3600
#define MAX_DIFFS 40

struct run {
    struct offline o;
    int started;
    size_t shown;      /* recorder entries already in the transcript */
    FILE *out;
};

static void stamp(int64_t at, char *buf, size_t len)
{
    time_t t = (time_t)at;
    struct tm tm;
    if (!gmtime_r(&t, &tm) || !strftime(buf, len, "%Y-%m-%dT%H:%M:%SZ", &tm))
        snprintf(buf, len, "%" PRId64, (int64_t)t);
}

/* `s` on one line: newlines as \n. */
static void put_flat(FILE *f, const char *s)
{
    for (; s && *s; s++) {
        if (*s == '\n')
            fputs("\\n", f);
        else
            fputc(*s, f);
    }
}

/* Everything sent since the last call, one line each. */
static void show_sends(struct run *r)
{
    char ts[32];
    for (; r->shown < r->o.rec->n; r->shown++) {
        const struct record_entry *e = &r->o.rec->v[r->shown];
        stamp(e->at, ts, sizeof ts);
        fprintf(r->out, "%s ", ts);
        if (!strcmp(e->kind, "ticket")) {
            struct ticket t;
            fprintf(r->out, "ticket #%" PRId64 " posted to %s", e->ticket, e->channel);
            if (store_ticket_get(r->o.store, e->ticket, &t) == STORE_OK) {
                fprintf(r->out, ": @%s: ", t.customer_handle ? t.customer_handle : "?");
                put_flat(r->out, t.text);
                store_ticket_clear(&t);
            }
        } else if (!strcmp(e->kind, "update")) {
            fprintf(r->out, "ticket #%" PRId64 " shows %s", e->ticket, e->text);
        } else if (!strcmp(e->kind, "thread")) {
            fprintf(r->out, "thread #%" PRId64 ": ", e->ticket);
            put_flat(r->out, e->posted ? e->posted : e->text);   /* as posted, not as edited since */
        } else if (!strcmp(e->kind, "edit")) {
            fprintf(r->out, "thread #%" PRId64 " line now reads: ", e->ticket);
            put_flat(r->out, e->text);
        } else if (!strcmp(e->kind, "channel")) {
            fprintf(r->out, "channel %s: ", e->channel);
            put_flat(r->out, e->posted ? e->posted : e->text);
        } else if (!strcmp(e->kind, "delete")) {
            fprintf(r->out, "post %s deleted", e->to);
        } else if (!strcmp(e->kind, "upload")) {
            fprintf(r->out, "file %s shared in %s: ", e->to, e->channel);
            put_flat(r->out, e->ref ? e->ref : "");
        } else {   /* reply, dm */
            fprintf(r->out, "%s to %s: ", !strcmp(e->kind, "reply") ? "public reply" : "dm",
                    e->to);
            put_flat(r->out, e->text);
        }
        fputc('\n', r->out);
    }
}

static void show_command(struct run *r, const struct chat_command *cmd, const char *answer)
{
    char ts[32];
    const char *p = answer ? answer : "";
    stamp(desk_now(r->o.desk), ts, sizeof ts);
    fprintf(r->out, "%s %s %s: ", ts, cmd->ticket ? "button" : "command", cmd->user_id);
    put_flat(r->out, cmd->raw);
    fputc('\n', r->out);
    while (*p) {   /* the answer, a line each */
        size_t n = strcspn(p, "\n");
        fprintf(r->out, "    | %.*s\n", (int)n, p);
        p += n + (p[n] == '\n');
    }
}

/* Applies one entry: the clock first, then the page or the command. */
static int apply(struct run *r, struct journal_entry *e)
{
    offline_advance_to(&r->o, e->at);
    show_sends(r);
    if (e->kind == JOURNAL_PAGE) {
        if (offline_ingest(&r->o, &e->page, NULL))
            return -1;
    } else {
        /* the answer first, then what the command sent (show_sends below) */
        char *answer = offline_command(&r->o, &e->cmd);
        show_command(r, &e->cmd, answer);
        free(answer);
    }
    show_sends(r);
    return 0;
}

/* Streams one journal file through the bot, starting it on the first
 * entry.  Returns 0, or -1 when the file cannot be read. */
static int replay_file(struct run *r, const char *path, struct config **cfg)
{
    FILE *f = fopen(path, "r");
    char *line = NULL, err[512];
    size_t cap = 0, lineno = 0;
    ssize_t n;
    int rc = 0;

    if (!f) {
        fprintf(stderr, "vigil replay: cannot open %s\n", path);
        return -1;
    }
    for (;;) {
        struct journal_entry e;
        n = getline(&line, &cap, f);
        if (n < 0)
            break;
        lineno++;
        while (n > 0 && (line[n - 1] == '\n' || line[n - 1] == '\r'))
            line[--n] = '\0';
        if (n == 0)
            continue;
        if (journal_parse(line, (size_t)n, &e, err, sizeof err)) {
            fprintf(stderr, "vigil replay: %s:%zu: %s; line skipped\n", path, lineno, err);
            continue;
        }
        if (!r->started) {
            int failures;
            if (offline_open(&r->o, *cfg, e.at, &failures, err, sizeof err)) {
                *cfg = NULL;
                fprintf(stderr, "vigil replay: %s\n", err);
                journal_entry_clear(&e);
                rc = -1;
                break;
            }
            *cfg = NULL;   /* the bot owns it */
            r->started = 1;
            if (failures)
                fprintf(stderr, "vigil replay: %d script(s) failed to load (above)\n", failures);
        }
        if (apply(r, &e)) {
            fprintf(stderr, "vigil replay: %s:%zu: the store refused the page\n", path, lineno);
            rc = -1;
        }
        journal_entry_clear(&e);
        if (rc)
            break;
    }
    free(line);
    fclose(f);
    return rc;
}

/* Compares the transcript with the golden file, line by line; prints the
 * differences.  Returns the number of differing lines (0: the same). */
static int compare(const char *transcript, const char *golden_path)
{
    FILE *g = fopen(golden_path, "r");
    char *line = NULL;
    size_t cap = 0, lineno = 0;
    const char *p = transcript;
    int diffs = 0;
    ssize_t n;

    if (!g) {
        printf("cannot open %s (write it with --out)\n", golden_path);
        return 1;
    }
    for (;;) {
        size_t tn = strcspn(p, "\n");
        int have_t = *p != '\0';
        n = getline(&line, &cap, g);
        if (n < 0 && !have_t)
            break;
        lineno++;
        if (n > 0 && line[n - 1] == '\n')
            line[--n] = '\0';
        if (n < 0 || !have_t || (size_t)n != tn || memcmp(line, p, tn) != 0) {
            if (++diffs <= MAX_DIFFS) {
                printf("line %zu:\n", lineno);
                if (n >= 0)
                    printf("- %s\n", line);
                if (have_t)
                    printf("+ %.*s\n", (int)tn, p);
            }
        }
        if (have_t)
            p += tn + (p[tn] == '\n');
    }
    if (diffs > MAX_DIFFS)
        printf("… and %d more differing lines\n", diffs - MAX_DIFFS);
    if (diffs)
        printf("the transcript differs from %s in %d line(s) (- expected, + now)\n",
               golden_path, diffs);
    free(line);
    fclose(g);
    return diffs;
}

static void usage(FILE *f)
{
    fprintf(f, "usage: vigil replay JOURNAL... [--scripts DIR] [--lib DIR] [-c CONFIG]\n"
               "                    [--out FILE] [--expect GOLDEN]\n"
               "  runs a recorded journal (record.dir's YYYY-MM-DD.jsonl files, or a folder\n"
               "  of them) offline through the scripts of DIR and writes what would have\n"
               "  happened (to FILE, or stdout); --expect compares it with a saved\n"
               "  transcript and prints the differences (exit 1).  Staff, channels and SLA\n"
               "  come from CONFIG (default config/vigil.lua).  Nothing is sent.\n");
}

static int set_str(char **slot, const char *v)
{
    char *s = strdup(v);
    if (!s)
        return -1;
    free(*slot);
    *slot = s;
    return 0;
}

int replayrun_main(int argc, char **argv)
{
    const char *scripts = NULL, *lib = NULL, *cfgpath = "config/vigil.lua";
    const char *outpath = NULL, *golden = NULL;
    struct run r;
    struct config *cfg = NULL;
    glob_t g = { 0 };
    char err[1024], *buf = NULL;
    size_t buflen = 0, nfiles = 0;
    const char **files = calloc((size_t)argc + 1, sizeof *files);
    int rc = 2;

    memset(&r, 0, sizeof r);
    if (!files)
        return 2;
    for (int i = 0; i < argc; i++) {
        if (!strcmp(argv[i], "--scripts") && i + 1 < argc)
            scripts = argv[++i];
        else if (!strcmp(argv[i], "--lib") && i + 1 < argc)
            lib = argv[++i];
        else if ((!strcmp(argv[i], "-c") || !strcmp(argv[i], "--config")) && i + 1 < argc)
            cfgpath = argv[++i];
        else if (!strcmp(argv[i], "--out") && i + 1 < argc)
            outpath = argv[++i];
        else if (!strcmp(argv[i], "--expect") && i + 1 < argc)
            golden = argv[++i];
        else if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) {
            usage(stdout);
            rc = 0;
            goto out;
        } else if (argv[i][0] == '-') {
            fprintf(stderr, "vigil replay: unknown option '%s'\n", argv[i]);
            usage(stderr);
            goto out;
        } else
            files[nfiles++] = argv[i];
    }
    if (!nfiles) {
        usage(stderr);
        goto out;
    }
    cfg = config_load(cfgpath, err, sizeof err);
    if (!cfg) {
        fprintf(stderr, "vigil replay: invalid config: %s\n", err);
        goto out;
    }
    if ((scripts && set_str(&cfg->scripts_dir, scripts)) || (lib && set_str(&cfg->scripts_lib, lib)))
        goto out;
    log_set_level(LOG_ERROR);   /* SLA warnings are in the transcript */
    r.out = open_memstream(&buf, &buflen);
    if (!r.out)
        goto out;
    rc = 0;
    for (size_t i = 0; i < nfiles && !rc; i++) {
        struct stat sb;
        if (!stat(files[i], &sb) && S_ISDIR(sb.st_mode)) {   /* a record folder: every day */
            char pat[1024];
            snprintf(pat, sizeof pat, "%s/*.jsonl", files[i]);
            globfree(&g);
            memset(&g, 0, sizeof g);
            if (glob(pat, 0, NULL, &g) == 0)
                for (size_t k = 0; k < g.gl_pathc && !rc; k++)
                    rc = replay_file(&r, g.gl_pathv[k], &cfg) ? 1 : 0;
        } else {
            rc = replay_file(&r, files[i], &cfg) ? 1 : 0;
        }
    }
    if (r.started) {   /* what the last entries queued still goes out */
        int64_t until = desk_now(r.o.desk) + TAIL_SECONDS;
        while (store_job_count(r.o.store, "queued") > 0 && desk_now(r.o.desk) < until)
            offline_advance_to(&r.o, desk_now(r.o.desk) + 1);
        show_sends(&r);
    } else if (!rc) {
        fprintf(stderr, "vigil replay: the journal holds no entry\n");
        rc = 1;
    }
    fclose(r.out);
    r.out = NULL;
    if (outpath) {
        FILE *f = fopen(outpath, "w");
        if (!f || fwrite(buf, 1, buflen, f) != buflen || fclose(f)) {
            fprintf(stderr, "vigil replay: cannot write %s\n", outpath);
            rc = 1;
        }
    } else if (!golden) {
        fwrite(buf, 1, buflen, stdout);
    }
    if (golden && !rc) {
        if (compare(buf, golden))
            rc = 1;
        else
            printf("the transcript matches %s\n", golden);
    }
out:
    if (r.started)
        offline_close(&r.o);
    config_free(cfg);
    globfree(&g);
    free(buf);
    free(files);
    return rc;
}
