"""End-to-end: Slack errors that are not transient.  A channel that refuses
the bot (not a member, archived, gone) holds its messages until a person
fixes it, then everything is posted once, in order, and the admins hear of
it once; a ticket message someone deleted is posted again; a history lookup
that fails after a crash does not hold the channel up."""
import os
import sqlite3
import subprocess
import sys

from harness import ROOT, SAMPLE, Bot, Raw, outbox_drained, query, replay_done, vigil_path, \
    wait_for, write_config

sys.path.insert(0, os.path.join(ROOT, "tests", "fakes"))
from fake_slack import FakeSlack  # noqa: E402

TOKENS = {"SLACK_APP_TOKEN": "xapp-1-test", "SLACK_BOT_TOKEN": "xoxb-test"}
STAFF = {"U1": {"name": "Alice Jensen", "initials": "AJ", "role": "lead"}}
CHANNELS = {"C_MENTIONS": "support", "C_ESCALATE": "support-escalations"}


def fake():
    fs = FakeSlack(app_token="xapp-1-test", bot_token="xoxb-test", channels=dict(CHANNELS),
                   users={"U1": {"name": "alice", "real_name": "Alice Jensen"}})
    fs.start()
    return fs


def start(tmp, fs, replay=SAMPLE, outbox=None):
    cfg = write_config(
        tmp, chat="slack", staff=STAFF,
        replay={"file": replay, "interval": 0.05},
        # max_backoff 1: a refusing channel is asked again every second, not every minute
        outbox=outbox or {"max_backoff": 1},
        channels={"mentions": "C_MENTIONS", "escalations": "C_ESCALATE", "on_duty": "@oncall"},
        slack={"app_token": Raw('env("SLACK_APP_TOKEN")'), "bot_token": Raw('env("SLACK_BOT_TOKEN")'),
               "api_url": fs.api_url, "post_rate": 50, "ping_interval": 1, "idle_timeout": 5})
    bot = Bot(tmp, cfg, env=TOKENS)
    bot.wait_started()
    return bot, cfg, os.path.join(tmp, "vigil.db")


def status(cfg):
    r = subprocess.run([vigil_path(), "repl", "-c", cfg, "-e", ":status"], cwd=ROOT,
                       capture_output=True, text=True, timeout=30,
                       env=dict(os.environ, NO_COLOR="1", **TOKENS))
    return r.stdout + r.stderr


def tickets_posted(fs):
    return [m for m in fs.messages("C_MENTIONS") if not m.get("thread_ts")
            and (m.get("metadata") or {}).get("event_type") == "vigil_ticket"]


def numbers(fs):
    return [m["metadata"]["event_payload"]["ticket"] for m in tickets_posted(fs)]


def refusals(fs, error):
    return [c for c in fs.calls if c["method"] == "chat.postMessage"
            and c["response"].get("error") == error]


def escalations(fs, needle):
    return [m["text"] for m in fs.messages("C_ESCALATE") if needle in m["text"]]


def two_pages(tmp):
    replay = os.path.join(tmp, "two-pages.jsonl")
    with open(SAMPLE) as f, open(replay, "w") as out:
        out.writelines(f.readlines()[:2])       # 5 tickets, no follow-ups
    return replay


def channel_waits_for_a_person(tmp, error, where, break_it, fix_it):
    fs = fake()
    break_it(fs)
    try:
        bot, cfg, dbp = start(tmp, fs)
        fs.wait_connected()
        wait_for(lambda: replay_done(dbp) and len(refusals(fs, error)) >= 3, 30,
                 f"three {error} refusals", bot)
        # nothing lost, nothing failed: it all waits
        assert query(dbp, "SELECT count(*) FROM outbox WHERE state='failed'") == [(0,)]
        assert query(dbp, "SELECT count(*) FROM tickets WHERE chat_ref IS NOT NULL") == [(0,)]
        assert f"blocked: {error} {where}" in status(cfg)
        told = escalations(fs, f"vigil cannot post in {where}: Slack says {error}")
        assert len(told) == 1, told
        # refusals are paced (capped backoff), not a storm
        posts = refusals(fs, error)
        assert posts[-1]["t"] - posts[0]["t"] >= 0.5 * (len(posts) - 1), len(posts)
        fix_it(fs)
        wait_for(lambda: outbox_drained(dbp), 30, "the backlog to be posted", bot)
        assert numbers(fs) == list(range(1, 10)), numbers(fs)   # once each, in order
        first = tickets_posted(fs)[0]
        assert any("Stadig ingen pakke" in r["text"] for r in fs.thread("C_MENTIONS", first["ts"]))
        assert query(dbp, "SELECT count(*) FROM outbox WHERE state='failed'") == [(0,)]
        assert len(escalations(fs, "vigil cannot post in")) == 1
        assert len(escalations(fs, f"vigil can post in {where} again")) == 1
        assert bot.stderr().count("the channel takes posts again") == 1
        assert "blocked:" not in status(cfg)
        assert fs.errors == [], fs.errors
        assert bot.stop()[0] == 0
    finally:
        fs.stop()


