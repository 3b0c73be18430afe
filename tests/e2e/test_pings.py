"""End-to-end: who the desk's own lines notify, against the fake Slack, which
counts the notifications Slack would send for each message ("pings"). An
assignment by someone else pings the new assignee, taking a ticket yourself
pings no one, taking someone else's ticket pings them, the auto-assignment
hook pings whom it chose, and an escalation pings the on-duty group
(sla.notify). Tweets and staff names, whatever they say, ping nobody."""
import os
import subprocess
import sys

from harness import ROOT, Bot, Raw, outbox_drained, query, vigil_path, wait_for, write_config

sys.path.insert(0, os.path.join(ROOT, "tests", "fakes"))
from fake_slack import FakeSlack  # noqa: E402

TOKENS = {"SLACK_APP_TOKEN": "xapp-1-test", "SLACK_BOT_TOKEN": "xoxb-test"}
# a hostile display name: a name reaches Slack as text, never as a mention
STAFF = {"U1": {"name": "Alice <!subteam^S0ONCALL>", "role": "lead"},
         "U2": {"name": "Bob <@U1>", "role": "agent"},
         "U3": {"name": "Dana Lee", "role": "agent"}}
HOSTILE = "my order <!channel> <@U1> <!subteam^S0ONCALL> @here is late"


def fake():
    fs = FakeSlack(app_token="xapp-1-test", bot_token="xoxb-test",
                   channels=("C_MENTIONS", "C_ESCALATE"),
                   users={"U1": {"name": "alice", "real_name": "Alice"},
                          "U2": {"name": "bob", "real_name": "Bob"},
                          "U3": {"name": "dana", "real_name": "Dana Lee"}})
    fs.start()
    return fs


def start(tmp, fs, **keys):
    replay = os.path.join(tmp, "none.jsonl")
    open(replay, "w").close()
    cfg = write_config(
        tmp, chat="slack", staff=STAFF, replay={"file": replay, "interval": 0.05},
        channels={"mentions": "C_MENTIONS", "escalations": "C_ESCALATE"},
        sla={"notify": "S0ONCALL"},
        slack={"app_token": Raw('env("SLACK_APP_TOKEN")'),
               "bot_token": Raw('env("SLACK_BOT_TOKEN")'),
               "api_url": fs.api_url, "post_rate": 50, "ping_interval": 1},
        **keys)
    bot = Bot(tmp, cfg, env=TOKENS)
    bot.wait_started()
    fs.wait_connected()
    return bot, cfg, os.path.join(tmp, "vigil.db")


def inject(cfg, *texts):
    args = [a for t in texts for a in ("-e", ":inject " + t)]
    r = subprocess.run([vigil_path(), "repl", "-c", cfg, *args], cwd=ROOT, capture_output=True,
                       text=True, timeout=30, env=dict(os.environ, NO_COLOR="1", **TOKENS))
    assert r.returncode == 0, r


def slash(fs, text, user):
    return fs.wait_ack(fs.send_slash(text, user_id=user))["payload"]["text"]


def said(fs, channel, needle):
    return [m for m in fs.messages(channel) if needle in m["text"]]


def one_line(fs, bot, needle, channel="C_MENTIONS"):
    wait_for(lambda: said(fs, channel, needle), 10, repr(needle), bot)
    line, = said(fs, channel, needle)
    return line


def test_assignment_pings_the_assignee_and_the_previous_one_but_never_who_took_it(tmp):
    fs = fake()
    try:
        bot, cfg, dbp = start(tmp, fs)
        inject(cfg, "@ann " + HOSTILE, "@ben " + HOSTILE, "@cat " + HOSTILE)
        wait_for(lambda: query(dbp, "SELECT count(*) FROM tickets")[0][0] == 3, 10, "tickets", bot)

        assert "#1 is now" in slash(fs, "assign 1 @bob", "U1")
        by_other = one_line(fs, bot, "assigned #1 to Bob")
        assert by_other["pings"] == ["@U2"], by_other

        slash(fs, "assign 2 me", "U2")
        took = one_line(fs, bot, "took #2")
        assert took["pings"] == [], took

        # Alice gives Bob's #2 to Dana: Dana and Bob hear of it
        slash(fs, "assign 2 @dana", "U1")
        moved = one_line(fs, bot, "assigned #2 to Dana Lee")
        assert "it is no longer yours" in moved["text"], moved
        assert moved["pings"] == ["@U3", "@U2"], moved

        # Dana takes Bob's #1 herself: only Bob hears of it
        slash(fs, "assign 1 me", "U3")
        taken = one_line(fs, bot, "Dana Lee took #1")
        assert taken["pings"] == ["@U2"], taken

        slash(fs, "escalate 3 the customer <@U2> is angry", "U1")
        esc = one_line(fs, bot, "#3 escalated by", "C_ESCALATE")
        assert esc["text"].startswith("<!subteam^S0ONCALL> #3 escalated by"), esc["text"]
        assert esc["pings"] == ["!subteam^S0ONCALL"], esc

        wait_for(lambda: outbox_drained(dbp), 10, "the outbox", bot)
        alerts = {m["ts"] for m in (by_other, moved, taken, esc)}
        others = [(m["text"][:60], m["pings"])
                  for m in fs.messages("C_MENTIONS") + fs.messages("C_ESCALATE")
                  if m["ts"] not in alerts and m.get("pings")]
        assert others == [], others
        assert fs.errors == [], fs.errors
        assert bot.stop()[0] == 0
    finally:
        fs.stop()


def test_the_autoassign_hook_pings_whom_it_chose(tmp):
    fs = fake()
    try:
        bot, cfg, dbp = start(tmp, fs, autoassign={"mode": "round_robin"})
        assert "You are away" in slash(fs, "away 2h", "U1")
        assert "You are away" in slash(fs, "away 2h", "U3")
        inject(cfg, "@ann " + HOSTILE)
        wait_for(lambda: query(dbp, "SELECT assignee FROM tickets") == [("U2",)], 10,
                 "the assignment", bot)
        line = one_line(fs, bot, "assigned #1 to Bob")
        assert line["pings"] == ["@U2"], line
        (actor,), = query(dbp, "SELECT actor FROM events WHERE action = 'assigned'")
        assert actor == "hook:autoassign.lua", actor
        wait_for(lambda: outbox_drained(dbp), 10, "the outbox", bot)
        others = [(m["text"][:60], m["pings"]) for m in fs.messages("C_MENTIONS")
                  if m["ts"] != line["ts"] and m.get("pings")]
        assert others == [], others
        assert fs.errors == [], fs.errors
        assert bot.stop()[0] == 0
    finally:
        fs.stop()
