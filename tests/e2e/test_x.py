"""End-to-end: the real vigil against the strict fake X API: mentions polled
without loss or doubles, rate limits and faults, replies and DMs signed
with OAuth 1.0a, the cursor kept across restarts."""
import datetime
import os
import subprocess
import sys
import time

from harness import ROOT, Bot, Raw, outbox_drained, query, vigil_path, wait_for, \
    write_config

sys.path.insert(0, os.path.join(ROOT, "tests", "fakes"))
from fake_x import FakeX  # noqa: E402

SECRETS = {"X_BEARER": "AAAA-test-bearer", "X_CK": "ck-test", "X_CS": "cs-secret-test",
           "X_TK": "tk-test", "X_TS": "ts-secret-test"}
BRAND = "1500000000000000001"


def fake(**kw):
    fx = FakeX(brand_id=BRAND, brand_username="AcmeSupport", bearer=SECRETS["X_BEARER"],
               oauth1=dict(consumer_key="ck-test", consumer_secret="cs-secret-test",
                           token="tk-test", token_secret="ts-secret-test"), **kw)
    fx.start()
    return fx


def start(tmp, fx, name="bot", stdin=None, **x):
    cfg = write_config(
        tmp, source="x", staff={"U1": {"name": "Alice Jensen", "initials": "AJ", "role": "lead"}},
        x=dict({"api_url": fx.api_url, "handle": "AcmeSupport",
                "bearer_token": Raw('env("X_BEARER")'),
                "oauth1": {"consumer_key": Raw('env("X_CK")'), "consumer_secret": Raw('env("X_CS")'),
                           "token": Raw('env("X_TK")'), "token_secret": Raw('env("X_TS")')},
                "poll_interval": 0.3, "max_results": 100, "backfill": 5}, **x),
        outbox={"x_rate": 50})
    bot = Bot(tmp, cfg, env=SECRETS, name=name, stdin=stdin)
    bot.wait_started()
    return bot, os.path.join(tmp, "vigil.db")


def tickets(dbp):
    return [t for (t,) in query(dbp, "SELECT tweet_id FROM tickets ORDER BY id")]


def add_customers(fx, n, start=0):
    return [fx.add_mention(text=f"@AcmeSupport order {i} is late",
                           author=(str(7000 + i), f"customer{i}", f"Customer {i}"))
            for i in range(start, start + n)]


def test_250_mentions_across_pages_and_polls_become_250_tickets_in_order(tmp):
    fx = fake()
    try:
        ids = add_customers(fx, 130)
        bot, dbp = start(tmp, fx)
        wait_for(lambda: len(tickets(dbp)) == 130, 30, "the first 130 tickets", bot)
        ids += add_customers(fx, 120, start=130)
        wait_for(lambda: len(tickets(dbp)) == 250, 30, "250 tickets", bot)
        assert tickets(dbp) == ids, "tickets are not one per mention in tweet order"
        assert query(dbp, "SELECT count(*), count(DISTINCT id) FROM mentions") == [(250, 250)]
        pages = [r for r in fx.requests if r["path"].endswith("/mentions")]
        assert any("pagination_token" in r["query"] for r in pages)
        assert all(r["auth"] == "bearer" for r in pages)
        assert fx.errors == [], fx.errors
        assert bot.stop()[0] == 0
    finally:
        fx.stop()


def test_a_429_in_the_middle_of_pagination_loses_nothing(tmp):
    fx = fake()
    try:
        add_customers(fx, 5)
        bot, dbp = start(tmp, fx)
        wait_for(lambda: len(tickets(dbp)) == 5, 20, "5 tickets", bot)
        (cursor,), = query(dbp, "SELECT value FROM cursors WHERE source='x'")
        fx.inject("mentions", "429", paged=True, reset=1)
        more = add_customers(fx, 230, start=5)
        wait_for(lambda: len(tickets(dbp)) == 235, 40, "235 tickets after the 429", bot)
        assert tickets(dbp)[5:] == more
        hit = [r for r in fx.requests if r.get("injected") == "429"]
        assert len(hit) == 1 and "pagination_token" in hit[0]["query"]
        assert query(dbp, "SELECT count(*), count(DISTINCT id) FROM mentions") == [(235, 235)]
        assert fx.errors == [], fx.errors   # includes: no retry before the reset
        assert "X: rate limited reading mentions" in bot.stderr()
        assert bot.stop()[0] == 0
    finally:
        fx.stop()