def test_a_channel_the_bot_was_removed_from_holds_tickets_until_it_is_invited_back(tmp):
    channel_waits_for_a_person(tmp, "not_in_channel", "#support",
                               lambda fs: fs.remove_bot("C_MENTIONS"),
                               lambda fs: fs.join("C_MENTIONS"))


def test_an_archived_channel_holds_tickets_until_it_is_unarchived(tmp):
    channel_waits_for_a_person(tmp, "is_archived", "#support",
                               lambda fs: fs.archive("C_MENTIONS"),
                               lambda fs: fs.unarchive("C_MENTIONS"))


def test_a_missing_channel_holds_tickets_until_it_exists(tmp):
    # a channel that does not exist has no name to show: its id it is
    channel_waits_for_a_person(tmp, "channel_not_found", "C_MENTIONS",
                               lambda fs: fs.delete_channel("C_MENTIONS"),
                               lambda fs: fs.create_channel("C_MENTIONS", "support"))


def test_a_broken_escalations_channel_is_logged_once_and_catches_up(tmp):
    fs = fake()
    fs.remove_bot("C_ESCALATE")
    try:
        bot, cfg, dbp = start(tmp, fs, replay=two_pages(tmp))
        fs.wait_connected()
        wait_for(lambda: replay_done(dbp, pages=2) and outbox_drained(dbp), 30, "posting", bot)
        env = fs.send_slash("escalate 3 refund overdue", user_id="U1")
        fs.wait_ack(env)
        env = fs.send_slash("escalate 4 angry", user_id="U1")
        fs.wait_ack(env)
        wait_for(lambda: len(refusals(fs, "not_in_channel")) >= 3, 20, "refusals", bot)
        assert "blocked: not_in_channel #support-escalations" in status(cfg)
        assert bot.stderr().count("the escalations channel refuses posts") == 1
        # the mentions channel is not held up by it
        env = fs.send_slash("note 3 still here", user_id="U1")
        fs.wait_ack(env)
        msg3 = [m for m in tickets_posted(fs) if m["metadata"]["event_payload"]["ticket"] == 3][0]
        wait_for(lambda: any("still here" in r["text"] for r in fs.thread("C_MENTIONS", msg3["ts"])),
                 10, "the note in #3's thread", bot)
        fs.join("C_ESCALATE")
        wait_for(lambda: outbox_drained(dbp), 20, "the escalations", bot)
        texts = [m["text"] for m in fs.messages("C_ESCALATE")]
        assert [("refund overdue" in t, "angry" in t) for t in texts] == \
            [(True, False), (False, True)], texts
        assert fs.errors == [], fs.errors
        assert bot.stop()[0] == 0
    finally:
        fs.stop()


