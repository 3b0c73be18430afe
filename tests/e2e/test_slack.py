"""End-to-end: the real vigil against the strict fake Slack (Socket Mode +
Web API): tickets as live messages, commands and buttons, acks, refresh,
dead sockets, rate limits, escaping."""
import http.client
import json
import os
import sys
import time

from harness import ROOT, SAMPLE, Bot, Raw, outbox_drained, query, replay_done, seeded, stop_fakes, \
    wait_for, write_config

sys.path.insert(0, os.path.join(ROOT, "tests", "fakes"))
from fake_slack import FakeSlack  # noqa: E402

TOKENS = {"SLACK_APP_TOKEN": "xapp-1-test", "SLACK_BOT_TOKEN": "xoxb-test"}
STAFF = {"U1": {"name": "Alice Jensen", "initials": "AJ", "role": "lead"},
         "U2": {"name": "Bob Okafor", "initials": "BO", "role": "agent"}}


def start(tmp, fs, replay=SAMPLE, staff=STAFF, **slack):
    cfg = write_config(
        tmp, chat="slack", staff=staff,
        replay={"file": replay, "interval": 0.05},
        channels={"mentions": "C_MENTIONS", "escalations": "C_ESCALATE", "on_duty": "@oncall"},
        slack=dict({"app_token": Raw('env("SLACK_APP_TOKEN")'),
                    "bot_token": Raw('env("SLACK_BOT_TOKEN")'),
                    "api_url": fs.api_url, "post_rate": 50, "ping_interval": 1,
                    "idle_timeout": 5}, **slack))
    bot = Bot(tmp, cfg, env=TOKENS)
    bot.wait_started()
    return bot, os.path.join(tmp, "vigil.db")


def fake(**kw):
    fs = FakeSlack(app_token="xapp-1-test", bot_token="xoxb-test",
                   channels=("C_MENTIONS", "C_ESCALATE"),
                   users={"U1": {"name": "alice", "real_name": "Alice Jensen"},
                          "U2": {"name": "bob", "real_name": "Bob Okafor"}}, **kw)
    fs.start()
    return fs


def tickets_posted(fs):
    return [m for m in fs.messages("C_MENTIONS") if not m.get("thread_ts")
            and (m.get("metadata") or {}).get("event_type") == "vigil_ticket"]


def run_replay(tmp, fs, **slack):
    bot, dbp = start(tmp, fs, **slack)
    fs.wait_connected()
    wait_for(lambda: replay_done(dbp) and outbox_drained(dbp), 30, "replay and posting", bot)
    return bot, dbp


def test_each_mention_becomes_one_message_with_blocks_and_metadata(tmp):
    fs = fake()
    try:
        bot, dbp = run_replay(tmp, fs)
        posted = tickets_posted(fs)
        numbers = [m["metadata"]["event_payload"]["ticket"] for m in posted]
        assert sorted(numbers) == list(range(1, 10)), numbers
        m = posted[0]
        assert "#1" in m["text"] and "@mettek_dk" in m["text"], m["text"]
        assert m["metadata"]["event_payload"]["tweet_id"] == "1860003783266095106"
        actions = [b for b in m["blocks"] if b["type"] == "actions"][0]["elements"]
        assert [a["action_id"] for a in actions] == ["form_reply", "form_note", "assign_me",
                                                  "form_assign", "form_escalate", "close"]
        assert all(a["value"] == "1" for a in actions)
        dump = str(m["blocks"])
        assert "https://x.com/mettek_dk/status/1860003783266095106" in dump
        # follow-ups went into the ticket's thread
        assert any("Stadig ingen pakke" in r["text"] for r in fs.thread("C_MENTIONS", m["ts"]))
        (ref,), = query(dbp, "SELECT chat_ref FROM tickets WHERE id=1")[0:1]
        assert ref == m["ts"]
        assert fs.errors == [], fs.errors
        assert bot.stop()[0] == 0
    finally:
        fs.stop()


def test_a_tweet_trying_to_ping_the_channel_pings_nobody(tmp):
    fs = fake()
    try:
        bot, dbp = run_replay(tmp, fs)
        everything = fs.messages("C_MENTIONS") + fs.messages("C_ESCALATE")
        assert any("&lt;!channel&gt;" in m["text"] for m in everything)
        pinged = [(m["text"][:60], m["pings"]) for m in everything if m.get("pings")]
        assert pinged == [], pinged
        for m in everything:
            assert m.get("parse") == "none" and not m.get("link_names"), m
        assert bot.stop()[0] == 0
    finally:
        fs.stop()


def test_slash_commands_assign_reply_escalate_close(tmp):
    fs = fake()
    try:
        bot, dbp = run_replay(tmp, fs)
        env = fs.send_slash("assign 3 me", user_id="U1")
        ack = fs.wait_ack(env)
        assert "#3 is yours now" in ack["payload"]["text"], ack
        assert ack["payload"]["response_type"] == "ephemeral"
        env = fs.send_slash("3 Sorry about the refund delay!", command="/reply", user_id="U1")
        assert "queued" in fs.wait_ack(env)["payload"]["text"]
        env = fs.send_slash("escalate 3 refund overdue", user_id="U1")
        fs.wait_ack(env)
        fs.wait_messages("C_ESCALATE", 1)
        assert "refund overdue" in fs.messages("C_ESCALATE")[0]["text"]
        env = fs.send_slash("close 3", user_id="U2")
        fs.wait_ack(env)
        wait_for(lambda: outbox_drained(dbp), 10, "outbox", bot)
        (state, assignee, escalated, reply), = query(
            dbp, "SELECT state, assignee, escalated, first_response_at IS NOT NULL "
                 "FROM tickets WHERE id=3")
        assert (state, assignee, escalated, reply) == ("closed", "U1", 1, 1)
        msg = [m for m in tickets_posted(fs) if m["metadata"]["event_payload"]["ticket"] == 3][0]
        assert msg["edits"] >= 1 and "Closed" in str(msg["blocks"]), msg
        thread = [r["text"] for r in fs.thread("C_MENTIONS", msg["ts"])]
        assert any("Alice Jensen took #3" in t for t in thread), thread
        assert any("replied publicly: Sorry about the refund delay! ^AJ" in t for t in thread)
        assert any("Bob Okafor closed #3" in t for t in thread), thread
        assert max(a["latency"] for a in fs.acks) < 3.0
        assert fs.errors == [], fs.errors
        assert bot.stop()[0] == 0
    finally:
        fs.stop()