def test_faults_back_off_keep_the_cursor_and_recover(tmp):
    fx = fake()
    try:
        add_customers(fx, 3)
        bot, dbp = start(tmp, fx)
        wait_for(lambda: len(tickets(dbp)) == 3, 20, "3 tickets", bot)
        for kind in ("500", "503", "truncated", "html", "reset"):
            fx.inject("mentions", kind)
        fx.inject("mentions", "stall", seconds=1)
        more = add_customers(fx, 4, start=3)
        wait_for(lambda: len(tickets(dbp)) == 7, 90, "the mentions after the faults", bot)
        assert tickets(dbp)[3:] == more
        assert query(dbp, "SELECT count(*) FROM mentions") == [(7,)]
        log = bot.stderr()
        assert "X: reading mentions failed; retrying" in log
        assert bot.alive()
        assert fx.errors == [], fx.errors
        assert bot.stop()[0] == 0
    finally:
        fx.stop()


def test_restart_keeps_the_cursor(tmp):
    fx = fake()
    try:
        add_customers(fx, 4)
        bot, dbp = start(tmp, fx)
        wait_for(lambda: len(tickets(dbp)) == 4, 20, "4 tickets", bot)
        assert bot.stop()[0] == 0
        (cursor,), = query(dbp, "SELECT value FROM cursors WHERE source='x'")
        add_customers(fx, 2, start=4)
        bot, dbp = start(tmp, fx, name="again")
        wait_for(lambda: len(tickets(dbp)) == 6, 20, "6 tickets", bot)
        first = [r for r in fx.requests if r["path"].endswith("/mentions")][-1]
        assert first["query"].get("since_id"), first
        assert query(dbp, "SELECT count(*) FROM mentions") == [(6,)]
        assert bot.stop()[0] == 0
    finally:
        fx.stop()


def test_replies_are_signed_threaded_and_too_long_ones_refused_with_the_count(tmp):
    fx = fake()
    try:
        ids = add_customers(fx, 2)
        bot, dbp = start(tmp, fx, stdin=subprocess.PIPE)
        wait_for(lambda: len(tickets(dbp)) == 2, 20, "2 tickets", bot)
        bot.proc.stdin.write(b"/tw reply 1 Sorry about that, we're on it\n")
        bot.proc.stdin.write(("/tw reply 2 " + "x" * 290 + "\n").encode())
        bot.proc.stdin.flush()
        fx.wait_tweets(1)
        t = fx.tweets[0]
        assert t["text"] == "Sorry about that, we're on it ^LA", t
        assert t["in_reply_to_tweet_id"] == ids[0]
        assert t["auth"] == "oauth1"
        wait_for(lambda: "characters as X counts them" in bot.stdout(), 10, "the refusal", bot)
        assert "That reply is 294/280" in bot.stdout(), bot.stdout()[-500:]
        wait_for(lambda: query(dbp, "SELECT detail FROM events WHERE action='reply sent'")
                 == [(fx.tweets[0]["id"],)], 10, "the reply id on the ticket", bot)
        assert len(fx.tweets) == 1
        bot.proc.stdin.write(b"/tw stats\n")
        bot.proc.stdin.flush()
        wait_for(lambda: "Source: x: @AcmeSupport" in bot.stdout(), 10, "the X budget", bot)
        assert "rate " in bot.stdout().split("Source: x:")[1].splitlines()[0]
        assert fx.errors == [], fx.errors
        log = bot.stderr()
        for secret in SECRETS.values():
            assert secret not in log, secret
        assert bot.stop()[0] == 0
    finally:
        fx.stop()


