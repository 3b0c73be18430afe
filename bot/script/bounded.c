/* bounded.c — the library functions whose C-side cost is not linear in the
 * VM instructions that call them, replaced by versions that charge their
 * work to the running invocation (script_charge), so no single library
 * call can outlast the time budget: pattern matching (find, match, gmatch,
 * gsub), string.rep, table.concat/move/sort/insert/remove, and the calls
 * linear in a string's size (upper, byte, utf8.len...), charged by size.
 *
 * Patterns: Lua's own matcher backtracks without a step counter
 * (string.find(("a"):rep(2e5), ".-b") is 2e10 steps, 89 s), and a bound
 * on subject length x pattern complexity either refuses ordinary patterns
 * ("^%s*(.-)%s*$" on a 16 KB command) or lets cubic ones through.  So this
 * file has a matcher of its own, with the same pattern language and
 * results, that counts every step and charges them (one step = one
 * instruction) every STEP_CHUNK steps: the invocation is stopped like any
 * other over-budget script.  tests/unit/test_sandbox.c checks it against
 * the real library on a table of patterns.
 *
 * Knows the script runtime's budget and nothing else. */
#include "script/script_internal.h"

#include <ctype.h>
#include <lauxlib.h>
#include <string.h>

#define MAXCAP 32            /* LUA_MAXCAPTURES */
#define MAXDEPTH 200         /* recursion: "pattern too complex" past it */
#define STEP_CHUNK 1024      /* steps between charges */
#define CAP_OPEN (-1)
#define CAP_POS (-2)
#define CHUNK 4096           /* table items per call of the real function */

struct pm {
    lua_State *L;
    const char *src, *src_end, *pat_end;
    int depth, level;
    long steps;
    struct {
        const char *init;
        ptrdiff_t len;
    } cap[MAXCAP];
};

static void step(struct pm *m, long n)
{
    m->steps += n;
    if (m->steps >= STEP_CHUNK) {
        script_charge(m->L, m->steps);
        m->steps = 0;
    }
}

/* %a, %d, ... (upper case: the complement); any other letter is itself */
static int class_match(int c, int cl)
{
    int r;
    switch (tolower(cl)) {
    case 'a': r = isalpha(c); break;
    case 'c': r = iscntrl(c); break;
    case 'd': r = isdigit(c); break;
    case 'g': r = isgraph(c); break;
    case 'l': r = islower(c); break;
    case 'p': r = ispunct(c); break;
    case 's': r = isspace(c); break;
    case 'u': r = isupper(c); break;
    case 'w': r = isalnum(c); break;
    case 'x': r = isxdigit(c); break;
    case 'z': r = c == 0; break;     /* deprecated, still in Lua 5.4 */
    default: return cl == c;
    }
    r = r != 0;
    return isupper(cl) ? !r : r;
}

/* The end of the single-character class at p (after a set's ']'). */
static const char *class_end(struct pm *m, const char *p)
{
    char c = *p++;
    if (c == '%') {
        if (p >= m->pat_end)
            luaL_error(m->L, "malformed pattern (ends with '%%')");
        return p + 1;
    }
    if (c == '[') {
        if (*p == '^')
            p++;
        do {   /* the first character of a set may be ']' */
            if (p >= m->pat_end)
                luaL_error(m->L, "malformed pattern (missing ']')");
            c = *p++;
            if (c == '%' && p < m->pat_end)
                p++;
        } while (*p != ']');   /* strings from Lua end with '\0' */
        return p + 1;
    }
    return p;
}

/* Whether c is in the set [ ... ] from p ('[') to ec (its ']'). */
static int set_match(int c, const char *p, const char *ec)
{
    int neg = 0;
    p++;
    if (*p == '^') {
        neg = 1;
        p++;
    }
    for (; p < ec; p++) {
        if (*p == '%' && p + 1 < ec) {
            p++;
            if (class_match(c, (unsigned char)*p))
                return !neg;
        } else if (p[1] == '-' && p + 2 < ec) {
            if ((unsigned char)p[0] <= c && c <= (unsigned char)p[2])
                return !neg;
            p += 2;
        } else if ((unsigned char)*p == c) {
            return !neg;
        }
    }
    return neg;
}

