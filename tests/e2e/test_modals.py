"""End-to-end: forms declared by scripts (issue 19) as a person meets them:
the Reply button opens a modal with the tweet, a box that counts as X
counts, a canned picker that fills the box, a DM switch; submission runs the
same script a typed line does, and its refusal comes back on the field."""
import os
import subprocess
import time
import sys

from harness import ROOT, Bot, outbox_drained, query, replay_done, wait_for, write_config
from test_slack import fake, run_replay, tickets_posted

sys.path.insert(0, os.path.join(ROOT, "tests", "fakes"))


def ticket_msg(fs, n):
    return [m for m in tickets_posted(fs) if m["metadata"]["event_payload"]["ticket"] == n][0]


def count_text(fs, vid):
    return fs.view_block(vid, "n_text.")["elements"][0]["text"]


def open_form(fs, msg, action, user):
    """`user` presses the ticket message's `action` button: the form's view id."""
    fs.wait_ack(fs.send_block_action(action, user_id=user, message_ts=msg["ts"]))
    return fs.wait_view(user)


def type_and_wait(fs, vid, field, text, user):
    """`user` types `text` in the open form's `field`: the view id once the
    form has been updated for it."""
    fs.wait_ack(fs.type_in(vid, field, text, user=user))
    return fs.wait_view(user, updates=1)


def test_reply_button_opens_a_modal_that_counts_fills_and_sends(tmp):
    fs = fake()
    try:
        bot, dbp = run_replay(tmp, fs)
        fs.wait_ack(fs.send_slash("canned add thanks Thanks {name}, it is fixed now!"))
        msg = ticket_msg(fs, 3)
        vid = open_form(fs, msg, "form_reply", "U1")
        view = fs.view(vid)
        assert view["title"]["text"] == "Reply #3", view["title"]
        quote = [b for b in view["blocks"] if b["type"] == "rich_text"]
        assert quote and "refund" in str(quote[0]).lower(), view["blocks"][:2]
        assert count_text(fs, vid) == "0/280"
        # typing: the count follows, as X weighs it (a link counts 23)
        vid = type_and_wait(fs, vid, "text", "See https://example.com/a/very/long/path/indeed",
                            "U1")
        assert count_text(fs, vid) == "27/280", count_text(fs, vid)
        # the canned picker fills the box with the customer's name resolved
        fs.wait_ack(fs.pick(vid, "canned", "thanks"))
        vid = fs.wait_view("U1", updates=2)
        box = fs.view_block(vid, "f_text.")
        assert box["element"]["initial_value"].startswith("Thanks "), box
        assert "{name}" not in box["element"]["initial_value"]
        assert fs.view(vid)["state"]["values"][box["block_id"]]["v"]["value"] == \
            box["element"]["initial_value"]
        assert fs.submit(vid) is None           # the modal closes
        wait_for(lambda: any("Alice Jensen replied publicly: Thanks" in r["text"]
                             for r in fs.thread("C_MENTIONS", msg["ts"])),
                 10, "the receipt in the ticket's thread", bot)
        wait_for(lambda: any("Reply to @" in (e.get("text") or "") for e in fs.ephemerals),
                 10, "the private answer", bot)
        assert fs.errors == [], fs.errors
        assert bot.stop()[0] == 0
    finally:
        fs.stop()


def test_a_reply_too_long_for_x_comes_back_on_the_field(tmp):
    fs = fake()
    try:
        bot, dbp = run_replay(tmp, fs)
        msg = ticket_msg(fs, 2)
        vid = open_form(fs, msg, "form_reply", "U2")
        vid = type_and_wait(fs, vid, "text", "é" * 150 + " " + "🙂" * 70, "U2")
        assert "too long" in count_text(fs, vid), count_text(fs, vid)
        before = query(dbp, "SELECT count(*) FROM outbox")
        p = fs.submit(vid, user="U2")
        assert p["response_action"] == "errors", p
        [(bid, err)] = p["errors"].items()
        assert bid.startswith("f_text.") and "Too long: 291/280" in err, p
        assert query(dbp, "SELECT count(*) FROM outbox") == before   # nothing queued
        # an empty box is refused the same way, and nothing runs
        fs.type_in(vid, "text", "", user="U2")
        p = fs.submit(vid, user="U2")
        assert p["response_action"] == "errors" and "fill this in" in str(p["errors"]), p
        assert fs.errors == [], fs.errors
        assert bot.stop()[0] == 0
    finally:
        fs.stop()


