/* test_sandbox.c — the Lua runtime against hostile and broken scripts:
 * escapes, budgets, isolation between scripts, and hot reload. */
#include "unit.h"

#include <lauxlib.h>
#include <lua.h>
#include <lualib.h>
#include <signal.h>
#include <stdarg.h>
#include <stdlib.h>
#include <time.h>
#include <sys/stat.h>
#include <unistd.h>
#include <uv.h>

#include "chat/command.h"
#include "core/config.h"
#include "desk/desk.h"
#include "script/script.h"
#include "store/store.h"

struct sb {
    uv_loop_t loop;
    struct config *cfg;
    struct store *store;
    struct desk *desk;
    struct script_rt *rt;
    char dir[512];
    char notice[1024];
    int notices;
};

static void on_notice(void *arg, const char *text)
{
    struct sb *s = arg;
    snprintf(s->notice, sizeof s->notice, "%s", text);
    s->notices++;
}

static void write_file(struct sb *s, const char *rel, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void write_file(struct sb *s, const char *rel, const char *fmt, ...)
{
    char path[1024], tmp[1100];
    FILE *f;
    va_list ap;
    snprintf(path, sizeof path, "%s/%s", s->dir, rel);
    snprintf(tmp, sizeof tmp, "%s/.tmp-write", s->dir);
    f = fopen(tmp, "w");
    va_start(ap, fmt);
    vfprintf(f, fmt, ap);
    va_end(ap);
    fclose(f);
    rename(tmp, path);   /* as editors do: the new file appears whole */
}

/* A sandbox with these budgets (time_budget 0: the default). */
static void sb_open_budget(struct sb *s, const char *name, double instructions,
                           double time_budget)
{
    char cfgpath[700], err[512], sub[700], tb[64] = "";
    FILE *f;

    memset(s, 0, sizeof *s);
    if (time_budget > 0)
        snprintf(tb, sizeof tb, ", time_budget = %g", time_budget);
    snprintf(s->dir, sizeof s->dir, "%s", unit_tmp(name));
    mkdir(s->dir, 0700);
    snprintf(sub, sizeof sub, "%s/scripts", s->dir);
    mkdir(sub, 0700);
    snprintf(sub, sizeof sub, "%s/scripts/hooks", s->dir);
    mkdir(sub, 0700);
    snprintf(sub, sizeof sub, "%s/lua", s->dir);
    mkdir(sub, 0700);
    snprintf(cfgpath, sizeof cfgpath, "%s/vigil.lua", s->dir);
    f = fopen(cfgpath, "w");
    fprintf(f, "replay = { file = 'x' }\n"
               "scripts = { dir = '%s/scripts', lib = '%s/lua', instructions = %.0f,"
               " memory_mb = 16%s }\n"
               "staff = { U1 = { name = 'Alice Jensen', role = 'lead' },"
               " U2 = { name = 'Bob Okafor' }, U3 = { name = 'Root Admin', role = 'admin' } }\n",
               s->dir, s->dir, instructions, tb);
    fclose(f);
    s->cfg = config_load(cfgpath, err, sizeof err);
    if (!s->cfg) {
        unit_fail(__FILE__, __LINE__, "config: %s", err);
        return;
    }
    snprintf(sub, sizeof sub, "%s/vigil.db", s->dir);
    s->store = store_open(sub);
    uv_loop_init(&s->loop);
    s->desk = desk_new(&s->loop, s->store, s->cfg);
    s->rt = script_new(&s->loop, s->desk);
    script_set_notice(s->rt, on_notice, s);
    desk_set_hooks(s->desk, script_desk_hooks(s->rt));
}

static void sb_open(struct sb *s, const char *name) { sb_open_budget(s, name, 200000, 0); }

static void sb_close(struct sb *s)
{
    script_unwatch(s->rt);
    uv_run(&s->loop, UV_RUN_DEFAULT);
    uv_loop_close(&s->loop);
    script_free(s->rt);
    desk_free(s->desk);
    store_close(s->store);
    config_free(s->cfg);
}

/* Installs scripts/<verb>.lua whose run body is `body`. */
static void cmd_file(struct sb *s, const char *verb, const char *body)
{
    char rel[128];
    snprintf(rel, sizeof rel, "scripts/%s.lua", verb);
    write_file(s, rel, "return command { run = function(ctx, args)\n%s\nend }\n", body);
    snprintf(rel, sizeof rel, "%s", verb);
    script_reload(s->rt, rel);
}

/* Runs "/tw <line>" as `user`; returns a static copy of the answer. */
static const char *run_as(struct sb *s, const char *user, const char *line)
{
    static char out[65536];
    struct chat_command cmd = { .user_id = user, .channel = "C1" };
    char *a;
    CHECK(chat_command_parse(&cmd, line, "/tw", CHAT_PARSE_PEOPLE) == 0);
    a = script_run_command(s->rt, &cmd);
    chat_command_clear(&cmd);
    snprintf(out, sizeof out, "%s", a);
    free(a);
    return out;
}

static const char *run(struct sb *s, const char *line) { return run_as(s, "U1", line); }

#define CHECK_HAS(hay, needle) do { const char *h_ = (hay);                     \
    if (!strstr(h_, needle))                                                    \
        unit_fail(__FILE__, __LINE__, "\"%s\" does not contain \"%s\"", h_, needle); \
    } while (0)

/* --- escapes ------------------------------------------------------------- */