static int single_match(struct pm *m, const char *s, const char *p, const char *ep)
{
    int c;
    if (s >= m->src_end)
        return 0;
    c = (unsigned char)*s;
    switch (*p) {
    case '.': return 1;
    case '%': return class_match(c, (unsigned char)p[1]);
    case '[': return set_match(c, p, ep - 1);
    default: return (unsigned char)*p == c;
    }
}

static const char *do_match(struct pm *m, const char *s, const char *p);

static const char *max_expand(struct pm *m, const char *s, const char *p, const char *ep)
{
    ptrdiff_t i = 0;
    while (single_match(m, s + i, p, ep)) {
        i++;
        step(m, 1);
    }
    for (; i >= 0; i--) {
        const char *r = do_match(m, s + i, ep + 1);
        if (r)
            return r;
    }
    return NULL;
}

static const char *min_expand(struct pm *m, const char *s, const char *p, const char *ep)
{
    for (;;) {
        const char *r = do_match(m, s, ep + 1);
        if (r)
            return r;
        if (!single_match(m, s, p, ep))
            return NULL;
        s++;
    }
}

static const char *start_capture(struct pm *m, const char *s, const char *p, ptrdiff_t what)
{
    const char *r;
    if (m->level >= MAXCAP)
        luaL_error(m->L, "too many captures");
    m->cap[m->level].init = s;
    m->cap[m->level].len = what;
    m->level++;
    r = do_match(m, s, p);
    if (!r)
        m->level--;
    return r;
}

static const char *end_capture(struct pm *m, const char *s, const char *p)
{
    int l = m->level - 1;
    const char *r;
    while (l >= 0 && m->cap[l].len != CAP_OPEN)
        l--;
    if (l < 0)
        luaL_error(m->L, "invalid pattern capture");
    m->cap[l].len = s - m->cap[l].init;
    r = do_match(m, s, p);
    if (!r)
        m->cap[l].len = CAP_OPEN;
    return r;
}

static int capture_index(struct pm *m, int c)
{
    int l = c - '1';
    if (l < 0 || l >= m->level || m->cap[l].len == CAP_OPEN)
        luaL_error(m->L, "invalid capture index %%%d", l + 1);
    return l;
}

/* Matches pattern p (up to pat_end) at s: the end of the match, or NULL. */
static const char *do_match(struct pm *m, const char *s, const char *p)
{
    if (m->depth-- == 0)
        luaL_error(m->L, "pattern too complex");
    step(m, 1);
    while (s && p < m->pat_end) {
        const char *ep;
        int ok;
        if (*p == '(') {
            s = p[1] == ')' ? start_capture(m, s, p + 2, CAP_POS)
                            : start_capture(m, s, p + 1, CAP_OPEN);
            goto out;
        }
        if (*p == ')') {
            s = end_capture(m, s, p + 1);
            goto out;
        }
        if (*p == '$' && p + 1 == m->pat_end) {
            s = s == m->src_end ? s : NULL;
            goto out;
        }
        if (*p == '%' && p[1] == 'b') {
            int depth = 1;
            const char *q;
            if (p + 3 >= m->pat_end)
                luaL_error(m->L, "malformed pattern (missing arguments to '%%b')");
            if (s >= m->src_end || *s != p[2]) {
                s = NULL;
                goto out;
            }
            for (q = s + 1; q < m->src_end; q++) {
                if (*q == p[3]) {
                    if (--depth == 0)
                        break;
                } else if (*q == p[2]) {
                    depth++;
                }
            }
            step(m, q - s);
            s = q < m->src_end ? q + 1 : NULL;
            p += 4;
            continue;
        }
        if (*p == '%' && p[1] == 'f') {
            int prev, cur;
            p += 2;
            if (*p != '[')
                luaL_error(m->L, "missing '[' after '%%f' in pattern");
            ep = class_end(m, p);
            prev = s == m->src ? '\0' : (unsigned char)s[-1];
            cur = s < m->src_end ? (unsigned char)*s : '\0';
            if (set_match(prev, p, ep - 1) || !set_match(cur, p, ep - 1))
                s = NULL;
            p = ep;
            continue;
        }
        if (*p == '%' && isdigit((unsigned char)p[1])) {
            int l = capture_index(m, p[1]);
            ptrdiff_t len = m->cap[l].len;
            if (len < 0 || m->src_end - s < len || memcmp(m->cap[l].init, s, (size_t)len) != 0) {
                s = NULL;
                goto out;
            }
            step(m, len);
            s += len;
            p += 2;
            continue;
        }
        ep = class_end(m, p);
        ok = single_match(m, s, p, ep);
        if (ep < m->pat_end && *ep == '?') {
            const char *r = ok ? do_match(m, s + 1, ep + 1) : NULL;
            if (r != NULL) {
                s = r;
                goto out;
            }
            p = ep + 1;
        } else if (ep < m->pat_end && *ep == '+') {
            s = ok ? max_expand(m, s + 1, p, ep) : NULL;
            goto out;
        } else if (ep < m->pat_end && *ep == '*') {
            s = max_expand(m, s, p, ep);
            goto out;
        } else if (ep < m->pat_end && *ep == '-') {
            s = min_expand(m, s, p, ep);
            goto out;
        } else if (!ok) {
            s = NULL;
        } else {
            s++;
            p = ep;
        }
    }
out:
    m->depth++;
    return s;
}

