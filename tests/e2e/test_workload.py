"""End-to-end: presence, workload and auto-assignment with the fake Slack:
/tw away and /tw back (stored, audited, surviving a restart), /tw workload,
and scripts/hooks/autoassign.lua giving new tickets round-robin or to the
least loaded agent, skipping one who is away and one at the cap, its
rotation kept in the hook's kv across a restart."""
import os
import subprocess
import sys

from harness import ROOT, SAMPLE, Bot, Raw, outbox_drained, query, replay_done, vigil_path, \
    wait_for, write_config

sys.path.insert(0, os.path.join(ROOT, "tests", "fakes"))
from fake_slack import FakeSlack  # noqa: E402

TOKENS = {"SLACK_APP_TOKEN": "xapp-1-test", "SLACK_BOT_TOKEN": "xoxb-test"}
STAFF = {"U1": {"name": "Alice Jensen", "role": "lead"},
         "U2": {"name": "Bob Okafor", "role": "agent"},
         "U3": {"name": "Dana Lee", "role": "agent"}}


def fake():
    fs = FakeSlack(app_token="xapp-1-test", bot_token="xoxb-test",
                   channels=("C_MENTIONS", "C_ESCALATE"),
                   users={"U1": {"name": "alice", "real_name": "Alice Jensen"},
                          "U2": {"name": "bob", "real_name": "Bob Okafor"},
                          "U3": {"name": "dana", "real_name": "Dana Lee"}})
    fs.start()
    return fs


def start(tmp, fs, replay=SAMPLE, **keys):
    cfg = write_config(
        tmp, chat="slack", staff=STAFF,
        replay={"file": replay, "interval": 0.05},
        channels={"mentions": "C_MENTIONS", "escalations": "C_ESCALATE"},
        slack={"app_token": Raw('env("SLACK_APP_TOKEN")'),
               "bot_token": Raw('env("SLACK_BOT_TOKEN")'),
               "api_url": fs.api_url, "post_rate": 50, "ping_interval": 1},
        **keys)
    bot = Bot(tmp, cfg, env=TOKENS)
    bot.wait_started()
    fs.wait_connected()
    return bot, cfg, os.path.join(tmp, "vigil.db")


def slash(fs, text, user):
    return fs.wait_ack(fs.send_slash(text, user_id=user))["payload"]["text"]


def repl(cfg, *lines):
    args = [a for line in lines for a in ("-e", line)]
    r = subprocess.run([vigil_path(), "repl", "-c", cfg, *args], cwd=ROOT, capture_output=True,
                       text=True, timeout=30, env=dict(os.environ, NO_COLOR="1", **TOKENS))
    assert r.returncode == 0, r
    return r.stdout


def assignees(dbp):
    return [a for (a,) in query(dbp, "SELECT coalesce(assignee, '-') FROM tickets ORDER BY id")]


def empty_replay(tmp):
    path = os.path.join(tmp, "none.jsonl")
    open(path, "w").close()
    return path


def test_away_back_and_workload_in_slack_and_an_absence_survives_a_restart(tmp):
    fs = fake()
    try:
        bot, cfg, dbp = start(tmp, fs)
        wait_for(lambda: replay_done(dbp) and outbox_drained(dbp), 30, "replay", bot)
        assert "You are away (dentist) until" in slash(fs, "away dentist 2h", "U2")
        assert "#3 is now Bob Okafor's" in slash(fs, "assign 3 @bob", "U1")
        assert "needs the lead role" in slash(fs, "back @alice", "U2")
        text = slash(fs, "workload", "U1")
        assert "Bob Okafor" in text and "away until" in text and "(dentist)" in text, text
        assert "Alice Jensen" in text and "available" in text, text
        assert "Unassigned: 8" in text, text
        assert "#3 (" in text, text      # Bob's oldest ticket still waiting for a reply
        assert bot.stop()[0] == 0

        bot, cfg, dbp = start(tmp, fs)
        text = slash(fs, "workload", "U3")
        assert "(dentist)" in text, text
        assert slash(fs, "back", "U2") == "Welcome back."
        assert "available" in slash(fs, "workload", "U2").split("Bob Okafor")[1].split("\n")[0]
        audit = query(dbp, "SELECT actor, action FROM events WHERE ticket_id IS NULL "
                           "AND action IN ('away', 'back') ORDER BY id")
        assert audit == [("U2", "away"), ("U2", "back")], audit
        assert fs.errors == [], fs.errors
        assert bot.stop()[0] == 0
    finally:
        fs.stop()