def test_a_deleted_ticket_message_is_posted_again_and_its_thread_goes_on(tmp):
    fs = fake()
    try:
        bot, cfg, dbp = start(tmp, fs, replay=two_pages(tmp))
        fs.wait_connected()
        wait_for(lambda: replay_done(dbp, pages=2) and outbox_drained(dbp), 30, "posting", bot)
        # #2 has a thread when its message is deleted (Slack leaves a tombstone
        # that cannot be updated); #1 has none (its message is gone)
        fs.wait_ack(fs.send_slash("note 2 called the courier", user_id="U1"))
        wait_for(lambda: outbox_drained(dbp), 10, "the note", bot)
        by_number = {m["metadata"]["event_payload"]["ticket"]: m for m in tickets_posted(fs)}
        for n in (1, 2):
            # someone deletes the ticket's message; then an agent works on the ticket
            old = by_number[n]["ts"]
            fs.delete_message("C_MENTIONS", old)
            fs.wait_ack(fs.send_slash(f"assign {n} me", user_id="U1"))
            wait_for(lambda: outbox_drained(dbp), 10, "the assignment", bot)
            fs.wait_ack(fs.send_slash(f"note {n} checked the tracking", user_id="U1"))
            wait_for(lambda: outbox_drained(dbp), 10, "the note", bot)
            again = [m for m in tickets_posted(fs) if m["metadata"]["event_payload"]["ticket"] == n]
            assert len(again) == 1 and again[0]["ts"] != old, (n, again)
            new = again[0]["ts"]
            assert query(dbp, "SELECT chat_ref FROM tickets WHERE id=?", n) == [(new,)]
            assert query(dbp, "SELECT count(*) FROM events WHERE ticket_id=? AND "
                              "action='re-posted'", n) == [(1,)]
            assert "Alice Jensen" in str(again[0]["blocks"]), again[0]   # shows the assignment
            lines = [r["text"] for r in fs.thread("C_MENTIONS", new)]
            assert any("checked the tracking" in t for t in lines), lines
        # no retry loop: each deletion cost one re-post, and nothing failed
        assert len(tickets_posted(fs)) == 5
        errors = [(c["method"], c["response"].get("error")) for c in fs.calls
                  if c["method"].startswith("chat.") and not c["response"].get("ok")]
        assert sorted(errors) == [("chat.postMessage", "thread_not_found"),
                                  ("chat.update", "cant_update_message")], errors
        assert query(dbp, "SELECT count(*) FROM outbox WHERE state='failed'") == [(0,)]
        assert fs.errors == [], fs.errors
        assert bot.stop()[0] == 0
    finally:
        fs.stop()


def test_a_failing_history_lookup_after_a_crash_does_not_hold_the_channel(tmp):
    fs = fake()
    fs.remove_bot("C_MENTIONS")                # the tickets queue up unposted
    replay = two_pages(tmp)
    try:
        bot, cfg, dbp = start(tmp, fs, replay=replay)
        fs.wait_connected()
        wait_for(lambda: replay_done(dbp, pages=2) and refusals(fs, "not_in_channel"), 30,
                 "tickets queued", bot)
        bot.kill()
        # as a crash in the middle of posting #1 leaves it: in flight, once tried
        con = sqlite3.connect(dbp)
        con.execute("UPDATE outbox SET state='inflight', attempts=1 WHERE id=(SELECT min(id) "
                    "FROM outbox WHERE kind='ticket.post')")
        con.commit()
        con.close()
        fs.join("C_MENTIONS")
        fs.fail_next("conversations.history", "internal_error", times=50)
        bot, cfg, dbp = start(tmp, fs, replay=replay)
        wait_for(lambda: outbox_drained(dbp), 30, "posting after the restart", bot)
        assert numbers(fs) == [1, 2, 3, 4, 5], numbers(fs)
        lookups = [c for c in fs.calls if c["method"] == "conversations.history"]
        assert len(lookups) == 2, len(lookups)          # bounded: then posted anyway
        for c in lookups:
            assert int(c["body"]["limit"]) == 15 and float(c["body"]["oldest"]) > 0, c["body"]
        assert "posting the ticket without it" in bot.stderr()
        assert query(dbp, "SELECT count(*) FROM outbox WHERE state='failed'") == [(0,)]
        assert fs.errors == [], fs.errors
        assert bot.stop()[0] == 0
    finally:
        fs.stop()


