/* test_lua_stubs.c — the editor stubs (lua/types/vigil.lua) and the lint
 * globals (.luacheckrc) against what the C code gives scripts: every
 * function a luaL_Reg table of bot/script/ registers is annotated, every
 * annotated method is registered, and every base function sandbox.c
 * copies is a luacheck global.  A function added in C without its stub,
 * or a stub left behind, fails here. */
#include "unit.h"

#include <dirent.h>
#include <stdlib.h>

/* The whole file, NUL-terminated (caller frees), or NULL. */
static char *slurp(const char *rel)
{
    char path[1024];
    FILE *f;
    long n;
    char *s = NULL;
    snprintf(path, sizeof path, "%s/%s", unit_root(), rel);
    f = fopen(path, "rb");
    if (!f)
        return NULL;
    if (fseek(f, 0, SEEK_END) == 0 && (n = ftell(f)) >= 0 && fseek(f, 0, SEEK_SET) == 0) {
        s = malloc((size_t)n + 1);
        if (s && fread(s, 1, (size_t)n, f) == (size_t)n)
            s[n] = '\0';
        else {
            free(s);
            s = NULL;
        }
    }
    fclose(f);
    return s;
}

/* Which stub holds the functions of a registration table, by its name;
 * "" for bounded.c's charged string functions (Lua's own, which editors
 * know). */
static const struct { const char *table, *stub; } classes[] = {
    { "ticket_m", "function Ticket:" }, { "ctx_m", "function Ctx:" },
    { "kv_m", "function Kv:" },         { "canned_m", "function Canned:" },
    { "vigil_f", "function api." },     { "query_f", "function api." },
    { "time_f", "function api." },      /* api_time.c */
    { "str", "" },
};

static const char *stub_of(const char *table)
{
    for (size_t i = 0; i < sizeof classes / sizeof classes[0]; i++)
        if (strcmp(classes[i].table, table) == 0)
            return classes[i].stub;
    return NULL;
}

/* Is "<stub><name>(" in the stubs? */
static int has_stub(const char *stubs, const char *stub, const char *name)
{
    char want[200];
    snprintf(want, sizeof want, "%s%s(", stub, name);
    return strstr(stubs, want) != NULL;
}

/* Checks each { "name", fn } of each `luaL_Reg NAME[] = {...};` in src
 * against the stubs, notes it in seen; returns how many. */
static int each_registered(const char *file, const char *src, const char *stubs,
                           char seen[][64], int *nseen)
{
    int count = 0;
    for (const char *p = strstr(src, "luaL_Reg "); p; p = strstr(p + 1, "luaL_Reg ")) {
        char table[64] = "";
        const char *end, *stub;
        if (sscanf(p, "luaL_Reg %63[a-z_][] = {", table) != 1 || !strstr(p, "[] = {"))
            continue;
        end = strstr(p, "};");
        stub = stub_of(table);
        if (!stub) {
            unit_fail(__FILE__, __LINE__, "%s registers functions in table %s: add its "
                      "class to lua/types/vigil.lua and to classes[] here", file, table);
            continue;
        }
        if (!*stub)
            continue;
        for (const char *q = strstr(p, "{ \""); q && end && q < end; q = strstr(q + 1, "{ \"")) {
            char name[64];
            if (sscanf(q, "{ \"%63[a-z_]\"", name) != 1)
                continue;
            count++;
            if (!has_stub(stubs, stub, name))
                unit_fail(__FILE__, __LINE__, "%s registers %s (table %s) but "
                          "lua/types/vigil.lua has no %s%s(...)", file, name, table, stub, name);
            if (*nseen < 256)
                snprintf(seen[(*nseen)++], 64, "%s%s(", stub, name);
        }
    }
    return count;
}