def test_dm_refused_by_the_customer_is_reported_not_retried(tmp):
    fx = fake()
    try:
        fx.no_dm_users = {"7001"}
        add_customers(fx, 2)
        bot, dbp = start(tmp, fx, stdin=subprocess.PIPE)
        wait_for(lambda: len(tickets(dbp)) == 2, 20, "2 tickets", bot)
        bot.proc.stdin.write(b"/tw dm 1 What is your order number?\n/tw dm 2 Hello there\n")
        bot.proc.stdin.flush()
        fx.wait_dms(1)
        wait_for(lambda: "does not accept DMs" in bot.stdout(), 10, "the report", bot)
        wait_for(lambda: outbox_drained(dbp), 10, "the outbox", bot)
        assert [d["participant_id"] for d in fx.dms] == ["7000"]
        assert query(dbp, "SELECT count(*) FROM outbox WHERE kind='x.dm' AND state='failed'") \
            == [(1,)]
        refused = [r for r in fx.requests if r["method"] == "POST" and "/with/7001/" in r["path"]]
        assert [r["status"] for r in refused] == [403], refused   # asked once, never again
        assert bot.stop()[0] == 0
    finally:
        fx.stop()


def test_a_reply_whose_answer_was_lost_is_not_posted_twice(tmp):
    fx = fake()
    try:
        add_customers(fx, 1)
        bot, dbp = start(tmp, fx, stdin=subprocess.PIPE)
        wait_for(lambda: len(tickets(dbp)) == 1, 20, "1 ticket", bot)
        fx.inject("tweets", "503", after=True)   # posted, but the answer is lost
        bot.proc.stdin.write(b"/tw reply 1 We have refunded you\n")
        bot.proc.stdin.flush()
        fx.wait_tweets(1)
        assert query(dbp, "SELECT first_response_at FROM tickets") == [(None,)], \
            "answered before X confirmed the reply"
        link = f"Reply sent: https://x.com/AcmeSupport/status/{fx.tweets[0]['id']}"
        wait_for(lambda: link in bot.stdout(), 20, "the retry to find the lost reply", bot)
        assert len(fx.tweets) == 1
        # the proof: X's refusal of the retry, then the account's own posts
        reads = [r for r in fx.requests if r["path"] == f"/2/users/{BRAND}/tweets"]
        assert reads and reads[0]["query"]["since_id"] and reads[0]["status"] == 200, reads
        assert query(dbp, "SELECT detail FROM events WHERE action='reply sent'") == \
            [(fx.tweets[0]["id"],)]
        assert query(dbp, "SELECT first_response_at IS NOT NULL FROM tickets") == [(1,)]
        assert fx.errors == [], fx.errors
        assert bot.stop()[0] == 0
    finally:
        fx.stop()


def test_a_retried_reply_x_calls_a_duplicate_of_another_customers_is_not_sent(tmp):
    """Issue 15: a canned text already sent to one customer; the retry of the
    same text to a second customer is refused as a duplicate.  X holds no reply
    to the second customer, so the ticket says so and stays unanswered."""
    fx = fake()
    try:
        add_customers(fx, 3)
        bot, dbp = start(tmp, fx, stdin=subprocess.PIPE)
        wait_for(lambda: len(tickets(dbp)) == 3, 20, "3 tickets", bot)
        bot.proc.stdin.write(b"/tw reply 1 Thanks, a new one is on its way\n")
        bot.proc.stdin.flush()
        fx.wait_tweets(1)
        wait_for(lambda: query(dbp, "SELECT first_response_at IS NOT NULL FROM tickets WHERE "
                                    "id=1") == [(1,)], 10, "#1 answered", bot)
        fx.inject("tweets", "503")                 # refused before X took it: not posted
        bot.proc.stdin.write(b"/tw reply 2 Thanks, a new one is on its way\n")
        bot.proc.stdin.flush()
        wait_for(lambda: "X refused this text as a duplicate of an earlier post; reword it"
                 in bot.stdout(), 20, "the refusal in the thread", bot)
        # a first try refused as a duplicate fails at once, without a read
        reads = len([r for r in fx.requests if r["path"].endswith(f"/{BRAND}/tweets")])
        bot.proc.stdin.write(b"/tw reply 3 Thanks, a new one is on its way\n")
        bot.proc.stdin.flush()
        wait_for(lambda: bot.stdout().count("reword it") == 2, 20, "the second refusal", bot)
        wait_for(lambda: outbox_drained(dbp), 10, "the outbox", bot)
        assert len([r for r in fx.requests if r["path"].endswith(f"/{BRAND}/tweets")]) == reads
        assert reads >= 1
        assert [t["in_reply_to_tweet_id"] for t in fx.tweets] == [tickets(dbp)[0]]
        assert query(dbp, "SELECT id FROM tickets WHERE first_response_at IS NOT NULL") == [(1,)]
        assert query(dbp, "SELECT ticket_id, state FROM outbox WHERE kind='x.reply' ORDER BY "
                          "ticket_id") == [(1, "done"), (2, "failed"), (3, "failed")]
        assert fx.errors == [], fx.errors
        assert bot.stop()[0] == 0
    finally:
        fx.stop()


