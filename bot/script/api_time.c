/* api_time.c — the desk's calendar for scripts: vigil.date and vigil.time,
 * os.date and os.time read in the desk's one time zone (sla.hours.timezone,
 * UTC unless set) instead of the process's TZ, so that "/tw away … 14:00",
 * stats by hour and "today" mean the team's clock wherever the bot runs.
 * Knows the desk's zone functions (desk_local_time, desk_local_instant);
 * never the tz database nor process-global time state. */
#include "script/script_internal.h"

#include <lauxlib.h>
#include <string.h>
#include <time.h>

#include "desk/desk.h"

#define DATE_FORMAT_MAX 200
#define DATE_OUT_MAX 512

static void set_field(lua_State *L, const char *k, lua_Integer v)
{
    lua_pushinteger(L, v);
    lua_setfield(L, -2, k);
}

/* A field of the table at `idx`: an integer, or `dflt` when absent (< 0:
 * required).  Raises on anything else, as os.time does. */
static lua_Integer get_field(lua_State *L, int idx, const char *k, lua_Integer dflt)
{
    int isnum;
    lua_Integer v;
    lua_getfield(L, idx, k);
    v = lua_tointegerx(L, -1, &isnum);
    if (!isnum) {
        if (!lua_isnil(L, -1))
            luaL_error(L, "field '%s' is not an integer", k);
        if (dflt < 0)
            luaL_error(L, "field '%s' missing in date table", k);
        v = dflt;
    }
    lua_pop(L, 1);   /* pop the field */
    /* beyond these, a struct tm or the zone table cannot hold the answer */
    if (v < -1000000 || v > 1000000)
        luaL_error(L, "field '%s' is out of range", k);
    return v;
}

/* vigil.date([format[, t]]): os.date in the desk's zone.  `t` defaults to
 * vigil.now(); "*t" returns { year, month, day, hour, min, sec, wday
 * (1 = Sunday), yday, isdst = false }; a format starting with "!" reads UTC,
 * as os.date's does.  Returns a new string or table. */
static int v_date(lua_State *L)
{
    struct desk *d = script_rt_of(L)->desk;
    const char *fmt = luaL_optstring(L, 1, "%c");
    lua_Integer at = luaL_opt(L, luaL_checkinteger, 2, desk_now(d));
    char out[DATE_OUT_MAX];
    struct tm tm;
    size_t n;

    luaL_argcheck(L, strlen(fmt) <= DATE_FORMAT_MAX, 1, "format too long");
    if (*fmt == '!') {
        time_t t = (time_t)at;
        memset(&tm, 0, sizeof tm);
        if (!gmtime_r(&t, &tm))
            return luaL_error(L, "time out of range");
        fmt++;
    } else {
        desk_local_time(d, (int64_t)at, &tm);
    }
    if (strcmp(fmt, "*t") == 0) {
        lua_createtable(L, 0, 9);
        set_field(L, "year", tm.tm_year + 1900);
        set_field(L, "month", tm.tm_mon + 1);
        set_field(L, "day", tm.tm_mday);
        set_field(L, "hour", tm.tm_hour);
        set_field(L, "min", tm.tm_min);
        set_field(L, "sec", tm.tm_sec);
        set_field(L, "wday", tm.tm_wday + 1);
        set_field(L, "yday", tm.tm_yday + 1);
        lua_pushboolean(L, 0);
        lua_setfield(L, -2, "isdst");
        return 1;
    }
    n = strftime(out, sizeof out, fmt, &tm);
    if (n == 0 && *fmt)
        return luaL_error(L, "date format gives nothing or more than %d bytes", DATE_OUT_MAX);
    lua_pushlstring(L, out, n);
    return 1;
}

/* vigil.time([table]): os.time in the desk's zone: the instant its clocks
 * show { year, month, day[, hour = 12, min = 0, sec = 0] } (fields out of
 * range carry over: day = 32 is next month's 1st); vigil.now() without a
 * table.  A clock time skipped by a change to summer time lands as far past
 * the change as meant; one shown twice is the first. */
static int v_time(lua_State *L)
{
    struct desk *d = script_rt_of(L)->desk;
    struct tm tm;

    if (lua_isnoneornil(L, 1)) {
        lua_pushinteger(L, desk_now(d));
        return 1;
    }
    luaL_checktype(L, 1, LUA_TTABLE);
    memset(&tm, 0, sizeof tm);
    tm.tm_year = (int)(get_field(L, 1, "year", -1) - 1900);
    tm.tm_mon = (int)(get_field(L, 1, "month", -1) - 1);
    tm.tm_mday = (int)get_field(L, 1, "day", -1);
    tm.tm_hour = (int)get_field(L, 1, "hour", 12);
    tm.tm_min = (int)get_field(L, 1, "min", 0);
    tm.tm_sec = (int)get_field(L, 1, "sec", 0);
    lua_pushinteger(L, (lua_Integer)desk_local_instant(d, &tm));
    return 1;
}

void api_time_open(lua_State *L)
{
    static const luaL_Reg time_f[] = {
        { "date", v_date }, { "time", v_time }, { NULL, NULL },
    };
    luaL_setfuncs(L, time_f, 0);   /* into the vigil table at the top */
}