TEST(sandbox_has_no_io_os_debug_package_or_file_loading)
{
    struct sb s;
    sb_open(&s, "sb1");
    cmd_file(&s, "probe",
             "return table.concat({ tostring(io), tostring(os.execute), tostring(os.getenv),"
             " tostring(debug), tostring(package), tostring(dofile), tostring(loadfile),"
             " tostring(string.dump), tostring(require ~= nil), tostring(os.time ~= nil) }, ',')");
    CHECK_STR(run(&s, "/tw probe"), "nil,nil,nil,nil,nil,nil,nil,nil,true,true");
    cmd_file(&s, "openit", "return io.open('/etc/passwd'):read('a')");
    CHECK_HAS(run(&s, "/tw openit"), "Command failed (see log), error id E");
    cmd_file(&s, "exec", "os.execute('touch /tmp/vigil-pwned') return 'ran'");
    CHECK_HAS(run(&s, "/tw exec"), "Command failed");
    CHECK(access("/tmp/vigil-pwned", F_OK) != 0);
    sb_close(&s);
}

TEST(sandbox_require_reaches_only_the_lua_dir)
{
    struct sb s;
    sb_open(&s, "sb2");
    write_file(&s, "lua/greet.lua", "return { hi = function(n) return 'hi ' .. n end }\n");
    cmd_file(&s, "req", "return require('greet').hi('bob')");
    CHECK_STR(run(&s, "/tw req"), "hi bob");
    cmd_file(&s, "reqio", "local ok, err = pcall(require, 'io') return tostring(ok) .. ' ' .. err");
    CHECK_HAS(run(&s, "/tw reqio"), "false");
    CHECK_HAS(run(&s, "/tw reqio"), "module 'io' not found");
    cmd_file(&s, "requp", "local ok, err = pcall(require, '..etc.passwd') return err");
    CHECK_HAS(run(&s, "/tw requp"), "not found");
    cmd_file(&s, "reqslash", "local ok, err = pcall(require, '/etc/passwd') return err");
    CHECK_HAS(run(&s, "/tw reqslash"), "not found");
    sb_close(&s);
}

TEST(sandbox_load_takes_text_only_and_binds_the_script_env)
{
    struct sb s;
    sb_open(&s, "sb3");
    cmd_file(&s, "bin", "local f, err = load('\\27Lua\\84\\0') return tostring(f) .. ' ' .. err");
    CHECK_HAS(run(&s, "/tw bin"), "attempt to load a binary chunk");
    cmd_file(&s, "envload", "return tostring(load('return io')())");
    CHECK_STR(run(&s, "/tw envload"), "nil");
    cmd_file(&s, "gc", "local ok, err = pcall(collectgarbage, 'stop') return tostring(ok) .. ' ' .. err");
    CHECK_HAS(run(&s, "/tw gc"), "only \"count\" is allowed");
    cmd_file(&s, "gccount", "return type(collectgarbage('count'))");
    CHECK_STR(run(&s, "/tw gccount"), "number");
    sb_close(&s);
}

TEST(sandbox_one_script_cannot_change_what_another_sees)
{
    struct sb s;
    sb_open(&s, "sb4");
    cmd_file(&s, "evil",
             "string.upper = function() return 'pwned' end\n"
             "setmetatable(_G, { __index = function() return 'pwned' end })\n"
             "vigil.log = nil; table.concat = nil; x_global = 'leak'\n"
             "local mt = getmetatable('')\n"
             "if mt then mt.__index = { upper = function() return 'pwned' end } end\n"
             "return tostring(mt)");
    CHECK_STR(run(&s, "/tw evil"), "false");
    cmd_file(&s, "good",
             "vigil.log('info', 'still here')\n"
             "return ('abc'):upper() .. string.upper('d') .. table.concat({'e'}) .. tostring(x_global)");
    CHECK_STR(run(&s, "/tw good"), "ABCDenil");
    cmd_file(&s, "meta", "local ok, err = pcall(setmetatable, ctx, {}) return err");
    CHECK_HAS(run(&s, "/tw meta"), "protected metatable");
    sb_close(&s);
}

TEST(sandbox_kv_is_private_to_each_script_and_survives_reload)
{
    struct sb s;
    sb_open(&s, "sb5");
    cmd_file(&s, "a", "ctx.kv:set('secret', { n = 42, list = { 'x', 'y' } }) return 'set'");
    cmd_file(&s, "b", "return tostring(ctx.kv:get('secret'))");
    CHECK_STR(run(&s, "/tw a"), "set");
    CHECK_STR(run(&s, "/tw b"), "nil");
    cmd_file(&s, "a", "local v = ctx.kv:get('secret') return v.n .. v.list[2]");
    CHECK_STR(run(&s, "/tw a"), "42y");
    sb_close(&s);
}

/* --- budgets --------------------------------------------------------------- */

TEST(budget_stops_an_endless_loop_and_the_next_command_runs)
{
    struct sb s;
    sb_open(&s, "bud1");
    cmd_file(&s, "spin", "while true do end");
    cmd_file(&s, "ok", "return 'fine'");
    CHECK_HAS(run(&s, "/tw spin"), "ran past its budget of 200000 instructions");
    CHECK_STR(run(&s, "/tw ok"), "fine");
    sb_close(&s);
}

TEST(budget_cannot_be_swallowed_by_pcall)
{
    struct sb s;
    sb_open(&s, "bud2");
    cmd_file(&s, "sneaky",
             "while true do pcall(function() while true do end end) end");
    CHECK_HAS(run(&s, "/tw sneaky"), "budget");
    cmd_file(&s, "sneaky2",
             "local co = coroutine.wrap(function() while true do end end)\n"
             "while true do pcall(co) end");
    CHECK_HAS(run(&s, "/tw sneaky2"), "budget");
    cmd_file(&s, "sneaky3",
             "for i = 1, 100 do xpcall(function() while true do end end, function() return 'caught' end) end\n"
             "return 'survived'");
    CHECK_HAS(run(&s, "/tw sneaky3"), "budget");
    cmd_file(&s, "ok", "return 'fine'");
    CHECK_STR(run(&s, "/tw ok"), "fine");
    sb_close(&s);
}