def test_the_scripts_refusal_shows_on_the_field(tmp):
    fs = fake()
    try:
        bot, dbp = run_replay(tmp, fs)
        msg = ticket_msg(fs, 1)
        vid = open_form(fs, msg, "form_note", "U2")
        fs.type_in(vid, "text", "Customer called too; see CRM.", user="U2")
        assert fs.submit(vid, user="U2") is None
        wait_for(lambda: any("Customer called too; see CRM." in r["text"]
                             for r in fs.thread("C_MENTIONS", msg["ts"])),
                 10, "the note in the thread", bot)
        # the privacy hook refuses a public reply with an e-mail address: inline
        vid = open_form(fs, msg, "form_reply", "U2")
        vid = type_and_wait(fs, vid, "text", "Mail me at bob@example.com", "U2")
        p = fs.submit(vid, user="U2")
        assert p and p["response_action"] == "errors", p
        [(bid, err)] = p["errors"].items()
        assert bid.startswith("f_text."), p
        # ... and with "send as DM" ticked, the same text goes as a DM
        fs.tick(vid, "dm", user="U2")
        assert fs.submit(vid, user="U2") is None
        wait_for(lambda: any("DM to @" in (e.get("text") or "") for e in fs.ephemerals),
                 10, "the DM queued", bot)
        assert fs.errors == [], fs.errors
        assert bot.stop()[0] == 0
    finally:
        fs.stop()


def test_assign_picks_from_staff_only(tmp):
    fs = fake()
    try:
        bot, dbp = run_replay(tmp, fs)
        msg = ticket_msg(fs, 4)
        vid = open_form(fs, msg, "form_assign", "U1")
        el = fs.view_block(vid, "f_who.")["element"]
        assert el["type"] == "static_select"
        # the staff of the config, not every workspace user (nor the console's admin)
        assert sorted(o["value"] for o in el["options"]) == ["U1", "U2"], el["options"]
        fs.pick(vid, "who", "U2")
        assert fs.submit(vid) is None
        wait_for(lambda: query(dbp, "SELECT assignee FROM tickets WHERE id=4") == [("U2",)],
                 10, "#4 assigned to Bob", bot)
        assert fs.errors == [], fs.errors
        assert bot.stop()[0] == 0
    finally:
        fs.stop()


def test_the_console_asks_for_a_forms_fields_one_by_one(tmp):
    cfg = write_config(tmp)
    dbp = os.path.join(tmp, "vigil.db")
    bot = Bot(tmp, cfg, stdin=subprocess.PIPE)

    def say(line):
        bot.proc.stdin.write(line.encode() + b"\n")
        bot.proc.stdin.flush()

    wait_for(lambda: replay_done(dbp) and outbox_drained(dbp), what="replay", bot=bot)
    say("/tw canned add thanks Thanks {name}, it is fixed!")
    wait_for(lambda: 'Saved canned answer "thanks"' in bot.stdout(), what="the canned answer",
             bot=bot)
    say("/tw reply 3")                        # the ticket alone: the form asks
    wait_for(lambda: "Canned answer: 1) thanks (Enter: none)" in bot.stdout(),
             what="the canned picker", bot=bot)
    say("1")
    wait_for(lambda: "(Enter keeps it)" in bot.stdout(), what="the filled text", bot=bot)
    out = bot.stdout()
    assert "[Thanks " in out and "{name}" not in out.split("[Thanks ", 1)[1].split("]")[0], out
    say("")                                   # keep the filled text
    wait_for(lambda: "Send as a DM instead [y/N]" in bot.stdout(), what="the DM switch", bot=bot)
    say("n")
    wait_for(lambda: query(dbp, "SELECT count(*) FROM events WHERE action='reply'") == [(1,)],
             what="the reply", bot=bot)
    (detail,), = query(dbp, "SELECT detail FROM events WHERE action='reply'")
    assert "Thanks " in detail and "it is fixed! ^LA" in detail, detail
    # a text too long for X is asked again; an empty answer cancels
    say("/tw note 3")
    wait_for(lambda: "Note (at most 3000 characters)" in bot.stdout(), what="the note prompt",
             bot=bot)
    say("")
    wait_for(lambda: "Cancelled; nothing was run." in bot.stdout(), what="the cancel", bot=bot)
    say("/tw reply 3")
    say("")                                   # no canned answer
    say("x" * 281)
    wait_for(lambda: "Too long: 281/280 as X counts it; type it again." in bot.stdout(),
             what="the length refusal", bot=bot)
    say("Short now.")
    say("")
    wait_for(lambda: query(dbp, "SELECT count(*) FROM events WHERE action='reply'") == [(2,)],
             what="the second reply", bot=bot)
    # a command complete as typed runs at once, as before
    say("/tw escalate 3")
    wait_for(lambda: "#3 escalated" in bot.stdout(), what="the escalation", bot=bot)
    say(":quit")
    assert bot.proc.wait(5) == 0