def test_buttons_run_the_same_scripts_and_answer_privately(tmp):
    fs = fake()
    try:
        bot, dbp = run_replay(tmp, fs)
        msg = [m for m in tickets_posted(fs) if m["metadata"]["event_payload"]["ticket"] == 2][0]
        env = fs.send_block_action("assign_me", user_id="U2", message_ts=msg["ts"])
        fs.wait_ack(env)
        wait_for(lambda: query(dbp, "SELECT assignee FROM tickets WHERE id=2") == [("U2",)],
                 10, "#2 assigned by the button", bot)
        wait_for(lambda: any("#2" in e.get("text", "") for e in fs.ephemerals), 10,
                 "the private answer", bot)
        # a message posted before Escalate opened a form still escalates at once
        env = fs.send_block_action("escalate", value="2", user_id="U2", message_ts=msg["ts"])
        fs.wait_ack(env)
        wait_for(lambda: any("needs the lead role" in e.get("text", "") for e in fs.ephemerals),
                 10, "the denial", bot)
        assert query(dbp, "SELECT count(*) FROM events WHERE action='denied'") == [(1,)]
        assert fs.errors == [], fs.errors
        assert bot.stop()[0] == 0
    finally:
        fs.stop()


def test_non_staff_may_only_ask_for_help(tmp):
    fs = fake()
    try:
        bot, dbp = run_replay(tmp, fs)
        env = fs.send_slash("close 1", user_id="U999", user_name="mallory")
        assert "Only support staff" in fs.wait_ack(env)["payload"]["text"]
        env = fs.send_slash("help", user_id="U999", user_name="mallory")
        assert "reply" in fs.wait_ack(env)["payload"]["text"]
        assert query(dbp, "SELECT state FROM tickets WHERE id=1") == [("open",)]
        assert bot.stop()[0] == 0
    finally:
        fs.stop()


def test_refresh_with_and_without_warning_loses_and_doubles_no_command(tmp):
    fs = fake()
    try:
        bot, dbp = run_replay(tmp, fs)
        sent = []
        for i, reason in enumerate(["warning", "refresh_requested", "warning"]):
            old = fs.wait_connected()[0]
            sent.append(fs.send_slash(f"note 1 before {reason} {i}", user_id="U1"))
            fs.disconnect(reason, conn=old, close_after=3.0)
            sent.append(fs.send_slash(f"note 1 during {reason} {i}", user_id="U1", conn=old))
            wait_for(lambda: old not in fs.connections() and len(fs.connections()) == 1,
                     10, "the switch to a new socket", bot)
            sent.append(fs.send_slash(f"note 1 after {reason} {i}", user_id="U1"))
        for env in sent:
            fs.wait_ack(env)
        notes = [d for (d,) in query(dbp, "SELECT detail FROM events WHERE action='note'")]
        assert len(notes) == len(sent) == len(set(notes)), notes
        assert fs.unacked() == []
        assert fs.errors == [], fs.errors
        opens = [e for e in fs.connection_log if e[1] == "opened"]
        assert len(opens) == 4, fs.connection_log
        assert bot.stop()[0] == 0
    finally:
        fs.stop()


def test_a_silent_socket_is_replaced_and_a_dropped_one_reconnects_without_a_storm(tmp):
    fs = fake()
    fs.server_ping_interval = None
    try:
        bot, dbp = start(tmp, fs, idle_timeout=2, ping_interval=0.5)
        first = fs.wait_connected()[0]
        fs.set_pong(False)            # half-open: nothing comes back any more
        wait_for(lambda: first not in fs.connections() and fs.connections(), 10,
                 "the dead socket to be replaced", bot)
        fs.set_pong(True)
        for _ in range(3):
            fs.wait_connected()
            fs.drop()
        fs.wait_connected()
        env = fs.send_slash("whoami", user_id="U1")
        assert "Alice Jensen" in fs.wait_ack(env)["payload"]["text"]
        opens = [e for e in fs.connection_log if e[1] == "opened"]
        assert len(opens) <= 6, fs.connection_log      # one per loss, no storm
        assert "slack: not connected; retrying" in bot.stderr()
        assert bot.stop()[0] == 0
    finally:
        fs.stop()


def test_rate_limited_posts_wait_for_retry_after_and_all_arrive_in_order(tmp):
    fs = fake()
    fs.rate_limit("chat.postMessage", per_sec=2, burst=1, retry_after=1)
    replay = os.path.join(tmp, "two-pages.jsonl")
    with open(SAMPLE) as f, open(replay, "w") as out:
        out.writelines(f.readlines()[:2])       # 5 tickets, no follow-ups
    try:
        bot, dbp = start(tmp, fs, replay=replay, post_rate=20)
        fs.wait_connected()
        wait_for(lambda: replay_done(dbp, pages=2) and outbox_drained(dbp), 30, "posting", bot)
        numbers = [m["metadata"]["event_payload"]["ticket"] for m in tickets_posted(fs)]
        assert numbers == list(range(1, 6)), numbers
        assert fs.count_429 > 0
        # after each 429 the bot waited Retry-After before the next post there
        posts = [c for c in fs.calls if c["method"] == "chat.postMessage"]
        for a, b in zip(posts, posts[1:]):
            if a["status"] == 429:
                assert b["t"] - a["t"] >= 0.9, (a["t"], b["t"])
        assert fs.errors == [], fs.errors
        assert bot.stop()[0] == 0
    finally:
        fs.stop()


