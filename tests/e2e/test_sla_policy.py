"""End-to-end: the SLA policy against the strict fake Slack, which counts
the notifications Slack would send for each message ("pings"): a warning
pings the assignee or, unassigned, the on-duty group (sla.notify); a breach
line and the escalation it causes too; a tweet, whatever it says, pings
nobody; outside business hours the clock waits."""
import datetime
import json
import os
import re
import sys
import time

from harness import ROOT, Bot, Raw, query, wait_for, write_config

sys.path.insert(0, os.path.join(ROOT, "tests", "fakes"))
from fake_slack import FakeSlack  # noqa: E402

TOKENS = {"SLACK_APP_TOKEN": "xapp-1-test", "SLACK_BOT_TOKEN": "xoxb-test"}
STAFF = {"U1": {"name": "Alice Jensen", "initials": "AJ", "role": "lead"},
         "U2": {"name": "Bob Okafor", "initials": "BO", "role": "agent"}}
HOSTILE = "@AcmeSupport <!channel> <@U1> <!subteam^S0ONCALL> @here &lt;!here&gt; help!"


SECRETS = {"X_BEARER": "bearer-test", "X_CK": "ck-test", "X_CS": "cs-secret-test",
           "X_TK": "tk-test", "X_TS": "ts-secret-test"}


def start(tmp, fs, fx, sla):
    """vigil between the fake Slack and the fake X, with `sla`."""
    cfg = write_config(
        tmp, chat="slack", source="x", staff=STAFF,
        channels={"mentions": "C_MENTIONS", "escalations": "C_ESCALATE", "on_duty": "@oncall"},
        sla=sla,
        slack={"app_token": Raw('env("SLACK_APP_TOKEN")'),
               "bot_token": Raw('env("SLACK_BOT_TOKEN")'),
               "api_url": fs.api_url, "post_rate": 50, "ping_interval": 1, "idle_timeout": 5},
        x={"api_url": fx.api_url, "handle": "AcmeSupport", "bearer_token": Raw('env("X_BEARER")'),
           "oauth1": {"consumer_key": Raw('env("X_CK")'), "consumer_secret": Raw('env("X_CS")'),
                      "token": Raw('env("X_TK")'), "token_secret": Raw('env("X_TS")')},
           "poll_interval": 0.2, "max_results": 100, "backfill": 50},
        outbox={"x_rate": 50})
    bot = Bot(tmp, cfg, env=dict(TOKENS, **SECRETS))
    bot.wait_started()
    fs.wait_connected()
    return bot, os.path.join(tmp, "vigil.db")


def fakes():
    from fake_x import FakeX
    fs = FakeSlack(app_token="xapp-1-test", bot_token="xoxb-test",
                   channels=("C_MENTIONS", "C_ESCALATE"),
                   users={"U1": {"name": "alice", "real_name": "Alice Jensen"},
                          "U2": {"name": "bob", "real_name": "Bob Okafor"}})
    fs.start()
    fx = FakeX(brand_id="1500000000000000001", brand_username="AcmeSupport",
               bearer=SECRETS["X_BEARER"],
               oauth1=dict(consumer_key="ck-test", consumer_secret="cs-secret-test",
                           token="tk-test", token_secret="ts-secret-test"))
    fx.start()
    return fs, fx


def lines(fs, needle):
    return [m for m in fs.messages("C_MENTIONS") if needle in m["text"]]