static void pm_init(struct pm *m, lua_State *L, const char *s, size_t ls, const char *p,
                    size_t lp)
{
    m->L = L;
    m->src = s;
    m->src_end = s + ls;
    m->pat_end = p + lp;
    m->steps = 0;
}

static const char *pm_run(struct pm *m, const char *s, const char *p)
{
    m->level = 0;
    m->depth = MAXDEPTH;
    return do_match(m, s, p);
}

static void push_capture(struct pm *m, int i, const char *s, const char *e)
{
    if (i >= m->level) {
        if (i != 0)
            luaL_error(m->L, "invalid capture index %%%d", i + 1);
        lua_pushlstring(m->L, s, (size_t)(e - s));   /* the whole match */
    } else if (m->cap[i].len == CAP_OPEN) {
        luaL_error(m->L, "unfinished capture");
    } else if (m->cap[i].len == CAP_POS) {
        lua_pushinteger(m->L, (m->cap[i].init - m->src) + 1);
    } else {
        lua_pushlstring(m->L, m->cap[i].init, (size_t)m->cap[i].len);
    }
}

/* Pushes the captures (or the whole match when there are none and s is
 * not NULL); returns how many. */
static int push_captures(struct pm *m, const char *s, const char *e)
{
    int n = m->level == 0 && s ? 1 : m->level;
    luaL_checkstack(m->L, n, "too many captures");
    for (int i = 0; i < n; i++)
        push_capture(m, i, s, e);
    return n;
}

/* Lua 5.4's rule for a start position (1-based, negative from the end). */
static size_t start_pos(lua_Integer pos, size_t len)
{
    if (pos > 0)
        return (size_t)pos;
    if (pos == 0 || pos < -(lua_Integer)len)
        return 1;
    return len + (size_t)pos + 1;
}

static int has_specials(const char *p, size_t lp)
{
    for (size_t i = 0; i < lp; i++)
        if (p[i] && strchr("^$*+?.([%-", p[i]))
            return 1;
    return 0;
}

static int find_aux(lua_State *L, int find)
{
    size_t ls, lp;
    const char *s = luaL_checklstring(L, 1, &ls);
    const char *p = luaL_checklstring(L, 2, &lp);
    size_t init = start_pos(luaL_optinteger(L, 3, 1), ls) - 1;
    struct pm m;

    if (init > ls) {
        luaL_pushfail(L);
        return 1;
    }
    if (find && (lua_toboolean(L, 4) || !has_specials(p, lp))) {
        /* glibc's memmem is linear (two-way) */
        const char *f = memmem(s + init, ls - init, p, lp);
        script_charge(L, (long long)((ls - init) >> 6));
        if (f) {
            lua_pushinteger(L, (f - s) + 1);
            lua_pushinteger(L, (lua_Integer)((size_t)(f - s) + lp));
            return 2;
        }
    } else {
        const char *s1 = s + init, *e;
        int anchor = *p == '^';
        if (anchor) {
            p++;
            lp--;
        }
        pm_init(&m, L, s, ls, p, lp);
        do {
            e = pm_run(&m, s1, p);
            if (e != NULL) {
                if (find) {
                    lua_pushinteger(L, (s1 - s) + 1);
                    lua_pushinteger(L, e - s);
                    return push_captures(&m, NULL, NULL) + 2;
                }
                return push_captures(&m, s1, e);
            }
        } while (s1++ < m.src_end && !anchor);
    }
    luaL_pushfail(L);
    return 1;
}