def test_a_canned_answer_with_a_placeholder_the_ticket_cannot_fill_never_reaches_x(tmp):
    """Issue 15: `… {order} ^LA` was tweeted literally; now the agent is told
    which placeholder is the problem and nothing is queued."""
    fx = fake()
    try:
        add_customers(fx, 1)
        bot, dbp = start(tmp, fx, stdin=subprocess.PIPE)
        wait_for(lambda: len(tickets(dbp)) == 1, 20, "1 ticket", bot)
        bot.proc.stdin.write(b"/tw canned add late Sorry {name}, order {order} ships today\n")
        bot.proc.stdin.write(b"/tw canned 1 late\n")
        bot.proc.stdin.flush()
        wait_for(lambda: "Nothing was sent" in bot.stdout(), 10, "the refusal", bot)
        assert 'the canned answer "late" has {order}, which #1 cannot fill' in bot.stdout(), \
            bot.stdout()[-600:]
        assert query(dbp, "SELECT count(*) FROM outbox WHERE kind='x.reply'") == [(0,)]
        bot.proc.stdin.write(b"/tw canned add late Sorry {name}, your order ships today\n")
        bot.proc.stdin.write(b"/tw canned 1 late\n")
        bot.proc.stdin.flush()
        fx.wait_tweets(1)
        assert [t["text"] for t in fx.tweets] == ["Sorry Customer 0, your order ships today ^LA"]
        assert fx.errors == [], fx.errors
        assert bot.stop()[0] == 0
    finally:
        fx.stop()


def test_own_tweets_and_retweets_never_open_tickets_and_replies_join(tmp):
    fx = fake()
    try:
        first = fx.add_mention(text="@AcmeSupport my parcel?", author=("42", "ann", "Ann"))
        brand = fx.add_brand_tweet("@ann @AcmeSupport we are checking", in_reply_to=first)
        fx.add_mention(text="@AcmeSupport thanks", author=("42", "ann", "Ann"),
                       conversation_id=first, in_reply_to=brand, reply_to_brand=True)
        fx.add_mention(retweet_of=first, author=("43", "bob", "Bob"))
        bot, dbp = start(tmp, fx)
        wait_for(lambda: query(dbp, "SELECT count(*) FROM mentions") == [(4,)], 20, "4 mentions", bot)
        assert tickets(dbp) == [first]
        assert query(dbp, "SELECT count(*) FROM mentions WHERE ticket_id=1") == [(2,)]
        assert bot.stop()[0] == 0
    finally:
        fx.stop()


