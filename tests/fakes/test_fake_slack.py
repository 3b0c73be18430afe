#!/usr/bin/env python3
"""Self-test of fake_slack.py, stdlib only: python3 tests/fakes/test_fake_slack.py

Talks to the fake the way vigil does: HTTP POSTs with http.client (never a
proxy) and a small hand-written websocket client that masks its frames.  The
client is written independently of the fake's framing code on purpose, so a
bug there cannot hide itself.  Prints one line per test and `N passed, N failed`.
"""
import base64
import hashlib
import http.client
import json
import os
import signal
import socket
import struct
import subprocess
import sys
import time
import traceback
import urllib.parse

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from fake_slack import FakeSlack  # noqa: E402

APP, BOT = "xapp-1-test", "xoxb-test"
USERS = {"U1": {"name": "alice", "real_name": "Alice Jensen"},
         "U2": {"name": "bob", "real_name": "Bob Berg"}}


# ------------------------------------------------------------ websocket client

class WsClient:
    """Minimal RFC 6455 client: masked frames, manual control over everything."""

    def __init__(self, url, timeout=5):
        u = urllib.parse.urlsplit(url)
        self.sock = socket.create_connection((u.hostname, u.port), timeout=timeout)
        key = base64.b64encode(os.urandom(16)).decode()
        self.sock.sendall((f"GET {u.path}?{u.query} HTTP/1.1\r\nHost: {u.netloc}\r\n"
                           "Upgrade: websocket\r\nConnection: Upgrade\r\n"
                           f"Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n\r\n").encode())
        self.rf = self.sock.makefile("rb")
        self.status = int(self.rf.readline().split()[1])
        headers = {}
        while True:
            line = self.rf.readline()
            if line in (b"\r\n", b""):
                break
            k, _, v = line.decode().partition(":")
            headers[k.strip().lower()] = v.strip()
        if self.status == 101:
            want = base64.b64encode(hashlib.sha1(
                (key + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11").encode()).digest()).decode()
            assert headers.get("sec-websocket-accept") == want, headers

    def send_frame(self, op, payload, fin=True, mask=True):
        head = bytes([(0x80 if fin else 0) | op])
        n = len(payload)
        m = 0x80 if mask else 0
        if n < 126:
            head += bytes([m | n])
        elif n < 65536:
            head += bytes([m | 126]) + struct.pack("!H", n)
        else:
            head += bytes([m | 127]) + struct.pack("!Q", n)
        if mask:
            key = os.urandom(4)
            head += key
            payload = bytes(b ^ key[i % 4] for i, b in enumerate(payload))
        self.sock.sendall(head + payload)

    def send_json(self, obj):
        self.send_frame(0x1, json.dumps(obj).encode())

    def _exact(self, n):
        data = self.rf.read(n)
        if len(data) < n:
            raise EOFError("server closed the TCP connection")
        return data

    def recv_frame(self, timeout=3):
        self.sock.settimeout(timeout)
        b0, b1 = self._exact(2)
        assert not b1 & 0x80, "server frames must not be masked"
        n = b1 & 0x7F
        if n == 126:
            n = struct.unpack("!H", self._exact(2))[0]
        elif n == 127:
            n = struct.unpack("!Q", self._exact(8))[0]
        return bool(b0 & 0x80), b0 & 0x0F, self._exact(n)

    def recv_msg(self, timeout=3, auto_pong=True):
        """Next data message as (opcode, bytes), or (8, close code)."""
        parts, op = [], None
        deadline = time.monotonic() + timeout
        while True:
            fin, fop, payload = self.recv_frame(max(0.01, deadline - time.monotonic()))
            if fop == 0x9:
                if auto_pong:
                    self.send_frame(0xA, payload)
                continue
            if fop == 0xA:
                continue
            if fop == 0x8:
                return 8, struct.unpack("!H", payload[:2])[0] if len(payload) >= 2 else None
            op = fop if fop else op
            parts.append(payload)
            if fin:
                return op, b"".join(parts)

    def recv_json(self, timeout=3):
        op, data = self.recv_msg(timeout)
        assert op == 0x1, f"expected a text frame, got opcode {op} ({data!r})"
        return json.loads(data)

    def expect_close(self, timeout=3):
        op, code = self.recv_msg(timeout)
        assert op == 8, f"expected a close frame, got opcode {op}"
        self.send_frame(0x8, struct.pack("!H", code or 1000))
        return code

    def close(self):
        try:
            self.sock.close()
        except OSError:
            pass


# ------------------------------------------------------------ HTTP helpers

def api(fs, method, body=None, token=BOT, ctype="application/json; charset=utf-8",
        verb="POST", raw=None):
    conn = http.client.HTTPConnection("127.0.0.1", fs.port, timeout=5)
    headers = {}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    if ctype:
        headers["Content-Type"] = ctype
    if raw is None:
        raw = json.dumps(body).encode() if body is not None else b""
    conn.request(verb, "/api/" + method, body=raw if verb == "POST" else None, headers=headers)
    r = conn.getresponse()
    data = json.loads(r.read())
    conn.close()
    return r.status, {k.lower(): v for k, v in r.getheaders()}, data


def form(fs, method, **args):
    """A call with a form body, as Slack's read methods take their arguments."""
    return api(fs, method, ctype="application/x-www-form-urlencoded",
               raw=urllib.parse.urlencode(args).encode())[2]


def post_json(url, obj):
    u = urllib.parse.urlsplit(url)
    conn = http.client.HTTPConnection(u.hostname, u.port, timeout=5)
    conn.request("POST", u.path, body=json.dumps(obj).encode(),
                 headers={"Content-Type": "application/json"})
    r = conn.getresponse()
    data = json.loads(r.read())
    conn.close()
    return r.status, data


def open_url(fs):
    _, _, resp = api(fs, "apps.connections.open", token=APP,
                     ctype="application/x-www-form-urlencoded")
    assert resp["ok"], resp
    return resp["url"]


def connect(fs):
    ws = WsClient(open_url(fs))
    assert ws.status == 101, ws.status
    hello = ws.recv_json()
    return ws, hello


def post(fs, **body):
    return api(fs, "chat.postMessage", body)[2]


def wait_until(pred, timeout=3, what="condition"):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if pred():
            return
        time.sleep(0.01)
    raise AssertionError(f"timed out waiting for {what}")


def expect_error(fs, fragment):
    wait_until(lambda: any(fragment in e for e in fs.errors), what=f"error {fragment!r}")
    fs.errors[:] = [e for e in fs.errors if fragment not in e]


# ------------------------------------------------------------ Socket Mode tests

def test_handshake_and_hello(fs):
    url = open_url(fs)
    assert url.startswith(f"ws://127.0.0.1:{fs.port}/link/?ticket="), url
    ws = WsClient(url)
    hello = ws.recv_json()
    assert hello["type"] == "hello" and hello["num_connections"] == 1, hello
    assert hello["connection_info"]["app_id"] and "approximate_connection_time" in hello["debug_info"]
    assert fs.wait_connected(1, timeout=2) == [1] and fs.connections() == [1]
    again = WsClient(url)           # a ticket works once
    assert again.status == 401, again.status
    expect_error(fs, "reused")
    assert [e for _, e, _ in fs.connection_log] == ["opened", "hello", "refused"]


def test_slash_envelope_and_ack(fs):
    ws, _ = connect(fs)
    eid = fs.send_slash(text="reply 3 hi", user_id="U1")
    env = ws.recv_json()
    assert env["envelope_id"] == eid and env["type"] == "slash_commands", env
    assert env["accepts_response_payload"] is True
    p = env["payload"]
    for k in ("token", "team_id", "team_domain", "channel_id", "channel_name", "user_id",
              "user_name", "command", "text", "api_app_id", "response_url", "trigger_id"):
        assert isinstance(p.get(k), str), (k, p.get(k))
    assert (p["text"], p["command"], p["user_name"]) == ("reply 3 hi", "/tw", "alice")
    assert fs.unacked() == [eid]
    time.sleep(0.05)
    ws.send_json({"envelope_id": eid, "payload": {"text": "on it"}})
    ack = fs.wait_ack(eid, timeout=2)
    assert ack["payload"]["text"] == "on it"
    assert fs.acks[0]["latency"] >= 0.05 and fs.acks[0]["conn"] == 1, fs.acks
    assert fs.unacked() == []


def test_slash_text_arrives_escaped_as_slack_sends_it(fs):
    ws, _ = connect(fs)
    cases = [
        ("reply 3 Sorry for the delay & thanks <3", "reply 3 Sorry for the delay &amp; thanks &lt;3"),
        ("reply 3 I typed &lt; and &amp;", "reply 3 I typed &amp;lt; and &amp;amp;"),
        ("assign 3 @alice", "assign 3 <@U1|alice>"),
        ("note 3 @zed is not a user, @here is", "note 3 @zed is not a user, <!here> is"),
        ("note 3 see #mentions, not #42", "note 3 see <#C_MENTIONS|mentions>, not #42"),
        ("reply 3 https://acme.example/a?b=1&c=2.", "reply 3 <https://acme.example/a?b=1&amp;c=2>."),
        ("reply 3 (example.com/help)", "reply 3 (<http://example.com/help|example.com/help>)"),
        ("reply 3 mail help@acme.dk", "reply 3 mail <mailto:help@acme.dk|help@acme.dk>"),
    ]
    for typed, sent in cases:
        eid = fs.send_slash(text=typed)
        p = ws.recv_json()["payload"]
        assert p["text"] == sent, (typed, p["text"], sent)
        ws.send_json({"envelope_id": eid})
    fs.should_escape = False
    eid = fs.send_slash(text="assign 3 @alice <3 example.com #mentions")
    assert ws.recv_json()["payload"]["text"] == "assign 3 @alice &lt;3 example.com #mentions"
    ws.send_json({"envelope_id": eid})
    eid = fs.send_slash(text="reply 3 <!channel> &", raw=True)
    assert ws.recv_json()["payload"]["text"] == "reply 3 <!channel> &"
    ws.send_json({"envelope_id": eid})
    fs.wait_ack(eid, timeout=2)


def test_double_and_unknown_ack_flagged(fs):
    ws, _ = connect(fs)
    eid = fs.send_slash(text="close 1")
    ws.recv_json()
    ws.send_json({"envelope_id": eid})
    ws.send_json({"envelope_id": eid})
    expect_error(fs, "double ack")
    ws.send_json({"envelope_id": "nope"})
    expect_error(fs, "unknown envelope")
    ws.send_frame(0x1, b"{not json")
    expect_error(fs, "malformed JSON")
    assert len(fs.acks) == 1


def test_disconnect_warning_then_close(fs):
    ws, _ = connect(fs)
    fs.disconnect("warning", close_after=0.2)
    frame = ws.recv_json()
    assert frame["type"] == "disconnect" and frame["reason"] == "warning", frame
    assert "debug_info" in frame
    t0 = time.monotonic()
    assert ws.expect_close() == 1000
    assert time.monotonic() - t0 >= 0.1
    wait_until(lambda: fs.connections() == [], what="socket closed")
    assert [e for _, e, _ in fs.connection_log] == ["opened", "hello", "disconnect-sent", "closed"]


def test_drop_is_abrupt(fs):
    ws, _ = connect(fs)
    fs.drop()
    try:
        frame = ws.recv_frame(timeout=2)
        raise AssertionError(f"expected EOF, got {frame}")
    except (EOFError, ConnectionResetError):
        pass
    assert fs.connections() == []


def test_redelivery_with_retry_attempt(fs):
    fs.redeliver_after = 0.2
    ws, _ = connect(fs)
    eid = fs.send_event({"type": "app_mention", "user": "U1", "text": "hi"}, event_id="Ev1")
    first = ws.recv_json()
    assert (first["type"], first["retry_attempt"], first["retry_reason"]) == ("events_api", 0, "")
    p = first["payload"]
    assert (p["type"], p["event_id"], p["team_id"]) == ("event_callback", "Ev1", "T1"), p
    assert {"token", "api_app_id", "event", "event_time"} <= p.keys()
    again = ws.recv_json(timeout=2)   # no ack -> Slack sends it again
    assert again["envelope_id"] == eid and again["payload"]["event_id"] == "Ev1"
    assert (again["retry_attempt"], again["retry_reason"]) == (1, "timeout"), again
    ws.send_json({"envelope_id": eid})
    fs.wait_ack(eid)
    try:
        extra = ws.recv_msg(timeout=0.4)
        raise AssertionError(f"redelivered after the ack: {extra}")
    except socket.timeout:
        pass
    assert fs.unacked() == []


def test_ping_pong_and_fragmentation(fs):
    fs.server_ping_interval = 0.1
    ws, _ = connect(fs)
    ws.send_frame(0x9, b"abc")
    fin, op, payload = ws.recv_frame()
    while op == 0x9:   # a server ping may come first
        fin, op, payload = ws.recv_frame()
    assert (op, payload) == (0xA, b"abc"), (op, payload)
    deadline = time.monotonic() + 2
    while ws.recv_frame()[1] != 0x9:   # the server pings us too
        assert time.monotonic() < deadline
    eid = fs.send_slash(text="x")
    assert ws.recv_json()["envelope_id"] == eid
    data = json.dumps({"envelope_id": eid}).encode()
    ws.send_frame(0x1, data[:10], fin=False)
    ws.send_frame(0x9, b"mid")             # control frames may interleave
    ws.send_frame(0x0, data[10:], fin=True)
    fs.wait_ack(eid, timeout=2)


def test_unmasked_frame_closes_1002(fs):
    ws, _ = connect(fs)
    ws.send_frame(0x1, b'{"envelope_id":"x"}', mask=False)
    assert ws.expect_close() == 1002
    expect_error(fs, "not masked")


def test_oversized_message_closes_1009(fs):
    ws, _ = connect(fs)
    ws.sock.sendall(bytes([0x81, 0x80 | 127]) + struct.pack("!Q", 2 << 20) + os.urandom(4))
    assert ws.expect_close() == 1009
    expect_error(fs, "larger than")


def test_too_many_websockets(fs):
    fs.max_connections = 1
    ws1, _ = connect(fs)   # keep a reference: a collected client closes its socket
    ws2 = WsClient(open_url(fs))
    frame = ws2.recv_json()
    assert (frame["type"], frame["reason"]) == ("disconnect", "too_many_websockets"), frame


# ------------------------------------------------------------ Web API tests

def test_api_auth_strictness(fs):
    assert api(fs, "auth.test", token=None)[2]["error"] == "not_authed"
    expect_error(fs, "no Authorization")
    body = {"channel": "C_MENTIONS", "text": "x"}
    assert api(fs, "chat.postMessage", body, token=APP)[2]["error"] == "not_allowed_token_type"
    assert api(fs, "apps.connections.open", token=BOT)[2]["error"] == "not_allowed_token_type"
    expect_error(fs, "app-level token")
    expect_error(fs, "bot token")
    assert api(fs, "auth.test", token="xoxb-wrong")[2]["error"] == "invalid_auth"
    assert fs.errors == []   # a wrong token is a config problem, not a protocol violation
    # the spec takes read methods as GET (arguments in the query) too, writes only as POST
    status, _, resp = api(fs, "chat.postMessage", verb="GET")
    assert (status, resp["error"]) == (405, "invalid_request")
    expect_error(fs, "takes this method as POST")
    assert api(fs, "auth.test", verb="GET")[2]["ok"] is True
    status, _, resp = api(fs, "users.info?" + urllib.parse.urlencode({"user": "U1"}), verb="GET",
                          ctype=None)
    assert status == 200 and resp["user"]["id"] == "U1", resp
    assert fs.errors == [], fs.errors
    assert api(fs, "chat.nope", {})[2]["error"] == "unknown_method"
    expect_error(fs, "unknown method")
    resp = api(fs, "auth.test")[2]
    assert (resp["user_id"], resp["bot_id"], resp["user"]) == ("UBOT", "BBOT", "vigil"), resp


def test_api_content_type_and_json(fs):
    resp = api(fs, "chat.postMessage", ctype="application/x-www-form-urlencoded",
               raw=b"channel=C_MENTIONS&text=hi")[2]
    assert resp["ok"] and fs.errors == [], (resp, fs.errors)   # the spec takes both
    resp = api(fs, "chat.postMessage", raw=b'{"channel": "C_MENTIONS", "text": ')[2]
    assert resp["error"] == "invalid_json"
    expect_error(fs, "invalid JSON")
    resp = api(fs, "chat.postMessage", {"channel": "C_MENTIONS", "text": "x"},
               ctype="application/json")[2]
    assert resp["ok"] and resp["warning"] == "missing_charset", resp
    assert fs.calls[-1]["body"] == {"channel": "C_MENTIONS", "text": "x"}


def test_post_message_errors(fs):
    assert post(fs, channel="C_NOPE", text="x")["error"] == "channel_not_found"
    assert post(fs, channel="C_MENTIONS")["error"] == "no_text"
    assert post(fs, channel="C_MENTIONS", text="x" * 40001)["error"] == "msg_too_long"
    blocks = [{"type": "section", "text": {"type": "mrkdwn", "text": "y" * 3001}},
              {"type": "actions", "elements": [{"type": "button", "action_id": "a",
                                                "text": {"type": "plain_text", "text": "z" * 76}}]}]
    resp = post(fs, channel="C_MENTIONS", text="x", blocks=blocks)
    assert resp["error"] == "invalid_blocks", resp
    msgs = resp["response_metadata"]["messages"]
    assert any("/blocks/0/text/text" in m for m in msgs) and any("/blocks/1/elements/0/text" in m
                                                                  for m in msgs), msgs
    assert post(fs, channel="C_MENTIONS", text="x", blocks=[{"type": "divider"}] * 51)[
        "error"] == "invalid_blocks"
    assert post(fs, channel="C_MENTIONS", text="r", thread_ts="1.000001")["error"] == "thread_not_found"
    top = post(fs, channel="C_MENTIONS", text="ticket")
    assert top["ok"] and top["message"]["text"] == "ticket", top
    reply = post(fs, channel="C_MENTIONS", text="line", thread_ts=top["ts"])
    assert reply["ok"] and float(reply["ts"]) > float(top["ts"])
    assert post(fs, channel="C_MENTIONS", text="r", thread_ts=reply["ts"])["error"] == "thread_not_found"
    assert [m["text"] for m in fs.thread("C_MENTIONS", top["ts"])] == ["line"]
    assert len(fs.wait_messages("C_MENTIONS", 1, timeout=1)) == 1
    assert fs.errors == []   # API errors are answers, not violations


def test_rate_limit_429(fs):
    fs.rate_limit("chat.postMessage", per_sec=1.0, burst=1, per_channel=True, retry_after=1)
    assert post(fs, channel="C_MENTIONS", text="1")["ok"]
    status, headers, resp = api(fs, "chat.postMessage", {"channel": "C_MENTIONS", "text": "2"})
    assert (status, headers.get("retry-after"), resp) == (429, "1", {"ok": False, "error": "ratelimited"})
    assert post(fs, channel="C_ESCALATE", text="other channel")["ok"]
    time.sleep(0.3)   # ignoring Retry-After is flagged
    assert api(fs, "chat.postMessage", {"channel": "C_MENTIONS", "text": "3"})[0] == 429
    expect_error(fs, "Retry-After")
    time.sleep(1.05)
    assert post(fs, channel="C_MENTIONS", text="4")["ok"]
    assert fs.count_429 == 2


def test_history_metadata_and_paging(fs):
    md = {"event_type": "ticket_posted", "event_payload": {"ticket": 42}}
    first = post(fs, channel="C_MENTIONS", text="t42", metadata=md)
    second = post(fs, channel="C_MENTIONS", text="t43")
    post(fs, channel="C_MENTIONS", text="reply", thread_ts=first["ts"])
    plain = form(fs, "conversations.history", channel="C_MENTIONS")
    assert [m["text"] for m in plain["messages"]] == ["t43", "t42"], plain
    assert all("metadata" not in m for m in plain["messages"])
    assert plain["messages"][1]["reply_count"] == 1
    full = form(fs, "conversations.history", channel="C_MENTIONS", include_all_metadata="true")
    assert full["messages"][1]["metadata"] == md
    page1 = form(fs, "conversations.history", channel="C_MENTIONS", limit=1)
    assert page1["has_more"] and page1["messages"][0]["ts"] == second["ts"]
    page2 = form(fs, "conversations.history", channel="C_MENTIONS", limit=1,
                 cursor=page1["response_metadata"]["next_cursor"])
    assert not page2["has_more"] and page2["messages"][0]["ts"] == first["ts"], page2
    bad = post(fs, channel="C_MENTIONS", text="x", metadata={"event_type": 1})
    assert bad["error"] == "invalid_metadata_format"


def test_update_ephemeral_users(fs):
    assert api(fs, "chat.update", {"channel": "C_MENTIONS", "ts": "1.000001",
                                   "text": "x"})[2]["error"] == "message_not_found"
    ts = post(fs, channel="C_MENTIONS", text="open")["ts"]
    resp = api(fs, "chat.update", {"channel": "C_MENTIONS", "ts": ts, "text": "closed"})[2]
    assert resp["ok"] and fs.messages("C_MENTIONS")[0]["edits"] == 1
    human = fs.add_message("C_MENTIONS", "hi from alice")
    assert api(fs, "chat.update", {"channel": "C_MENTIONS", "ts": human,
                                   "text": "x"})[2]["error"] == "cant_update_message"
    resp = api(fs, "chat.postEphemeral", {"channel": "C_MENTIONS", "user": "U1", "text": "psst"})[2]
    assert resp["ok"] and fs.ephemerals[0]["text"] == "psst"
    user = form(fs, "users.info", user="U1")["user"]
    assert (user["name"], user["real_name"], user["profile"]["real_name"]) == \
        ("alice", "Alice Jensen", "Alice Jensen")
    assert form(fs, "users.info", user="U9")["error"] == "user_not_found"


def test_users_list_and_paging(fs):
    resp = form(fs, "users.list")
    assert [u["id"] for u in resp["members"]] == ["UBOT", "U1", "U2"], resp
    assert resp["members"][1]["name"] == "alice" and resp["members"][0]["is_bot"]
    assert resp["response_metadata"]["next_cursor"] == "" and isinstance(resp["cache_ts"], int)
    page1 = form(fs, "users.list", limit=2)
    cursor = page1["response_metadata"]["next_cursor"]
    assert [u["id"] for u in page1["members"]] == ["UBOT", "U1"], page1
    assert base64.b64decode(cursor) == b"user:U2"   # Slack's cursor shape
    page2 = form(fs, "users.list", limit=2, cursor=cursor)
    assert [u["id"] for u in page2["members"]] == ["U2"], page2
    assert page2["response_metadata"]["next_cursor"] == ""
    assert form(fs, "users.list", cursor="bm9wZQ==")["error"] == "invalid_cursor"
    assert form(fs, "users.list", cursor="7")["error"] == "invalid_cursor"
    assert form(fs, "users.list", limit="x")["error"] == "invalid_arguments"


def test_conversations_info(fs):
    ch = form(fs, "conversations.info", channel="C_MENTIONS")["channel"]
    assert (ch["id"], ch["name"], ch["is_channel"], ch["is_im"], ch["is_mpim"]) == \
        ("C_MENTIONS", "mentions", True, False, False), ch
    assert form(fs, "conversations.info", channel="C_NOPE")["error"] == "channel_not_found"


def test_spec_unknown_method_refused(fs):
    """Slack's spec decides which methods exist; a real one the fake lacks is
    flagged as the fake's gap, not answered as if it worked."""
    assert api(fs, "chat.nope", {})[2]["error"] == "unknown_method"
    expect_error(fs, "not in Slack's Web API spec")
    assert api(fs, "reactions.add", {"channel": "C_MENTIONS", "name": "eyes",
                                     "timestamp": "1.000001"})[2]["error"] == "unknown_method"
    expect_error(fs, "does not implement")


def test_spec_json_to_read_method_has_no_arguments(fs):
    """users.info and conversations.history take forms only: Slack ignores a
    JSON body, so the user or channel is missing."""
    assert api(fs, "users.info", {"user": "U1"})[2]["error"] == "user_not_found"
    expect_error(fs, "users.info: application/json body, but Slack's spec says it takes only "
                     "application/x-www-form-urlencoded")
    post(fs, channel="C_MENTIONS", text="t1")
    resp = api(fs, "conversations.history", {"channel": "C_MENTIONS", "limit": 1})[2]
    assert resp["error"] == "channel_not_found", resp
    expect_error(fs, "conversations.history: application/json body")
    assert fs.calls[-1]["body"] == {}


def test_spec_undeclared_argument_flagged(fs):
    """An argument the spec does not declare (nor NEWER_ARGS) is the bot's
    mistake even though Slack would ignore it; the call itself still works."""
    ts = post(fs, channel="C_MENTIONS", text="open")["ts"]
    md = {"event_type": "ticket_posted", "event_payload": {"ticket": 1}}
    resp = api(fs, "chat.update", {"channel": "C_MENTIONS", "ts": ts, "text": "x",
                                   "metadata": md})[2]
    assert resp["ok"], resp
    expect_error(fs, "chat.update: argument(s) metadata not declared")
    assert form(fs, "users.info", user="U1", users="U1")["ok"]
    expect_error(fs, "users.info: argument(s) users not declared")
    resp = form(fs, "conversations.history", channel="C_MENTIONS", include_all_metadata="true",
                limit=1, oldest="0", latest="9999999999.000000", inclusive="true", cursor="")
    assert resp["ok"] and fs.errors == [], (resp, fs.errors)


def test_spec_right_requests_pass(fs):
    """What vigil sends: JSON to the chat.* write methods (their spec takes
    both), forms to the read methods, an empty form to apps.connections.open
    (newer than the spec), metadata on chat.postMessage (newer than it too)."""
    md = {"event_type": "vigil_ticket", "event_payload": {"ticket": 7}}
    blocks = [{"type": "section", "text": {"type": "mrkdwn", "text": "t7", "verbatim": True}}]
    top = post(fs, channel="C_MENTIONS", text="t7", blocks=blocks, parse="none",
               unfurl_links=False, unfurl_media=False, metadata=md)
    assert top["ok"], top
    assert post(fs, channel="C_MENTIONS", text="r", thread_ts=top["ts"])["ok"]
    assert api(fs, "chat.update", {"channel": "C_MENTIONS", "ts": top["ts"], "text": "t7!",
                                   "blocks": blocks, "parse": "none"})[2]["ok"]
    assert api(fs, "chat.postEphemeral", {"channel": "C_MENTIONS", "user": "U1",
                                          "text": "psst"})[2]["ok"]
    assert form(fs, "users.info", user="U2")["user"]["name"] == "bob"
    found = form(fs, "conversations.history", channel="C_MENTIONS", limit=200,
                 include_all_metadata="true")
    assert found["messages"][0]["metadata"] == md, found
    assert api(fs, "auth.test", {})[2]["ok"]
    assert open_url(fs).startswith("ws://")
    # and a form everywhere, as @slack/web-api (the Hubot benchmark) sends
    assert form(fs, "chat.postMessage", channel="C_MENTIONS", text="hi",
                blocks=json.dumps(blocks))["ok"]
    assert form(fs, "users.list", limit=1)["members"][0]["id"] == "UBOT"
    assert fs.errors == []


def test_spec_missing_fails_loudly(fs):
    env = dict(os.environ, VIGIL_SPECS="/nonexistent/specs")
    p = subprocess.run([sys.executable, "-c", "import fake_slack; fake_slack.FakeSlack()"],
                       cwd=HERE, env=env, capture_output=True, text=True, timeout=20)
    assert p.returncode != 0 and "SpecMissing" in p.stderr and "VIGIL_SPECS" in p.stderr, p.stderr


def test_no_nagle_delay(fs):
    """Server sockets have TCP_NODELAY: else every keep-alive answer waits
    ~40 ms for a delayed ACK, which would swamp benchmark latencies."""
    conn = http.client.HTTPConnection("127.0.0.1", fs.port, timeout=5)
    conn.request("POST", "/api/auth.test", body=b"{}", headers={
        "Authorization": f"Bearer {BOT}", "Content-Type": "application/json; charset=utf-8"})
    assert json.loads(conn.getresponse().read())["ok"]
    socks = list(fs._http_socks)   # the server's end of our kept-alive connection
    assert socks and all(s.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY) for s in socks)
    conn.close()


def test_block_action_and_response_url(fs):
    blocks = [{"type": "section", "block_id": "t42",
               "text": {"type": "mrkdwn", "text": "ticket 42", "verbatim": True}},
              {"type": "actions", "block_id": "a42", "elements": [
                  {"type": "button", "action_id": "assign_me", "value": "42",
                   "text": {"type": "plain_text", "text": "Assign to me"}}]}]
    ts = post(fs, channel="C_MENTIONS", text="ticket 42", blocks=blocks)["ts"]
    ws, _ = connect(fs)
    eid = fs.send_block_action(action_id="assign_me", user_id="U2")
    env = ws.recv_json()
    assert env["type"] == "interactive" and env["payload"]["type"] == "block_actions"
    p = env["payload"]
    assert p["container"]["message_ts"] == ts and p["message"]["ts"] == ts
    assert (p["actions"][0]["value"], p["actions"][0]["block_id"]) == ("42", "a42"), p["actions"]
    assert p["user"]["username"] == "bob"
    ws.send_json({"envelope_id": eid})
    fs.wait_ack(eid)
    status, resp = post_json(p["response_url"], {"replace_original": True, "text": "assigned"})
    assert (status, resp) == (200, {"ok": True})
    assert fs.messages("C_MENTIONS")[0]["text"] == "assigned"
    for _ in range(4):
        post_json(p["response_url"], {"text": "again"})
    assert post_json(p["response_url"], {"text": "sixth"})[0] == 404
    expect_error(fs, "more than 5")
    assert len(fs.responses) == 6 and fs.errors == []


def test_pings_reflect_escaping(fs):
    def pings(**kw):
        post(fs, channel="C_MENTIONS", **kw)
        return fs.messages("C_MENTIONS")[-1]["pings"]
    assert pings(text="@here look", link_names=1) == ["!here"]
    assert pings(text="@here look @alice", parse="none") == []
    assert pings(text="&lt;!here&gt; <@U1>") == ["@U1"]
    mrkdwn = {"type": "section", "text": {"type": "mrkdwn", "text": "@channel hi"}}
    assert pings(text="x", blocks=[mrkdwn]) == ["!channel"]
    mrkdwn["text"]["verbatim"] = True
    assert pings(text="x", blocks=[mrkdwn]) == []


def test_channels_that_refuse_the_bot_until_a_person_fixes_them(fs):
    fs.json_only = False     # read methods go as forms, as Slack wants them

    def read(method, **args):
        return api(fs, method, raw=urllib.parse.urlencode(args).encode(),
                   ctype="application/x-www-form-urlencoded")[2]

    ts = post(fs, channel="C_MENTIONS", text="ticket")["ts"]
    fs.remove_bot("C_MENTIONS")
    assert post(fs, channel="C_MENTIONS", text="x") == {"ok": False, "error": "not_in_channel"}
    assert read("conversations.history", channel="C_MENTIONS")["error"] == "not_in_channel"
    info = read("conversations.info", channel="C_MENTIONS")["channel"]
    assert info["name"] == "mentions" and info["is_member"] is False
    fs.join("C_MENTIONS")
    assert post(fs, channel="C_MENTIONS", text="x")["ok"]
    fs.archive("C_MENTIONS")
    assert post(fs, channel="C_MENTIONS", text="x")["error"] == "is_archived"
    upd = api(fs, "chat.update", {"channel": "C_MENTIONS", "ts": ts, "text": "y"})[2]
    assert upd["error"] == "cant_update_message", upd
    assert read("conversations.history", channel="C_MENTIONS")["ok"]   # still readable
    assert read("conversations.info", channel="C_MENTIONS")["channel"]["is_archived"] is True
    fs.unarchive("C_MENTIONS")
    assert api(fs, "chat.update", {"channel": "C_MENTIONS", "ts": ts, "text": "y"})[2]["ok"]
    fs.delete_channel("C_ESCALATE")
    assert post(fs, channel="C_ESCALATE", text="x")["error"] == "channel_not_found"
    assert read("conversations.info", channel="C_ESCALATE")["error"] == "channel_not_found"
    fs.create_channel("C_ESCALATE", "support-escalations")
    assert post(fs, channel="C_ESCALATE", text="x")["ok"]
    assert read("conversations.info", channel="C_ESCALATE")["channel"]["name"] == \
        "support-escalations"


def test_deleted_message_cannot_be_updated_or_replied_under(fs):
    ts = post(fs, channel="C_MENTIONS", text="ticket")["ts"]
    fs.delete_message("C_MENTIONS", ts)
    assert fs.messages("C_MENTIONS") == []
    upd = api(fs, "chat.update", {"channel": "C_MENTIONS", "ts": ts, "text": "y"})[2]
    assert upd == {"ok": False, "error": "message_not_found"}, upd
    assert post(fs, channel="C_MENTIONS", text="r", thread_ts=ts)["error"] == "thread_not_found"
    ts = post(fs, channel="C_MENTIONS", text="ticket with a thread")["ts"]
    assert post(fs, channel="C_MENTIONS", text="reply", thread_ts=ts)["ok"]
    fs.delete_message("C_MENTIONS", ts)
    stone = [m for m in fs.messages("C_MENTIONS") if m["ts"] == ts][0]
    assert stone["text"] == "This message was deleted." and stone["metadata"] is None
    upd = api(fs, "chat.update", {"channel": "C_MENTIONS", "ts": ts, "text": "y"})[2]
    assert upd["error"] == "cant_update_message", upd
    assert post(fs, channel="C_MENTIONS", text="more", thread_ts=ts)["ok"]


def test_file_upload_url_takes_one_post_of_the_stated_length(fs):
    def upload(url, data):
        u = urllib.parse.urlsplit(url)
        conn = http.client.HTTPConnection(u.hostname, u.port, timeout=5)
        conn.request("POST", u.path, body=data,
                     headers={"Content-Type": "application/octet-stream"})
        status = conn.getresponse().status
        conn.close()
        return status
    r = form(fs, "files.getUploadURLExternal", filename="t.csv", length="5")
    assert r["ok"] and r["file_id"].startswith("F"), r
    assert form(fs, "files.completeUploadExternal",
                files=json.dumps([{"id": r["file_id"]}]))["error"] == "file_not_found"
    assert upload(r["upload_url"], b"abcdef") == 400
    expect_error(fs, "upload of 6 bytes to a URL asked for 5")
    assert upload(r["upload_url"], b"a,b\r\n") == 200
    assert upload(r["upload_url"], b"a,b\r\n") == 404
    expect_error(fs, "upload to a used upload URL")
    done = form(fs, "files.completeUploadExternal", channel_id="C_MENTIONS",
                files=json.dumps([{"id": r["file_id"], "title": "T"}]))
    assert done == {"ok": True, "files": [{"id": r["file_id"], "title": "T"}]}, done
    assert fs.files[r["file_id"]]["data"] == b"a,b\r\n"
    assert fs.files[r["file_id"]]["shared"] == {"channel": "C_MENTIONS", "title": "T"}
    assert form(fs, "files.getUploadURLExternal", filename="t.csv", length="0")["error"] == \
        "invalid_arguments"


def test_standalone_ready(fs):
    p = subprocess.Popen([sys.executable, os.path.join(HERE, "fake_slack.py"), "--port", "0"],
                         stdout=subprocess.PIPE, text=True)
    try:
        line = p.stdout.readline().strip()
        assert line.startswith("READY http://127.0.0.1:") and line.endswith("/api/"), line
        port = int(urllib.parse.urlsplit(line.split()[1]).port)
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
        conn.request("POST", "/api/auth.test", body=b"{}", headers={
            "Authorization": "Bearer xoxb-test", "Content-Type": "application/json; charset=utf-8"})
        assert json.loads(conn.getresponse().read())["ok"]
        conn.close()
        p.send_signal(signal.SIGTERM)
        assert p.wait(timeout=5) == 0
    finally:
        if p.poll() is None:
            p.kill()
            p.wait()


# ------------------------------------------------------------ runner

# ------------------------------------------------------------ views (issue 19)

def _modal(blocks, **extra):
    return dict({"type": "modal", "callback_id": "f", "title": {"type": "plain_text", "text": "Reply #1"},
                 "submit": {"type": "plain_text", "text": "Send"}, "blocks": blocks}, **extra)


BOX = {"type": "input", "block_id": "f_text.0", "label": {"type": "plain_text", "text": "Reply"},
       "dispatch_action": True,
       "element": {"type": "plain_text_input", "action_id": "v",
                   "dispatch_action_config": {"trigger_actions_on": ["on_character_entered"]}}}


def _press(fs, ws):
    """A button press; returns its trigger_id (acked)."""
    post(fs, channel="C_MENTIONS", text="t", blocks=[{"type": "actions", "elements": [
        {"type": "button", "action_id": "form_reply", "value": "1",
         "text": {"type": "plain_text", "text": "Reply"}}]}])
    eid = fs.send_block_action("form_reply", user_id="U1")
    env = ws.recv_json()
    ws.send_json({"envelope_id": eid})
    return env["payload"]["trigger_id"]


def test_views_open_takes_a_trigger_once_and_within_3_seconds(fs):
    ws, _ = connect(fs)
    trigger = _press(fs, ws)
    _, _, r = api(fs, "views.open", {"trigger_id": trigger, "view": _modal([BOX])})
    assert r["ok"] and r["view"]["id"].startswith("V"), r
    assert r["view"]["state"]["values"] == {"f_text.0": {"v": {"type": "plain_text_input",
                                                               "value": None}}}
    assert fs.wait_view("U1") == r["view"]["id"]
    _, _, r2 = api(fs, "views.open", {"trigger_id": trigger, "view": _modal([BOX])})
    assert r2 == {"ok": False, "error": "exchanged_trigger_id"}, r2
    expect_error(fs, "used before")
    _, _, r3 = api(fs, "views.open", {"trigger_id": "1.2.nope", "view": _modal([BOX])})
    assert r3["error"] == "invalid_trigger_id"
    expect_error(fs, "unknown trigger_id")
    fs.trigger_ttl = 0.1
    trigger = _press(fs, ws)
    time.sleep(0.2)
    _, _, r4 = api(fs, "views.open", {"trigger_id": trigger, "view": _modal([BOX])})
    assert r4["error"] == "expired_trigger_id"
    expect_error(fs, "expired after 3 s")


def test_views_are_refused_as_slack_refuses_them(fs):
    ws, _ = connect(fs)
    cases = [
        (_modal([{"type": "divider"}] * 101), "between 0 and 100"),
        (_modal([BOX], private_metadata="x" * 3001), "private_metadata"),
        (_modal([{"type": "carousel"}]), "unsupported block type"),
        (_modal([dict(BOX, element={"type": "rich_text_editor", "action_id": "v"})]),
         "unsupported element type"),
        (_modal([BOX], title={"type": "plain_text", "text": "A title far too long for Slack"}),
         "/view/title/text"),
        ({k: v for k, v in _modal([BOX]).items() if k != "submit"}, "needs submit"),
        (_modal([dict(BOX, element=dict(BOX["element"], max_length=3001))]), "max_length"),
    ]
    for view, fragment in cases:
        _, _, r = api(fs, "views.open", {"trigger_id": _press(fs, ws), "view": view})
        assert r["ok"] is False and r["error"] == "invalid_arguments", (fragment, r)
        assert any(fragment in m for m in r["response_metadata"]["messages"]), (fragment, r)
        expect_error(fs, "invalid view")
    # input blocks belong in modals, never in the App Home
    home = {"type": "home", "blocks": [BOX]}
    _, _, r = api(fs, "views.publish", {"user_id": "U1", "view": home})
    assert r["error"] == "invalid_arguments", r
    expect_error(fs, "only allowed in modals")
    _, _, r = api(fs, "views.publish", {"user_id": "U1", "view": {"type": "home", "blocks": [
        {"type": "section", "text": {"type": "mrkdwn", "text": "hi"}}]}})
    assert r["ok"] and fs.homes["U1"] == r["view"]["id"], r


def test_typing_dispatches_and_update_keeps_what_was_typed(fs):
    ws, _ = connect(fs)
    _, _, r = api(fs, "views.open", {"trigger_id": _press(fs, ws), "view": _modal([BOX])})
    vid = r["view"]["id"]
    eid = fs.type_in(vid, "text", "hello")
    env = ws.recv_json()
    p = env["payload"]
    assert p["type"] == "block_actions" and p["container"] == {"type": "view", "view_id": vid}
    assert p["actions"][0]["value"] == "hello" and p["view"]["state"]["values"][
        "f_text.0"]["v"]["value"] == "hello"
    ws.send_json({"envelope_id": eid})
    count = {"type": "context", "block_id": "n_text.0",
             "elements": [{"type": "plain_text", "text": "5/280"}]}
    _, _, u = api(fs, "views.update", {"view_id": vid, "hash": p["view"]["hash"],
                                       "view": _modal([BOX, count])})
    assert u["ok"] and u["view"]["state"]["values"]["f_text.0"]["v"]["value"] == "hello", u
    _, _, stale = api(fs, "views.update", {"view_id": vid, "hash": p["view"]["hash"],
                                           "view": _modal([BOX])})
    assert stale["error"] == "hash_conflict", stale


def test_submission_errors_must_name_input_blocks(fs):
    ws, _ = connect(fs)
    _, _, r = api(fs, "views.open", {"trigger_id": _press(fs, ws), "view": _modal([BOX])})
    vid = r["view"]["id"]
    fs.type_in(vid, "text", "x")
    ws.send_json({"envelope_id": ws.recv_json()["envelope_id"]})
    import threading
    done = {}

    def submit():
        done["p"] = fs.submit(vid)

    t = threading.Thread(target=submit)
    t.start()
    env = ws.recv_json()
    assert env["type"] == "interactive" and env["accepts_response_payload"] is True
    assert env["payload"]["type"] == "view_submission"
    ws.send_json({"envelope_id": env["envelope_id"],
                  "payload": {"response_action": "errors", "errors": {"nope": "bad"}}})
    t.join(5)
    expect_error(fs, "no input block")
    t = threading.Thread(target=submit)
    t.start()
    env = ws.recv_json()
    ws.send_json({"envelope_id": env["envelope_id"],
                  "payload": {"response_action": "errors", "errors": {"f_text.0": "Too long"}}})
    t.join(5)
    assert done["p"]["errors"] == {"f_text.0": "Too long"} and not fs.views[vid]["closed"]
    t = threading.Thread(target=submit)
    t.start()
    env = ws.recv_json()
    ws.send_json({"envelope_id": env["envelope_id"]})
    t.join(5)
    assert done["p"] is None and fs.views[vid]["closed"]


def test_thread_message_and_shortcut_envelopes(fs):
    ws, _ = connect(fs)
    parent = post(fs, channel="C_MENTIONS", text="ticket")["ts"]
    eid, ts = fs.post_in_thread("C_MENTIONS", parent, "reply a & b", user="U2")
    env = ws.recv_json()
    ev = env["payload"]["event"]
    assert (ev["type"], ev["thread_ts"], ev["user"], ev["text"]) == \
        ("message", parent, "U2", "reply a &amp; b"), ev
    ws.send_json({"envelope_id": eid})
    eid = fs.send_message_shortcut("reply_to_customer", ts, user="U2")
    p = ws.recv_json()["payload"]
    assert p["type"] == "message_action" and p["callback_id"] == "reply_to_customer"
    assert p["message"]["thread_ts"] == parent and p["trigger_id"], p
    ws.send_json({"envelope_id": eid})


def main():
    tests = [(n, f) for n, f in globals().items() if n.startswith("test_") and callable(f)]
    passed = failed = 0
    t_all = time.monotonic()
    for name, fn in tests:
        fs = FakeSlack(app_token=APP, bot_token=BOT, channels=("C_MENTIONS", "C_ESCALATE"),
                       users=USERS)
        fs.start()
        t0 = time.monotonic()
        try:
            fn(fs)
            assert fs.errors == [], f"unexpected violations: {fs.errors}"
            passed += 1
            print(f"ok   {name} ({time.monotonic() - t0:.2f}s)", flush=True)
        except Exception as e:  # noqa: BLE001 - every failure is reported
            failed += 1
            print(f"FAIL {name} ({time.monotonic() - t0:.2f}s): {e!r}", flush=True)
            print("   " + "\n   ".join(traceback.format_exc().strip().splitlines()[-4:]))
        finally:
            fs.stop()
    print(f"total {time.monotonic() - t_all:.1f}s")
    print(f"{passed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