TEST(budget_memory_bomb_is_stopped_and_memory_given_back)
{
    struct sb s;
    size_t before;
    sb_open(&s, "bud3");
    cmd_file(&s, "ok", "return 'fine'");
    before = script_memory(s.rt);
    cmd_file(&s, "bomb", "return #string.rep('x', 2^30)");
    CHECK_HAS(run(&s, "/tw bomb"), "needed more than 16 MiB of memory");
    cmd_file(&s, "bomb2", "local t = {} local s = string.rep('y', 1024) "
                          "for i = 1, 1e7 do t[i] = s .. i end return #t");
    {
        const char *a = run(&s, "/tw bomb2");
        CHECK(strstr(a, "memory") || strstr(a, "budget"));
    }
    CHECK_STR(run(&s, "/tw ok"), "fine");
    CHECK(script_memory(s.rt) < before + (2u << 20));
    sb_close(&s);
}

TEST(budget_deep_recursion_and_odd_errors_fail_cleanly)
{
    struct sb s;
    sb_open(&s, "bud4");
    cmd_file(&s, "deep", "local function f(n) return f(n + 1) + 1 end return f(1)");
    {
        /* a stack overflow or the budget, whichever comes first: both stop it */
        const char *a = run(&s, "/tw deep");
        CHECK(strstr(a, "Command failed") || strstr(a, "budget"));
    }
    cmd_file(&s, "tbl", "error({ code = 7 })");
    CHECK_HAS(run(&s, "/tw tbl"), "Command failed");
    cmd_file(&s, "yield", "coroutine.yield('x') return 'no'");
    CHECK_HAS(run(&s, "/tw yield"), "Command failed");
    cmd_file(&s, "gcerr", "local ok, err = pcall(setmetatable, {}, { __gc = function() error('boom') end })\n"
                          "return tostring(ok) .. ' ' .. err");
    CHECK_HAS(run(&s, "/tw gcerr"), "false");
    CHECK_HAS(run(&s, "/tw gcerr"), "__gc is not allowed in scripts");
    cmd_file(&s, "big", "return string.rep('z', 1e6)");
    CHECK_INT(strlen(run(&s, "/tw big")), 65535);   /* the test buffer, not the runtime */
    cmd_file(&s, "failmsg", "ctx:fail('Ticket numbers are like #42.')");
    CHECK_STR(run(&s, "/tw failmsg"), "Ticket numbers are like #42.");
    sb_close(&s);
}

static int ingest_and_count_notes(struct sb *s, char *text, char *notes_out, size_t len,
                                  char *actor, size_t actorlen);

/* --- C-side work and the time budget (issue 14, item 1) ----------------------
 * Each of these froze the bot before: the count hook sees VM instructions
 * only.  alarm() turns a regression into a failed run instead of a hang. */