def test_a_slack_outage_longer_than_max_attempts_posts_every_ticket_once_afterwards(tmp):
    # A 30-minute outage, scaled: max_backoff 0.3 s and max_attempts 3 make
    # the old give-up point ~1 s; the outage lasts many times that, with a
    # restart in the middle, and every ticket is posted once afterwards.
    fs = fake()
    fs.fail_next("chat.postMessage", "service_unavailable", status=503, times=100000)
    outbox = {"max_backoff": 0.3, "max_attempts": 3, "alert_after": 3}
    try:
        bot, cfg, dbp = start(tmp, fs, replay=two_pages(tmp), outbox=outbox)
        fs.wait_connected()
        wait_for(lambda: replay_done(dbp, pages=2) and len(refusals(fs, "service_unavailable"))
                 >= 15, 30, "posts failing for many times max_attempts", bot)
        wait_for(lambda: "messages have been waiting too long" in bot.stderr(), 10,
                 "the backlog alert in the log", bot)
        assert query(dbp, "SELECT count(*) FROM outbox WHERE state='failed'") == [(0,)]
        assert "oldest waiting" in status(cfg)
        assert bot.stop()[0] == 0
        bot, cfg, dbp = start(tmp, fs, replay=two_pages(tmp), outbox=outbox)
        fs.wait_connected()
        before = len(refusals(fs, "service_unavailable"))
        wait_for(lambda: len(refusals(fs, "service_unavailable")) >= before + 10, 30,
                 "posts failing after the restart", bot)
        with fs._cv:
            fs._failures.clear()               # Slack is back
        wait_for(lambda: outbox_drained(dbp), 30, "the backlog to be posted", bot)
        assert numbers(fs) == [1, 2, 3, 4, 5], numbers(fs)   # once each, in order
        assert query(dbp, "SELECT count(*) FROM outbox WHERE state='failed'") == [(0,)]
        # told once (not again after the restart), and told when it cleared
        assert len(escalations(fs, "has had messages waiting")) == 1, fs.messages("C_ESCALATE")
        wait_for(lambda: escalations(fs, "backlog has cleared"), 10, "the all-clear", bot)
        assert "oldest waiting" not in status(cfg)
        assert fs.errors == [], fs.errors
        assert bot.stop()[0] == 0
    finally:
        fs.stop()


def test_thread_lines_and_escalations_posted_before_a_crash_are_not_posted_again(tmp):
    fs = fake()
    replay = two_pages(tmp)
    try:
        bot, cfg, dbp = start(tmp, fs, replay=replay)
        fs.wait_connected()
        wait_for(lambda: replay_done(dbp, pages=2) and outbox_drained(dbp), 30, "posting", bot)
        fs.wait_ack(fs.send_slash("note 2 called the courier", user_id="U1"))
        fs.wait_ack(fs.send_slash("escalate 3 refund overdue", user_id="U1"))
        wait_for(lambda: outbox_drained(dbp), 10, "the note and the escalation", bot)
        bot.kill()
        # as a crash right after Slack took them, before vigil recorded it,
        # leaves the note's line and the escalation post: in flight, unrecorded
        con = sqlite3.connect(dbp)
        for where in ("kind='ticket.thread' AND payload LIKE '%called the courier%'",
                      "kind='channel.post' AND ticket_id=3"):
            assert con.execute(f"UPDATE outbox SET state='inflight', attempts=1, result=NULL "
                               f"WHERE {where}").rowcount == 1
        con.commit()
        con.close()
        bot, cfg, dbp = start(tmp, fs, replay=replay)
        wait_for(lambda: outbox_drained(dbp), 30, "recovery", bot)
        msg2 = [m for m in tickets_posted(fs) if m["metadata"]["event_payload"]["ticket"] == 2][0]
        notes = [r for r in fs.thread("C_MENTIONS", msg2["ts"]) if "called the courier" in r["text"]]
        assert len(notes) == 1, notes                                     # once
        assert len(escalations(fs, "refund overdue")) == 1, fs.messages("C_ESCALATE")
        # looked up (bounded), and the ts found is the job's result
        lookups = [c for c in fs.calls if c["method"] in ("conversations.replies",
                                                          "conversations.history")]
        assert len(lookups) == 2 and all(int(c["body"]["limit"]) == 15 for c in lookups), lookups
        assert query(dbp, "SELECT result FROM outbox WHERE kind='ticket.thread' AND payload "
                          "LIKE '%called the courier%'") == [(notes[0]["ts"],)]
        assert fs.errors == [], fs.errors
        assert bot.stop()[0] == 0
    finally:
        fs.stop()