def form_calls(fs, method):
    """The bot's calls to `method`; each must have been a form (the read
    methods' spec takes nothing else) that Slack answered ok."""
    calls = [c for c in fs.calls if c["method"] == method]
    for c in calls:
        assert c["headers"].get("content-type") == "application/x-www-form-urlencoded", c
        assert c["response"]["ok"], c
    return calls


def test_a_teammate_without_a_configured_name_shows_under_their_slack_name(tmp):
    fs = fake()
    fs.users["U3"] = {"name": "carol", "real_name": "Carol Diaz", "display_name": "Carol D"}
    try:
        bot, dbp = run_replay(tmp, fs, staff=dict(STAFF, U3={"role": "agent"}))
        fs.wait_ack(fs.send_slash("assign 3 me", user_id="U3"))
        fs.wait_calls("users.info", 1)
        ack = fs.wait_ack(fs.send_slash("close 3", user_id="U3"))
        assert "closed" in ack["payload"]["text"], ack

        def shown():
            return [m for m in tickets_posted(fs) if m["metadata"]["event_payload"]["ticket"] == 3][0]
        wait_for(lambda: "Closed" in str(shown()["blocks"]), 10, "#3 shown closed", bot)
        assert "Carol D" in str(shown()["blocks"]), shown()["blocks"]
        asked = form_calls(fs, "users.info")
        assert [c["body"] for c in asked] == [{"user": "U3"}], asked   # once, then remembered
        assert fs.errors == [], fs.errors
        assert bot.stop()[0] == 0
    finally:
        fs.stop()


def test_a_post_whose_answer_was_lost_is_found_in_history_and_not_posted_twice(tmp):
    fs = fake()
    replay = os.path.join(tmp, "one-page.jsonl")
    with open(SAMPLE) as f, open(replay, "w") as out:
        out.writelines(f.readlines()[:1])       # tickets 1-3
    # Ticket 1's post reached Slack but its answer was lost (a 500): the
    # message is in the channel, and the bot must look before posting again.
    conn = http.client.HTTPConnection("127.0.0.1", fs.port, timeout=5)
    conn.request("POST", "/api/chat.postMessage", headers={
        "Authorization": "Bearer xoxb-test", "Content-Type": "application/json; charset=utf-8"},
        body=json.dumps({"channel": "C_MENTIONS", "text": "ticket 1", "metadata": {
            "event_type": "vigil_ticket", "event_payload": {"ticket": 1}}}).encode())
    lost = json.loads(conn.getresponse().read())["ts"]
    conn.close()
    fs.fail_next("chat.postMessage", "internal_error", status=500)
    try:
        bot, dbp = start(tmp, fs, replay=replay)
        fs.wait_connected()
        wait_for(lambda: replay_done(dbp, pages=1) and outbox_drained(dbp), 30, "posting", bot)
        numbers = sorted(m["metadata"]["event_payload"]["ticket"] for m in tickets_posted(fs))
        assert numbers == [1, 2, 3], numbers
        assert query(dbp, "SELECT chat_ref FROM tickets WHERE id=1") == [(lost,)]
        looked = form_calls(fs, "conversations.history")
        assert looked and all(c["body"]["channel"] == "C_MENTIONS" and
                              c["body"]["include_all_metadata"] == "true" for c in looked), looked
        assert fs.errors == [], fs.errors
        assert bot.stop()[0] == 0
    finally:
        fs.stop()


def test_a_bad_bot_token_stops_vigil_with_a_clear_message(tmp):
    fs = fake()
    try:
        cfg = write_config(tmp, chat="slack", slack={
            "app_token": Raw('env("SLACK_APP_TOKEN")'), "bot_token": Raw('env("SLACK_BOT_TOKEN")'),
            "api_url": fs.api_url})
        bot = Bot(tmp, cfg, env={"SLACK_APP_TOKEN": "xapp-1-test", "SLACK_BOT_TOKEN": "xoxb-wrong"})
        assert bot.proc.wait(10) == 1
        bot.out.close()
        bot.log.close()
        assert "Slack rejected the bot token (auth.test: invalid_auth)" in bot.stderr()
        assert "xoxb-wrong" not in bot.stderr()
    finally:
        fs.stop()


def burst_file(tmp, pages=50, per_page=10):
    """A replay file with pages*per_page new customers, newest first per page."""
    import json
    path = os.path.join(tmp, "burst.jsonl")
    base = 1870000000000000000
    with open(path, "w") as f:
        for p in range(pages):
            tweets = []
            users = []
            for i in range(per_page):
                n = p * per_page + i
                tid = str(base + n)
                tweets.append({"id": tid, "edit_history_tweet_ids": [tid],
                               "text": f"@AcmeSupport order {n} never arrived",
                               "author_id": str(9000 + n), "conversation_id": tid,
                               "created_at": "2026-11-20T09:00:00.000Z"})
                users.append({"id": str(9000 + n), "username": f"burst{n}", "name": f"Burst {n}"})
            tweets.reverse()
            f.write(json.dumps({"data": tweets, "includes": {"users": users},
                                "meta": {"result_count": per_page, "newest_id": tweets[0]["id"],
                                         "oldest_id": tweets[-1]["id"]}}) + "\n")
    return path


