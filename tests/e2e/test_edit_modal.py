"""End-to-end: a draft's Edit button (issue 18's approval) opens edit.lua's
form as a modal (issue 19): the draft quoted above a box that counts as X
counts; what the lead submits goes out instead, signed by the lead, and the
draft's receipt says it was edited."""
import time

from harness import stop_fakes, wait_for
from test_hold import answer, button, receipt, with_slack


def drafted(tmp, text):
    """Bob (U2, whose replies need approval) drafts `text` for #1; returns
    (fs, fx, bot, the draft's thread line) once it carries its Edit button."""
    fs, fx, bot, dbp = with_slack(tmp, hold=0, collision_window=60,
                                  approval='{ people = {"U2"} }')
    answer(fs, "reply 1 " + text, "U2")
    wait_for(lambda: button(receipt(fs, 1, "Bob Okafor replied publicly"), "form_edit"),
             10, "the draft with its Edit button", bot)
    return fs, fx, bot, receipt(fs, 1, "Bob Okafor replied publicly")


def test_the_edit_button_opens_a_box_and_the_leads_text_goes_out_instead(tmp):
    fs = fx = None
    try:
        fs, fx, bot, line = drafted(tmp, "ok so what now")
        fs.wait_ack(fs.send_block_action("form_edit", message_ts=line["ts"], user_id="U1"))
        vid = fs.wait_view("U1")
        view = fs.view(vid)
        assert view["title"]["text"].startswith("Edit"), view["title"]
        assert "ok so what now" in str(view["blocks"]), view["blocks"]   # the draft, quoted
        fs.wait_ack(fs.type_in(vid, "text", "Your refund is on its way"))
        vid = fs.wait_view("U1", updates=1)
        assert fs.view_block(vid, "n_text.")["elements"][0]["text"] == "25/280"
        assert fs.submit(vid) is None                     # the modal closes
        fx.wait_tweets(1)
        assert fx.tweets[0]["text"] == "Your refund is on its way ^AJ", fx.tweets
        wait_for(lambda: "Approved by Alice Jensen" in
                 receipt(fs, 1, "(edited by Alice Jensen)")["text"], 10, "the receipt", bot)
        time.sleep(0.3)
        assert len(fx.tweets) == 1                        # the draft itself never went
        assert fs.errors == [] and fx.errors == [], (fs.errors, fx.errors)
        assert bot.stop()[0] == 0
    finally:
        stop_fakes(fs, fx)


def test_an_agent_pressing_edit_is_refused_on_the_box_and_nothing_goes_out(tmp):
    fs = fx = None
    try:
        fs, fx, bot, line = drafted(tmp, "hello there")
        fs.wait_ack(fs.send_block_action("form_edit", message_ts=line["ts"], user_id="U2"))
        vid = fs.wait_view("U2")
        fs.type_in(vid, "text", "approving my own draft", user="U2")
        p = fs.submit(vid, user="U2")
        assert p and p["response_action"] == "errors", p
        assert "lead" in str(p["errors"]), p
        time.sleep(0.5)
        assert fx.tweets == []
        assert fs.errors == [] and fx.errors == [], (fs.errors, fx.errors)
        assert bot.stop()[0] == 0
    finally:
        stop_fakes(fs, fx)