def test_oauth2_token_is_refreshed_persisted_and_preferred_after_restart(tmp):
    fx = FakeX(brand_id=BRAND, brand_username="AcmeSupport", bearer=SECRETS["X_BEARER"],
               oauth2=dict(client_id="cid-test", client_secret=None, access_token="at-first",
                           refresh_token="rt-first"))
    fx.start()
    env = dict(SECRETS, X_AT="at-first", X_RT="rt-first")
    try:
        add_customers(fx, 2)
        cfg = write_config(
            tmp, source="x", staff={"U1": {"name": "Alice Jensen", "initials": "AJ", "role": "lead"}},
            x={"api_url": fx.api_url, "handle": "AcmeSupport", "bearer_token": Raw('env("X_BEARER")'),
               "oauth2": {"client_id": "cid-test", "access_token": Raw('env("X_AT")'),
                          "refresh_token": Raw('env("X_RT")')},
               "poll_interval": 0.3, "backfill": 5},
            outbox={"x_rate": 50, "max_backoff": 1})
        dbp = os.path.join(tmp, "vigil.db")
        bot = Bot(tmp, cfg, env=env, stdin=subprocess.PIPE)
        bot.wait_started()
        wait_for(lambda: len(tickets(dbp)) == 2, 20, "2 tickets", bot)
        fx.expire_access_token()            # tokens last two hours
        bot.proc.stdin.write(b"/tw reply 1 Thanks for waiting\n")
        bot.proc.stdin.flush()
        fx.wait_tweets(1)
        assert fx.tweets[0]["auth"] == "oauth2"
        assert len(fx.refreshes) == 1 and fx.refreshes[0]["old_refresh"] == "rt-first"
        stored = dict(query(dbp, "SELECT key, value FROM kv WHERE scope='x'"))
        assert stored["oauth2.refresh_token"] == fx.refresh_token != "rt-first"
        assert stored["oauth2.access_token"] == fx.access_token
        assert bot.stop()[0] == 0
        # after a restart the stored (rotated) pair wins over the config's spent one
        bot = Bot(tmp, cfg, env=env, stdin=subprocess.PIPE, name="again")
        bot.wait_started()
        bot.proc.stdin.write(b"/tw reply 2 Sorted now\n")
        bot.proc.stdin.flush()
        fx.wait_tweets(2)
        assert len(fx.refreshes) == 1          # no refresh needed: the stored token works
        for secret in (fx.access_token, fx.refresh_token):
            assert secret not in bot.stderr()
        assert fx.errors == [], fx.errors
        assert bot.stop()[0] == 0
    finally:
        fx.stop()


def test_a_page_over_1_mib_is_refused_with_a_clear_log_line(tmp):
    fx = fake()
    try:
        for i in range(100):   # 100 tweets of 12 KB: no real page is this big
            fx.add_mention(text="@AcmeSupport " + "x" * 12000,
                           author=(str(8000 + i), f"big{i}", "Big"))
        bot, dbp = start(tmp, fx)
        wait_for(lambda: "response too large" in bot.stderr(), 20, "the refusal", bot)
        assert "X: reading mentions failed; retrying" in bot.stderr()
        assert bot.alive() and tickets(dbp) == []
        bot.assert_rss_below(100)
        assert bot.stop()[0] == 0
    finally:
        fx.stop()


def test_a_30_second_stall_times_out_and_polling_recovers(tmp):
    fx = fake()
    try:
        add_customers(fx, 2)
        bot, dbp = start(tmp, fx)
        wait_for(lambda: len(tickets(dbp)) == 2, 20, "2 tickets", bot)
        fx.inject("mentions", "stall", seconds=30)
        more = add_customers(fx, 2, start=2)
        wait_for(lambda: len(tickets(dbp)) == 4, 60, "the mentions after the stall", bot)
        assert tickets(dbp)[2:] == more
        assert "Timeout was reached" in bot.stderr() or "timed out" in bot.stderr().lower()
        assert bot.stop()[0] == 0
    finally:
        fx.stop()


