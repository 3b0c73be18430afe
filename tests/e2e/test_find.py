"""End-to-end: issue 17 §5-§7 — /tw find over tickets and tweets, what the
agent sees on a ticket, stats per hour and agent, CSV export."""
import os
import subprocess

from harness import Bot, outbox_drained, replay_done, vigil_path, wait_for, write_config, ROOT

STAFF = {"U1": {"name": "Alice Jensen", "role": "admin"},
         "U2": {"name": "Bob Stone", "role": "agent"}}


def start(tmp, **keys):
    cfg = write_config(tmp, staff=STAFF, **keys)
    dbp = os.path.join(tmp, "vigil.db")
    bot = Bot(tmp, cfg)
    wait_for(lambda: replay_done(dbp) and outbox_drained(dbp), 20, "replay", bot)
    return bot, cfg, dbp


def repl(cfg, *lines):
    args = []
    for line in lines:
        args += ["-e", line]
    r = subprocess.run([vigil_path(), "repl", "-c", cfg, *args], cwd=ROOT, capture_output=True,
                       text=True, timeout=30, env=dict(os.environ, NO_COLOR="1"))
    return r.stdout


def ids(out):
    """The ticket numbers a find answer lists, in order."""
    return [int(line.split()[0][1:]) for line in out.splitlines() if line.startswith("#")]


def test_find_searches_every_tweet_of_a_ticket_with_each_operator(tmp):
    bot, cfg, dbp = start(tmp)
    out = repl(cfg, "/tw find refund")
    # #3 says refund in its opening tweet, #6 in a follow-up
    assert "2 tickets match" in out and ids(out) == [6, 3], out
    assert "Got the refund email" in out and "https://x.com/lena_writes/status/" in out, out
    assert ids(repl(cfg, "/tw find @PriyaNair")) == [9, 5]
    assert ids(repl(cfg, "/tw find twice @priyanair")) == [5]
    repl(cfg, "/tw tag 4 login", "/tw close 3", "/tw assign 5 U2", "/tw escalate 1 customs")
    assert ids(repl(cfg, "/tw find tag:login")) == [4]
    assert ids(repl(cfg, "/tw find refund status:closed")) == [3]
    assert ids(repl(cfg, "/tw find refund status:open")) == [6]
    assert ids(repl(cfg, "/tw find status:escalated")) == [1]
    assert ids(repl(cfg, "/tw find status:assigned")) == [5]
    assert ids(repl(cfg, "/tw find assignee:@bob")) == [5]
    assert ids(repl(cfg, "/tw find assignee:U2 charged")) == [5]
    assert "Bob Stone" not in repl(cfg, "/tw find assignee:@carol")
    assert "assignee: @carol is not on the support staff." in repl(cfg, "/tw find assignee:@carol")
    assert len(ids(repl(cfg, "/tw find since:1h"))) == 9
    assert "No tickets match." in repl(cfg, "/tw find until:2026-01-01")
    assert "No tickets match." in repl(cfg, "/tw find since:2099-01-01")
    out = repl(cfg, "/tw find since:yesterday")
    assert "since: takes a date (2026-12-01, UTC) or an age" in out, out
    assert bot.stop()[0] == 0


def test_find_reads_fts_syntax_as_words_and_pages_long_answers(tmp):
    bot, cfg, dbp = start(tmp)
    # FTS5 operators typed by an agent are words: no error, no other match
    for q in ['"NEAR" OR *', 'body:refund', '"x" (']:
        out = repl(cfg, "/tw find " + q)
        assert "No tickets match." in out, (q, out)
    # -word and ^word are the word (FTS5 would exclude, or anchor, it)
    assert ids(repl(cfg, "/tw find -refund")) == [6, 3]
    assert ids(repl(cfg, "/tw find ^refund")) == [6, 3]
    # as the FTS5 operator NOT would exclude #3; as a word it finds its "Not impressed"
    assert ids(repl(cfg, "/tw find refund NOT blender")) == [3]
    repl(cfg, *[f":inject @pager{i} my parcel number {i} is lost" for i in range(12)])
    out = repl(cfg, "/tw find parcel lost")
    assert "12 tickets match (1–10, newest first)" in out, out
    assert "2 more: /tw find parcel lost page:2" in out, out
    out = repl(cfg, "/tw find parcel lost page:2")
    assert "12 tickets match (11–12, newest first)" in out and len(ids(out)) == 2, out
    assert "no page 5" in repl(cfg, "/tw find parcel lost page:5")
    assert bot.stop()[0] == 0