static int b_find(lua_State *L) { return find_aux(L, 1); }
static int b_match(lua_State *L) { return find_aux(L, 0); }

/* gmatch's state: upvalues 1 and 2 are the subject and pattern. */
struct gm {
    size_t pos;          /* where the next attempt starts */
    ptrdiff_t last;      /* end of the previous match, -1 before any */
};

static int gmatch_aux(lua_State *L)
{
    size_t ls, lp;
    const char *s = lua_tolstring(L, lua_upvalueindex(1), &ls);
    const char *p = lua_tolstring(L, lua_upvalueindex(2), &lp);
    struct gm *g = lua_touserdata(L, lua_upvalueindex(3));
    struct pm m;
    pm_init(&m, L, s, ls, p, lp);
    for (const char *src = s + g->pos; src <= m.src_end; src++) {
        const char *e = pm_run(&m, src, p);
        if (e && e - s != g->last) {
            g->pos = (size_t)(e - s);
            g->last = e - s;
            return push_captures(&m, src, e);
        }
    }
    g->pos = ls + 1;
    return 0;
}

static int b_gmatch(lua_State *L)
{
    size_t ls;
    struct gm *g;
    luaL_checklstring(L, 1, &ls);
    luaL_checkstring(L, 2);
    size_t init = start_pos(luaL_optinteger(L, 3, 1), ls) - 1;
    lua_settop(L, 2);
    g = lua_newuserdatauv(L, sizeof *g, 0);
    g->pos = init > ls ? ls + 1 : init;
    g->last = -1;
    lua_pushcclosure(L, gmatch_aux, 3);
    return 1;
}

/* gsub's string replacement: %0-%9 and %%. */
static void add_s(struct pm *m, luaL_Buffer *b, const char *s, const char *e)
{
    lua_State *L = m->L;
    size_t l;
    const char *news = lua_tolstring(L, 3, &l), *p;
    for (p = memchr(news, '%', l); p != NULL; p = memchr(news, '%', l)) {
        luaL_addlstring(b, news, (size_t)(p - news));
        p++;
        if (*p == '%') {
            luaL_addchar(b, '%');
        } else if (*p == '0') {
            luaL_addlstring(b, s, (size_t)(e - s));
        } else if (isdigit((unsigned char)*p)) {
            push_capture(m, *p - '1', s, e);
            luaL_tolstring(L, -1, NULL);
            lua_remove(L, -2);                     /* the capture: keep its text */
            luaL_addvalue(b);
        } else {
            luaL_error(L, "invalid use of '%%' in replacement string");
        }
        l -= (size_t)(p + 1 - news);
        news = p + 1;
    }
    luaL_addlstring(b, news, l);
}

/* Adds the replacement of the match s..e; returns 1 when it changed it. */
static int add_value(struct pm *m, luaL_Buffer *b, const char *s, const char *e, int tr)
{
    lua_State *L = m->L;
    if (tr == LUA_TFUNCTION) {
        int n;
        lua_pushvalue(L, 3);
        n = push_captures(m, s, e);
        lua_call(L, n, 1);
    } else if (tr == LUA_TTABLE) {
        push_capture(m, 0, s, e);
        lua_gettable(L, 3);
    } else {
        add_s(m, b, s, e);
        return 1;
    }
    if (!lua_toboolean(L, -1)) {
        lua_pop(L, 1);
        luaL_addlstring(b, s, (size_t)(e - s));    /* keep the original */
        return 0;
    }
    if (!lua_isstring(L, -1))
        return luaL_error(L, "invalid replacement value (a %s)", luaL_typename(L, -1));
    luaL_addvalue(b);
    return 1;
}

static int b_gsub(lua_State *L)
{
    size_t ls, lp;
    const char *s = luaL_checklstring(L, 1, &ls);
    const char *p = luaL_checklstring(L, 2, &lp);
    const char *src = s, *last = NULL;
    int tr = lua_type(L, 3), anchor = *p == '^', changed = 0;
    lua_Integer max = luaL_optinteger(L, 4, (lua_Integer)ls + 1), n = 0;
    struct pm m;
    luaL_Buffer b;

    luaL_argexpected(L, tr == LUA_TNUMBER || tr == LUA_TSTRING || tr == LUA_TFUNCTION ||
                     tr == LUA_TTABLE, 3, "string/function/table");
    luaL_buffinit(L, &b);
    if (anchor) {
        p++;
        lp--;
    }
    pm_init(&m, L, s, ls, p, lp);
    while (n < max) {
        const char *e = pm_run(&m, src, p);
        if (e && e != last) {
            n++;
            changed |= add_value(&m, &b, src, e, tr);
            src = last = e;
        } else if (src < m.src_end) {
            luaL_addchar(&b, *src++);
        } else {
            break;
        }
        if (anchor)
            break;
    }
    if (!changed) {
        lua_pushvalue(L, 1);
    } else {
        luaL_addlstring(&b, src, (size_t)(m.src_end - src));
        luaL_pushresult(&b);
    }
    lua_pushinteger(L, n);
    return 2;
}