TEST(every_function_c_gives_scripts_has_an_editor_stub_and_no_stub_is_stale)
{
    char *stubs = slurp("lua/types/vigil.lua"), path[600], seen[256][64];
    int nseen = 0, registered = 0;
    DIR *d;
    struct dirent *de;

    CHECK(stubs != NULL);
    snprintf(path, sizeof path, "%s/bot/script", unit_root());
    d = opendir(path);
    CHECK(d != NULL);
    while (stubs && d && (de = readdir(d))) {
        char rel[600], *src;
        size_t n = strlen(de->d_name);
        if (n < 3 || strcmp(de->d_name + n - 2, ".c") != 0)
            continue;
        snprintf(rel, sizeof rel, "bot/script/%s", de->d_name);
        src = slurp(rel);
        if (src)
            registered += each_registered(rel, src, stubs, seen, &nseen);
        free(src);
    }
    if (d)
        closedir(d);
    CHECK(registered >= 35);                   /* the tables were found at all */
    /* the other way: a stub of a function no table registers is stale */
    for (size_t i = 0; stubs && i < sizeof classes / sizeof classes[0]; i++) {
        const char *stub = classes[i].stub;
        if (!*stub)
            continue;
        for (const char *p = strstr(stubs, stub); p; p = strstr(p + 1, stub)) {
            char name[64], want[200];
            int found = 0;
            if (sscanf(p + strlen(stub), "%63[a-z_]", name) != 1)
                continue;
            snprintf(want, sizeof want, "%s%s(", stub, name);
            for (int k = 0; k < nseen; k++)
                found |= strcmp(seen[k], want) == 0;
            if (!found)
                unit_fail(__FILE__, __LINE__, "lua/types/vigil.lua has %s...) but no "
                          "luaL_Reg table of bot/script/ registers it", want);
        }
    }
    free(stubs);
}

/* The registration tables whose functions go into the `vigil` table. */
static const struct { const char *file, *table; } vigil_tables[] = {
    { "bot/script/api.c", "vigil_f" },
    { "bot/script/api_query.c", "query_f" },
};

TEST(luacheck_knows_every_global_the_sandbox_gives_and_every_vigil_function)
{
    char *rc = slurp(".luacheckrc"), *sb = slurp("bot/script/sandbox.c");
    char *api = slurp("bot/script/api.c");
    const char *p, *end;
    int n = 0;

    CHECK(rc && sb && api);
    if (!rc || !sb || !api)
        goto out;
    p = strstr(sb, "base_ok[] = {");
    end = p ? strstr(p, "};") : NULL;
    CHECK(p && end);
    for (const char *q = p ? strchr(p, '"') : NULL; q && q < end; q = strchr(q + 1, '"')) {
        char name[64], want[80];
        if (sscanf(q, "\"%63[A-Za-z_]\"", name) != 1)
            continue;
        snprintf(want, sizeof want, "\"%s\"", name);
        if (!strstr(rc, want))
            unit_fail(__FILE__, __LINE__, "sandbox.c gives scripts %s; .luacheckrc lacks it",
                      name);
        n++;
        q = strchr(q + 1, '"');                /* past the closing quote */
        if (!q)
            break;
    }
    CHECK(n >= 15);
    /* every table whose functions land in `vigil` (classes[]: "function api.") */
    for (size_t i = 0; i < sizeof vigil_tables / sizeof vigil_tables[0]; i++) {
        char *src = slurp(vigil_tables[i].file), head[80];
        snprintf(head, sizeof head, "%s[] = {", vigil_tables[i].table);
        p = src ? strstr(src, head) : NULL;
        CHECK(p != NULL);
        end = p ? strstr(p, "};") : NULL;
        for (const char *q = p ? strstr(p, "{ \"") : NULL; q && q < end; q = strstr(q + 1, "{ \"")) {
            char name[64], want[80];
            if (sscanf(q, "{ \"%63[a-z_]\"", name) != 1)
                continue;
            snprintf(want, sizeof want, "\"%s\"", name);
            if (!strstr(rc, want))
                unit_fail(__FILE__, __LINE__, "%s registers vigil.%s; .luacheckrc lacks it",
                          vigil_tables[i].file, name);
        }
        free(src);
    }
out:
    free(rc);
    free(sb);
    free(api);
}