def test_a_command_typed_in_the_tickets_thread_runs_for_that_ticket(tmp):
    fs = fake()
    try:
        bot, dbp = run_replay(tmp, fs)
        msg = ticket_msg(fs, 3)
        env, _ = fs.post_in_thread("C_MENTIONS", msg["ts"], "reply Thanks, fixed now", user="U2")
        fs.wait_ack(env)
        wait_for(lambda: any("Bob Okafor replied publicly: Thanks, fixed now ^BO" in r["text"]
                             for r in fs.thread("C_MENTIONS", msg["ts"])),
                 10, "the receipt in the thread", bot)
        wait_for(lambda: any(e.get("thread_ts") == msg["ts"] and "Reply to @" in e["text"]
                             for e in fs.ephemerals), 10, "the private answer in the thread", bot)
        replies = query(dbp, "SELECT count(*) FROM events WHERE action='reply'")
        # the team's conversation is left alone: no command, no answer
        n_eph = len(fs.ephemerals)
        env, _ = fs.post_in_thread("C_MENTIONS", msg["ts"], "thanks Bob, I saw it too",
                                   user="U1")
        fs.wait_ack(env)
        # a redelivered event (same event_id) does not run twice
        env, _ = fs.post_in_thread("C_MENTIONS", msg["ts"], "note checked with billing",
                                   user="U1", event_id="EvTHREAD1")
        fs.wait_ack(env)
        fs.send_event({"type": "message", "channel": "C_MENTIONS", "user": "U1",
                       "text": "note checked with billing", "ts": "1.000001",
                       "thread_ts": msg["ts"]}, event_id="EvTHREAD1", retry_attempt=1)
        wait_for(lambda: any("checked with billing" in r["text"]
                             for r in fs.thread("C_MENTIONS", msg["ts"]) if r["user"] == "UBOT"),
                 10, "the note", bot)
        # someone who is not staff: left alone too
        env, _ = fs.post_in_thread("C_MENTIONS", msg["ts"], "close", user="U999")
        fs.wait_ack(env)
        time.sleep(0.5)
        notes = [r for r in fs.thread("C_MENTIONS", msg["ts"])
                 if r["user"] == "UBOT" and "checked with billing" in r["text"]]
        assert len(notes) == 1, notes
        assert len(fs.ephemerals) == n_eph + 1, fs.ephemerals[n_eph:]
        assert query(dbp, "SELECT count(*) FROM events WHERE action='reply'") == replies
        assert query(dbp, "SELECT state FROM tickets WHERE id=3") == [("open",)]
        assert fs.errors == [], fs.errors
        assert bot.stop()[0] == 0
    finally:
        fs.stop()


def test_thread_commands_need_the_configured_prefix(tmp):
    fs = fake()
    try:
        bot, dbp = run_replay(tmp, fs, thread_prefix="!")
        msg = ticket_msg(fs, 2)
        env, _ = fs.post_in_thread("C_MENTIONS", msg["ts"], "close", user="U1")
        fs.wait_ack(env)
        env, _ = fs.post_in_thread("C_MENTIONS", msg["ts"], "!close", user="U1")
        fs.wait_ack(env)
        wait_for(lambda: query(dbp, "SELECT state FROM tickets WHERE id=2") == [("closed",)],
                 10, "#2 closed by !close", bot)
        assert query(dbp, "SELECT count(*) FROM events WHERE action='closed'") == [(1,)]
        assert fs.errors == [], fs.errors
        assert bot.stop()[0] == 0
    finally:
        fs.stop()


