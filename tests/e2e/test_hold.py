"""End-to-end: going public safely (issue 18) against the strict fake X:
a reply or DM waits reply.hold seconds and can be undone meanwhile (nothing
reaches X), the wait survives a restart (sent once, after it), an undo too
late says so, and unsend deletes a sent reply on X."""
import os
import shutil
import subprocess
import time

from harness import ROOT, Bot, Raw, outbox_drained, query, stop_fakes, wait_for, write_config
from test_slack import TOKENS, receipt, start_with_x, thread_of
from test_x import SECRETS, fake

STAFF = {"U1": {"name": "Alice Jensen", "initials": "AJ", "role": "lead"},
         "U2": {"name": "Bob Okafor", "initials": "BO", "role": "agent"}}


def start(tmp, fx, name="bot", hold=3, **keys):
    cfg = write_config(
        tmp, source="x", staff=STAFF,
        x={"api_url": fx.api_url, "handle": "AcmeSupport",
           "bearer_token": Raw('env("X_BEARER")'),
           "oauth1": {"consumer_key": Raw('env("X_CK")'), "consumer_secret": Raw('env("X_CS")'),
                      "token": Raw('env("X_TK")'), "token_secret": Raw('env("X_TS")')},
           "poll_interval": 0.3, "max_results": 100, "backfill": 5},
        outbox={"x_rate": 50, "max_backoff": 0.5}, reply={"hold": hold}, **keys)
    bot = Bot(tmp, cfg, env=SECRETS, name=name, stdin=subprocess.PIPE)
    bot.wait_started()
    return bot, os.path.join(tmp, "vigil.db")


def with_customers(fx, n):
    return [fx.add_mention(text=f"@AcmeSupport order {i} is late",
                           author=(str(7000 + i), f"customer{i}", f"Customer {i}"))
            for i in range(n)]


def say(bot, line):
    bot.proc.stdin.write((line + "\n").encode())
    bot.proc.stdin.flush()


def seen(bot, text, what, timeout=10):
    wait_for(lambda: text in bot.stdout(), timeout, what, bot)


def ready(tmp, fx, n=1, **kw):
    with_customers(fx, n)
    bot, dbp = start(tmp, fx, **kw)
    wait_for(lambda: query(dbp, "SELECT count(*) FROM tickets")[0][0] == n, 20, "tickets", bot)
    return bot, dbp


def test_a_reply_undone_within_the_window_never_reaches_x(tmp):
    fx = fake()
    try:
        bot, dbp = ready(tmp, fx, hold=3)
        say(bot, "/tw reply 1 We have refunded you")
        seen(bot, "sending in 3 s: We have refunded you", "the answer with the wait")
        seen(bot, "Sending in 3 s. Undo: /tw undo 1", "the receipt line with its Undo")
        say(bot, "/tw undo 1")
        seen(bot, "Reply to @customer0 undone: nothing was sent.", "the undo answer")
        seen(bot, "Undone by", "the receipt line rewritten")
        time.sleep(4)   # past the window: still nothing
        assert fx.tweets == [], fx.tweets
        assert query(dbp, "SELECT state FROM outbox WHERE kind='x.reply'") == [("cancelled",)]
        assert query(dbp, "SELECT count(*) FROM events WHERE action='undo'") == [(1,)]
        assert query(dbp, "SELECT first_response_at FROM tickets") == [(None,)], \
            "an undone reply answered the ticket"
        assert fx.errors == [], fx.errors
        assert bot.stop()[0] == 0
    finally:
        fx.stop()


def test_a_reply_is_sent_when_the_window_ends_and_undo_then_says_it_was_sent(tmp):
    fx = fake()
    try:
        bot, dbp = ready(tmp, fx, hold=1)
        t0 = time.monotonic()
        say(bot, "/tw reply 1 Sorry about that")
        fx.wait_tweets(1)
        assert time.monotonic() - t0 >= 0.9, "sent before the window ended"
        assert fx.tweets[0]["text"] == "Sorry about that ^LA"
        seen(bot, "Reply sent: https://x.com/AcmeSupport/status/", "the sent receipt")
        say(bot, "/tw undo 1")
        seen(bot, "Too late to undo: #1's reply was already sent. To take it back: "
                  "/tw unsend 1", "the refusal")
        assert len(fx.tweets) == 1
        assert bot.stop()[0] == 0
    finally:
        fx.stop()