def test_a_reply_to_a_post_that_does_not_summon_us_is_refused_once_and_the_thread_says_why(tmp):
    fx = fake()
    try:
        first = fx.add_mention(text="@AcmeSupport my parcel is lost", author=("42", "ann", "Ann"))
        brand = fx.add_brand_tweet("@ann we are checking", in_reply_to=first)
        fx.add_mention(text="still nothing?", author=("42", "ann", "Ann"), conversation_id=first,
                       in_reply_to=brand, reply_to_brand=True)   # no @AcmeSupport in it
        bot, dbp = start(tmp, fx, stdin=subprocess.PIPE)
        wait_for(lambda: query(dbp, "SELECT count(*) FROM mentions") == [(2,)], 20, "2 mentions",
                 bot)
        assert tickets(dbp) == [first]
        bot.proc.stdin.write(b"/tw reply 1 Found it, it arrives tomorrow\n")
        bot.proc.stdin.flush()
        wait_for(lambda: "does not mention @AcmeSupport" in bot.stdout(), 10, "the refusal", bot)
        line = next(l for l in bot.stdout().splitlines() if "does not mention @AcmeSupport" in l)
        assert "The reply could not be sent: the customer's post does not mention @AcmeSupport, " \
               "and X only lets apps reply to posts that summon them" in line, line
        assert "(X: Reply to this conversation is not allowed" in line, line
        assert "Found it, it arrives tomorrow" in line, line
        wait_for(lambda: outbox_drained(dbp), 10, "the outbox", bot)
        time.sleep(1.5)                      # a retry would have come by now
        posts = [r for r in fx.requests if r["method"] == "POST" and r["path"].endswith("/tweets")]
        assert [r["status"] for r in posts] == [403], posts
        assert fx.tweets == []
        assert query(dbp, "SELECT state, attempts FROM outbox WHERE kind='x.reply'") \
            == [("failed", 1)]
        assert bot.stop()[0] == 0
    finally:
        fx.stop()


def utc(seconds):
    return datetime.datetime.fromtimestamp(seconds, datetime.timezone.utc) \
        .strftime("%Y-%m-%dT%H:%M:%SZ")


def snowflake_time(tweet_id):
    return ((int(tweet_id) >> 22) + 1288834974657) // 1000


def test_an_outage_longer_than_x_reach_tells_the_admins_once_with_the_missing_window(tmp):
    fx = fake()
    fx.max_reachable = 30                    # X's 800, scaled down
    try:
        add_customers(fx, 3)
        bot, dbp = start(tmp, fx, max_results=10, reach=30)
        wait_for(lambda: len(tickets(dbp)) == 3, 20, "3 tickets", bot)
        assert bot.stop()[0] == 0
        assert "may be missing" not in bot.stdout() + bot.stderr()   # a backfill is no gap
        (cursor,), = query(dbp, "SELECT value FROM cursors WHERE source='x'")
        add_customers(fx, 10, start=3)       # beyond X's reach by the time vigil is back
        kept = add_customers(fx, 30, start=13)
        bot, dbp = start(tmp, fx, name="again", max_results=10, reach=30)
        wait_for(lambda: len(tickets(dbp)) == 33, 30, "the 30 reachable mentions", bot)
        assert tickets(dbp)[3:] == kept
        wait_for(lambda: "may be missing" in bot.stdout(), 10, "the admins' notice", bot)
        more = add_customers(fx, 12, start=43)   # later walks: fewer than the reach, quiet
        wait_for(lambda: len(tickets(dbp)) == 45, 30, "the next mentions", bot)
        assert tickets(dbp)[33:] == more
        window = f"between {utc(snowflake_time(cursor))} and {utc(snowflake_time(kept[0]))}"
        notices = [l for l in bot.stdout().splitlines() if "may be missing" in l]
        assert len(notices) == 1, notices
        assert "X serves only the newest 30 mentions of @AcmeSupport" in notices[0], notices
        assert window in notices[0], (window, notices)
        errors = [l for l in bot.stderr().splitlines()
                  if "X: mentions may be missing" in l]
        assert len(errors) == 1, errors
        assert f"since_id={cursor} from={utc(snowflake_time(cursor))} " \
               f"to={utc(snowflake_time(kept[0]))}" in errors[0], errors
        assert f"oldest_received={kept[0]}" in errors[0], errors
        assert fx.errors == [], fx.errors
        assert bot.stop()[0] == 0
    finally:
        fx.stop()