def test_the_reply_to_customer_shortcut_opens_the_reply_modal(tmp):
    fs = fake()
    try:
        bot, dbp = run_replay(tmp, fs)
        msg = ticket_msg(fs, 5)
        _, ts = fs.post_in_thread("C_MENTIONS", msg["ts"], "they wrote again on X", user="U2")
        fs.wait_ack(fs.send_message_shortcut("reply_to_customer", ts, user="U2"))
        vid = fs.wait_view("U2")
        assert fs.view(vid)["title"]["text"] == "Reply #5"
        fs.type_in(vid, "text", "On it!", user="U2")
        assert fs.submit(vid, user="U2") is None
        wait_for(lambda: any("replied publicly: On it! ^BO" in r["text"]
                             for r in fs.thread("C_MENTIONS", msg["ts"])),
                 10, "the reply's receipt", bot)
        assert fs.errors == [], fs.errors
        assert bot.stop()[0] == 0
    finally:
        fs.stop()


def test_the_manifest_still_validates_against_slacks_schema(tmp):
    """config/slack-app-manifest.yml against Slack's own JSON schema
    (tests/fixtures/slack-manifest-schema, offline: its remote $refs are
    served from the copies beside it)."""
    import json
    import jsonschema
    import referencing
    import yaml

    here = os.path.join(ROOT, "tests", "fixtures", "slack-manifest-schema")
    with open(os.path.join(here, "manifest.schema.json")) as f:
        main = json.load(f)
    resources = []
    for v in ("1.0.0", "2.0.0"):
        with open(os.path.join(here, "schemas", f"manifest.schema.{v}.json")) as f:
            doc = json.load(f)
        url = ("https://raw.githubusercontent.com/slackapi/manifest-schema/v0.5.0/schemas/"
               f"manifest.schema.{v}.json")
        resources.append((url, referencing.Resource.from_contents(
            doc, default_specification=referencing.jsonschema.DRAFT7)))
    registry = referencing.Registry().with_resources(resources)
    with open(os.path.join(ROOT, "config", "slack-app-manifest.yml")) as f:
        manifest = yaml.safe_load(f)
    validator = jsonschema.Draft7Validator(main, registry=registry)
    errors = [f"{list(e.path)}: {e.message}" for e in validator.iter_errors(manifest)]
    assert errors == [], errors
    # what issue 19 needs from Slack is declared
    assert manifest["features"]["app_home"]["home_tab_enabled"] is True
    assert {"app_home_opened", "message.channels", "message.groups"} <= set(
        manifest["settings"]["event_subscriptions"]["bot_events"])
    assert [s["callback_id"] for s in manifest["features"]["shortcuts"]] == ["reply_to_customer"]
    assert manifest["settings"]["interactivity"]["is_enabled"] is True
    # ... and a manifest Slack would refuse is refused here too
    bad = dict(manifest, features=dict(manifest["features"], shortcuts=[
        {"name": "A name far longer than Slack allows", "type": "message",
         "callback_id": "x", "description": "d"}]))
    assert list(validator.iter_errors(bad)), "an over-long shortcut name passed"


def home_text(fs, vid):
    return "\n".join(b["text"]["text"] for b in fs.view(vid)["blocks"]
                     if b["type"] in ("section", "header"))


def test_app_home_shows_my_tickets_the_queue_and_today_and_follows_changes(tmp):
    fs = fake()
    try:
        bot, dbp = run_replay(tmp, fs)
        fs.wait_ack(fs.send_slash("assign 2 me", user_id="U2"))
        fs.wait_ack(fs.open_home("U2"))
        vid = fs.wait_home("U2")
        view = fs.view(vid)
        text = home_text(fs, vid)
        assert "Yours (1)" in text and "#2 · @" in text, text
        assert "Today (UTC):" in text and "new" in text, text
        n_open = query(dbp, "SELECT count(*) FROM tickets WHERE state='open' AND assignee IS NULL")
        assert f"Unassigned, by time left ({min(n_open[0][0], 12)})" in text, text
        # the queue is by time left: the first due first
        queue = [int(line.split(" ")[0][1:]) for line in text.split("Unassigned, by time left")[1]
                 .splitlines() if line.startswith("#")]
        dues = {i: d for i, d in query(dbp, "SELECT id, sla_due_at FROM tickets")}
        assert queue == sorted(queue, key=lambda i: dues[i]), (queue, dues)
        assert len(view["blocks"]) <= 100
        assert all(b["type"] != "input" for b in view["blocks"])
        # a row's Reply opens the reply modal for that ticket
        first = queue[0]
        fs.wait_ack(fs.press_in_view(vid, "form_reply", str(first), user="U2"))
        mvid = fs.wait_view("U2")
        assert fs.view(mvid)["title"]["text"] == f"Reply #{first}"
        # changes refresh the Home once, not once per change
        for t in queue[:3]:
            fs.wait_ack(fs.send_slash(f"assign {t} me", user_id="U2"))
        vid = fs.wait_home("U2", updates=1, timeout=10)
        time.sleep(3.5)
        assert fs.views[vid]["updates"] == 1, fs.views[vid]["updates"]
        text = home_text(fs, vid)
        assert "Yours (4)" in text, text
        publishes = [c for c in fs.calls if c["method"] == "views.publish"]
        assert len(publishes) == 2, len(publishes)
        # someone not in staff gets no desk
        fs.users["U999"] = {"name": "mallory", "real_name": "Mallory"}
        fs.wait_ack(fs.open_home("U999"))
        time.sleep(0.3)
        assert "U999" not in fs.homes
        assert len([c for c in fs.calls if c["method"] == "views.publish"]) == 2
        assert fs.errors == [], fs.errors
        assert bot.stop()[0] == 0
    finally:
        fs.stop()