def test_a_dm_undone_within_the_window_is_never_sent(tmp):
    fx = fake()
    try:
        bot, dbp = ready(tmp, fx, hold=3)
        say(bot, "/tw dm 1 Your address please")
        seen(bot, "sending in 3 s (undo: /tw undo 1)", "the DM answer with the wait")
        say(bot, "/tw undo 1")
        seen(bot, "DM to @customer0 undone: nothing was sent.", "the undo answer")
        time.sleep(3.5)
        assert fx.dms == [] and fx.tweets == [], (fx.dms, fx.tweets)
        assert bot.stop()[0] == 0
    finally:
        fx.stop()


def test_a_restart_during_the_hold_sends_the_reply_once_after_it(tmp):
    fx = fake()
    try:
        bot, dbp = ready(tmp, fx, hold=3)
        say(bot, "/tw reply 1 On its way")
        seen(bot, "sending in 3 s", "the answer")
        assert bot.stop()[0] == 0
        assert fx.tweets == [], "sent before the window ended"
        again, _ = start(tmp, fx, name="again", hold=3)
        fx.wait_tweets(1, timeout=15)
        time.sleep(1.5)   # a second copy would have gone by now
        assert [t["text"] for t in fx.tweets] == ["On its way ^LA"]
        wait_for(lambda: query(dbp, "SELECT first_response_at IS NOT NULL FROM tickets")
                 == [(1,)], 10, "the ticket answered", again)
        assert fx.errors == [], fx.errors
        assert again.stop()[0] == 0
    finally:
        fx.stop()


def test_unsend_deletes_the_last_reply_on_x_and_the_receipt_says_who(tmp):
    fx = fake()
    try:
        bot, dbp = ready(tmp, fx, hold=0.5)
        say(bot, "/tw reply 1 Wrong customer, sorry")
        tweet = fx.wait_tweets(1)[0]["id"]
        seen(bot, f"Reply sent: https://x.com/AcmeSupport/status/{tweet}", "the sent receipt")
        fx.inject("delete", "503")   # X fails once: retried, not given up
        say(bot, "/tw unsend 1")
        seen(bot, f"Deleting #1's reply from X: https://x.com/AcmeSupport/status/{tweet}",
             "the answer")
        fx.wait_for(lambda: [d["id"] for d in fx.deleted] == [tweet], 15, "the delete")
        seen(bot, "Deleted from X by", "the receipt rewritten")
        assert [r["status"] for r in fx.requests if r["method"] == "DELETE"] == [503, 200]
        assert fx.deleted[0]["auth"] == "oauth1"
        wait_for(lambda: query(dbp, "SELECT detail FROM events WHERE action='reply deleted'")
                 == [(tweet,)], 10, "the audit", bot)
        assert query(dbp, "SELECT count(*) FROM events WHERE action='unsend'") == [(1,)]
        say(bot, "/tw unsend 1")
        seen(bot, "#1's last reply was already deleted from X.", "the second unsend refused")
        assert fx.errors == [], fx.errors
        assert bot.stop()[0] == 0
    finally:
        fx.stop()


def test_a_failed_unsend_says_why_and_is_not_retried(tmp):
    fx = fake()
    try:
        bot, dbp = ready(tmp, fx, hold=0.5)
        say(bot, "/tw unsend 1")
        seen(bot, "#1 has no public reply on X to delete.", "nothing to delete")
        say(bot, "/tw reply 1 Here you go")
        tweet = fx.wait_tweets(1)[0]["id"]
        seen(bot, "Reply sent:", "the sent receipt")
        fx.delete_tweet(tweet)       # someone deleted it on X meanwhile
        say(bot, "/tw unsend 1")
        seen(bot, "Could not delete it from X: X has no such post", "the receipt says why")
        seen(bot, "could not be deleted from X (asked by", "the thread line")
        time.sleep(1.5)
        assert [r["status"] for r in fx.requests if r["method"] == "DELETE"] == [404]
        assert query(dbp, "SELECT state FROM outbox WHERE kind='x.delete'") == [("failed",)]
        assert fx.errors == [], fx.errors
        assert bot.stop()[0] == 0
    finally:
        fx.stop()