def test_a_500_mention_burst_is_posted_in_digests_without_429(tmp):
    fs = fake()
    fs.rate_limit("chat.postMessage", per_sec=25, burst=5, retry_after=1)
    try:
        replay = burst_file(tmp)
        bot, dbp = start(tmp, fs, replay=replay, post_rate=20, digest_threshold=20)
        fs.wait_connected()
        wait_for(lambda: replay_done(dbp, pages=50) and outbox_drained(dbp), 90, "the burst", bot)
        top = [m for m in fs.messages("C_MENTIONS") if not m.get("thread_ts")]
        digests = [m for m in top if (m.get("metadata") or {}).get("event_type") == "vigil_digest"]
        singles = [m for m in top if (m.get("metadata") or {}).get("event_type") == "vigil_ticket"]
        listed = [t for m in digests for t in m["metadata"]["event_payload"]["tickets"]]
        listed += [m["metadata"]["event_payload"]["ticket"] for m in singles]
        assert sorted(listed) == list(range(1, 501)), (len(listed), len(set(listed)))
        assert digests and "Busy:" in digests[0]["blocks"][0]["text"]["text"]
        assert len(top) < 100, len(top)
        assert fs.count_429 == 0
        # a digested ticket gets its own message when someone works on it
        n = digests[0]["metadata"]["event_payload"]["tickets"][1]
        env = fs.send_slash(f"assign {n} me", user_id="U1")
        fs.wait_ack(env)
        wait_for(lambda: any((m.get("metadata") or {}).get("event_payload", {}).get("ticket") == n
                             for m in fs.messages("C_MENTIONS")), 10, "its own message", bot)
        own = [m for m in fs.messages("C_MENTIONS")
               if (m.get("metadata") or {}).get("event_payload", {}).get("ticket") == n][0]
        wait_for(lambda: fs.thread("C_MENTIONS", own["ts"]), 10, "the thread line", bot)
        assert "took #%d" % n in fs.thread("C_MENTIONS", own["ts"])[0]["text"]
        assert fs.errors == [], fs.errors
        assert bot.stop()[0] == 0
    finally:
        fs.stop()


def test_events_are_acked_once_per_delivery_and_redeliveries_change_nothing(tmp):
    fs = fake()
    try:
        bot, dbp = run_replay(tmp, fs)
        before = query(dbp, "SELECT count(*) FROM events")
        ev = {"type": "message", "channel": "C_MENTIONS", "user": "UBOT", "bot_id": "BBOT",
              "text": "our own message", "ts": "1.0"}
        env = fs.send_event(ev, event_id="Ev1")
        fs.wait_ack(env)
        again = fs.send_event(ev, event_id="Ev1", retry_attempt=1, envelope_id=env)
        fs.wait_ack(again)
        other = fs.send_event({"type": "app_mention", "user": "U1", "text": "<@UBOT> hi",
                               "channel": "C_MENTIONS", "ts": "2.0"}, event_id="Ev2")
        fs.wait_ack(other)
        assert fs.unacked() == []
        assert query(dbp, "SELECT count(*) FROM events") == before
        assert fs.errors == [], fs.errors
        assert bot.stop()[0] == 0
    finally:
        fs.stop()


HOSTILE = {
    "spin": "while true do end",
    "spin_pcall": "while true do pcall(function() while true do end end) end",
    "spin_xpcall": "while true do xpcall(function() while true do end end, print) end",
    "spin_coroutine": "local co = coroutine.wrap(function() while true do end end) while true do pcall(co) end",
    "bomb_rep": "return #string.rep('x', 2^30)",
    "bomb_table": "local t = {} for i = 1, 1e8 do t[i] = ('y'):rep(100) .. i end",
    "bomb_concat": "local s = 'x' while true do s = s .. s end",
    "recurse": "local function f() return f() + 1 end return f()",
    "recurse_pcall": "local function f() return pcall(f) end return tostring(f())",
    "gc_error": "setmetatable({}, { __gc = function() error('boom') end }) collectgarbage('count') return 'ok'",
    "yield_top": "coroutine.yield(1)",
    "yield_c": "table.sort({3, 2, 1}, function(a, b) coroutine.yield() return a < b end)",
    "huge_return": "return string.rep('z', 5 * 1024 * 1024)",
    "error_table": "error({ code = 1 })",
    "error_nil": "error(nil)",
    "error_tostring": "error(setmetatable({}, { __tostring = function() error('nested') end }))",
    "error_number": "error(42)",
    "io_open": "return io.open('/etc/passwd'):read('a')",
    "os_execute": "return os.execute('id')",
    "require_io": "return require('io')",
    "require_path": "return require('../../etc/passwd')",
    "load_binary": "return load(string.char(27) .. 'Lua')()",
    "string_dump": "return string.dump(print)",
    "debug_lib": "return debug.getinfo(1)",
    "getmeta_string": "getmetatable('').__index.upper = nil",
    "setmeta_G": "setmetatable(_G, { __index = function() error('trap') end }) return undefined_name",
    "gc_stop": "collectgarbage('stop')",
    "kv_huge": "ctx.kv:set('k', string.rep('v', 2 * 1024 * 1024))",
    "deep_table": "local t = {} local c = t for i = 1, 1e6 do c.n = {} c = c.n end ctx.kv:set('deep', t)",
    "fail_table": "ctx:fail({})",
    "ticket_bogus": "return ctx:ticket('#-1; DROP TABLE tickets').id",
    # issue 14: C-side work, finalizers, trapped metamethods, swallowed kills
    "find_backtrack": "return string.find(string.rep('a', 200000), '.-b')",
    "gsub_backtrack": "return (('a'):rep(100000):gsub('a-a-b', ''))",
    "rep_empty": "return #string.rep('', 1 << 62)",
    "table_move": "table.move({}, 1, 1e12, 1, {}) return 'moved'",
    "gc_loop": "setmetatable({}, { __gc = function() while true do end end }) return 'armed'",
    "gc_late": "local mt = { __gc = true } setmetatable({}, mt) mt.__gc = function() while true do end end",
    "error_trap": "error(setmetatable({}, { __index = function() error('trap') end }))",
    "co_swallow": "coroutine.resume(coroutine.create(function() while true do end end)) "
                  "ctx.kv:set('after', 'kill') return 'completed'",
    "mem_hog": "kept = kept or {} kept[#kept + 1] = string.rep('x', 20 * 2^20) .. #kept return 'keeping'",
}
LOAD_BROKEN = {
    "load_spin": "while true do end\nreturn command { run = function() end }",
    "load_syntax": "return command { run = function( end }",
    "load_nil": "return nil",
    "load_error": "error('at load time')",
    "load_require": "require 'does.not.exist'\nreturn command { run = function() end }",
    "load_trap": "return setmetatable({}, { __index = function() error('trap') end })",
}