def test_stats_shows_answered_within_target_per_hour_and_per_agent(tmp):
    bot, cfg, dbp = start(tmp)
    out = repl(cfg, "/tw reply 3 Sorry about that!", "/tw stats")
    # the replay source confirms the reply at once: answered in target, by the local admin
    wait_for(lambda: "By agent" in repl(cfg, "/tw stats"), 10, "the first response", bot)
    out = repl(cfg, "/tw stats 7d")
    assert "Answered within target, by hour opened (desk time):" in out, out
    assert "1/1 (100%)" in out, out
    assert "  Local Admin  1/1 (100%)  median " in out, out
    assert bot.stop()[0] == 0


def test_export_writes_a_csv_of_first_responses_from_the_repl_only(tmp):
    bot, cfg, dbp = start(tmp)
    repl(cfg, "/tw reply 3 Sorry about that!", ":inject @evil =HYPERLINK(\"http://x\",\"y\"), ok")
    path = os.path.join(tmp, "export.csv")
    wait_for(lambda: "By agent" in repl(cfg, "/tw stats"), 10, "the first response", bot)
    out = repl(cfg, f"/tw export 30d {path}")
    assert f"Wrote 10 tickets (opened since " in out and path in out, out
    import csv
    with open(path, newline="") as f:
        rows = list(csv.reader(f))
    assert rows[0][:4] == ["ticket", "opened_at", "customer", "state"], rows[0]
    assert len(rows) == 11
    by_id = {r[0]: dict(zip(rows[0], r)) for r in rows[1:]}
    assert by_id["3"]["first_response_by"] == "local-admin"
    assert by_id["3"]["within_target"] == "yes" and int(by_id["3"]["first_response_seconds"]) >= 0
    assert by_id["4"]["first_response_at"] == "" and by_id["4"]["within_target"] == ""
    # a tweet a spreadsheet would run as a formula stays text; quoting per RFC 4180
    assert by_id["10"]["text"] == "'=HYPERLINK(\"http://x\",\"y\"), ok", by_id["10"]
    assert open(path, "rb").read().count(b"\r\n") >= 11
    assert os.stat(path).st_mode & 0o077 == 0
    assert "Usage: /tw export" in repl(cfg, "/tw export 30d relative.csv extra")
    assert "This chat takes no files" in repl(cfg, "/tw export 7d")
    assert bot.stop()[0] == 0


def x_mentions_with_details(fx):
    """A quoted post with a ping in it, and a customer's second ticket that
    quotes it in Spanish with a photo and a video."""
    orig = fx.add_mention("@AcmeSupport FREE blender <!channel> & more",
                          author=("9100", "acme_dea1s", "Acme Deals"))
    fx.add_mention("@AcmeSupport first question", author=("9200", "dana_k", "Dana"))
    return fx.add_mention("@AcmeSupport ¿es esto vuestro?", author=("9200", "dana_k", "Dana"),
                          quote_of=orig, lang="es",
                          media=[{"type": "photo", "url": "https://pbs.twimg.com/media/a.jpg"},
                                 {"type": "video",
                                  "preview_image_url": "https://pbs.twimg.com/v.jpg"}])