def test_sla_warnings_ping_the_assignee_or_the_on_duty_group_and_tweets_ping_nobody(tmp):
    fs, fx = fakes()
    try:
        # #1 was tweeted 40 s ago: 20 s left of its minute, warned at once,
        # missed 20 s later; #2 just now: warned once 50 s are left
        fx.add_mention(HOSTILE, author=("41", "ann", "Ann <!here>"), created_at=time.time() - 40)
        fx.add_mention(HOSTILE, author=("43", "bea", "Bea @channel"), created_at=time.time())
        bot, dbp = start(tmp, fs, fx, {
            "first_response": 60, "warn": Raw("{ 50 }"), "notify": "S0ONCALL",
            "check_interval": 0.2})
        wait_for(lambda: query(dbp, "SELECT count(*) FROM tickets")[0][0] == 2, 10, "tickets", bot)
        (two,), = query(dbp, "SELECT id FROM tickets WHERE customer_handle='bea'")
        env = fs.send_slash(f"assign {two} @bob", user_id="U1")
        fs.wait_ack(env)

        wait_for(lambda: lines(fs, "First-response target missed for #1"), 40, "the breach", bot)
        wait_for(lambda: lines(fs, f"#{two} (@bea) has"), 30, "#2's warning", bot)
        warn1, = lines(fs, "#1 (@ann) has")
        breach1, = lines(fs, "First-response target missed for #1")
        warn2, = lines(fs, f"#{two} (@bea) has")
        # unassigned: the on-duty group; assigned: the assignee, nobody else
        assert warn1["pings"] == ["!subteam^S0ONCALL"], warn1
        assert breach1["pings"] == ["!subteam^S0ONCALL"], breach1
        assert warn2["pings"] == ["@U2"], warn2
        assert warn1.get("thread_ts") and warn2.get("thread_ts")
        # the breach escalated #1 (the default hook): that post pings too
        wait_for(lambda: fs.messages("C_ESCALATE"), 10, "the escalation post", bot)
        esc, = fs.messages("C_ESCALATE")
        assert esc["text"].startswith("<!subteam^S0ONCALL> #1 escalated by"), esc["text"]
        assert esc["pings"] == ["!subteam^S0ONCALL"], esc
        # the assignment by Alice pings Bob (test_pings.py); every other
        # message, the tickets quoting the hostile tweet: no notification
        assigned, = lines(fs, f"Alice Jensen assigned #{two} to Bob Okafor")
        assert assigned["pings"] == ["@U2"], assigned
        alerts = {warn1["ts"], breach1["ts"], warn2["ts"], esc["ts"], assigned["ts"]}
        others = [(m["text"][:60], m["pings"])
                  for m in fs.messages("C_MENTIONS") + fs.messages("C_ESCALATE")
                  if m["ts"] not in alerts and m.get("pings")]
        assert others == [], others
        assert any("&lt;!channel&gt;" in m["text"] for m in fs.messages("C_MENTIONS"))
        # each said once, and the breach escalated by the default hook
        assert query(dbp, "SELECT count(*) FROM events WHERE ticket_id=1 AND "
                          "action='sla warning'")[0][0] == 1
        (reason,), = query(dbp, "SELECT escalation_reason FROM tickets WHERE id=1")
        assert reason == "first-response target missed", reason
        assert fs.errors == [], fs.errors
        assert bot.stop()[0] == 0
    finally:
        fs.stop()
        fx.stop()