def test_thirty_hostile_scripts_cannot_hurt_the_bot(tmp):
    import shutil
    import threading
    sdir, ldir = os.path.join(tmp, "scripts"), os.path.join(tmp, "lua")
    shutil.copytree(os.path.join(ROOT, "scripts"), sdir)
    shutil.copytree(os.path.join(ROOT, "lua"), ldir)
    fs = fake()
    try:
        cfg = write_config(
            tmp, chat="slack", staff=STAFF, scripts={"dir": sdir, "lib": ldir},
            channels={"mentions": "C_MENTIONS", "escalations": "C_ESCALATE"},
            slack={"app_token": Raw('env("SLACK_APP_TOKEN")'), "bot_token": Raw('env("SLACK_BOT_TOKEN")'),
                   "api_url": fs.api_url, "post_rate": 50})
        bot = Bot(tmp, cfg, env=TOKENS)
        bot.wait_started()
        fs.wait_connected()
        latencies, stop = [], threading.Event()

        def steady():   # an agent working normally all along
            while not stop.is_set():
                env = fs.send_slash("whoami", user_id="U2")
                ack = fs.wait_ack(env, timeout=5)
                assert "Bob Okafor" in ack["payload"]["text"]
                time.sleep(0.05)
        worker = threading.Thread(target=steady)
        worker.start()
        for name, body in list(HOSTILE.items()) + list(LOAD_BROKEN.items()):
            path = os.path.join(sdir, f"{name.replace('_', '-')}.lua")
            src = body if name in LOAD_BROKEN else \
                f"return command {{ run = function(ctx, args)\n{body}\nend }}\n"
            with open(path + ".tmp", "w") as f:
                f.write(src)
            os.rename(path + ".tmp", path)
        time.sleep(1)
        answers = {}
        for name in HOSTILE:
            env = fs.send_slash(name.replace("_", "-"), user_id="U1")
            answers[name] = fs.wait_ack(env, timeout=5)["payload"]["text"]
        stop.set()
        worker.join(10)
        assert bot.alive()
        assert answers["spin_pcall"].startswith("Stopped:"), answers["spin_pcall"]
        assert "memory" in answers["bomb_rep"], answers["bomb_rep"]
        assert "(cut)" in answers["huge_return"]
        for name in ("find_backtrack", "gsub_backtrack", "table_move", "co_swallow"):
            assert answers[name].startswith("Stopped:"), (name, answers[name])
        assert answers["rep_empty"] == "0", answers["rep_empty"]
        assert "Command failed" in answers["gc_loop"], answers["gc_loop"]
        env = fs.send_slash("mem-hog", user_id="U1")   # it kept 20 MiB: stopped, not its neighbours
        assert "is not available" in fs.wait_ack(env)["payload"]["text"]
        assert len(HOSTILE) + len(LOAD_BROKEN) >= 30
        assert max(a["latency"] for a in fs.acks) < 3.0, max(a["latency"] for a in fs.acks)
        assert all(not a.get("late") for a in fs.acks)
        env = fs.send_slash("help", user_id="U1")
        assert "reply" in fs.wait_ack(env)["payload"]["text"]
        # the broken files were reported and none of them became a command
        for name in LOAD_BROKEN:
            env = fs.send_slash(name.replace("_", "-"), user_id="U1")
            assert "Unknown command" in fs.wait_ack(env)["payload"]["text"]
        assert query(os.path.join(tmp, "vigil.db"), "SELECT count(*) FROM tickets") is not None
        assert fs.errors == [], fs.errors
        assert bot.stop()[0] == 0
    finally:
        fs.stop()


def test_a_command_that_waited_past_slacks_deadline_is_not_run_and_its_user_is_told(tmp):
    import signal
    fs = fake()
    try:
        bot, dbp = start(tmp, fs)
        fs.wait_connected()
        wait_for(lambda: len(tickets_posted(fs)) >= 1, 20, "a ticket", bot)
        env = fs.send_slash("whoami", user_id="U2")
        assert "Bob Okafor" in fs.wait_ack(env)["payload"]["text"]
        os.kill(bot.proc.pid, signal.SIGSTOP)    # a pause: Slack's 3 s pass meanwhile
        try:
            env = fs.send_slash("note 1 typed while vigil was paused", user_id="U1")
            time.sleep(3.5)
        finally:
            os.kill(bot.proc.pid, signal.SIGCONT)
        frame = fs.wait_ack(env, timeout=5)
        assert [a["late"] for a in fs.acks if a["envelope_id"] == env] == [True], fs.acks
        assert not (frame.get("payload") or {}).get("text"), frame
        wait_for(lambda: any("was not run" in (e.get("text") or "") for e in fs.ephemerals), 5,
                 "the user to be told", bot)
        told = [e for e in fs.ephemerals if "was not run" in (e.get("text") or "")]
        assert told[0]["user"] == "U1" and told[0]["channel"] == "C_MENTIONS", told
        assert query(dbp, "SELECT count(*) FROM events WHERE action = 'note'") == [(0,)]
        env = fs.send_slash("whoami", user_id="U2")    # and the next one runs as usual
        assert "Bob Okafor" in fs.wait_ack(env)["payload"]["text"]
        assert [a["late"] for a in fs.acks if a["envelope_id"] == env] == [False]
        assert fs.errors == [], fs.errors
        assert bot.stop()[0] == 0
    finally:
        fs.stop()