def test_stats_and_status_show_what_x_bills_today(tmp):
    fx = fake()
    try:
        add_customers(fx, 3)
        bot, dbp = start(tmp, fx, stdin=subprocess.PIPE)
        wait_for(lambda: len(tickets(dbp)) == 3, 20, "3 tickets", bot)
        bot.proc.stdin.write(b"/tw reply 1 Sorry about that, we're on it\n")
        bot.proc.stdin.flush()
        fx.wait_tweets(1)
        wait_for(lambda: query(dbp, "SELECT count(*) FROM events WHERE action='reply sent'")
                 == [(1,)], 10, "the reply on the ticket", bot)
        # 3 mentions (owned reads), their 3 authors in includes plus the
        # handle's lookup (user reads), 1 reply to a post that summoned us
        day = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d")
        assert dict(query(dbp, "SELECT item, n FROM usage WHERE scope='x' AND day=?", day)) \
            == {"owned_read": 3, "user_read": 4, "reply": 1}
        bot.proc.stdin.write(b"/tw stats\n")
        bot.proc.stdin.flush()
        wait_for(lambda: "Cost today" in bot.stdout(), 10, "the cost line", bot)
        line = next(l for l in bot.stdout().splitlines() if "Cost today" in l)
        assert line.endswith("Cost today (UTC, at x.prices): about $0.053 (own mentions read: "
                             "3, users read: 4, replies: 1)."), line
        assert "rate " in bot.stdout().split("Source: x:")[1].splitlines()[0]   # the budget
        r = subprocess.run([vigil_path(), "repl", "-c", os.path.join(tmp, "vigil.lua"),
                            "-e", ":status"], capture_output=True, text=True, timeout=30,
                           env=dict(os.environ, NO_COLOR="1", **SECRETS))
        assert r.returncode == 0, r
        assert "cost today  about $0.053 at x.prices (UTC day): own mentions read: 3, " \
               "users read: 4, replies: 1" in r.stdout, r.stdout
        assert "rate " in r.stdout, r.stdout
        assert bot.stop()[0] == 0
    finally:
        fx.stop()


def test_a_reply_whose_connection_closed_after_x_took_it_is_never_resent_by_curl(tmp):
    # X took the reply, then closed the kept-alive connection before a byte
    # of answer.  curl takes that for a stale connection and resends the
    # very same request by itself: X refuses the reused OAuth nonce (401) and
    # the reply it holds was reported as a credentials failure.  A write
    # goes on a connection of its own; vigil's retry signs anew, X refuses
    # the copy as a duplicate, and its own posts prove the first went out.
    fx = fake()
    try:
        ids = add_customers(fx, 1)
        bot, dbp = start(tmp, fx, stdin=subprocess.PIPE, poll_interval=1)
        wait_for(lambda: len(tickets(dbp)) == 1, 20, "1 ticket", bot)
        for _ in range(2):   # give the mentions polls a kept-alive connection to hand over
            n = len(fx.requests)
            wait_for(lambda: len(fx.requests) > n, 10, "another poll", bot)
        fx.inject("tweets", "close", after=True)
        bot.proc.stdin.write(b"/tw reply 1 On it, sorry for the wait\n")
        bot.proc.stdin.flush()
        wait_for(lambda: query(dbp, "SELECT state FROM outbox WHERE kind='x.reply'")
                 in ([("done",)], [("failed",)]), 30, "the reply's outcome", bot)
        assert query(dbp, "SELECT state, last_error FROM outbox WHERE kind='x.reply'")[0][0] \
            == "done", query(dbp, "SELECT state, last_error FROM outbox WHERE kind='x.reply'")
        assert [t["in_reply_to_tweet_id"] for t in fx.tweets] == ids
        posts = [r for r in fx.requests if r["method"] == "POST" and r["path"] == "/2/tweets"]
        assert all(r["status"] != 401 for r in posts), [(r["status"]) for r in posts]
        assert fx.errors == [], fx.errors
        assert bot.stop()[0] == 0
    finally:
        fx.stop()