def test_a_ticket_shows_language_quote_media_and_earlier_tickets_in_slack(tmp):
    import sys
    sys.path.insert(0, os.path.join(ROOT, "tests", "fakes"))
    from fake_slack import FakeSlack
    from test_slack import TOKENS, slack_and_x_config
    from test_x import SECRETS, fake as fake_x
    from harness import Bot as B, query
    fs = FakeSlack(app_token="xapp-1-test", bot_token="xoxb-test",
                   channels=("C_MENTIONS", "C_ESCALATE"),
                   users={"U1": {"name": "alice", "real_name": "Alice Jensen"}})
    fs.start()
    fx = fake_x()
    try:
        x_mentions_with_details(fx)
        cfg = slack_and_x_config(tmp, fs, fx, post_rate=500, outbox={"x_rate": 500})
        bot = B(tmp, cfg, env=dict(TOKENS, **SECRETS))
        bot.wait_started()
        fs.wait_connected()
        dbp = os.path.join(tmp, "vigil.db")
        wait_for(lambda: outbox_drained(dbp) and
                 query(dbp, "SELECT count(*) FROM tickets") == [(3,)], 30, "3 tickets", bot)
        # X was asked for what the ticket shows, as X documents it
        page = [r for r in fx.requests if r["path"].endswith("/mentions")][0]["query"]
        assert "attachments.media_keys" in page["expansions"] and \
            "referenced_tweets.id.author_id" in page["expansions"], page
        assert page["media.fields"] == "url,preview_image_url,type", page
        posts = [m for m in fs.messages("C_MENTIONS") if not m.get("thread_ts")]
        third = [m for m in posts if (m.get("metadata") or {}).get("event_payload", {})
                 .get("ticket") == 3][0]
        blob = str(third["blocks"])
        assert "lang: es" in blob and "1 earlier ticket" in blob, blob
        quote = [b for b in third["blocks"] if b["type"] == "rich_text"][1]
        assert quote["elements"][0]["elements"][0]["text"] == \
            "Quoting @acme_dea1s: @AcmeSupport FREE blender <!channel> & more", quote
        media = [b for b in third["blocks"] if b["type"] == "context"][-1]["elements"][0]["text"]
        assert media == "Media: <https://pbs.twimg.com/media/a.jpg|1> " \
                        "<https://pbs.twimg.com/v.jpg|2>", media
        assert fx.errors == [] and fs.errors == [], (fx.errors, fs.errors)
        assert bot.stop()[0] == 0
    finally:
        fs.stop()
        fx.stop()


def test_a_ticket_shows_language_quote_media_and_earlier_tickets_at_the_console(tmp):
    from test_x import fake as fake_x, start as start_x
    fx = fake_x()
    try:
        x_mentions_with_details(fx)
        bot, dbp = start_x(tmp, fx)
        wait_for(lambda: "media: " in bot.stdout(), 20, "the third ticket", bot)
        out = bot.stdout()
        assert "  lang: es · 1 earlier ticket\n" in out, out
        assert "  ↪ quoting @acme_dea1s: @AcmeSupport FREE blender <!channel> & more\n" in out
        assert "  media: https://pbs.twimg.com/media/a.jpg https://pbs.twimg.com/v.jpg\n" in out
        assert bot.stop()[0] == 0
    finally:
        fx.stop()


def test_export_in_slack_shares_the_csv_through_the_files_upload_flow(tmp):
    import csv
    import io
    from test_slack import fake as fake_slack, run_replay
    fs = fake_slack()
    try:
        bot, dbp = run_replay(tmp, fs)
        env = fs.send_slash("export 7d", user_id="U1")
        answer = fs.wait_ack(env)["payload"]["text"]
        assert answer.startswith("Sharing 9 tickets (opened since "), answer
        wait_for(lambda: any(f["shared"] for f in getattr(fs, "files", {}).values()), 10,
                 "the shared file", bot)
        (f,) = fs.files.values()
        assert f["shared"]["channel"] == "C_MENTIONS" and f["filename"].startswith("tickets-7d-")
        assert f["shared"]["title"].startswith("Tickets opened since ")
        rows = list(csv.reader(io.StringIO(f["data"].decode())))
        assert rows[0][0] == "ticket" and len(rows) == 10, rows[:2]
        methods = [c["method"] for c in fs.calls if c["method"].startswith("files.")]
        assert methods == ["files.getUploadURLExternal", "files.completeUploadExternal"], methods
        assert "files.upload" not in [c["method"] for c in fs.calls]
        # a path is the console's: refused from Slack, even to an admin's role
        env = fs.send_slash(f"export 7d {tmp}/x.csv", user_id="U1")
        assert "Only the console's and the REPL's admin" in fs.wait_ack(env)["payload"]["text"]
        assert not os.path.exists(f"{tmp}/x.csv")
        assert fs.errors == [], fs.errors
        assert bot.stop()[0] == 0
    finally:
        fs.stop()


def test_find_in_slack_links_each_ticket_message(tmp):
    from test_slack import fake as fake_slack, run_replay
    from harness import query
    fs = fake_slack()
    try:
        bot, dbp = run_replay(tmp, fs)
        env = fs.send_slash("find refund", user_id="U2")
        answer = fs.wait_ack(env)["payload"]["text"]
        for n in (6, 3):
            (channel, ts), = query(dbp, f"SELECT chat_channel, chat_ref FROM tickets WHERE id={n}")
            link = f"{fs.base_url}archives/{channel}/p{ts.replace('.', '')}"
            assert link in answer, (link, answer)
        assert fs.errors == [], fs.errors
        assert bot.stop()[0] == 0
    finally:
        fs.stop()