def with_slack(tmp, customers=1, approval=None, **reply):
    """vigil between the fake Slack (U1 Alice, lead; U2 Bob, agent) and the
    fake X, one ticket per customer (buyer0..); returns (fs, fx, bot, dbp)."""
    extra = {"approval": Raw(approval)} if approval else {}
    return start_with_x(tmp, customers, fx=fake(), env=dict(TOKENS, **SECRETS),
                        reply=reply, **extra)


def answer(fs, typed, user):
    return fs.wait_ack(fs.send_slash(typed, user_id=user))["payload"]["text"]


def button(line, action):
    return any(e.get("action_id") == action for b in line.get("blocks") or []
               for e in b.get("elements", []))


def test_a_second_agents_reply_is_held_and_sent_by_its_send_anyway_button(tmp):
    fs = fx = None
    try:
        fs, fx, bot, dbp = with_slack(tmp, hold=1, collision_window=60)
        assert "sending in 1 s" in answer(fs, "reply 1 Your parcel left today", "U1")
        held = answer(fs, "reply 1 Checking with the warehouse", "U2")
        assert held.startswith("Held, not sent: Alice Jensen replied to #1 0s ago: "
                               "\"Your parcel left today ^AJ\""), held
        assert "/tw reply! 1" in held, held
        # the team sees it held, with the button; Alice's goes out, Bob's waits
        wait_for(lambda: button(receipt(fs, 1, "Bob Okafor replied publicly"), "send_anyway"),
                 10, "the held line with Send anyway", bot)
        fx.wait_tweets(1)
        time.sleep(1.5)
        assert [t["text"] for t in fx.tweets] == ["Your parcel left today ^AJ"]
        # Alice answers again: Bob's held reply holds hers
        again = answer(fs, "reply 1 One more thing", "U1")
        assert again.startswith("Held, not sent: Bob Okafor has a held reply to #1"), again
        # Bob's button sends his own held reply, not Alice's newer one
        line = receipt(fs, 1, "Bob Okafor replied publicly")
        fs.wait_ack(fs.send_block_action("send_anyway", message_ts=line["ts"], user_id="U2"))
        fx.wait_tweets(2)
        assert fx.tweets[1]["text"] == "Checking with the warehouse ^BO", fx.tweets
        wait_for(lambda: query(dbp, "SELECT state FROM outbox WHERE kind='x.reply' ORDER BY id")
                 == [("done",), ("done",), ("held",)], 10, "Alice's second still held", bot)
        wait_for(lambda: "Reply sent:" in receipt(fs, 1, "Bob Okafor replied publicly")["text"],
                 10, "Bob's receipt to say sent", bot)
        assert query(dbp, "SELECT actor, action FROM events WHERE action LIKE 'reply%' "
                          "ORDER BY id") == [("U1", "reply"), ("U2", "reply held"),
                                             ("system", "reply sent"), ("U1", "reply held"),
                                             ("U2", "reply"), ("system", "reply sent")], \
            query(dbp, "SELECT actor, action FROM events ORDER BY id")
        assert fs.errors == [] and fx.errors == [], (fs.errors, fx.errors)
        assert bot.stop()[0] == 0
    finally:
        stop_fakes(fs, fx)