static double now_s(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

/* Runs `line` and checks it was stopped by the time budget within `max` s. */
static void check_stopped_in_time(struct sb *s, const char *line, double max, int line_no)
{
    double t0 = now_s(), took;
    const char *a = run(s, line);
    took = now_s() - t0;
    if (!strstr(a, "Stopped:"))
        unit_fail(__FILE__, line_no, "%s: not stopped: %.200s", line, a);
    if (took > max)
        unit_fail(__FILE__, line_no, "%s: took %.2f s (budget 0.2 s)", line, took);
}

TEST(time_budget_stops_c_side_work_that_instructions_do_not_see)
{
    struct sb s;
    alarm(60);
    /* instructions cannot stop these: only the time budget (0.2 s) can */
    sb_open_budget(&s, "time1", 1e12, 0.2);
    cmd_file(&s, "spin", "while true do end");
    cmd_file(&s, "find", "return string.find(string.rep('a', 200000), '.-b')");
    cmd_file(&s, "match3", "return ('a'):rep(3000):match('a*a*a*b')");
    cmd_file(&s, "gsub", "return (('a'):rep(100000):gsub('a-a-b', ''))");
    cmd_file(&s, "gmatch", "for w in ('a'):rep(100000):gmatch('.-b') do end");
    cmd_file(&s, "pcallfind", "for i = 1, 100 do pcall(string.find, ('a'):rep(100000), '.-b') end "
                              "return 'survived'");
    cmd_file(&s, "move", "table.move({}, 1, 1e12, 1, {}) return 'moved'");
    cmd_file(&s, "concat", "return #table.concat(setmetatable({}, { __index = function() "
                           "return '' end }), '', 1, 1e12)");
    cmd_file(&s, "remove", "table.remove(setmetatable({}, { __len = function() return 1 << 40 end }), 1)");
    /* linear calls on big strings in a loop: each one is expensive */
    cmd_file(&s, "upper", "local s = string.rep('x', 5 * 2^20) while true do local y = s:upper() end");
    cmd_file(&s, "cat", "local s = string.rep('x', 5 * 2^20) while true do local y = s .. 'a' end");
    cmd_file(&s, "ulen", "local s = string.rep('x', 5 * 2^20) while true do local n = utf8.len(s) end");
    cmd_file(&s, "eq", "local s, t = string.rep('x', 5 * 2^20), string.rep('x', 5 * 2^20)\n"
                       "while true do local e = s == t end");
    cmd_file(&s, "ok", "return 'fine'");
    check_stopped_in_time(&s, "/tw upper", 1.0, __LINE__);
    check_stopped_in_time(&s, "/tw cat", 1.0, __LINE__);
    check_stopped_in_time(&s, "/tw ulen", 1.0, __LINE__);
    check_stopped_in_time(&s, "/tw eq", 1.0, __LINE__);
    check_stopped_in_time(&s, "/tw spin", 1.0, __LINE__);
    CHECK_HAS(run(&s, "/tw spin"), "ran past its time budget of 200 ms");
    check_stopped_in_time(&s, "/tw find", 1.0, __LINE__);
    check_stopped_in_time(&s, "/tw match3", 1.0, __LINE__);
    check_stopped_in_time(&s, "/tw gsub", 1.0, __LINE__);
    check_stopped_in_time(&s, "/tw gmatch", 1.0, __LINE__);
    check_stopped_in_time(&s, "/tw pcallfind", 1.0, __LINE__);
    check_stopped_in_time(&s, "/tw move", 1.0, __LINE__);
    check_stopped_in_time(&s, "/tw concat", 1.0, __LINE__);
    check_stopped_in_time(&s, "/tw remove", 1.0, __LINE__);
    CHECK_STR(run(&s, "/tw ok"), "fine");
    sb_close(&s);
    alarm(0);
}

TEST(string_rep_of_nothing_is_instant_and_a_huge_one_is_out_of_memory)
{
    struct sb s;
    double t0;
    alarm(60);
    sb_open(&s, "rep1");
    cmd_file(&s, "empty", "return #string.rep('', 1 << 62) .. '|' .. #string.rep('', 1 << 62, '')");
    cmd_file(&s, "sep", "return string.rep('ab', 3, ', ') .. '|' .. string.rep('x', 1) .. '|' .."
                        " string.rep('x', 0, 'y') .. '|' .. #string.rep('x', 1000, 'yz')");
    cmd_file(&s, "hugesep", "return #string.rep('x', 1e7, string.rep('y', 1e6))");
    cmd_file(&s, "wrap", "return #string.rep('x', math.maxinteger)");
    t0 = now_s();
    CHECK_STR(run(&s, "/tw empty"), "0|0");
    CHECK(now_s() - t0 < 1.0);
    CHECK_STR(run(&s, "/tw sep"), "ab, ab, ab|x||2998");
    CHECK_HAS(run(&s, "/tw hugesep"), "Stopped:");
    CHECK_HAS(run(&s, "/tw wrap"), "memory");
    sb_close(&s);
    alarm(0);
}

/* The matcher of bounded.c against the real library: the same calls, the
 * same results and the same error messages. */
static const char *const pattern_cases =
    "local cases = {\n"
    " {'hello world', 'o'}, {'hello world', 'o w'}, {'hello', 'l+'}, {'hello', '(h)(e)'},\n"
    " {'hello', '()ll()'}, {'  trim me  ', '^%s*(.-)%s*$'}, {'key=val; k2=v2', '(%w+)=(%w+)'},\n"
    " {'THE (quick) fox', '%((%a+)%)'}, {'f(a(b)c)d', '%b()'}, {'THE (quick) fox', '%f[%a]%a+'},\n"
    " {'abcabc', '(abc)%1'}, {'a.b', '%.'}, {'a]b', '[]]'}, {'a-b', '[a-]'}, {'x^y', '[%^x]+'},\n"
    " {'hello', 'l*', 5}, {'hello', '', 10}, {'hello', '$'}, {'hel$lo', 'l$l'}, {'aaa', 'a-b'},\n"
    " {'aaab', 'a-b'}, {'abc', '[^a]+'}, {'12ab', '%d+%a?'}, {'ab', 'a?b?c?'}, {'hello', 'o', -1},\n"
    " {'hello', 'h', -100}, {'', '.*'}, {'az\\0z', '%z'}, {'A1 b2', '%u%d'}, {'A1 b2', '%W'},\n"
    " {'x = 1, y = 22', '(%a)%s*=%s*(%d+)'}, {'[[x]]', '%[(.-)%]'}, {'aXbXc', '[%u]'},\n"
    " {'one two  three', '%S+'}, {'one', '^(o)(n)(e)$'}, {'ab', '^b'}, {'tab\\there', '%c'},\n"
    " {'0x1F', '^0[xX](%x+)$'}, {'a+b', 'a+b'}, {'a+b', 'a%+b'}, {'a.b', 'a.b', 1, true},\n"
    " {'hello', 'l', 4, true}, {'hello', 'xyz', 1, true}, {'aaa', 'a*', 2}, {'ab', '()', 3},\n"
    " {'a%', 'a%'}, {'[a', '[a'}, {'(a', '(a'}, {'a)', 'a)'}, {'a', '%1'}, {'a', '%b'},\n"
    " {'a', '%fa'}, {'a', '(()'}, {'abc', '%0'}, {'word', '%f[%w]%w+%f[%W]'},\n"
    "}\n"
    "local out = {}\n"
    "local function show(...) local t = table.pack(...) for i = 1, t.n do t[i] = tostring(t[i]) end\n"
    "  return table.concat(t, ',') end\n"
    "local up = function(...) return select('#', ...) .. ':' .. tostring((...)):upper() end\n"
    "for i, c in ipairs(cases) do\n"
    "  local s, p, init, plain = c[1], c[2], c[3], c[4]\n"
    "  local r = { show(pcall(string.find, s, p, init, plain)), show(pcall(string.match, s, p, init)) }\n"
    "  local ok, g = pcall(function() local t = {} for a, b in string.gmatch(s, p, init) do\n"
    "    t[#t + 1] = tostring(a) .. '/' .. tostring(b) end return table.concat(t, ' ') end)\n"
    "  r[#r + 1] = tostring(ok) .. ',' .. tostring(g)\n"
    "  r[#r + 1] = show(pcall(string.gsub, s, p, '<%0>'))\n"
    "  r[#r + 1] = show(pcall(string.gsub, s, p, '[%1]'))\n"
    "  r[#r + 1] = show(pcall(string.gsub, s, p, '%%x', 2))\n"
    "  r[#r + 1] = show(pcall(string.gsub, s, p, up))\n"
    "  r[#r + 1] = show(pcall(string.gsub, s, p, { l = 'L', hello = false, a = 1 }))\n"
    "  r[#r + 1] = show(pcall(string.gsub, s, p, '%q'))\n"
    "  out[#out + 1] = i .. ': ' .. table.concat(r, ' | ')\n"
    "end\n"
    "return table.concat(out, '\\n')\n";

TEST(bounded_pattern_matching_gives_what_lua_gives)
{
    struct sb s;
    lua_State *L = luaL_newstate();
    const char *want;
    luaL_openlibs(L);
    if (luaL_loadstring(L, pattern_cases) != LUA_OK || lua_pcall(L, 0, 1, 0) != LUA_OK) {
        unit_fail(__FILE__, __LINE__, "reference run: %s", lua_tostring(L, -1));
        lua_close(L);
        return;
    }
    want = lua_tostring(L, -1);
    sb_open_budget(&s, "pat1", 1e8, 0);
    cmd_file(&s, "pat", pattern_cases);
    {
        const char *got = run(&s, "/tw pat");
        if (strcmp(got, want) != 0) {
            /* the first line that differs */
            const char *g = got, *w = want;
            while (*g && *g == *w) {
                g++;
                w++;
            }
            while (g > got && g[-1] != '\n') {
                g--;
                w--;
            }
            unit_fail(__FILE__, __LINE__, "got  %.300s\nwant %.300s", g, w);
        }
    }
    lua_close(L);
    sb_close(&s);
}

/* --- memory is charged to the script that keeps it (item 6) ---------------- */

TEST(a_script_that_keeps_memory_is_stopped_and_its_neighbours_keep_working)
{
    struct sb s;
    size_t before;
    sb_open(&s, "mem1");     /* memory_mb = 16: a script may keep 4 */
    cmd_file(&s, "ok", "return #string.rep('y', 6 * 2^20) .. ' fine'");
    before = script_memory(s.rt);
    cmd_file(&s, "hog", "kept = kept or {} kept[#kept + 1] = string.rep('x', 3 * 2^20) .. #kept\n"
                        "return 'keeping ' .. #kept");
    CHECK_STR(run(&s, "/tw hog"), "keeping 1");
    CHECK_STR(run(&s, "/tw ok"), "6291456 fine");
    /* before: the hog's third call left the others 7 MiB; "ok" needed more */
    for (int i = 0; i < 4; i++)
        run(&s, "/tw hog");
    CHECK_STR(run(&s, "/tw ok"), "6291456 fine");
    CHECK_HAS(run(&s, "/tw hog"), "/tw hog is not available: it was stopped: it kept");
    CHECK_HAS(s.notice, "hog.lua was stopped: it kept");
    CHECK(script_memory(s.rt) < before + (2u << 20));
    /* a save loads it again, with nothing kept */
    cmd_file(&s, "hog", "return 'back'");
    CHECK_STR(run(&s, "/tw hog"), "back");
    sb_close(&s);
}

/* --- script code runs only inside its own invocation (item 2) ------------ */

TEST(a_finalizer_cannot_be_armed_to_run_during_another_command)
{
    struct sb s;
    alarm(30);
    sb_open(&s, "gc1");
    /* before: armed here, it ran (hooks off, forever) at the next collection */
    cmd_file(&s, "arm", "setmetatable({}, { __gc = function() while true do end end })\n"
                        "return 'armed'");
    cmd_file(&s, "late", "local mt = { __gc = true } setmetatable({}, mt)\n"
                         "mt.__gc = function() while true do end end return 'armed'");
    cmd_file(&s, "boom", "error('fails, so the runtime collects')");
    cmd_file(&s, "ok", "return 'fine'");
    CHECK_HAS(run(&s, "/tw arm"), "Command failed");
    CHECK_HAS(run(&s, "/tw late"), "Command failed");
    CHECK_HAS(run(&s, "/tw boom"), "Command failed");
    CHECK_STR(run(&s, "/tw ok"), "fine");
    sb_close(&s);
    alarm(0);
}

/* --- C reads script values raw or protected (item 3) ------------------------ */

TEST(tables_with_trapped_metamethods_cannot_crash_the_runtime)
{
    struct sb s;
    char notes[200] = "", actor[64] = "";
    sb_open(&s, "trap1");
    write_file(&s, "scripts/hooks/trap.lua",
               "return setmetatable({}, { __index = function() error('trap') end })\n");
    write_file(&s, "scripts/trapcmd.lua",
               "return setmetatable({ run = function() return 'ran' end },"
               " { __index = function() error('trap') end })\n");
    write_file(&s, "scripts/traperr.lua",
               "return command { run = function()\n"
               "  error(setmetatable({}, { __index = function() error('trap') end,"
               " __tostring = function() error('trap') end }))\n"
               "end }\n");
    script_reload(s.rt, NULL);
    CHECK_STR(run(&s, "/tw trapcmd"), "ran");
    CHECK_HAS(run(&s, "/tw traperr"), "Command failed");
    /* a hook file read on every mention: no panic, ingest goes on */
    CHECK_INT(ingest_and_count_notes(&s, "@AcmeSupport trap", notes, sizeof notes, actor,
                                     sizeof actor), 0);
    sb_close(&s);
}

/* --- once killed, the invocation is over (item 4) --------------------------- */

TEST(a_kill_swallowed_inside_a_coroutine_still_ends_the_command)
{
    struct sb s;
    sb_open(&s, "co1");
    cmd_file(&s, "co", "local co = coroutine.create(function() while true do end end)\n"
                       "local ok = coroutine.resume(co)\n"
                       "ctx.kv:set('after', 'written') return 'completed'");
    CHECK_HAS(run(&s, "/tw co"), "ran past its budget");
    cmd_file(&s, "co", "return tostring(ctx.kv:get('after'))");
    CHECK_STR(run(&s, "/tw co"), "nil");
    cmd_file(&s, "cowrap", "pcall(coroutine.wrap(function() while true do end end))\n"
                           "return 'completed'");
    CHECK_HAS(run(&s, "/tw cowrap"), "ran past its budget");
    sb_close(&s);
}

/* --- :lua's printer is under the budget too (item 5) ------------------------ */

TEST(lua_eval_printer_runs_under_the_budget)
{
    struct sb s;
    char *out;
    int ok;
    alarm(30);
    sb_open(&s, "eval1");
    /* a key is printed with luaL_tolstring: its __tostring runs */
    out = script_eval(s.rt, "U3", "{ [setmetatable({}, { __tostring = function() while true do end end })] = 1 }",
                      &ok);
    CHECK_HAS(out, "Stopped: :lua's printer ran past its budget");
    CHECK(!ok);
    free(out);
    out = script_eval(s.rt, "U3", "{ [setmetatable({}, { __tostring = function() "
                                  "return 'shown' end })] = 1 }", &ok);
    CHECK_STR(out, "{ [shown] = 1 }");
    free(out);
    sb_close(&s);
    alarm(0);
}

/* A value too big to show is cut at 1 MiB, not printed whole. */
TEST(lua_eval_prints_a_huge_value_cut_at_one_mib)
{
    struct sb s;
    char *out;
    int ok;
    alarm(30);
    sb_open(&s, "eval2");
    out = script_eval(s.rt, "U3", "string.rep('x', 3 * 1024 * 1024)", &ok);
    CHECK(ok);
    CHECK_INT(strlen(out), (1u << 20) - 1);
    CHECK(strncmp(out, "\"xxx", 4) == 0);
    free(out);
    out = script_eval(s.rt, "U3", "string.rep('y', 10)", &ok);
    CHECK_STR(out, "\"yyyyyyyyyy\"");
    free(out);
    sb_close(&s);
    alarm(0);
}

/* --- reload while running, and only inside scripts.dir (item 7) ------------- */

TEST(reload_removing_the_running_script_and_paths_outside_scripts_dir)
{
    struct sb s;
    char path[700];
    sb_open(&s, "rel1");
    cmd_file(&s, "gone", "vigil.reload('gone') ctx.kv:set('k', 'v') print('still here')\n"
                         "return tostring(ctx.kv:get('k'))");
    snprintf(path, sizeof path, "%s/scripts/gone.lua", s.dir);
    unlink(path);
    /* ASan: the running entry's file name was freed, then used as kv scope */
    CHECK_STR(run(&s, "/tw gone"), "v");
    CHECK_HAS(run(&s, "/tw gone"), "Unknown command");
    write_file(&s, "outside.lua", "return command { run = function() return 'escaped' end }\n");
    CHECK_INT(script_reload(s.rt, "../outside"), -1);
    CHECK_INT(script_reload(s.rt, "hooks/../../outside"), -1);
    CHECK_HAS(run(&s, "/tw outside"), "Unknown command");
    sb_close(&s);
}

/* --- permissions -------------------------------------------------------- */

TEST(permissions_roles_gate_commands_and_denials_are_audited)
{
    struct sb s;
    size_t n;
    struct event *ev;
    sb_open(&s, "perm1");
    write_file(&s, "scripts/boss.lua", "return command { roles = 'lead', run = function() return 'yes boss' end }\n");
    write_file(&s, "scripts/help.lua", "return command { run = function() return 'help text' end }\n");
    script_load_all(s.rt);
    CHECK_STR(run_as(&s, "U1", "/tw boss"), "yes boss");
    CHECK_STR(run_as(&s, "U2", "/tw boss"), "/tw boss needs the lead role; you are agent.");
    CHECK_HAS(run_as(&s, "U999", "/tw boss"), "Only support staff can use /tw boss");
    CHECK_STR(run_as(&s, "U999", "/tw help"), "help text");
    CHECK_STR(run_as(&s, "U999", "/help"), "help text");
    ev = store_events_of(s.store, 0, &n);
    store_events_free(ev, n);
    {
        /* denials have no ticket: count them directly */
        int64_t *ids;
        size_t k;
        ids = store_ticket_list(s.store, "all", NULL, 10, &k);
        free(ids);
        CHECK_INT(k, 0);
    }
    sb_close(&s);
}

/* --- hot reload ------------------------------------------------------------ */

static int spin_until(struct sb *s, const char *line, const char *want)
{
    for (int i = 0; i < 100; i++) {
        uv_run(&s->loop, UV_RUN_NOWAIT);
        if (strcmp(run(s, line), want) == 0)
            return 1;
        uv_sleep(2);
    }
    return 0;
}

TEST(reload_edit_break_fix_delete_add_through_inotify)
{
    struct sb s;
    char *list;
    sb_open(&s, "hot1");
    write_file(&s, "scripts/t.lua", "return command { run = function() return 'one' end }\n");
    script_load_all(s.rt);
    CHECK(script_watch(s.rt) == 0);
    CHECK_STR(run(&s, "/tw t"), "one");

    write_file(&s, "scripts/t.lua", "return command { run = function() return 'two' end }\n");
    CHECK(spin_until(&s, "/tw t", "two"));

    write_file(&s, "scripts/t.lua", "return command { run = function() return 'three' end \n");
    for (int i = 0; i < 50 && !s.notices; i++) {
        uv_run(&s.loop, UV_RUN_NOWAIT);
        uv_sleep(2);
    }
    CHECK_STR(run(&s, "/tw t"), "two");           /* the old version keeps serving */
    CHECK_HAS(s.notice, "t.lua failed to load; the previous version keeps running");
    list = script_list(s.rt);
    CHECK_HAS(list, "old version running; error:");
    free(list);

    write_file(&s, "scripts/t.lua", "return { run = 5 }\n");
    for (int i = 0; i < 50 && s.notices < 2; i++) {
        uv_run(&s.loop, UV_RUN_NOWAIT);
        uv_sleep(2);
    }
    CHECK_HAS(s.notice, "no run function");
    CHECK_STR(run(&s, "/tw t"), "two");

    write_file(&s, "scripts/t.lua", "return command { run = function() return 'four' end }\n");
    CHECK(spin_until(&s, "/tw t", "four"));
    list = script_list(s.rt);
    CHECK_HAS(list, "t.lua                    ok");
    free(list);

    {
        char path[700];
        snprintf(path, sizeof path, "%s/scripts/t.lua", s.dir);
        unlink(path);
    }
    CHECK(spin_until(&s, "/tw t", "Unknown command \"t\". Type /tw help for the list."));

    write_file(&s, "scripts/fresh.lua", "return command { run = function() return 'new' end }\n");
    CHECK(spin_until(&s, "/tw fresh", "new"));
    sb_close(&s);
}

TEST(reload_a_running_command_finishes_on_its_old_version)
{
    struct sb s;
    sb_open(&s, "hot2");
    write_file(&s, "scripts/self.lua",
               "return command { run = function() vigil.reload('self') return 'old finished' end }\n");
    script_load_all(s.rt);
    write_file(&s, "scripts/self.lua", "return command { run = function() return 'new' end }\n");
    CHECK_STR(run(&s, "/tw self"), "old finished");
    CHECK_STR(run(&s, "/tw self"), "new");
    sb_close(&s);
}

/* Ingests one new mention from @ann (ticket #1 on a fresh store) and
 * returns how many notes hooks left on it: their texts joined by ';' in
 * `notes`, the last one's actor in `actor`. */
static int ingest_and_count_notes(struct sb *s, char *text, char *notes_out, size_t len,
                                  char *actor, size_t actorlen)
{
    struct mention m = { 0 };
    struct mention_page p = { &m, 1, NULL, NULL, 0, 0, 0 };
    struct event *ev;
    size_t n;
    int notes = 0;

    m.id = m.original_id = 1234;
    m.text = text;
    m.author_id = m.author_handle = "ann";
    m.conversation_id = "1234";
    CHECK_INT(desk_ingest(s->desk, "test", &p, NULL, NULL), DESK_OK);
    ev = store_events_of(s->store, 1, &n);
    for (size_t i = 0; i < n; i++)
        if (strcmp(ev[i].action, "note") == 0) {
            size_t used = strlen(notes_out);
            snprintf(notes_out + used, len - used, "%s%s", notes++ ? ";" : "", ev[i].detail);
            snprintf(actor, actorlen, "%s", ev[i].actor);
        }
    store_events_free(ev, n);
    return notes;
}

TEST(reload_never_duplicates_hooks)
{
    struct sb s;
    char note[200] = "", actor[100] = "";

    sb_open(&s, "hot3");
    for (int i = 0; i < 5; i++) {
        write_file(&s, "scripts/hooks/count.lua",
                   "return hooks { on_mention = function(t, m) t:note('seen v%d') end }\n", i);
        script_reload(s.rt, "hooks/count");
    }
    CHECK_INT(ingest_and_count_notes(&s, "@AcmeSupport hi", note, sizeof note, actor,
                                     sizeof actor), 1);
    CHECK_STR(note, "seen v4");
    CHECK_STR(actor, "hook:count.lua");
    sb_close(&s);
}

/* on_mention's ticket is filled from the store only when read (api.c):
 * methods work without filling it, a field read fills it, pairs() fills
 * it, and what a hook sees is what the store holds after its own changes.
 * Each hook file gets a ticket of its own. */
TEST(on_mention_ticket_is_filled_on_first_read_and_behaves_like_any_ticket)
{
    struct sb s;
    char notes[400] = "", actor[100] = "";

    sb_open(&s, "lazy");
    write_file(&s, "scripts/hooks/a_read.lua",
               "return hooks { on_mention = function(t, m)\n"
               "  t:tag('first')\n"                                  /* a method: no fill */
               "  local lazy = rawget(t, 'status') == nil\n"
               "  t:note(('read|%%s|%%s|%%s'):format(tostring(lazy), t.status,\n"   /* fills */
               "         table.concat(t.tags, ',')))\n"
               "end }\n");
    write_file(&s, "scripts/hooks/b_iter.lua",
               "return hooks { on_mention = function(t, m)\n"
               "  local keys = 0\n"
               "  for k in pairs(t) do keys = keys + 1 end\n"          /* __pairs fills */
               "  t:note(('iter|%%s|%%s|%%s'):format(tostring(keys > 10),\n"
               "         rawget(t, 'customer').handle, tostring(t.assignee)))\n"
               "end }\n");
    script_reload(s.rt, NULL);
    CHECK_INT(ingest_and_count_notes(&s, "@AcmeSupport lazy", notes, sizeof notes, actor,
                                     sizeof actor), 2);
    CHECK_STR(notes, "read|true|new|first;iter|true|ann|nil");
    sb_close(&s);
}

TEST(oversized_command_is_refused_with_a_clear_answer)
{
    struct sb s;
    char *line = malloc(100 * 1024 + 16);
    sb_open(&s, "big1");
    cmd_file(&s, "echo", "return 'ran'");
    memcpy(line, "/tw echo ", 9);
    memset(line + 9, 'x', 100 * 1024);
    line[9 + 100 * 1024] = '\0';
    CHECK_HAS(run(&s, line), "That command is too long (102409 bytes; the limit is 16384).");
    CHECK_STR(run(&s, "/tw echo small"), "ran");
    free(line);
    sb_close(&s);
}

/* --- declarative arguments (args.c) ---------------------------------------- */

TEST(declared_args_answer_bad_input_with_the_usage_and_why)
{
    struct sb s;
    sb_open(&s, "args1");
    write_file(&s, "scripts/give.lua",
               "return command { args = { 'ticket', 'user?', 'note?…' },\n"
               "  run = function(ctx, args) return tostring(args.ticket.id) end }\n");
    write_file(&s, "scripts/say.lua",
               "return command { args = { 'word' }, run = function(ctx, args)\n"
               "  return args.word end }\n");
    /* a word of its own first ("dm notice on"): nothing resolves until read */
    write_file(&s, "scripts/lazy.lua",
               "return command { args = { 'ticket', 'text…' }, run = function(ctx, args)\n"
               "  if args[1] == 'list' then return 'the list' end\n"
               "  return args.text end }\n");
    write_file(&s, "scripts/usage.lua",
               "return command { run = function(ctx, args)\n"
               "  for _, c in ipairs(vigil.commands()) do\n"
               "    if c.name == args[1] then return c.usage end end end }\n");
    CHECK_INT(script_load_all(s.rt), 0);
    CHECK_STR(run(&s, "/tw give"), "Usage: /tw give <ticket> [@user|me] [note]");
    CHECK_STR(run(&s, "/tw give 99"),
              "Usage: /tw give <ticket> [@user|me] [note] — there is no ticket #99.");
    CHECK_STR(run(&s, "/tw give abc"), "Usage: /tw give <ticket> [@user|me] [note] — "
                                       "\"abc\" is not a ticket number (try 42 or #42).");
    CHECK_STR(run(&s, "/tw say hello"), "hello");
    CHECK_STR(run(&s, "/tw say hello there"), "Usage: /tw say <word> — too many words: \"there\"");
    CHECK_STR(run(&s, "/tw lazy list"), "the list");
    CHECK_STR(run(&s, "/tw lazy 7 hello"),
              "Usage: /tw lazy <ticket> <text> — there is no ticket #7.");
    CHECK_STR(run(&s, "/tw usage give"), "give <ticket> [@user|me] [note]");
    sb_close(&s);
}

TEST(a_command_table_with_an_unknown_key_or_a_bad_args_list_does_not_load)
{
    struct sb s;
    static const struct { const char *table, *why; } bad[] = {
        { "rolse = 'lead'", "unknown key 'rolse' (known: args, form, help, roles, run, usage)" },
        { "args = { 'ticket', 'text…', 'more' }", "\"text…\" takes the rest of the line" },
        { "args = { 'user?', 'ticket' }", "\"ticket\" is required but comes after an optional" },
        { "args = { 'Ticket!' }", "args[1] is not an argument" },
        { "args = { 'ticket', 'ticket' }", "args names \"ticket\" twice" },
        { "args = 'ticket'", "'args' must be a list" },
    };
    sb_open(&s, "args2");
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        write_file(&s, "scripts/bad.lua",
                   "return command { %s, run = function() return 'ran' end }\n", bad[i].table);
        CHECK_INT(script_reload(s.rt, "bad"), 1);
        CHECK_HAS(s.notice, bad[i].why);
        CHECK_HAS(run(&s, "/tw bad"), "Unknown command");
    }
    sb_close(&s);
}

