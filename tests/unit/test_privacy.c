/* test_privacy.c — lua/vigil/privacy.lua, the privacy guard's detector, on
 * a corpus of short support replies written for it (tests/fixtures/privacy/
 * replies.jsonl: nine languages, those of the sample data (English, Danish,
 * Japanese) and of the teams we serve, each with the verdict a person would give,
 * many near misses) and the team rules of rules.lua.  Prints precision and
 * recall of "refuse"; fails below PRECISION_MIN / RECALL_MIN, or when a
 * refusal names the wrong kind.  The refusal's wording, through the real
 * hook and runtime, is test_scripts.c's. */
#include "unit.h"

#include <jansson.h>
#include <lauxlib.h>
#include <lualib.h>
#include <stdlib.h>

/* Nothing personal may pass on this corpus (recall 1.0); of the refusals,
 * at most 2% may be false alarms (its one known false alarm, "It's 3 Main
 * Street stores?", is a phrase a person reads as an address too): an agent
 * rephrases a false alarm, a missed address is public for good. */
#define PRECISION_MIN 0.98
#define RECALL_MIN 1.0

/* A Lua state with the module at index 1 and the rules at index 2. */
static lua_State *open_privacy(void)
{
    char path[1024];
    lua_State *L = luaL_newstate();
    luaL_openlibs(L);
    snprintf(path, sizeof path, "%s/lua/vigil/privacy.lua", unit_root());
    if (luaL_dofile(L, path) != LUA_OK) {
        unit_fail(__FILE__, __LINE__, "privacy.lua: %s", lua_tostring(L, -1));
        lua_close(L);
        return NULL;
    }
    snprintf(path, sizeof path, "%s/tests/fixtures/privacy/rules.lua", unit_root());
    if (luaL_dofile(L, path) != LUA_OK) {
        unit_fail(__FILE__, __LINE__, "rules.lua: %s", lua_tostring(L, -1));
        lua_close(L);
        return NULL;
    }
    return L;
}

/* privacy.find(text, rules): the kind ("ok" when nothing) into kind, the
 * description into what. */
static void find(lua_State *L, const char *text, char *kind, size_t klen, char *what,
                 size_t wlen)
{
    lua_getfield(L, 1, "find");
    lua_pushstring(L, text);
    lua_pushvalue(L, 2);
    if (lua_pcall(L, 2, 2, 0) != LUA_OK) {
        snprintf(kind, klen, "error");
        snprintf(what, wlen, "%s", lua_tostring(L, -1));
        lua_pop(L, 1);
        return;
    }
    snprintf(kind, klen, "%s", lua_isstring(L, -2) ? lua_tostring(L, -2) : "ok");
    snprintf(what, wlen, "%s", lua_isstring(L, -1) ? lua_tostring(L, -1) : "");
    lua_pop(L, 2);
}

TEST(privacy_guard_judges_the_reply_corpus_like_a_person)
{
    char path[1024], line[4096], kind[64], what[512];
    int tp = 0, fp = 0, fn = 0, tn = 0, wrong_kind = 0, n = 0;
    lua_State *L = open_privacy();
    FILE *f;

    if (!L)
        return;
    snprintf(path, sizeof path, "%s/tests/fixtures/privacy/replies.jsonl", unit_root());
    f = fopen(path, "r");
    CHECK(f != NULL);
    while (f && fgets(line, sizeof line, f)) {
        json_error_t jerr;
        json_t *r = json_loads(line, 0, &jerr);
        const char *text = json_string_value(json_object_get(r, "text"));
        const char *want = json_string_value(json_object_get(r, "expect"));
        int refuse, refused;
        if (!text || !want) {
            unit_fail(__FILE__, __LINE__, "replies.jsonl line %d: %s", n + 1, jerr.text);
            json_decref(r);
            continue;
        }
        n++;
        find(L, text, kind, sizeof kind, what, sizeof what);
        refuse = strcmp(want, "ok") != 0;
        refused = strcmp(kind, "ok") != 0;
        tp += refuse && refused;
        fp += !refuse && refused;
        fn += refuse && !refused;
        tn += !refuse && !refused;
        if (strcmp(kind, want) != 0) {
            printf("  privacy corpus: want %-7s got %-7s %s%s%s\n", want, kind, text,
                   *what ? "  -> " : "", what);
            wrong_kind += refuse && refused;
        }
        json_decref(r);
    }
    if (f)
        fclose(f);
    lua_close(L);
    {
        double precision = tp + fp ? (double)tp / (tp + fp) : 1.0;
        double recall = tp + fn ? (double)tp / (tp + fn) : 1.0;
        printf("  privacy corpus: %d replies, %d to refuse; precision %.3f, recall %.3f "
               "(%d false alarms, %d missed)\n", n, tp + fn, precision, recall, fp, fn);
        CHECK(n >= 200);
        CHECK(tp + fn >= 50 && tn >= 100);         /* both verdicts well represented */
        CHECK(precision >= PRECISION_MIN);
        CHECK(recall >= RECALL_MIN);
        CHECK_INT(wrong_kind, 0);                  /* a refusal names what it found */
    }
}

TEST(privacy_names_the_street_address_it_found)
{
    char kind[64], what[512];
    lua_State *L = open_privacy();
    if (!L)
        return;
    find(L, "We'll send it to 12 Baker Street today", kind, sizeof kind, what, sizeof what);
    CHECK_STR(what, "a street address: '12 Baker Street'");
    find(L, "On envoie au 12 rue de la Paix demain", kind, sizeof kind, what, sizeof what);
    CHECK_STR(what, "a street address: '12 rue de la Paix'");
    find(L, "Lieferung an Bahnhofstr. 12, 10115 Berlin", kind, sizeof kind, what, sizeof what);
    CHECK_STR(what, "a street address: 'Bahnhofstr. 12'");
    find(L, "IBAN DE89 3704 0044 0532 0130 00", kind, sizeof kind, what, sizeof what);
    CHECK_STR(what, "an IBAN (DE89…3000)");
    find(L, "Order #482130 shipped", kind, sizeof kind, what, sizeof what);
    CHECK_STR(what, "an order number: '#482130'");
    find(L, "交換品を東京都渋谷区神南1-2-3にお送りします", kind, sizeof kind, what, sizeof what);
    CHECK_STR(what, "a street address: '東京都渋谷区神南1-2-3'");
    find(L, "Vi sender til Vesterbrogade 12, 1620 København", kind, sizeof kind, what,
         sizeof what);
    CHECK_STR(what, "a street address: 'Vesterbrogade 12'");
    find(L, "DE89 3704 0044 0532 0130 01 is no IBAN", kind, sizeof kind, what, sizeof what);
    CHECK_STR(kind, "ok");                          /* checksum off by one: passes */
    lua_close(L);
}

TEST(privacy_rules_with_a_malformed_pattern_are_refused_when_the_hook_loads)
{
    lua_State *L = open_privacy();
    if (!L)
        return;
    lua_getfield(L, 1, "check_rules");
    CHECK(luaL_dostring(L, "return { numbers = { order = 'x#%d[' } }") == LUA_OK);
    CHECK(lua_pcall(L, 1, 1, 0) != LUA_OK);
    CHECK(strstr(lua_tostring(L, -1), "numbers.order") != NULL);
    lua_pop(L, 1);
    lua_getfield(L, 1, "check_rules");
    CHECK(luaL_dostring(L, "return { extra = { { what = 'x' } } }") == LUA_OK);
    CHECK(lua_pcall(L, 1, 1, 0) != LUA_OK);
    CHECK(strstr(lua_tostring(L, -1), "extra[1]") != NULL);
    lua_close(L);
}