def test_outside_business_hours_the_clock_waits_for_the_next_opening(tmp):
    fs, fx = fakes()
    try:
        now = datetime.datetime.now(datetime.timezone.utc)
        day = now.replace(hour=0, minute=0, second=0, microsecond=0)
        # hours that leave out the last half hour, every day of the week
        if now.hour < 12:
            span, opening = "13:00-23:00", day + datetime.timedelta(hours=13)
        else:
            span, opening = "01:00-11:00", day + datetime.timedelta(days=1, hours=1)
        hours = {d: span for d in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")}
        hours["timezone"] = "UTC"
        fx.add_mention("@AcmeSupport hello?", author=("44", "cat", "Cat"),
                       created_at=time.time() - 1800)
        bot, dbp = start(tmp, fs, fx, {
            "first_response": 600, "warn": Raw("{ 300 }"), "notify": "S0ONCALL",
            "check_interval": 0.2, "hours": hours})
        wait_for(lambda: query(dbp, "SELECT chat_ref FROM tickets WHERE id=1") and
                 query(dbp, "SELECT chat_ref FROM tickets WHERE id=1")[0][0], 10, "the ticket",
                 bot)
        (due,), = query(dbp, "SELECT sla_due_at FROM tickets WHERE id=1")
        assert due == int(opening.timestamp()) + 600, (due, opening)
        time.sleep(1)   # a few checks: nothing is due
        assert query(dbp, "SELECT count(*) FROM events WHERE action LIKE 'sla%'")[0][0] == 0
        msg, = [m for m in fs.messages("C_MENTIONS") if not m.get("thread_ts")]
        # the message says when, as Slack's own date, not a countdown
        assert f"first response due <!date^{due}^" in json.dumps(msg["blocks"]), msg["blocks"]
        assert fs.errors == [], fs.errors
        assert bot.stop()[0] == 0
    finally:
        fs.stop()
        fx.stop()


def test_a_follow_up_after_a_reply_starts_the_next_response_clock_and_pings_the_assignee(tmp):
    fs, fx = fakes()
    try:
        first = fx.add_mention("@AcmeSupport where is my order?", author=("41", "ann", "Ann"),
                               created_at=time.time())
        bot, dbp = start(tmp, fs, fx, {
            "first_response": 600, "follow_up": 60, "warn": Raw("{ 50 }"),
            "notify": "S0ONCALL", "check_interval": 0.2})
        wait_for(lambda: query(dbp, "SELECT count(*) FROM tickets")[0][0] == 1, 10, "ticket", bot)
        fs.wait_ack(fs.send_slash("assign 1 me", user_id="U1"))
        fs.wait_ack(fs.send_slash("reply 1 It ships today", user_id="U1"))
        fx.wait_tweets(1)
        wait_for(lambda: query(dbp, "SELECT first_response_at FROM tickets")[0][0], 10,
                 "X's confirmation", bot)
        # the customer answers 40 s ago (X's clock): 20 s of the minute left
        fx.add_mention("@AcmeSupport it does not, the tracking is stuck",
                       author=("41", "ann", "Ann"), conversation_id=first,
                       created_at=time.time() - 40)
        wait_for(lambda: lines(fs, "Next-response target missed for #1"), 40, "the breach", bot)
        warn, = lines(fs, "left to its next response target")
        breach, = lines(fs, "Next-response target missed for #1")
        assert warn["pings"] == ["@U1"] and breach["pings"] == ["@U1"], (warn, breach)
        (reason, fbreached, sbreached), = query(
            dbp, "SELECT escalation_reason, followup_breached, sla_breached FROM tickets")
        assert (reason, fbreached, sbreached) == ("next-response target missed", 1, 0)
        wait_for(lambda: fs.messages("C_ESCALATE"), 10, "the escalation post", bot)
        esc, = fs.messages("C_ESCALATE")
        assert esc["pings"] == ["@U1"], esc
        pinged = [m["text"][:50] for m in fs.messages("C_MENTIONS") + fs.messages("C_ESCALATE")
                  if m.get("pings") and m["ts"] not in (warn["ts"], breach["ts"], esc["ts"])]
        assert pinged == [], pinged
        assert fs.errors == [], fs.errors
        assert bot.stop()[0] == 0
    finally:
        fs.stop()
        fx.stop()


def test_the_console_shows_who_a_warning_would_ping(tmp):
    """The console notifies no one; it shows the ping as "🔔 @name"."""
    page = {"data": [{"id": "1860000000000000009", "text": "@AcmeSupport hello?",
                      "author_id": "41", "created_at": "2026-11-20T09:00:00.000Z",
                      "conversation_id": "1860000000000000009",
                      "edit_history_tweet_ids": ["1860000000000000009"]}],
            "includes": {"users": [{"id": "41", "name": "Ann", "username": "ann"}]},
            "meta": {"newest_id": "1860000000000000009", "result_count": 1}}
    replay = os.path.join(tmp, "one.jsonl")
    with open(replay, "w") as f:
        f.write(json.dumps(page) + "\n")
    cfg = write_config(tmp, replay={"file": replay, "interval": 0.05},
                       channels={"on_duty": "@oncall"},
                       sla={"first_response": 60, "warn": Raw("{ 55 }"), "notify": "S0ONCALL",
                            "check_interval": 0.2})
    bot = Bot(tmp, cfg)
    bot.wait_started()
    # the replay stamps its tweets with the time it reads them: 55 s left in 5 s
    wait_for(lambda: "\U0001F514" in bot.stdout(), 20, "the warning", bot)
    line, = [x for x in bot.stdout().splitlines() if "\U0001F514" in x]
    assert re.search("\U0001F514 @oncall: #1 \\(@ann\\) has [1-5]?[0-9]s left to its first "
                     "response target: @oncall", line), line
    assert bot.stop()[0] == 0