def test_autoassign_round_robin_skips_the_away_agent_and_keeps_its_place_across_a_restart(tmp):
    fs = fake()
    try:
        replay = empty_replay(tmp)
        keys = dict(autoassign={"mode": "round_robin"})
        bot, cfg, dbp = start(tmp, fs, replay=replay, **keys)
        assert "You are away" in slash(fs, "away", "U2")
        repl(cfg, ":inject @ann my order is late", ":inject @ben where is my refund",
             ":inject @cat the app crashes")
        wait_for(lambda: assignees(dbp) == ["U1", "U3", "U1"], 10, "three assigned tickets", bot)
        wait_for(lambda: outbox_drained(dbp), 10, "the outbox", bot)
        first = [m for m in fs.messages("C_MENTIONS") if not m.get("thread_ts")
                 and (m.get("metadata") or {}).get("event_payload", {}).get("ticket") == 1][0]
        thread = [r["text"] for r in fs.thread("C_MENTIONS", first["ts"])]
        assert any("assigned #1 to Alice Jensen" in t for t in thread), thread
        assert "assigned to Alice Jensen" in str(first["blocks"]), first["blocks"]
        actors = query(dbp, "SELECT DISTINCT actor FROM events WHERE action = 'assigned'")
        assert actors == [("hook:autoassign.lua",)], actors
        assert bot.stop()[0] == 0

        bot, cfg, dbp = start(tmp, fs, replay=replay, **keys)
        assert query(dbp, "SELECT value FROM kv WHERE scope = 'hooks/autoassign.lua' "
                          "AND key = 'last'") == [('"U1"',)]
        repl(cfg, ":inject @dan hello?")
        wait_for(lambda: len(assignees(dbp)) == 4, 10, "the fourth ticket", bot)
        assert assignees(dbp) == ["U1", "U3", "U1", "U3"], assignees(dbp)
        assert fs.errors == [], fs.errors
        assert bot.stop()[0] == 0
    finally:
        fs.stop()


def test_autoassign_least_loaded_picks_the_emptiest_and_skips_the_away_and_one_at_the_cap(tmp):
    fs = fake()
    try:
        bot, cfg, dbp = start(tmp, fs, replay=empty_replay(tmp),
                              autoassign={"mode": "least_loaded", "cap": 2})
        assert "You are away" in slash(fs, "away", "U2")
        repl(cfg, ":inject @ann one")                       # all at 0: Alice (first)
        wait_for(lambda: assignees(dbp) == ["U1"], 10, "#1", bot)
        repl(cfg, "/tw assign 1 @dana")                     # Alice 0, Dana 1
        repl(cfg, ":inject @ben two")                       # round robin would say Dana
        wait_for(lambda: len(assignees(dbp)) == 2, 10, "#2", bot)
        assert assignees(dbp) == ["U3", "U1"], assignees(dbp)
        repl(cfg, ":inject @cat three")                     # 1 each: after Alice, Dana
        repl(cfg, ":inject @dan four")                      # Dana at the cap (2): Alice
        repl(cfg, ":inject @eve five")                      # both at the cap, Bob away
        wait_for(lambda: len(assignees(dbp)) == 5, 10, "#5", bot)
        assert assignees(dbp) == ["U3", "U1", "U3", "U1", "-"], assignees(dbp)
        assert "autoassign: nobody available for #5" in bot.stderr()
        text = slash(fs, "workload", "U1")
        print("     " + text.replace("\n", "\n     "))   # what the lead reads
        assert "Unassigned: 1" in text, text
        assert "at the auto-assign cap (2)" in text.split("Dana Lee")[1].split("\n")[0], text
        assert fs.errors == [], fs.errors
        assert bot.stop()[0] == 0
    finally:
        fs.stop()