def test_sigterm_during_a_burst_exits_in_time_and_the_restart_resumes(tmp):
    fs = fake()
    try:
        replay = burst_file(tmp, pages=20, per_page=10)
        bot, dbp = start(tmp, fs, replay=replay, post_rate=40, digest_threshold=0)
        fs.wait_connected()
        wait_for(lambda: len(tickets_posted(fs)) >= 20, 20, "the burst to be under way", bot)
        rc, secs = bot.stop()
        assert rc == 0 and secs < 2.0, (rc, secs)
        assert query(dbp, "SELECT count(*) FROM outbox WHERE state='inflight'") == [(0,)]
        left = query(dbp, "SELECT count(*) FROM outbox WHERE state='queued'")[0][0]
        assert left > 0, "the burst was over before the signal: nothing proven"
        bot, dbp = start(tmp, fs, replay=replay, post_rate=40, digest_threshold=0)
        wait_for(lambda: replay_done(dbp, pages=20) and outbox_drained(dbp), 60, "the rest", bot)
        numbers = sorted(m["metadata"]["event_payload"]["ticket"] for m in tickets_posted(fs))
        assert numbers == list(range(1, 201)), (len(numbers), len(set(numbers)))
        assert fs.errors == [], fs.errors
        print(f"     stopped in {secs:.2f}s with {left} jobs queued; all 200 posted once after restart")
        assert bot.stop()[0] == 0
    finally:
        fs.stop()


def test_commands_keep_flowing_through_drops_refreshes_and_silence(tmp):
    import threading
    fs = fake()
    fs.server_ping_interval = None
    try:
        bot, dbp = start(tmp, fs, idle_timeout=2, ping_interval=0.5)
        fs.wait_connected()
        # Ticket #1 comes from the replay; a note typed before it exists is
        # rightly answered "no such ticket" (the socket may be up first).
        wait_for(lambda: query(dbp, "SELECT 1 FROM tickets WHERE id=1"), 10, "ticket #1", bot)
        acked, sent, stop = [], [], threading.Event()

        def flow():   # an agent typing notes all the time
            i = 0
            while not stop.is_set():
                if fs.connections():
                    text = f"flow {i}"
                    i += 1
                    try:
                        env = fs.send_slash(f"note 1 {text}", user_id="U1")
                        sent.append(text)
                        fs.wait_ack(env, timeout=4)
                        acked.append(text)
                    except (AssertionError, OSError, ValueError):
                        pass   # the socket died under it: Slack shows the agent an error
                time.sleep(0.05)
        worker = threading.Thread(target=flow)
        worker.start()
        faults = 0
        for step in ["drop", "warning", "refresh_requested", "silence", "drop", "warning"]:
            time.sleep(1.0)
            fs.wait_connected(timeout=15)
            if step == "drop":
                fs.drop()
            elif step == "silence":
                fs.set_pong(False)           # half-open: the bot must notice on its own
                time.sleep(4)
                fs.set_pong(True)
            else:
                fs.disconnect(step, close_after=3)
            faults += 1
        fs.wait_connected(timeout=15)
        time.sleep(1.5)
        stop.set()
        worker.join(15)
        notes = [d for (d,) in query(dbp, "SELECT detail FROM events WHERE action='note'")]
        doubled = sorted({n for n in notes if notes.count(n) > 1})
        assert not doubled, f"run twice: {doubled}"
        lost = [t for t in acked if t not in notes]
        assert not lost, f"acknowledged but never run: {lost}"
        assert all(not a.get("late") for a in fs.acks), "an ack came after 3 s"
        assert len(acked) > 50, len(acked)
        assert fs.errors == [], fs.errors
        print(f"     {faults} faults, {len(sent)} commands sent, {len(acked)} acked, "
              f"max ack {max(a['latency'] for a in fs.acks) * 1000:.0f} ms, none doubled")
        assert bot.stop()[0] == 0
    finally:
        fs.stop()


def test_a_10_mb_frame_is_refused_and_the_bot_reconnects_without_growing(tmp):
    fs = fake()
    try:
        bot, dbp = start(tmp, fs)
        first = fs.wait_connected()[0]
        fs.send_event({"type": "message", "user": "U1", "channel": "C_MENTIONS", "ts": "1.0",
                       "text": "x" * (10 * 1024 * 1024)})
        wait_for(lambda: "frame larger than 1 MiB" in bot.stderr(), 20, "the refusal", bot)
        wait_for(lambda: fs.connections() and first not in fs.connections(), 20,
                 "a new socket", bot)
        env = fs.send_slash("whoami", user_id="U1")
        assert "Alice Jensen" in fs.wait_ack(env)["payload"]["text"]
        bot.assert_rss_below(100)
        assert bot.stop()[0] == 0
    finally:
        fs.stop()


def slack_and_x_config(tmp, fs, fx, post_rate, outbox, **keys):
    """A config with vigil between the fake Slack `fs` and the fake X `fx`
    (tokens from the environment: TOKENS and X_BEARER, X_CK.. X_TS); `keys`
    are more sections (reply=...)."""
    return write_config(
        tmp, chat="slack", source="x", staff=STAFF,
        channels={"mentions": "C_MENTIONS", "escalations": "C_ESCALATE"},
        slack={"app_token": Raw('env("SLACK_APP_TOKEN")'),
               "bot_token": Raw('env("SLACK_BOT_TOKEN")'), "api_url": fs.api_url,
               "post_rate": post_rate, "digest_threshold": 0},
        x={"api_url": fx.api_url, "handle": "AcmeSupport", "bearer_token": Raw('env("X_BEARER")'),
           "oauth1": {"consumer_key": Raw('env("X_CK")'), "consumer_secret": Raw('env("X_CS")'),
                      "token": Raw('env("X_TK")'), "token_secret": Raw('env("X_TS")')},
           "poll_interval": 0.2, "max_results": 100, "backfill": 50},
        outbox=outbox, **keys)