def test_escalate_asks_for_a_reason_and_the_lead_role_is_still_checked(tmp):
    fs = fake()
    try:
        bot, dbp = run_replay(tmp, fs)
        msg = ticket_msg(fs, 6)
        vid = open_form(fs, msg, "form_escalate", "U1")
        assert fs.view_block(vid, "f_reason.")["optional"] is True
        fs.type_in(vid, "reason", "Threatens to sue; legal must see it")
        assert fs.submit(vid) is None
        wait_for(lambda: any("Threatens to sue" in (m.get("text") or "")
                             for m in fs.messages("C_ESCALATE")), 10, "the escalation post", bot)
        assert query(dbp, "SELECT escalated FROM tickets WHERE id=6") == [(1,)]
        # an agent may open the form, but the script's roles refuse it, on the field
        msg = ticket_msg(fs, 7)
        vid = open_form(fs, msg, "form_escalate", "U2")
        p = fs.submit(vid, user="U2")
        assert p and "needs the lead role" in list(p["errors"].values())[0], p
        assert query(dbp, "SELECT escalated FROM tickets WHERE id=7") == [(0,)]
        assert fs.errors == [], fs.errors
        assert bot.stop()[0] == 0
    finally:
        fs.stop()


def test_the_repl_asks_for_a_forms_fields_in_a_terminal(tmp):
    import shutil
    from test_admin import Client, Tmux
    from test_admin import start as start_admin
    from harness import vigil_path
    if not shutil.which("tmux"):
        raise AssertionError("tmux is not installed (make deps installs it)")
    bot, cfg, dbp, sock = start_admin(tmp)
    c = Client(sock)
    assert "Saved" in c.call("exec", line="/tw canned add thanks Thanks {name}, fixed!")["text"]
    # the protocol: the form, a fill, a run
    form = c.call("form", line="/tw reply 3")["form"]
    assert [f["name"] for f in form["fields"]] == ["text", "canned", "dm"], form
    assert form["fields"][1]["options"] == [{"value": "thanks", "label": "thanks"}]
    assert c.call("form", line="/tw escalate 3").get("form") is None   # typed whole
    fill = c.call("exec", line="/tw reply 3", fields={"canned": "thanks"}, fill="canned")
    assert fill["ok"] and fill["text"].startswith("Thanks ") and "{name}" not in fill["text"]
    c.close()
    env = {"XDG_STATE_HOME": os.path.join(tmp, "state"), "NO_COLOR": "1", "TERM": "xterm"}
    t = Tmux(tmp, f"form{os.getpid()}")
    try:
        t.start(f"{vigil_path()} repl -c {cfg}", env)
        t.wait("vigil>")
        t.keys("/tw reply 3", "Enter")
        t.wait("Canned answer: 1) thanks (Enter: none)")
        t.keys("1", "Enter")
        t.wait("(Enter keeps it)")
        t.keys("Enter")
        t.wait("Send as a DM instead [y/N]")
        t.keys("Enter")
        t.wait("Reply to @")
        t.keys("/tw note 3", "Enter")
        t.wait("Note (at most 3000 characters)")
        t.keys("Enter")
        t.wait("Cancelled; nothing was run.")
        t.keys(":status", "Enter")                 # the prompt works as before
        t.wait("uptime")
    finally:
        t.kill()
    (detail,), = query(dbp, "SELECT detail FROM events WHERE action='reply'")
    assert "Thanks " in detail and "fixed! ^LA" in detail, detail
    assert query(dbp, "SELECT count(*) FROM events WHERE action='note'") == [(0,)]
    assert bot.stop()[0] == 0
