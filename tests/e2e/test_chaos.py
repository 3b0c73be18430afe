"""Chaos: the real vigil against fake X and fake Slack while 2,000 mentions
arrive and staff reply, SIGKILLed at random moments (seeded; the seed is
printed, VIGIL_SEED=N repeats it).  Afterwards: every mention is one ticket,
every ticket was posted to Slack once, every acknowledged reply reached X
once, and the audit log has what it must.  A second test makes X fail while
replies flow (issue 15): what Slack and the desk say is what X holds."""
import json
import os
import re
import signal
import sys
import threading
import time

from harness import ROOT, Bot, Raw, query, seeded, wait_for, write_config

sys.path.insert(0, os.path.join(ROOT, "tests", "fakes"))
from fake_slack import FakeSlack  # noqa: E402
from fake_x import FakeX  # noqa: E402

# Under the sanitizers the bot is ~3x slower: fewer mentions, as many kills.
MENTIONS = 500 if "asan" in os.environ.get("VIGIL_BUILD", "") else 2000
KILLS = 20
ENV = {"SLACK_APP_TOKEN": "xapp-1-chaos", "SLACK_BOT_TOKEN": "xoxb-chaos",
       "X_BEARER": "AAAA-chaos-bearer", "X_CK": "ck-chaos", "X_CS": "cs-chaos-secret",
       "X_TK": "tk-chaos", "X_TS": "ts-chaos-secret"}


def chaos_fakes():
    """The fake Slack and X both chaos tests drive (not started)."""
    fs = FakeSlack(app_token=ENV["SLACK_APP_TOKEN"], bot_token=ENV["SLACK_BOT_TOKEN"],
                   channels=("C_MENTIONS", "C_ESCALATE"),
                   users={"U1": {"name": "alice", "real_name": "Alice Jensen"}})
    fx = FakeX(brand_id="1500000000000000001", brand_username="AcmeSupport",
               bearer=ENV["X_BEARER"],
               oauth1=dict(consumer_key="ck-chaos", consumer_secret="cs-chaos-secret",
                           token="tk-chaos", token_secret="ts-chaos-secret"))
    return fs, fx