def test_what_an_agent_types_is_what_the_customer_reads(tmp):
    """A property: generated agent texts (punctuation, & < >, <3, emoji,
    links, @staff, #channel, quotes, text that looks like an entity) go
    through Slack's escaping (the fake's, as for /tw on real Slack), then
    `/tw reply N <text>`; X receives each exactly as typed, signed."""
    from fake_x import FakeX
    rnd = seeded()
    env = dict(TOKENS, X_BEARER="AAAA-esc-bearer", X_CK="ck-esc", X_CS="cs-esc-secret",
               X_TK="tk-esc", X_TS="ts-esc-secret")
    # Bob's Slack name is not his staff name: "@bokafor" finds him by the id Slack sent
    fs = FakeSlack(app_token="xapp-1-test", bot_token="xoxb-test",
                   channels=("C_MENTIONS", "C_ESCALATE"),
                   users={"U1": {"name": "alice", "real_name": "Alice Jensen"},
                          "U2": {"name": "bokafor", "real_name": "Bob Okafor"}})
    fs.start()
    fx = FakeX(brand_id="1500000000000000001", brand_username="AcmeSupport",
               bearer=env["X_BEARER"], oauth1=dict(consumer_key="ck-esc",
                                                   consumer_secret="cs-esc-secret",
                                                   token="tk-esc", token_secret="ts-esc-secret"))
    fx.rate_limits = {"mentions": (100000, 900), "tweets": (100000, 900)}
    fx.daily_limits = {"tweets": 100000, "dm": 100000}
    fx.start()
    pieces = ["&", "<", ">", "<3", "&amp;", "&lt;b&gt;", "&#60;", "<@U2>", "<!channel>",
              "<https://evil.example|click>", "|", "\"quoted\"", "'single'", "!?.,;:()[]{}*_~`",
              "\U0001F600", "\u00e6\u00f8\u00e5", "a&b", "x<y>z", "%s", "\\", "#42", "@zed",
              "@alice", "@bokafor", "@here", "#mentions", "example.com", "www.acme.dk/help",
              "https://acme.example/help?topic=refund&lang=en", "sorry", "thanks"]
    typed = ["Sorry for the delay & thanks <3",
             "Here is the guide: https://acme.example/help?topic=refund&lang=en",
             "See example.com, or ask @alice in #mentions"]
    while len(typed) < 40:
        typed.append(f"r{len(typed)} " + " ".join(rnd.choice(pieces)
                                                  for _ in range(rnd.randint(1, 6))))
    try:
        for i in range(len(typed)):
            fx.add_mention(text=f"@AcmeSupport where is order {i}?",
                           author=(str(8000 + i), f"buyer{i}", f"Buyer {i}"))
        cfg = slack_and_x_config(tmp, fs, fx, post_rate=500, outbox={"x_rate": 500})
        bot = Bot(tmp, cfg, env=env)
        bot.wait_started()
        dbp = os.path.join(tmp, "vigil.db")
        fs.wait_connected()
        wait_for(lambda: query(dbp, "SELECT count(*) FROM tickets") == [(len(typed),)], 30,
                 "a ticket per customer", bot)
        env_id = fs.send_slash("assign 2 @bokafor", user_id="U1")
        assert fs.wait_ack(env_id)["payload"]["text"] == "#2 is now Bob Okafor's."
        for n, text in enumerate(typed, 1):
            env_id = fs.send_slash(f"reply {n} {text}", user_id="U1")
            answer = fs.wait_ack(env_id)["payload"]["text"]
            assert "queued" in answer, (text, answer)
        # an address (Slack: <mailto:…>) is seen as typed, and kept out of public replies
        env_id = fs.send_slash("reply 1 write to help@acme.dk", user_id="U1")
        assert "email address (h…@acme.dk)" in fs.wait_ack(env_id)["payload"]["text"]
        fx.wait_tweets(len(typed), timeout=30)
        by_parent = {t["in_reply_to_tweet_id"]: t["text"] for t in fx.tweets}
        tweets = [tid for (tid,) in query(dbp, "SELECT tweet_id FROM tickets ORDER BY id")]
        got = [by_parent.get(tid) for tid in tweets]
        wrong = [(want, g) for want, g in zip(typed, got) if g != want + " ^AJ"]
        assert not wrong, f"typed -> tweeted, differing: {wrong[:5]}"
        # what Slack would never send (raw control sequences, a stray "<") is
        # taken as typed text, and a note quoting it pings nobody either
        env_id = fs.send_slash("note 1 <!channel> <@U2|bokafor> <broken &lt;!here&gt;", raw=True,
                               user_id="U1")
        fs.wait_ack(env_id)
        wait_for(lambda: any("&lt;broken &lt;!here&gt;" in m["text"]
                             for m in fs.messages("C_MENTIONS")), 10, "the note in the thread", bot)
        # what the thread shows is escaped again: nobody is pinged but by
        # the desk's own assignment notice (Bob, test_pings.py)
        pinged = [(m["text"][:60], m["pings"]) for m in fs.messages("C_MENTIONS") if m.get("pings")]
        assert pinged == [("<@U2> Alice Jensen assigned #2 to Bob Okafor", ["@U2"])], pinged
        assert fs.errors == [] and fx.errors == [], (fs.errors, fx.errors)
        assert bot.stop()[0] == 0
    finally:
        fs.stop()
        fx.stop()


def start_with_x(tmp, customers=3, outbox=None, fx=None, env=None, **keys):
    """vigil between the fake Slack and the fake X, one ticket per customer
    (ids 8000.., handles buyer0..); returns (fs, fx, bot, dbp).  `fx` is a
    started fake X and `env` the tokens and secrets it expects (default: a
    fake X of its own); `keys` are more config sections (reply=...)."""
    from fake_x import FakeX
    fs = fake()
    if fx is None:
        env = dict(TOKENS, X_BEARER="AAAA-rcpt-bearer", X_CK="ck-r", X_CS="cs-r-secret",
                   X_TK="tk-r", X_TS="ts-r-secret")
        fx = FakeX(brand_id="1500000000000000001", brand_username="AcmeSupport",
                   bearer=env["X_BEARER"],
                   oauth1=dict(consumer_key="ck-r", consumer_secret="cs-r-secret",
                               token="tk-r", token_secret="ts-r-secret"))
        fx.start()
    for i in range(customers):
        fx.add_mention(text=f"@AcmeSupport where is order {i}?",
                       author=(str(8000 + i), f"buyer{i}", f"Buyer {i}"))
    cfg = slack_and_x_config(tmp, fs, fx, post_rate=50,
                             outbox=dict({"x_rate": 50, "max_backoff": 0.2}, **(outbox or {})),
                             **keys)
    bot = Bot(tmp, cfg, env=env)
    bot.wait_started()
    dbp = os.path.join(tmp, "vigil.db")
    fs.wait_connected()
    wait_for(lambda: query(dbp, "SELECT count(*) FROM tickets") == [(customers,)]
             and outbox_drained(dbp), 30, "a ticket per customer, posted", bot)
    return fs, fx, bot, dbp