/* string.rep: the size is checked before anything is written (the
 * allocator refuses past scripts.memory_mb), "" repeated 2^62 times is ""
 * at once, and the copy doubles, so it costs log(n) memcpy calls rather
 * than n. */
static int b_rep(lua_State *L)
{
    size_t l, lsep, unit, total, done;
    const char *s = luaL_checklstring(L, 1, &l);
    lua_Integer n = luaL_checkinteger(L, 2);
    const char *sep = luaL_optlstring(L, 3, "", &lsep);
    luaL_Buffer b;
    char *out;

    unit = l + lsep;
    if (n <= 0 || unit == 0) {
        lua_pushliteral(L, "");
        return 1;
    }
    if (unit < l || (lua_Unsigned)n > (((size_t)-1 >> 1) + lsep) / unit)
        return luaL_error(L, "resulting string too large");
    total = (size_t)n * unit - lsep;
    out = luaL_buffinitsize(L, &b, total);   /* past the memory cap: out of memory */
    script_charge(L, (long long)(total >> 6));
    memcpy(out, s, l);
    done = l;
    if (n > 1) {
        memcpy(out + l, sep, lsep);
        done = unit;
    }
    while (done < total) {
        size_t k = done < total - done ? done : total - done;
        memcpy(out + done, out, k);
        done += k;
    }
    luaL_pushresultsize(&b, total);
    return 1;
}

/* table.concat: the real one, CHUNK items per call, charged per item. */
static int b_concat(lua_State *L)
{
    size_t lsep;
    const char *sep = luaL_optlstring(L, 2, "", &lsep);
    lua_Integer i = luaL_optinteger(L, 3, 1);
    lua_Integer last = luaL_opt(L, luaL_checkinteger, 4, luaL_len(L, 1));
    luaL_Buffer b;

    if (last < i || last - i < CHUNK) {
        lua_pushvalue(L, lua_upvalueindex(1));
        lua_insert(L, 1);
        lua_call(L, lua_gettop(L) - 1, 1);
        return 1;
    }
    luaL_buffinit(L, &b);
    for (;;) {
        lua_Integer z = last - i >= CHUNK ? i + CHUNK - 1 : last;
        script_charge(L, z - i + 1);
        lua_pushvalue(L, lua_upvalueindex(1));
        lua_pushvalue(L, 1);
        lua_pushlstring(L, sep, lsep);
        lua_pushinteger(L, i);
        lua_pushinteger(L, z);
        lua_call(L, 4, 1);
        luaL_addvalue(&b);
        if (z == last)
            break;
        luaL_addlstring(&b, sep, lsep);
        i = z + 1;
    }
    luaL_pushresult(&b);
    return 1;
}

/* table.move(a1, f, e, t [, a2]): the real one, CHUNK items per call,
 * backwards when the ranges overlap as the real one does. */
static int b_move(lua_State *L)
{
    lua_Integer f = luaL_checkinteger(L, 2), e = luaL_checkinteger(L, 3);
    lua_Integer t = luaL_checkinteger(L, 4), n, off;
    int tt = lua_isnoneornil(L, 5) ? 1 : 5, back;

    if (e < f || e - f < CHUNK) {
        lua_pushvalue(L, lua_upvalueindex(1));
        lua_insert(L, 1);
        lua_call(L, lua_gettop(L) - 1, 1);
        return 1;
    }
    luaL_argcheck(L, f > 0 || e < LUA_MAXINTEGER + f, 3, "too many elements to move");
    n = e - f + 1;
    luaL_argcheck(L, t <= LUA_MAXINTEGER - n + 1, 4, "destination wrap around");
    back = t > f && t <= e && (tt == 1 || lua_compare(L, 1, tt, LUA_OPEQ));
    for (lua_Integer k = 0; k < n; k += CHUNK) {
        lua_Integer cnt = n - k < CHUNK ? n - k : CHUNK;
        off = back ? n - k - cnt : k;
        script_charge(L, cnt);
        lua_pushvalue(L, lua_upvalueindex(1));
        lua_pushvalue(L, 1);
        lua_pushinteger(L, f + off);
        lua_pushinteger(L, f + off + cnt - 1);
        lua_pushinteger(L, t + off);
        lua_pushvalue(L, tt);
        lua_call(L, 5, 0);
    }
    lua_pushvalue(L, tt);
    return 1;
}