/* The older checks of command{} and hooks{} read like the declarative-args
 * ones: file:line and the reason in the admin's notice, no error id. */
TEST(a_malformed_command_or_hooks_table_says_where_and_why)
{
    struct sb s;
    static const struct { const char *file, *body, *why; } bad[] = {
        { "scripts/bad.lua", "return command { run = 'ran' }",
          "bad.lua:1: command{}: 'run' must be a function(ctx, args)" },
        { "scripts/bad.lua", "return command { usage = {}, run = function() end }",
          "bad.lua:1: command{}: 'usage' must be a string" },
        { "scripts/bad.lua", "return command { usage = 42, run = function() end }",
          "bad.lua:1: command{}: 'usage' must be a string, got number" },
        { "scripts/bad.lua", "return command { help = 7, run = function() end }",
          "bad.lua:1: command{}: 'help' must be a string, got number" },
        { "scripts/bad.lua", "return command 'ran'",
          "bad.lua:1: command{}: takes a table, got string" },
        { "scripts/hooks/badhook.lua", "return hooks { on_mentoin = function() end }",
          "badhook.lua:1: hooks{}: unknown hook 'on_mentoin'" },
        { "scripts/hooks/badhook.lua", "return hooks { on_mention = true }",
          "badhook.lua:1: hooks{}: 'on_mention' must be a function" },
        { "scripts/hooks/badhook.lua", "return { on_mention = 1 }",
          "badhook.lua: hooks{}: 'on_mention' must be a function" },
    };
    sb_open(&s, "oldchecks");
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        write_file(&s, bad[i].file, "%s\n", bad[i].body);
        s.notice[0] = '\0';
        CHECK_INT(script_reload(s.rt, strstr(bad[i].file, "hooks/") ? "hooks/badhook" : "bad"), 1);
        CHECK_HAS(s.notice, bad[i].why);
        CHECK(strstr(s.notice, "error id") == NULL);
    }
    sb_close(&s);
}