def thread_of(fs, n):
    msg = [m for m in tickets_posted(fs) if m["metadata"]["event_payload"]["ticket"] == n][0]
    return fs.thread("C_MENTIONS", msg["ts"])


def receipt(fs, n, head):
    lines = [m for m in thread_of(fs, n) if head in m["text"]]
    assert len(lines) <= 1, lines      # one line per send, rewritten as it goes
    return lines[0] if lines else {"text": "", "blocks": []}


def has_resend_button(m):
    return any(e.get("action_id") == "resend" for b in m.get("blocks") or []
               for e in b.get("elements", []))


def test_a_refused_dm_sends_nothing_public_and_offers_dm_ask(tmp):
    fs = fx = None
    try:
        fs, fx, bot, dbp = start_with_x(tmp, customers=2)
        fx.no_dm_users = {"8000"}          # buyer0 does not accept DMs
        env_id = fs.send_slash("dm 1 What is your order number?", user_id="U1")
        assert "Once X confirms it" in fs.wait_ack(env_id)["payload"]["text"]
        wait_for(lambda: "could not be sent" in receipt(fs, 1, "sent a DM")["text"], 15,
                 "the DM's receipt to say it failed", bot)
        line = receipt(fs, 1, "sent a DM")
        assert "does not accept DMs" in line["text"] and "dm_ask" in line["text"], line["text"]
        assert has_resend_button(line) and line["edits"] >= 1, line
        assert fx.dms == [] and fx.tweets == []          # nothing public went out on its own
        # the agent takes the offer: the customer is asked publicly to DM us
        env_id = fs.send_slash("canned 1 dm_ask", user_id="U1")
        assert "queued" in fs.wait_ack(env_id)["payload"]["text"]
        fx.wait_tweets(1)
        assert fx.tweets[0]["text"].startswith("@buyer0 we couldn't send you a DM"), fx.tweets
        # a DM that works: the public note follows it, once, with a code of its own
        env_id = fs.send_slash("dm 2 Your refund went out today", user_id="U1")
        fs.wait_ack(env_id)
        fx.wait_tweets(2)
        assert len(fx.dms) == 1 and fx.dms[0]["t"] < fx.tweets[1]["t"], (fx.dms, fx.tweets)
        assert fx.tweets[1]["text"].startswith("@buyer1 we've sent you a DM (ref "), fx.tweets
        wait_for(lambda: outbox_drained(dbp), 10, "the receipts", bot)
        assert "DM delivered." in receipt(fs, 2, "sent a DM")["text"]
        assert fs.errors == [] and fx.errors == [], (fs.errors, fx.errors)
        assert bot.stop()[0] == 0
    finally:
        stop_fakes(fs, fx)


def test_a_failed_reply_is_resent_by_its_button_and_by_command_once_each(tmp):
    fs = fx = None
    try:
        # X sends are tried twice, then fail for good
        fs, fx, bot, dbp = start_with_x(tmp, customers=2, outbox={"max_attempts": 2})
        fx.inject("tweets", "503", times=2)
        env_id = fs.send_slash("reply 1 Your parcel left today", user_id="U1")
        fs.wait_ack(env_id)
        wait_for(lambda: has_resend_button(receipt(fs, 1, "replied publicly")), 15,
                 "the receipt to offer Resend", bot)
        line = receipt(fs, 1, "replied publicly")
        assert "The reply could not be sent" in line["text"], line["text"]
        assert fx.tweets == []
        # the Resend button: the same job goes again, and reaches X once
        fs.wait_ack(fs.send_block_action("resend", channel_id="C_MENTIONS",
                                         message_ts=line["ts"], user_id="U2"))
        fx.wait_tweets(1)
        wait_for(lambda: "Reply sent: https://x.com/AcmeSupport/status/" in
                 receipt(fs, 1, "replied publicly")["text"], 10, "the receipt to say sent", bot)
        line = receipt(fs, 1, "replied publicly")
        assert not has_resend_button(line) and line["edits"] >= 3, line
        assert fx.tweets[0]["text"] == "Your parcel left today ^AJ"
        # /tw resend with edited text, after another failure
        fx.inject("tweets", "503", times=2)
        fs.wait_ack(fs.send_slash("reply 2 Sorry, wrong link", user_id="U1"))
        wait_for(lambda: has_resend_button(receipt(fs, 2, "replied publicly")), 15,
                 "the second receipt to offer Resend", bot)
        ack = fs.wait_ack(fs.send_slash("resend 2 Sorry, here is the right link", user_id="U1"))
        assert "queued again, edited: Sorry, here is the right link ^AJ" in \
            ack["payload"]["text"], ack
        fx.wait_tweets(2)
        assert fx.tweets[1]["text"] == "Sorry, here is the right link ^AJ", fx.tweets
        wait_for(lambda: outbox_drained(dbp), 10, "the receipts", bot)
        assert "Reply sent:" in receipt(fs, 2, "replied publicly (edited and resent)")["text"]
        # nothing left to resend; each resend is audited
        ack = fs.wait_ack(fs.send_slash("resend 2", user_id="U1"))
        assert "no failed reply or DM" in ack["payload"]["text"], ack
        assert query(dbp, "SELECT ticket_id, actor FROM events WHERE action='resend' "
                          "ORDER BY id") == [(1, "U2"), (2, "U1")]
        time.sleep(0.5)
        assert len(fx.tweets) == 2                      # once each, never twice
        assert fs.errors == [] and fx.errors == [], (fs.errors, fx.errors)
        assert bot.stop()[0] == 0
    finally:
        stop_fakes(fs, fx)