/* table.sort, insert(t, pos, v), remove(t, pos): the real ones, charged
 * first for the work they will do (n log n comparisons, n shifts).  A Lua
 * comparator is counted by the hook as well. */
static int b_charged(lua_State *L)
{
    int what = (int)lua_tointeger(L, lua_upvalueindex(2));
    lua_Integer n;
    if (what == 0 || lua_gettop(L) >= (what == 1 ? 3 : 2)) {
        luaL_checktype(L, 1, LUA_TTABLE);
        n = luaL_len(L, 1);
        if (n > 0) {
            long long cost = n;
            if (what == 0)
                for (lua_Integer k = n; k > 1; k >>= 1)
                    cost += n;
            script_charge(L, cost);
        }
    }
    lua_pushvalue(L, lua_upvalueindex(1));
    lua_insert(L, 1);
    lua_call(L, lua_gettop(L) - 1, LUA_MULTRET);
    return lua_gettop(L);
}

/* Functions linear in the size of their string arguments (upper, byte,
 * utf8.len...): charged one instruction per 64 bytes before the real one
 * runs, so the deadline is checked at each such call on a big string
 * rather than every 1,000 instructions of a loop around it. */
static int b_linear(lua_State *L)
{
    size_t total = 0, len;
    for (int i = 1, n = lua_gettop(L); i <= n; i++)
        if (lua_type(L, i) == LUA_TSTRING) {
            lua_tolstring(L, i, &len);
            total += len;
        }
    if (total >= 4096)
        script_charge(L, (long long)(total >> 6));
    lua_pushvalue(L, lua_upvalueindex(1));
    lua_insert(L, 1);
    lua_call(L, lua_gettop(L) - 1, LUA_MULTRET);
    return lua_gettop(L);
}

/* Replaces field `name` of the table at `lib` by fn with the original
 * as its first upvalue (and `extra` as the second when >= 0). */
static void wrap(lua_State *L, int lib, const char *name, lua_CFunction fn, int extra)
{
    lua_getfield(L, lib, name);
    if (extra >= 0)
        lua_pushinteger(L, extra);
    lua_pushcclosure(L, fn, extra >= 0 ? 2 : 1);
    lua_setfield(L, lib, name);
}

void bounded_open(lua_State *L)
{
    static const luaL_Reg str[] = {
        { "find", b_find }, { "match", b_match }, { "gmatch", b_gmatch },
        { "gsub", b_gsub }, { "rep", b_rep }, { NULL, NULL },
    };
    /* the real string table: the string metatable's __index is this one */
    static const char *const str_linear[] = {
        "upper", "lower", "reverse", "byte", "format", "pack", "unpack", NULL,
    };
    static const char *const utf8_linear[] = { "len", "codepoint", "offset", "char", NULL };
    lua_getglobal(L, "string");
    luaL_setfuncs(L, str, 0);
    for (int i = 0; str_linear[i]; i++)
        wrap(L, lua_gettop(L), str_linear[i], b_linear, -1);
    lua_pop(L, 1);
    lua_getglobal(L, "utf8");
    for (int i = 0; utf8_linear[i]; i++)
        wrap(L, lua_gettop(L), utf8_linear[i], b_linear, -1);
    lua_pop(L, 1);
    lua_getglobal(L, "table");
    wrap(L, lua_gettop(L), "concat", b_concat, -1);
    wrap(L, lua_gettop(L), "move", b_move, -1);
    wrap(L, lua_gettop(L), "sort", b_charged, 0);
    wrap(L, lua_gettop(L), "insert", b_charged, 1);
    wrap(L, lua_gettop(L), "remove", b_charged, 2);
    lua_pop(L, 1);
}