def test_sigkill_storm_loses_nothing_and_doubles_nothing(tmp):
    rnd = seeded()
    fs, fx = chaos_fakes()
    # generous X limits: this test is about crashes, not about pacing
    fx.rate_limits = {"mentions": (100000, 900), "tweets": (100000, 900)}
    fx.daily_limits = {"tweets": 100000, "dm": 100000}
    fs.start()
    fx.start()
    stop = threading.Event()
    fed = []

    def feed():   # 2,000 customers, in bursts, while the bot lives and dies
        n = 0
        while n < MENTIONS and not stop.is_set():
            k = min(rnd.randint(20, 120), MENTIONS - n)
            for i in range(n, n + k):
                fed.append(fx.add_mention(text=f"@AcmeSupport chaos order {i}",
                                          author=(str(100000 + i), f"chaos{i}", f"Chaos {i}")))
            n += k
            time.sleep(0.25)
    feeder = threading.Thread(target=feed)
    cfg = write_config(
        tmp, chat="slack", source="x",
        staff={"U1": {"name": "Alice Jensen", "initials": "AJ", "role": "lead"}},
        channels={"mentions": "C_MENTIONS", "escalations": "C_ESCALATE"},
        slack={"app_token": Raw('env("SLACK_APP_TOKEN")'), "bot_token": Raw('env("SLACK_BOT_TOKEN")'),
               "api_url": fs.api_url, "post_rate": 500, "digest_threshold": 0,
               "ping_interval": 1, "idle_timeout": 5},
        x={"api_url": fx.api_url, "handle": "AcmeSupport", "bearer_token": Raw('env("X_BEARER")'),
           "oauth1": {"consumer_key": Raw('env("X_CK")'), "consumer_secret": Raw('env("X_CS")'),
                      "token": Raw('env("X_TK")'), "token_secret": Raw('env("X_TS")')},
           "poll_interval": 0.2, "max_results": 100, "backfill": 8},
        outbox={"x_rate": 500})
    dbp = os.path.join(tmp, "vigil.db")
    acked = {}            # reply text -> ticket
    tries = 0
    try:
        feeder.start()
        for k in range(KILLS):
            bot = Bot(tmp, cfg, env=ENV, name=f"life{k}")
            deadline = time.time() + rnd.uniform(0.4, 1.6)
            while time.time() < deadline:
                tickets = query(dbp, "SELECT max(id) FROM tickets")
                top = tickets[0][0] if tickets and tickets[0][0] else 0
                if top and fs.connections():
                    text = f"chaos reply {tries}"
                    tries += 1
                    try:
                        env_id = fs.send_slash(f"reply {rnd.randint(1, top)} {text}", user_id="U1")
                        ack = fs.wait_ack(env_id, timeout=0.5)
                        if "queued" in ack.get("payload", {}).get("text", ""):
                            acked[text] = True
                    except AssertionError:
                        pass   # killed or not yet connected: the agent would retry
                time.sleep(rnd.uniform(0.02, 0.2))
            bot.proc.send_signal(signal.SIGKILL)
            bot.proc.wait()
            bot.kill()
        feeder.join()
        bot = Bot(tmp, cfg, env=ENV, name="final")
        # Earlier lives may have done all the work: without this, SIGTERM
        # could arrive before vigil's main() runs, and kill it by default.
        bot.wait_started()
        wait_for(lambda: query(dbp, "SELECT count(*) FROM tickets") == [(MENTIONS,)], 120,
                 "every mention to become a ticket", bot)
        try:
            wait_for(lambda: query(dbp, "SELECT count(*) FROM outbox WHERE state IN "
                                        "('queued','inflight')") == [(0,)], 120, "the outbox", bot)
        except AssertionError as e:
            left = query(dbp, "SELECT target, kind, state, attempts, count(*), min(id) FROM outbox"
                              " WHERE state IN ('queued','inflight') GROUP BY 1,2,3,4")
            raise AssertionError(f"{e}: left {left}") from None
        rc = bot.stop()[0]
        assert rc == 0, f"the final vigil exited with {rc}"
        # every mention exactly one ticket, in tweet order
        assert [t for (t,) in query(dbp, "SELECT tweet_id FROM tickets ORDER BY id")] == fed
        assert query(dbp, "SELECT count(*), count(DISTINCT id) FROM mentions") == \
            [(MENTIONS, MENTIONS)]
        # every ticket posted exactly once (the fake's record, by metadata)
        posted = [m["metadata"]["event_payload"]["ticket"] for m in fs.messages("C_MENTIONS")
                  if not m.get("thread_ts") and (m.get("metadata") or {}).get("event_type")
                  == "vigil_ticket"]
        doubled = sorted({n for n in posted if posted.count(n) > 1})
        assert not doubled, f"posted twice: {doubled[:10]}"
        assert sorted(posted) == list(range(1, MENTIONS + 1)), len(posted)
        # every acknowledged reply reached X exactly once; nothing reached it twice
        sent = [t["text"].rsplit(" ^", 1)[0] for t in fx.tweets]
        assert len(sent) == len(set(sent)), "a reply was posted twice"
        missing = [t for t in acked if t not in sent]
        assert not missing, f"acknowledged replies never sent: {missing[:5]}"
        # the audit log: each ticket opened once and posted
        assert query(dbp, "SELECT count(*) FROM events WHERE action='opened'") == [(MENTIONS,)]
        assert query(dbp, "SELECT count(DISTINCT ticket_id) FROM events WHERE action='posted'") \
            == [(MENTIONS,)]
        assert query(dbp, "SELECT count(*) FROM outbox WHERE state='failed'") == [(0,)]
        assert fx.errors == [], fx.errors[:5]
        print(f"     kills={KILLS} mentions={MENTIONS} posts={len(posted)} "
              f"replies={len(sent)} (acknowledged {len(acked)} of {tries} tries)")
    finally:
        stop.set()
        fs.stop()
        fx.stop()