def test_a_reply_to_someone_elses_ticket_is_held_and_reply_bang_sends_it(tmp):
    fs = fx = None
    try:
        fs, fx, bot, dbp = with_slack(tmp, hold=0, collision_window=60)
        assert answer(fs, "assign 1 @bob", "U1") == "#1 is now Bob Okafor's."
        held = answer(fs, "reply 1 We are on it", "U1")
        assert held.startswith("Held, not sent: #1 is assigned to Bob Okafor."), held
        assert "only they can send it anyway" in answer(fs, "reply! 1", "U2")
        sent = answer(fs, "reply! 1 We are on it, truly", "U1")
        assert "queued anyway: We are on it, truly ^AJ" in sent, sent
        fx.wait_tweets(1)
        time.sleep(0.5)
        assert [t["text"] for t in fx.tweets] == ["We are on it, truly ^AJ"]
        # an agent may not unsend a colleague's reply
        wait_for(lambda: outbox_drained(dbp), 10, "the reply recorded", bot)
        refused = answer(fs, "unsend 1", "U2")
        assert refused == "Only a lead or the reply's author (Alice Jensen) can delete #1's " \
                          "reply.", refused
        assert fx.deleted == []
        # taking the ticket over tells Bob in its thread
        assert answer(fs, "assign 1 me", "U1").startswith("#1 is yours now")
        wait_for(lambda: any("Alice Jensen took #1 (Bob Okafor: it is no longer yours)"
                             in m["text"] for m in thread_of(fs, 1)), 10, "the notice", bot)
        assert fs.errors == [] and fx.errors == [], (fs.errors, fx.errors)
        assert bot.stop()[0] == 0
    finally:
        stop_fakes(fs, fx)


def test_a_draft_is_approved_edited_or_rejected_by_a_lead_and_only_a_send_answers(tmp):
    fs = fx = None
    try:
        fs, fx, bot, dbp = with_slack(tmp, hold=0, collision_window=60,
                                      approval='{ people = {"U2"} }')
        said = answer(fs, "reply 1 Hello from Bob", "U2")
        assert said == "Not sent yet: your reply to #1 waits for a lead's approval (it is in " \
                       "the ticket's thread as a draft).", said
        wait_for(lambda: button(receipt(fs, 1, "Bob Okafor replied publicly"), "reject"), 10,
                 "the draft with Approve, Edit, Reject", bot)
        assert "needs the lead role" in answer(fs, "approve 1", "U2")
        time.sleep(0.5)
        assert fx.tweets == []
        assert query(dbp, "SELECT first_response_at FROM tickets") == [(None,)], \
            "a draft answered the ticket"
        # the lead's Approve button: it goes out, signed by its author
        line = receipt(fs, 1, "Bob Okafor replied publicly")
        fs.wait_ack(fs.send_block_action("approve", message_ts=line["ts"], user_id="U1"))
        fx.wait_tweets(1)
        assert fx.tweets[0]["text"] == "Hello from Bob ^BO", fx.tweets
        wait_for(lambda: "Approved by Alice Jensen" in
                 receipt(fs, 1, "Bob Okafor replied publicly")["text"], 10, "the receipt", bot)
        wait_for(lambda: query(dbp, "SELECT first_response_at IS NOT NULL FROM tickets")
                 == [(1,)], 10, "the ticket answered once sent", bot)
        # edit: the lead's words go instead
        answer(fs, "reply 1 ok so what now", "U2")
        ok = answer(fs, "edit 1 Your refund is on its way", "U1")
        assert "Edited and approved" in ok and "Your refund is on its way ^AJ" in ok, ok
        fx.wait_tweets(2)
        assert fx.tweets[1]["text"] == "Your refund is on its way ^AJ"
        wait_for(lambda: "Approved by Alice Jensen" in
                 receipt(fs, 1, "(edited by Alice Jensen)")["text"], 10, "the edited one", bot)
        # reject: nothing goes out, and Bob is told why in the thread
        answer(fs, "reply 1 lol no idea", "U2")
        assert "Rejected Bob Okafor's draft for #1" in answer(fs, "reject 1 Too casual", "U1")
        wait_for(lambda: any("Bob Okafor, Alice Jensen rejected your reply to #1: Too casual"
                             in m["text"] for m in thread_of(fs, 1)), 10, "the notice", bot)
        assert "no draft waiting" in answer(fs, "approve 1", "U1")
        time.sleep(0.5)
        assert len(fx.tweets) == 2
        assert query(dbp, "SELECT actor, action FROM events WHERE action IN "
                          "('draft', 'approved', 'rejected') ORDER BY id") == \
            [("U2", "draft"), ("U1", "approved"), ("U2", "draft"), ("U1", "approved"),
             ("U2", "draft"), ("U1", "rejected")]
        assert fs.errors == [] and fx.errors == [], (fs.errors, fx.errors)
        assert bot.stop()[0] == 0
    finally:
        stop_fakes(fs, fx)