X_REPLIES_CUSTOMERS = 24
CANNED = "Thanks for your patience, we are on it"
LINK = re.compile(r"x\.com/AcmeSupport/status/(\d+)")


def test_x_failing_while_replies_flow_sends_each_reply_once_and_slack_tells_the_truth(tmp):
    """Issue 15: X fails while agents reply (503 storms, stalls, answers lost
    after X took the post, its own posts unreadable for a while) and several
    customers get the same canned text.  Afterwards: each acknowledged reply
    reached X at most once per customer, and exactly once unless X refused its
    text as another customer's duplicate; every receipt in Slack matches what
    X holds (sent <=> X has it); no ticket is answered without a reply X
    confirmed."""
    rnd = seeded()
    fs, fx = chaos_fakes()
    fx.rate_limits = {"mentions": (100000, 900), "tweets": (100000, 900),
                      "timeline": (100000, 900)}
    fs.start()
    fx.start()
    customers = [fx.add_mention(text=f"@AcmeSupport where is order {i}?",
                                author=(str(200000 + i), f"cust{i}", f"Customer {i}"))
                 for i in range(X_REPLIES_CUSTOMERS)]
    cfg = write_config(
        tmp, chat="slack", source="x",
        staff={"U1": {"name": "Alice Jensen", "initials": "AJ", "role": "lead"}},
        channels={"mentions": "C_MENTIONS", "escalations": "C_ESCALATE"},
        slack={"app_token": Raw('env("SLACK_APP_TOKEN")'), "bot_token": Raw('env("SLACK_BOT_TOKEN")'),
               "api_url": fs.api_url, "post_rate": 500, "digest_threshold": 0},
        x={"api_url": fx.api_url, "handle": "AcmeSupport", "bearer_token": Raw('env("X_BEARER")'),
           "oauth1": {"consumer_key": Raw('env("X_CK")'), "consumer_secret": Raw('env("X_CS")'),
                      "token": Raw('env("X_TK")'), "token_secret": Raw('env("X_TS")')},
           "poll_interval": 0.2, "max_results": 100, "backfill": 8},
        # retries come quickly and do not give up during the storm
        outbox={"x_rate": 500, "max_backoff": 1, "max_attempts": 40})
    dbp = os.path.join(tmp, "vigil.db")
    bot = None
    try:
        bot = Bot(tmp, cfg, env=ENV, name="xchaos")
        wait_for(lambda: query(dbp, "SELECT count(*) FROM tickets") == [(X_REPLIES_CUSTOMERS,)],
                 30, "every mention to become a ticket", bot)
        fs.wait_connected()
        tweet_of = dict(query(dbp, "SELECT id, tweet_id FROM tickets"))
        assert sorted(tweet_of.values()) == sorted(customers)

        def slash(text):
            env_id = fs.send_slash(text, user_id="U1")
            return fs.wait_ack(env_id, timeout=5).get("payload", {}).get("text", "")
        assert "Saved" in slash(f"canned add patience {CANNED}")

        faults = [
            lambda: fx.inject("tweets", "503", times=rnd.randint(2, 5)),      # a storm
            lambda: fx.inject("tweets", "503", after=True),                  # posted, answer lost
            lambda: fx.inject("tweets", "500", after=True),
            lambda: fx.inject("tweets", "reset", after=True),                # posted, then RST
            lambda: fx.inject("tweets", "close", after=True),                # posted, then FIN
            lambda: fx.inject("tweets", "stall", seconds=rnd.uniform(0.5, 2)),
            lambda: fx.inject("timeline", "503", times=rnd.randint(1, 2)),   # proof unreadable
        ]
        acked = []    # (ticket, tweet text as queued)
        fx.inject("tweets", "503", after=True)          # the first reply's answer is lost
        fx.inject("tweets", "stall", seconds=21)        # past the bot's 20 s timeout, then posted
        for n in range(1, X_REPLIES_CUSTOMERS + 1):
            if rnd.random() < 0.5:
                rnd.choice(faults)()
            if n % 3 == 0:
                answer = slash(f"canned {n} patience")
            else:
                answer = slash(f"reply {n} Order {n} ships tomorrow, sorry for the wait")
            assert "queued: " in answer, answer
            acked.append((n, answer.split("queued: ", 1)[1]))
            time.sleep(rnd.uniform(0, 0.3))
        try:
            wait_for(lambda: query(dbp, "SELECT count(*) FROM outbox WHERE state IN "
                                        "('queued','inflight')") == [(0,)], 120, "the outbox",
                     bot)
        except AssertionError as e:
            left = query(dbp, "SELECT kind, state, attempts, last_error FROM outbox WHERE state "
                              "IN ('queued','inflight')")
            raise AssertionError(f"{e}: left {left}") from None

        # What X holds: replies per (customer's post, text)
        held = {}
        for t in fx.tweets:
            held.setdefault((t["in_reply_to_tweet_id"], t["text"]), []).append(t["id"])
        doubled = {k: v for k, v in held.items() if len(v) > 1}
        assert not doubled, f"posted twice to one customer: {doubled}"
        jobs = {ticket: (state, err) for ticket, state, err in query(
            dbp, "SELECT ticket_id, state, last_error FROM outbox WHERE kind='x.reply'")}
        canned_sent = [n for n, text in acked if text.startswith(CANNED)
                       and (tweet_of[n], text) in held]
        assert len(canned_sent) == 1, f"the canned text reached X {len(canned_sent)} times"
        for n, text in acked:
            on_x = (tweet_of[n], text) in held
            state, err = jobs[n]
            if text.startswith(CANNED) and not on_x:
                # X refused it as a duplicate of another customer's reply: said, not sent
                assert state == "failed" and "duplicate" in (err or ""), (n, state, err)
            else:
                assert on_x, f"acknowledged reply to #{n} never reached X ({state}: {err})"
                assert state == "done", (n, state, err)

        # Slack shows what X holds: a receipt link for each reply X has and
        # no other; a failure line for each refused one; "answered" only then
        messages = fs.messages("C_MENTIONS")
        ticket_msg = {m["metadata"]["event_payload"]["ticket"]: m for m in messages
                      if not m.get("thread_ts") and (m.get("metadata") or {}).get("event_type")
                      == "vigil_ticket"}
        assert sorted(ticket_msg) == list(range(1, X_REPLIES_CUSTOMERS + 1))
        for n, msg in ticket_msg.items():
            thread = [r["text"] for r in messages if r.get("thread_ts") == msg["ts"]
                      and r["ts"] != msg["ts"]]
            links = {i for line in thread for i in LINK.findall(line)} - {tweet_of[n]}
            on_x = {i for (to, _), ids in held.items() if to == tweet_of[n] for i in ids}
            assert links == on_x, f"#{n}: Slack links {links}, X holds {on_x}; thread {thread}"
            refused = any("reword it" in line for line in thread)
            assert refused == (jobs[n][0] == "failed"), (n, thread)
            answered = query(dbp, "SELECT first_response_at IS NOT NULL FROM tickets WHERE id=?",
                             n) == [(1,)]
            assert answered == bool(on_x), f"#{n}: answered={answered}, X holds {on_x}"
            assert ("answered" in json.dumps(msg["blocks"])) == bool(on_x), (n, msg["blocks"])
        reads = [r for r in fx.requests if r["path"].endswith("/tweets") and r["method"] == "GET"]
        assert reads, "no duplicate was ever checked against the account's posts"
        assert fx.errors == [], fx.errors[:5]
        print(f"     replies={len(acked)} on_x={len(fx.tweets)} own-post reads={len(reads)} "
              f"refused={sum(1 for s, _ in jobs.values() if s == 'failed')}")
        assert bot.stop()[0] == 0
    finally:
        fs.stop()
        fx.stop()