def test_before_reply_hooks_see_whether_a_reply_is_a_draft_approved_or_forced(tmp):
    """A hook that signs each reply with ctx.kind: what reaches X shows it."""
    sdir = os.path.join(tmp, "scripts")
    shutil.copytree(os.path.join(ROOT, "scripts"), sdir)
    with open(os.path.join(sdir, "hooks", "kind.lua"), "w") as f:
        f.write('return hooks { before_reply = function(t, text, ctx)\n'
                '  return text .. " [" .. ctx.kind .. "]" end }\n')
    fx = fake()
    try:
        with_customers(fx, 2)
        bot, dbp = start(tmp, fx, hold=0, scripts={"dir": sdir, "lib": os.path.join(ROOT, "lua")},
                         approval=Raw('{ people = {"local-admin"} }'))
        wait_for(lambda: query(dbp, "SELECT count(*) FROM tickets")[0][0] == 2, 20, "tickets",
                 bot)
        say(bot, "/tw reply 1 first")
        seen(bot, "waits for a lead's approval", "the draft")
        say(bot, "/tw approve 1 edited")
        fx.wait_tweets(1)
        say(bot, "/tw reply 2 second")
        seen(bot, "waits for a lead's approval", "the second draft")
        say(bot, "/tw approve 2")
        fx.wait_tweets(2)
        assert [t["text"] for t in fx.tweets] == ["edited [approved] ^LA", "second [draft] ^LA"]
        assert bot.stop()[0] == 0
        # without approval: reply! is forced, a plain reply is a reply
        again, _ = start(tmp, fx, name="again", hold=0,
                         scripts={"dir": sdir, "lib": os.path.join(ROOT, "lua")})
        say(again, "/tw reply! 1 third")
        fx.wait_tweets(3)
        say(again, "/tw reply 2 fourth")
        fx.wait_tweets(4)
        assert [t["text"] for t in fx.tweets[2:]] == ["third [forced] ^LA", "fourth [reply] ^LA"]
        assert again.stop()[0] == 0
    finally:
        fx.stop()


def test_the_undo_button_on_a_slack_receipt_stops_the_reply(tmp):
    fs = fx = None
    try:
        fs, fx, bot, dbp = with_slack(tmp, hold=4, collision_window=0)
        said = answer(fs, "reply 1 Sent to the wrong customer", "U1")
        assert "sending in 4 s" in said and "/tw undo 1" in said, said
        wait_for(lambda: button(receipt(fs, 1, "Alice Jensen replied publicly"), "undo"), 3,
                 "the receipt's Undo button", bot)
        line = receipt(fs, 1, "Alice Jensen replied publicly")
        assert "Sending in 4 s." in line["text"], line["text"]
        fs.wait_ack(fs.send_block_action("undo", message_ts=line["ts"], user_id="U1"))
        wait_for(lambda: "Undone by Alice Jensen: nothing was sent." in
                 receipt(fs, 1, "Alice Jensen replied publicly")["text"], 10, "the undo", bot)
        assert not button(receipt(fs, 1, "Alice Jensen replied publicly"), "undo")
        time.sleep(4)
        assert fx.tweets == []
        assert fs.errors == [] and fx.errors == [], (fs.errors, fx.errors)
        assert bot.stop()[0] == 0
    finally:
        stop_fakes(fs, fx)
