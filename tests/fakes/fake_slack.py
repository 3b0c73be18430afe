#!/usr/bin/env python3
"""A strict local fake of Slack (Socket Mode + Web API) for vigil's tests.

Standard library only; listens on 127.0.0.1 and never reaches out.  The wire
reference is ../shared/reference/slack.md: whatever real Slack would reject,
this fake rejects too, and whatever vigil must never do (even if Slack lets
it) is recorded in `errors`, which every test asserts stays empty.

    fs = FakeSlack(app_token="xapp-1-test", bot_token="xoxb-test",
                   channels=("C_MENTIONS", "C_ESCALATE"),   # or {id: name}
                   users={"U1": {"name": "alice", "real_name": "Alice Jensen"}})
    fs.start(); fs.api_url             # "http://127.0.0.1:PORT/api/"
    fs.stop()                           # or: with FakeSlack(...) as fs: ...

Socket Mode (apps.connections.open hands out ws://127.0.0.1:PORT/link/?ticket=N&app_id=A1)
    wait_connected(n=1, timeout=10) -> [conn]   n live sockets that got hello
    connections() -> [conn]             live socket ids (ints), oldest first
    send_slash(text, command, user_id, user_name, channel_id, conn) -> envelope_id
    send_block_action(action_id, value, user_id, conn, message_ts, channel_id) -> envelope_id
    send_event(event, event_id, retry_attempt, envelope_id, conn) -> envelope_id
    wait_ack(envelope_id, timeout=5) -> ack frame;  acks;  unacked()
    disconnect(reason, conn, close_after);  drop(conn, rst=False);  set_pong(False)
    server_ping_interval (5.0, None = never), redeliver_after (None), hello_delay (0),
    max_connections (10), fragment_size (None: send whole frames), ack_deadline (3.0)
    redeliver_new_envelope_id (False: retries reuse the envelope id)
    connection_log: [(t, "opened"|"hello"|"disconnect-sent"|"closed"|"refused", conn)]
    disconnects_sent: [(t, reason, conn)]
Web API (POST /api/METHOD) and response_url (POST /response/ENVELOPE_ID)
    methods: auth.test, apps.connections.open, chat.postMessage, chat.update,
    chat.postEphemeral, conversations.history, conversations.info, users.info,
    users.list (conversations.info and users.list: for the Hubot benchmark, bench/hubot)
    spec: per method, the body encodings and arguments Slack's published
    OpenAPI spec allows (slack_spec(); see SPEC_FILE, NEWER_METHODS, NEWER_ARGS)
    calls, ephemerals, responses, messages(ch), thread(ch, ts),
    wait_messages(ch, n, timeout), wait_calls(method, n, timeout),
    add_message(ch, text, user, thread_ts, blocks) -> ts   (a human's message)
    rate_limit(method, per_sec, burst, per_channel, retry_after) (per_sec None: off)
    count_429;  fail_next(method, error, status, times, retry_after) ("*" = any)
Every message record carries "pings": the notifications Slack would send for
it ("!here", "@U1", ...), so escaping tests can assert it is empty.
Times ("t", "latency") are time.monotonic() seconds.

Recorded in `errors` (the bot's fault, whatever Slack would answer): a missing
or malformed Authorization header, a token in the body, the wrong token type,
GET, a method not in Slack's spec (or one the fake lacks), a body encoding
the method's spec `consumes` does not list (a JSON body to a form-only read
method also arrives as no arguments, as at Slack: users.info then answers
user_not_found), an argument the spec does not declare, invalid JSON, a
reused or unknown ticket, a bad websocket handshake, unmasked/oversized/
fragmentation-breaking/binary frames, a frame before hello,
malformed or non-ack frames, double acks and acks of unknown envelopes, ack
payloads where accepts_response_payload is false, a call more than 0.25 s
after a 429 and before its Retry-After ran out (strict_retry_after), and
response_url misuse.  API answers such as channel_not_found are not errors.

Run standalone (benchmarks): python3 fake_slack.py --port 0
prints "READY http://127.0.0.1:PORT/api/" and serves until SIGTERM.
"""
import argparse
import base64
import copy
import hashlib
import http.server
import json
import os
import re
import signal
import socket
import struct
import sys
import threading
import time
import traceback
import urllib.parse
import uuid

import strict

TEAM_ID, TEAM_DOMAIN, TEAM_NAME = "T1", "vigil-test", "Vigil Test"
APP_ID, BOT_USER_ID, BOT_ID, BOT_NAME = "A1", "UBOT", "BBOT", "vigil"
VERIFICATION_TOKEN = "fakeVerificationToken0001"   # deprecated, but still sent
WS_GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"
MAX_WS_MESSAGE = 1 << 20        # incoming frames beyond this: close 1009
MAX_HTTP_BODY = 8 << 20
MAX_TEXT = 40000                # chat.postMessage text limit -> msg_too_long
MAX_RETRIES = 3                 # Slack retries an unacked event 3 times
RESPONSE_URL_USES = 5
CLOSE_REPLY_TIMEOUT = 2.0       # how long we wait for the client's close frame
TICK = 0.02                     # housekeeping period (pings, redelivery, timers)

FORM, JSON = "application/x-www-form-urlencoded", "application/json"

# Slack's published Web API spec (OpenAPI 2.0) says, per method, which body
# encodings it reads (`consumes`) and which arguments it declares.  Found in
# $VIGIL_SPECS, else in <repo>/../shared/reference/specs (CI's layout).
ROOT = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))
SPEC_FILE = "slack_web_openapi_v2.json"
# The spec is from 2021 and absence there is not a prohibition.  Methods vigil
# or the Hubot benchmark calls that it lacks (each checked: not in it):
NEWER_METHODS = {
    # Socket Mode; slack.md §1: an empty form body, the app token in the header.
    "apps.connections.open": {"consumes": {FORM}, "args": set()},
    # Files, Slack's flow since files.upload was retired (2024-2025): a one-time
    # upload URL for a file of a stated length, then the share (issue 17 §7).
    "files.getUploadURLExternal": {"consumes": {FORM},
                                   "args": {"filename", "length", "alt_txt", "snippet_type"}},
    "files.completeUploadExternal": {"consumes": {FORM, "application/json"},
                                     "args": {"files", "channel_id", "channels",
                                              "initial_comment", "thread_ts"}},
}
# Arguments newer than the spec, each one in slack.md §5's table of key args.
NEWER_ARGS = {
    "chat.postMessage": {"metadata"},                  # message metadata
    "conversations.history": {"include_all_metadata"},  # ... and reading it back
    "conversations.replies": {"include_all_metadata"},  # ... in a thread too
}
_spec = None   # {method: {"consumes": {ctype}, "args": {name}}}, loaded once


class SpecMissing(RuntimeError):
    """The Slack spec could not be read: the fake refuses to run unchecked."""


def slack_spec():
    """{method: {"consumes": set, "args": set}} from Slack's OpenAPI spec plus
    NEWER_METHODS/NEWER_ARGS; read once per process.  Raises SpecMissing."""
    global _spec
    if _spec is not None:
        return _spec
    where = os.environ.get("VIGIL_SPECS") or os.path.join(ROOT, "..", "shared", "reference", "specs")
    path = os.path.join(where, SPEC_FILE)
    try:
        with open(path, encoding="utf-8") as f:
            doc = json.load(f)
        methods = {}
        for route, ops in doc["paths"].items():
            for verb, op in ops.items():
                m = methods.setdefault(route.lstrip("/"),
                                       {"consumes": set(), "args": set(), "verbs": {"POST"}})
                m["verbs"].add(verb.upper())   # every method takes POST; reads GET too
                m["consumes"].update(op.get("consumes", ()))
                # token is declared too (header or query): _check_auth rules on it
                m["args"].update(p["name"] for p in op.get("parameters", ())
                                 if p["in"] in ("formData", "query") and p["name"] != "token")
    except (OSError, ValueError, KeyError, TypeError) as e:
        raise SpecMissing(f"fake_slack: cannot load Slack's Web API spec {path} ({e}); "
                          "set VIGIL_SPECS to the directory holding it") from e
    for name, rules in NEWER_METHODS.items():
        assert name not in methods, f"{name} is in the spec now: drop it from NEWER_METHODS"
        methods[name] = {"consumes": set(rules["consumes"]), "args": set(rules["args"]),
                         "verbs": {"POST"}}
    for name, extra in NEWER_ARGS.items():
        assert not extra & methods[name]["args"], f"{name}: {extra} in the spec now"
        methods[name]["args"] |= extra
    _spec = methods
    return _spec


DISCONNECT_REASONS = {"warning", "refresh_requested", "link_disabled", "too_many_websockets"}


# --------------------------------------------------------------------------
# RFC 6455 framing (server side: we read masked frames, write unmasked ones)

class WsError(Exception):
    """A violation that fails the websocket with close `code`."""

    def __init__(self, code, reason):
        super().__init__(reason)
        self.code, self.reason = code, reason


def ws_accept(key):
    return base64.b64encode(hashlib.sha1((key + WS_GUID).encode()).digest()).decode()


def encode_frame(opcode, payload, fin=True):
    head = bytes([(0x80 if fin else 0) | opcode])
    n = len(payload)
    if n < 126:
        head += bytes([n])
    elif n < 65536:
        head += bytes([126]) + struct.pack("!H", n)
    else:
        head += bytes([127]) + struct.pack("!Q", n)
    return head + payload


def _read_exact(rfile, n):
    data = rfile.read(n) if n else b""
    if len(data) < n:
        raise EOFError("peer closed the socket")
    return data


def read_frame(rfile, limit):
    """Reads one client frame: (fin, opcode, payload), unmasked.  Raises
    WsError for anything RFC 6455 forbids a client to send, before reading a
    payload larger than `limit` (so a huge frame is never buffered)."""
    b0, b1 = _read_exact(rfile, 2)
    fin, rsv, opcode = bool(b0 & 0x80), b0 & 0x70, b0 & 0x0F
    masked, n = bool(b1 & 0x80), b1 & 0x7F
    if n == 126:
        n = struct.unpack("!H", _read_exact(rfile, 2))[0]
    elif n == 127:
        n = struct.unpack("!Q", _read_exact(rfile, 8))[0]
    if rsv:
        raise WsError(1002, "RSV bits set but no extension was negotiated")
    if opcode not in (0x0, 0x1, 0x2, 0x8, 0x9, 0xA):
        raise WsError(1002, f"unknown opcode {opcode:#x}")
    if not masked:
        raise WsError(1002, "client frame is not masked")
    if opcode >= 0x8 and (not fin or n > 125):
        raise WsError(1002, "control frame fragmented or longer than 125 bytes")
    if opcode < 0x8 and n > limit:
        raise WsError(1009, f"message larger than {MAX_WS_MESSAGE} bytes")
    mask = _read_exact(rfile, 4)
    data = _read_exact(rfile, n)
    # XOR with the repeated 4-byte key, done on big integers for speed.
    key = (mask * (n // 4 + 1))[:n]
    payload = (int.from_bytes(data, "big") ^ int.from_bytes(key, "big")).to_bytes(n, "big")
    return fin, opcode, payload


def valid_close_code(code):
    return (code in (1000, 1001, 1002, 1003, 1007, 1008, 1009, 1010, 1011, 1012, 1013, 1014)
            or 3000 <= code <= 4999)


class _Conn:
    """One Socket Mode websocket.  `wlock` serialises writes; the FakeSlack
    lock may be taken while holding wlock, never the other way round."""

    def __init__(self, cid, sock, rfile, ticket):
        self.id, self.sock, self.rfile, self.ticket = cid, sock, rfile, ticket
        self.wlock = threading.Lock()
        self.opened_t = time.monotonic()
        self.hello_sent = False
        self.hello_due = None         # monotonic time the hello is due (hello_delay)
        self.closed = False
        self.close_sent_t = None      # we sent a close frame at this time
        self.close_at = None          # disconnect(close_after=...) deadline
        self.last_ping_t = self.opened_t
        self.ping_seq = 0
        self.last_pong_t = None
        self.drop_mode = None         # "fin"/"rst": drop() asked the reader to abort

    def write(self, opcode, payload, fragment_size=None):
        """Sends one message; False if the socket is gone or closing."""
        with self.wlock:
            if self.closed or self.close_sent_t is not None:
                return False
            return self._write_locked(opcode, payload, fragment_size)

    def _write_locked(self, opcode, payload, fragment_size=None):
        frames = []
        if fragment_size and opcode < 0x8 and len(payload) > fragment_size:
            chunks = [payload[i:i + fragment_size] for i in range(0, len(payload), fragment_size)]
            for i, chunk in enumerate(chunks):
                frames.append(encode_frame(opcode if i == 0 else 0x0, chunk,
                                           fin=i == len(chunks) - 1))
        else:
            frames.append(encode_frame(opcode, payload))
        try:
            self.sock.sendall(b"".join(frames))
            return True
        except OSError:
            return False

    def send_close(self, code, reason=""):
        with self.wlock:
            if self.closed or self.close_sent_t is not None:
                return
            payload = struct.pack("!H", code) + reason.encode()[:120] if code else b""
            self._write_locked(0x8, payload)
            self.close_sent_t = time.monotonic()

    def wake_reader(self, mode="fin"):
        """Makes the blocked reader thread see EOF; it then closes the socket
        itself (closing an fd another thread is reading is unsafe)."""
        self.drop_mode = self.drop_mode or mode
        try:
            self.sock.shutdown(socket.SHUT_RD)
        except OSError:
            pass


# --------------------------------------------------------------------------
# Block Kit validation (limits from the reference, section 7).  Messages use
# Slack's own format: "[ERROR] ... [json-pointer:/blocks/0/text]".

TEXT_KEYS = {"plain_text": {"type", "text", "emoji"}, "mrkdwn": {"type", "text", "verbatim"}}
BLOCK_KEYS = {
    "section": {"type", "block_id", "text", "fields", "accessory", "expand"},
    "divider": {"type", "block_id"},
    "header": {"type", "block_id", "text"},
    "context": {"type", "block_id", "elements"},
    "actions": {"type", "block_id", "elements"},
    "image": {"type", "block_id", "image_url", "alt_text", "title", "slack_file"},
    "rich_text": {"type", "block_id", "elements"},
}
BUTTON_KEYS = {"type", "text", "action_id", "url", "value", "style", "confirm",
               "accessibility_label"}
ELEMENT_TYPES = {"button", "static_select", "external_select", "users_select",
                 "conversations_select", "channels_select", "multi_static_select",
                 "multi_external_select", "multi_users_select", "multi_conversations_select",
                 "multi_channels_select", "overflow", "datepicker", "timepicker",
                 "datetimepicker", "checkboxes", "radio_buttons", "image"}


def _err(msg, ptr):
    return f"[ERROR] {msg} [json-pointer:{ptr}]"


def _check_keys(obj, allowed, ptr, errs):
    for k in obj:
        if k not in allowed:
            errs.append(_err(f"unexpected property '{k}'", f"{ptr}/{k}"))


def _check_str(v, ptr, errs, max_len, min_len=1):
    if not isinstance(v, str):
        errs.append(_err("must be a string", ptr))
    elif len(v) < min_len:
        errs.append(_err(f"must be at least {min_len} characters", ptr))
    elif len(v) > max_len:
        errs.append(_err(f"must be less than {max_len + 1} characters", ptr))


def _check_text(obj, ptr, errs, max_len, kinds=("plain_text", "mrkdwn")):
    if not isinstance(obj, dict) or obj.get("type") not in kinds:
        errs.append(_err(f"must be a text object of type {' or '.join(kinds)}", ptr))
        return
    _check_keys(obj, TEXT_KEYS[obj["type"]], ptr, errs)
    _check_str(obj.get("text"), f"{ptr}/text", errs, max_len)
    for flag in ("emoji", "verbatim"):
        if flag in obj and not isinstance(obj[flag], bool):
            errs.append(_err("must be a boolean", f"{ptr}/{flag}"))


def _check_id(v, ptr, errs, seen, what):
    _check_str(v, ptr, errs, 255)
    if isinstance(v, str):
        if v in seen:
            errs.append(_err(f"duplicate {what} '{v}'", ptr))
        seen.add(v)


def _check_list(v, ptr, errs, lo, hi):
    if not isinstance(v, list):
        errs.append(_err("must be an array", ptr))
        return []
    if not lo <= len(v) <= hi:
        errs.append(_err(f"must have between {lo} and {hi} items", ptr))
    return v


def _check_element(e, ptr, errs, action_ids):
    if not isinstance(e, dict) or e.get("type") not in ELEMENT_TYPES:
        errs.append(_err("unsupported element type", f"{ptr}/type"))
        return
    if "action_id" in e:
        _check_id(e["action_id"], f"{ptr}/action_id", errs, action_ids, "action_id")
    if e["type"] == "image":
        _check_str(e.get("image_url"), f"{ptr}/image_url", errs, 3000)
        _check_str(e.get("alt_text"), f"{ptr}/alt_text", errs, 2000)
    if e["type"] != "button":
        return
    _check_keys(e, BUTTON_KEYS, ptr, errs)
    _check_text(e.get("text"), f"{ptr}/text", errs, 75, kinds=("plain_text",))
    if "value" in e:
        _check_str(e["value"], f"{ptr}/value", errs, 2000)
    if "url" in e:
        _check_str(e["url"], f"{ptr}/url", errs, 3000)
    if "style" in e and e["style"] not in ("primary", "danger"):
        errs.append(_err("must be one of: primary, danger", f"{ptr}/style"))


def _check_section(b, ptr, errs):
    if "text" not in b and "fields" not in b:
        errs.append(_err("must provide either text or fields", ptr))
    if "text" in b:
        _check_text(b["text"], f"{ptr}/text", errs, 3000)
    if "fields" in b:
        for i, f in enumerate(_check_list(b["fields"], f"{ptr}/fields", errs, 1, 10)):
            _check_text(f, f"{ptr}/fields/{i}", errs, 2000)
    if "accessory" in b:
        _check_element(b["accessory"], f"{ptr}/accessory", errs, set())


def _check_header(b, ptr, errs):
    _check_text(b.get("text"), f"{ptr}/text", errs, 150, kinds=("plain_text",))


def _check_context(b, ptr, errs):
    for i, e in enumerate(_check_list(b.get("elements"), f"{ptr}/elements", errs, 1, 10)):
        if isinstance(e, dict) and e.get("type") == "image":
            _check_element(e, f"{ptr}/elements/{i}", errs, set())
        else:
            _check_text(e, f"{ptr}/elements/{i}", errs, 3000)


def _check_actions(b, ptr, errs):
    action_ids = set()   # unique within the block
    for i, e in enumerate(_check_list(b.get("elements"), f"{ptr}/elements", errs, 1, 25)):
        _check_element(e, f"{ptr}/elements/{i}", errs, action_ids)


def _check_image(b, ptr, errs):
    _check_str(b.get("image_url"), f"{ptr}/image_url", errs, 3000)
    _check_str(b.get("alt_text"), f"{ptr}/alt_text", errs, 2000)


def _check_rich_text(b, ptr, errs):
    _check_list(b.get("elements"), f"{ptr}/elements", errs, 0, 1000)


BLOCK_CHECKS = {"section": _check_section, "divider": lambda b, p, e: None,
                "header": _check_header, "context": _check_context,
                "actions": _check_actions, "image": _check_image, "rich_text": _check_rich_text}


def validate_blocks(blocks):
    """Returns Slack-style error messages for a blocks array ([] = valid)."""
    errs = []
    if len(blocks) > 50:
        errs.append(_err("no more than 50 items allowed", "/blocks"))
    block_ids = set()
    for i, b in enumerate(blocks):
        ptr = f"/blocks/{i}"
        if not isinstance(b, dict) or b.get("type") not in BLOCK_KEYS:
            errs.append(_err("unsupported block type", f"{ptr}/type"))
            continue
        _check_keys(b, BLOCK_KEYS[b["type"]], ptr, errs)
        if "block_id" in b:
            _check_id(b["block_id"], f"{ptr}/block_id", errs, block_ids, "block_id")
        BLOCK_CHECKS[b["type"]](b, ptr, errs)
    return errs


# --------------------------------------------------------------------------
# Views (issue 19): modals and the App Home tab, as strict as Slack is:
# 100 blocks, private_metadata <= 3000 chars, input blocks only in modals,
# a modal's title/submit/close <= 24 chars, known element types only.

VIEW_KEYS = {"type", "title", "blocks", "close", "submit", "private_metadata", "callback_id",
             "clear_on_close", "notify_on_close", "external_id", "submit_disabled"}
INPUT_KEYS = {"type", "block_id", "label", "element", "dispatch_action", "hint", "optional"}
INPUT_ELEMENTS = {"plain_text_input", "static_select", "checkboxes", "radio_buttons",
                  "users_select", "multi_static_select", "datepicker", "timepicker",
                  "conversations_select", "channels_select", "number_input", "email_text_input",
                  "url_text_input"}
PLAIN_INPUT_KEYS = {"type", "action_id", "placeholder", "initial_value", "multiline",
                    "min_length", "max_length", "dispatch_action_config", "focus_on_load"}
SELECT_KEYS = {"type", "action_id", "placeholder", "options", "option_groups",
               "initial_option", "confirm", "focus_on_load"}
CHECKBOX_KEYS = {"type", "action_id", "options", "initial_options", "confirm", "focus_on_load"}
MAX_VIEW_BYTES = 250_000           # Slack: "a view's JSON may be up to 250 kB"
MAX_METADATA = 3000


def _check_options(opts, ptr, errs, hi, value_max=150):
    for i, o in enumerate(_check_list(opts, ptr, errs, 1, hi)):
        if not isinstance(o, dict):
            errs.append(_err("must be an option object", f"{ptr}/{i}"))
            continue
        _check_keys(o, {"text", "value", "description", "url"}, f"{ptr}/{i}", errs)
        _check_text(o.get("text"), f"{ptr}/{i}/text", errs, 75)
        _check_str(o.get("value"), f"{ptr}/{i}/value", errs, value_max)


def _check_input(b, ptr, errs):
    _check_text(b.get("label"), f"{ptr}/label", errs, 2000, kinds=("plain_text",))
    e = b.get("element")
    if not isinstance(e, dict) or e.get("type") not in INPUT_ELEMENTS:
        errs.append(_err("unsupported element type", f"{ptr}/element/type"))
        return
    ep = f"{ptr}/element"
    if "action_id" in e:
        _check_str(e["action_id"], f"{ep}/action_id", errs, 255)
    if e["type"] == "plain_text_input":
        _check_keys(e, PLAIN_INPUT_KEYS, ep, errs)
        mx = e.get("max_length", 3000)
        if not isinstance(mx, int) or not 1 <= mx <= 3000:
            errs.append(_err("must be between 1 and 3000", f"{ep}/max_length"))
            mx = 3000
        if "initial_value" in e:
            _check_str(e["initial_value"], f"{ep}/initial_value", errs, mx)
        dac = e.get("dispatch_action_config")
        if dac is not None and (not isinstance(dac, dict) or not set(
                dac.get("trigger_actions_on") or ["x"]) <= {"on_enter_pressed", "on_character_entered"}):
            errs.append(_err("invalid trigger_actions_on", f"{ep}/dispatch_action_config"))
    elif e["type"] == "static_select":
        _check_keys(e, SELECT_KEYS, ep, errs)
        _check_options(e.get("options"), f"{ep}/options", errs, 100)
        if "initial_option" in e and e["initial_option"] not in (e.get("options") or []):
            errs.append(_err("initial_option must be one of options", f"{ep}/initial_option"))
    elif e["type"] == "checkboxes":
        _check_keys(e, CHECKBOX_KEYS, ep, errs)
        _check_options(e.get("options"), f"{ep}/options", errs, 10)


def validate_view(view, kind=None):
    """Slack-style error messages for a view object ([] = valid); `kind`
    the type the method takes ("modal" for views.open, "home" for publish)."""
    errs = []
    if not isinstance(view, dict):
        return [_err("view must be an object", "/view")]
    _check_keys(view, VIEW_KEYS, "/view", errs)
    t = view.get("type")
    if t not in ("modal", "home") or (kind and t != kind):
        errs.append(_err(f"view type must be {kind or 'modal or home'}", "/view/type"))
        return errs
    if len(json.dumps(view)) > MAX_VIEW_BYTES:
        errs.append(_err("view is too large", "/view"))
    if len(view.get("private_metadata") or "") > MAX_METADATA:
        errs.append(_err(f"must be less than {MAX_METADATA + 1} characters",
                         "/view/private_metadata"))
    if "callback_id" in view:
        _check_str(view["callback_id"], "/view/callback_id", errs, 255)
    blocks = _check_list(view.get("blocks"), "/view/blocks", errs, 0, 100)
    has_input = False
    block_ids = set()
    for i, b in enumerate(blocks):
        ptr = f"/view/blocks/{i}"
        btype = b.get("type") if isinstance(b, dict) else None
        if btype == "input":
            has_input = True
            if t != "modal":
                errs.append(_err("input blocks are only allowed in modals", f"{ptr}/type"))
            _check_keys(b, INPUT_KEYS, ptr, errs)
            _check_input(b, ptr, errs)
        elif btype in BLOCK_KEYS:
            _check_keys(b, BLOCK_KEYS[btype], ptr, errs)
            BLOCK_CHECKS[btype](b, ptr, errs)
        else:
            errs.append(_err("unsupported block type", f"{ptr}/type"))
            continue
        if "block_id" in b:
            _check_id(b["block_id"], f"{ptr}/block_id", errs, block_ids, "block_id")
    if t == "modal":
        _check_text(view.get("title"), "/view/title", errs, 24, kinds=("plain_text",))
        for k in ("submit", "close"):
            if k in view:
                _check_text(view[k], f"/view/{k}", errs, 24, kinds=("plain_text",))
        if has_input and "submit" not in view:
            errs.append(_err("a modal with input blocks needs submit", "/view/submit"))
    return errs


# --------------------------------------------------------------------------
# Mentions: what would notify someone (reference section 6)

CONTROL_PING = re.compile(r"<(@[UW][A-Z0-9_]+|!here|!channel|!everyone|!subteam\^[A-Z0-9]+)"
                          r"(?:\|[^>]*)?>")
PLAIN_PING = re.compile(r"(?<![\w@<&|])@(here|channel|everyone|[a-z0-9][a-z0-9._-]*)")


def find_pings(text, plain, users_by_name):
    """Pings in `text`: explicit control sequences always; with `plain` also
    bare @here/@channel/@everyone/@username, as Slack auto-links them."""
    if not isinstance(text, str):
        return []
    pings = [m.group(1) for m in CONTROL_PING.finditer(text)]
    if plain:
        for m in PLAIN_PING.finditer(text):
            word = m.group(1)
            if word in ("here", "channel", "everyone"):
                pings.append("!" + word)
            elif word in users_by_name:
                pings.append("@" + users_by_name[word])
    return pings


def _text_objects(node):
    if isinstance(node, dict):
        if node.get("type") in TEXT_KEYS and isinstance(node.get("text"), str):
            yield node
        for v in node.values():
            yield from _text_objects(v)
    elif isinstance(node, list):
        for v in node:
            yield from _text_objects(v)


def message_pings(text, blocks, link_names, parse, users_by_name):
    pings = find_pings(text, _truthy(link_names) or parse == "full", users_by_name)
    for obj in _text_objects(blocks or []):
        if obj["type"] == "mrkdwn":   # plain_text is never parsed for mentions
            pings += find_pings(obj["text"], not obj.get("verbatim", False), users_by_name)
    return list(dict.fromkeys(pings))


# --------------------------------------------------------------------------
# Small helpers

def _truthy(v):
    return v is True or v == 1 or (isinstance(v, str) and v.lower() in ("1", "true"))


def _ts_key(ts):
    """'1700000000.000100' -> microseconds; ValueError if malformed."""
    m = re.fullmatch(r"(\d+)(?:\.(\d{1,6}))?", str(ts))
    if not m:
        raise ValueError(ts)
    return int(m.group(1)) * 1_000_000 + int((m.group(2) or "0").ljust(6, "0"))


def _fmt_ts(us):
    return f"{us // 1_000_000}.{us % 1_000_000:06d}"


def _json_arg(v):
    """Form bodies carry blocks/metadata as JSON strings, JSON bodies as values."""
    return json.loads(v) if isinstance(v, str) else v


def _fail(error, **extra):
    return dict({"ok": False, "error": error}, **extra)


def _dumps(obj):
    return json.dumps(obj, ensure_ascii=False, separators=(",", ":")).encode()


def _content_type(headers):
    ctype, _, params = headers.get("content-type", "").partition(";")
    charset = None
    for p in params.split(";"):
        k, _, v = p.strip().partition("=")
        if k.lower() == "charset":
            charset = v.strip().strip('"').lower()
    return ctype.strip().lower(), charset


class _Bucket:
    """Token bucket: `burst` calls at once, refilled at `per_sec`."""

    def __init__(self, per_sec, burst):
        self.per_sec, self.burst = per_sec, burst
        self.tokens, self.t = float(burst), time.monotonic()
        self.last_429 = None

    def take(self, now):
        self.tokens = min(self.burst, self.tokens + max(0.0, now - self.t) * self.per_sec)
        self.t = max(self.t, now)
        if self.tokens >= 1:
            self.tokens -= 1
            return True
        return False


# --------------------------------------------------------------------------
# HTTP plumbing: one ThreadingHTTPServer for /api/, /response/ and /link/

class _Server(http.server.ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def handle_error(self, request, client_address):
        exc = sys.exc_info()[1]
        if isinstance(exc, (ConnectionError, EOFError, TimeoutError)):
            return   # the bot went away mid-request: not our business
        self.fake._violation(f"fake_slack internal error: {exc!r} (a bug in the fake)")
        traceback.print_exc()


class _Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"   # keep-alive, as libcurl expects
    server_version = "fake-slack/1"
    # TCP_NODELAY: the handler writes headers and body separately, and with
    # Nagle the body then waits for the client's delayed ACK (~40 ms on Linux)
    # on every keep-alive request, which would swamp any latency measured here.
    disable_nagle_algorithm = True

    def setup(self):
        super().setup()
        self.server.fake._track(self.connection, True)

    def finish(self):
        try:
            super().finish()
        finally:
            self.server.fake._track(self.connection, False)

    def log_message(self, fmt, *args):
        if self.server.fake.verbose:
            sys.stderr.write("fake_slack: " + (fmt % args) + "\n")

    def do_GET(self):
        path = urllib.parse.urlsplit(self.path).path
        if path == "/link/" or path == "/link":
            self.close_connection = True
            self.server.fake._websocket(self)
        elif path.startswith("/api/"):
            self._api("GET")
        else:
            self._reply(404, {"ok": False, "error": "not_found"})

    def do_POST(self):
        path = urllib.parse.urlsplit(self.path).path
        if path.startswith("/upload/"):   # files.getUploadURLExternal's one-time URL
            body = self._read_body()
            if body is not None:
                status, text = self.server.fake._upload(path[len("/upload/"):], body)
                data = text.encode()
                self.send_response(status)
                self.send_header("Content-Type", "text/plain")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)
        elif path.startswith("/api/") or path.startswith("/response/"):
            self._api("POST")
        else:
            self._read_body()
            self._reply(404, {"ok": False, "error": "not_found"})

    def _api(self, verb):
        body = self._read_body()
        if body is None:
            return
        headers = {k.lower(): v for k, v in self.headers.items()}
        path = urllib.parse.urlsplit(self.path).path
        fake = self.server.fake
        if verb == "GET":   # a read method's arguments come in the query string
            body = urllib.parse.urlsplit(self.path).query.encode()
            headers["content-type"] = FORM
        if path.startswith("/response/"):
            status, obj, extra = fake._response_url(path[len("/response/"):], headers, body)
        else:
            status, obj, extra = fake._api_call(path[len("/api/"):], verb, headers, body)
        self._reply(status, obj, extra)

    def _read_body(self):
        if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
            return self._read_chunked()
        try:
            n = int(self.headers.get("Content-Length") or 0)
        except ValueError:
            n = -1
        if n < 0 or n > MAX_HTTP_BODY:
            self._reply(413 if n > 0 else 400, {"ok": False, "error": "invalid_request"})
            self.close_connection = True
            return None
        return self.rfile.read(n)

    def _read_chunked(self):
        parts, total = [], 0
        while True:
            size = int(self.rfile.readline().split(b";")[0].strip() or b"0", 16)
            if size == 0:
                while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                    pass   # trailers
                return b"".join(parts)
            total += size
            if total > MAX_HTTP_BODY:
                self._reply(413, {"ok": False, "error": "invalid_request"})
                self.close_connection = True
                return None
            parts.append(self.rfile.read(size))
            self.rfile.readline()

    def _reply(self, status, obj, extra_headers=()):
        body = _dumps(obj)
        self.send_response(status)
        self.send_header("Content-Type", "application/json; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        for k, v in extra_headers:
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(body)


# --------------------------------------------------------------------------

class FakeSlack:
    def __init__(self, app_token="xapp-1-test", bot_token="xoxb-test",
                 channels=("C_MENTIONS", "C_ESCALATE"), users=None, port=0, verbose=False):
        self.app_token, self.bot_token = app_token, bot_token
        if not isinstance(channels, dict):
            channels = {c: re.sub(r"^c_", "", c.lower()) for c in channels}
        self._channels = {cid: {"name": name, "messages": []} for cid, name in channels.items()}
        self.users = dict(users or {})
        self.port, self.verbose = port, verbose
        self._cv = threading.Condition(threading.RLock())
        # knobs (plain attributes, read at the moment they matter)
        self.server_ping_interval = 5.0
        self.redeliver_after = None
        self.redeliver_new_envelope_id = False
        self.hello_delay = 0.0
        self.max_connections = 10
        self.fragment_size = None
        self.ack_deadline = 3.0
        self.approximate_connection_time = 18060
        self.strict_retry_after = True
        self.answer_pings = True
        # Where apps.connections.open sends the client: None is this server,
        # plain ws://; a TLS test puts "wss://127.0.0.1:PORT" of its relay.
        self.link_base = None
        self.spec = slack_spec()    # what Slack's Web API accepts, per method
        # observations
        self.errors, self.calls, self.acks = [], [], []
        self.ephemerals, self.responses = [], []
        self.connection_log, self.disconnects_sent = [], []
        self.count_429 = 0
        # internals
        self._conns = {}            # id -> _Conn, insertion order = age
        self._envelopes = {}        # envelope_id -> record
        self._replies = {}          # parent ts -> [reply ts] (Slack's reply_count)
        self._ack_frames = {}
        self._tickets = {}          # ticket -> used?
        self._limits = {}           # method -> {"per_sec", "burst", "per_channel", "retry_after", "buckets"}
        self._failures = {}         # method -> [(error, status, retry_after)]
        self._http_socks = set()
        self._seq = 0
        self._conn_seq = 0
        self._last_ts = 0
        self._server = None
        self._stopping = threading.Event()
        self._threads = []
        # views (issue 19)
        self._triggers = {}         # trigger_id -> {"t", "used"}: valid once, for 3 s
        self.views = {}             # view_id -> record (modals, open or closed)
        self.homes = {}             # user -> view_id of the published App Home
        self.trigger_ttl = 3.0

    # ---------------------------------------------------------------- life

    def start(self):
        self._server = _Server(("127.0.0.1", self.port), _Handler)
        self._server.fake = self
        strict.register(self)
        self.port = self._server.server_address[1]
        serve = lambda: self._server.serve_forever(poll_interval=0.05)  # noqa: E731 - fast stop()
        for target in (serve, self._housekeeping):
            t = threading.Thread(target=target, daemon=True, name="fake-slack")
            t.start()
            self._threads.append(t)
        return self

    def stop(self):
        if self._server is None or self._stopping.is_set():
            return
        self._stopping.set()
        self._server.shutdown()
        with self._cv:
            conns = [c for c in self._conns.values() if not c.closed]
            socks = list(self._http_socks)
        for c in conns:
            c.wake_reader("fin")
        for s in socks:   # idle keep-alive connections would otherwise linger
            try:
                s.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
        self._server.server_close()
        for t in self._threads:
            t.join(timeout=5)

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()

    @property
    def base_url(self):
        return f"http://127.0.0.1:{self.port}/"

    @property
    def api_url(self):
        return self.base_url + "api/"

    # ------------------------------------------------------- shared helpers

    def _violation(self, msg):
        with self._cv:
            self.errors.append(msg)
            self._cv.notify_all()
        if self.verbose:
            sys.stderr.write(f"fake_slack: VIOLATION {msg}\n")

    def _log(self, event, conn):
        with self._cv:
            self.connection_log.append((time.monotonic(), event, conn))
            self._cv.notify_all()

    def _track(self, sock, add):
        with self._cv:
            (self._http_socks.add if add else self._http_socks.discard)(sock)

    def _next(self):
        with self._cv:
            self._seq += 1
            return self._seq

    def _new_ts(self):
        """Message ts: wall-clock microseconds, strictly increasing."""
        with self._cv:
            self._last_ts = max(int(time.time() * 1_000_000), self._last_ts + 1)
            return _fmt_ts(self._last_ts)

    def _wait(self, pred, timeout, what):
        deadline = time.monotonic() + timeout
        with self._cv:
            while True:
                result = pred()
                if result:
                    return result
                left = deadline - time.monotonic()
                if left <= 0:
                    raise AssertionError(f"fake_slack: timed out after {timeout}s waiting for "
                                         f"{what() if callable(what) else what}")
                self._cv.wait(min(left, 0.1))

    def _users_by_name(self):
        names = {u.get("name"): uid for uid, u in self.users.items() if u.get("name")}
        names[BOT_NAME] = BOT_USER_ID
        return names

    # ------------------------------------------------------ socket mode: API

    def connections(self):
        with self._cv:
            return [c.id for c in self._conns.values() if not c.closed]

    def wait_connected(self, n=1, timeout=10):
        def ready():
            live = [c.id for c in self._conns.values() if not c.closed and c.hello_sent]
            return live if len(live) >= n else None
        return self._wait(ready, timeout, lambda: f"{n} live Socket Mode connection(s) with "
                          f"hello (now {self.connections()}; log {self.connection_log[-6:]})")

    def set_pong(self, on):
        self.answer_pings = bool(on)

    def unacked(self):
        with self._cv:
            return [e["id"] for e in self._envelopes.values()
                    if e["acks"] == 0 and not e["superseded"]]

    def wait_ack(self, envelope_id, timeout=5):
        return self._wait(lambda: self._ack_frames.get(envelope_id), timeout,
                          lambda: f"an ack of envelope {envelope_id} (acks so far: "
                          f"{[a['envelope_id'] for a in self.acks]})")

    # --------------------------------- slash command text as Slack sends it
    # (reference sections 5 and 6)

    # The manifest's should_escape for /tw (config/slack-app-manifest.yml
    # says true): people, channels and links in command text arrive as <...>.
    # A test may set it False on its instance.
    should_escape = True

    # Slack links bare domains only with a real TLD; it does not publish its
    # list, so this short one is a guess that covers the tests' texts.
    _BARE_TLDS = ("com", "org", "net", "io", "dk", "de", "eu", "co", "uk", "dev", "app", "info")
    # Trailing punctuation is left out of an auto-link, as Slack does in its
    # clients (a guess at the exact set: what ends a sentence or a bracket).
    _URL_TAIL = ".,!?;:)'\""
    # A typed link ends at white space, < > and | (a guess: "|" separates a
    # link from its label in Slack's markup, so it cannot be part of one).
    _SLASH_REFS = re.compile(
        r"(?P<url>https?://[^\s<>|]+)"
        r"|(?P<mail>(?<![\w.+-])[\w.+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+)"
        r"|(?P<domain>(?<![\w@/.:-])(?:[A-Za-z0-9-]+\.)+(?:" + "|".join(_BARE_TLDS) +
        r")(?![\w-])(?:/[^\s<>|]*)?)"
        r"|(?<![\w@])(?P<at>@[a-z0-9](?:[a-z0-9._-]*[a-z0-9])?)"
        r"|(?<![\w#&])(?P<hash>#[a-z0-9](?:[a-z0-9_-]*[a-z0-9])?)")

    @staticmethod
    def _entities(s):
        return s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


    @classmethod
    def slash_escape(cls, typed, users_by_name, channels_by_name):
        """What Slack puts in a slash command's `text` for `typed`.  Without
        `users_by_name` (should_escape off) only & < > are escaped.  With it,
        @name of a known user -> <@U1|name>, @here/@channel/@everyone ->
        <!here>, #name of a known channel -> <#C1|name>, https://x -> <https://x>,
        a bare domain -> <http://a.com|a.com>, an address -> <mailto:a@b.dk|a@b.dk>;
        the URLs and labels inside have & < > as entities too."""
        if users_by_name is None:
            return cls._entities(typed)
        out, pos = [], 0
        for m in cls._SLASH_REFS.finditer(typed):
            word, kind, seq = m.group(0), m.lastgroup, None
            tail = ""
            if kind in ("url", "domain", "mail"):
                cut = len(word.rstrip(cls._URL_TAIL))
                word, tail = word[:cut], word[cut:]
            if kind == "url" and "://" in word and len(word) > word.index("://") + 3:
                seq = f"<{cls._entities(word)}>"
            elif kind == "domain":
                seq = f"<http://{cls._entities(word)}|{cls._entities(word)}>"
            elif kind == "mail":
                seq = f"<mailto:{cls._entities(word)}|{cls._entities(word)}>"
            elif kind == "at" and word[1:] in ("here", "channel", "everyone"):
                seq = f"<!{word[1:]}>"
            elif kind == "at" and word[1:] in users_by_name:
                seq = f"<@{users_by_name[word[1:]]}|{word[1:]}>"
            elif kind == "hash" and word[1:] in channels_by_name:
                seq = f"<#{channels_by_name[word[1:]]}|{word[1:]}>"
            if seq is None:
                continue
            out.append(cls._entities(typed[pos:m.start()]))
            out.append(seq + cls._entities(tail))
            pos = m.end()
        out.append(cls._entities(typed[pos:]))
        return "".join(out)

    def escape_command_text(self, typed):
        """`typed` as Slack puts it in a slash command's `text` (reference
        section 5): with `should_escape`, known @users, #channels, @here and
        links become control sequences, the rest has & < > as entities;
        without it, only the entities."""
        return self.slash_escape(typed, self._users_by_name() if self.should_escape else None,
                            {ch["name"]: cid for cid, ch in self._channels.items()})

    def send_slash(self, text="", command="/tw", user_id="U1", user_name=None,
                   channel_id="C_MENTIONS", conn=None, raw=False):
        """`text` as the agent typed it; the envelope carries it escaped as
        Slack does (escape_command_text).  raw=True sends `text` as it is
        (hostile input, or what Slack would never send)."""
        env_id = str(uuid.uuid4())
        payload = {
            "token": VERIFICATION_TOKEN, "team_id": TEAM_ID, "team_domain": TEAM_DOMAIN,
            "channel_id": channel_id, "channel_name": self._channel_name(channel_id),
            "user_id": user_id, "user_name": user_name or self._user_name(user_id),
            "command": command, "text": text if raw else self.escape_command_text(text),
            "api_app_id": APP_ID,
            "is_enterprise_install": "false",
            "response_url": self._response_url_for(env_id), "trigger_id": self._trigger_id(),
        }
        return self._send_envelope(env_id, "slash_commands", payload, True, conn,
                                   user=user_id, channel=channel_id)

    def send_block_action(self, action_id="assign_me", value=None, user_id="U1", conn=None,
                          message_ts=None, channel_id="C_MENTIONS"):
        """A button press on `message_ts` (default: the channel's newest
        top-level message).  block_id, text and value come from the button
        with that action_id in the stored message when there is one."""
        msg = self._action_message(channel_id, message_ts)
        button = self._find_button(msg.get("blocks"), action_id)
        env_id = str(uuid.uuid4())
        name = self._user_name(user_id)
        action = {"action_id": action_id, "block_id": button.get("block_id", "b1"),
                  "value": value if value is not None else button.get("value", ""),
                  "type": "button",
                  "text": button.get("text", {"type": "plain_text", "text": "button"}),
                  "action_ts": _fmt_ts(int(time.time() * 1_000_000))}
        if "style" in button:
            action["style"] = button["style"]
        payload = {
            "type": "block_actions", "team": {"id": TEAM_ID, "domain": TEAM_DOMAIN},
            "user": {"id": user_id, "username": name, "name": name, "team_id": TEAM_ID},
            "api_app_id": APP_ID, "token": VERIFICATION_TOKEN,
            "container": {"type": "message", "message_ts": msg["ts"], "channel_id": channel_id,
                          "is_ephemeral": False},
            "trigger_id": self._trigger_id(),
            "channel": {"id": channel_id, "name": self._channel_name(channel_id)},
            "message": msg, "state": {"values": {}},
            "response_url": self._response_url_for(env_id),
            "actions": [action], "enterprise": None, "is_enterprise_install": False,
        }
        return self._send_envelope(env_id, "interactive", payload, False, conn, user=user_id,
                                   channel=channel_id, message_ts=msg["ts"])

    def send_event(self, event, event_id=None, retry_attempt=0, envelope_id=None, conn=None):
        """An events_api envelope.  Passing an envelope_id already sent makes
        this a redelivery of it (Slack sometimes reuses ids)."""
        event_id = event_id or f"Ev{self._next():010d}"
        payload = {
            "token": VERIFICATION_TOKEN, "team_id": TEAM_ID, "api_app_id": APP_ID,
            "event": event, "type": "event_callback", "event_id": event_id,
            "event_time": int(time.time()),
            "authorizations": [{"enterprise_id": None, "team_id": TEAM_ID,
                                "user_id": BOT_USER_ID, "is_bot": True,
                                "is_enterprise_install": False}],
            "is_ext_shared_channel": False,
        }
        extra = {"retry_attempt": retry_attempt,
                 "retry_reason": "timeout" if retry_attempt else ""}
        return self._send_envelope(envelope_id or str(uuid.uuid4()), "events_api", payload,
                                   False, conn, extra=extra)

    def disconnect(self, reason, conn=None, close_after=None):
        if reason not in DISCONNECT_REASONS:
            raise ValueError(f"unknown disconnect reason {reason!r}")
        with self._cv:
            c = self._pick_conn(conn, need_hello=False)
        self._send_disconnect(c, reason)
        if close_after is not None:
            with self._cv:
                c.close_at = time.monotonic() + close_after
        return c.id

    def drop(self, conn=None, rst=False):
        """Abrupt TCP close, no close frame (FIN; RST with rst=True)."""
        with self._cv:
            c = self._pick_conn(conn, need_hello=False)
        c.wake_reader("rst" if rst else "fin")
        self._mark_closed(c)
        return c.id

    # --------------------------------------------------- socket mode: inside

    def _channel_name(self, cid):
        ch = self._channels.get(cid)
        return ch["name"] if ch else cid.lower()

    def _user_name(self, uid):
        return self.users.get(uid, {}).get("name", uid.lower())

    def _trigger_id(self):
        tid = f"{self._next()}.{TEAM_ID[1:]}000.{uuid.uuid4().hex[:24]}"
        with self._cv:
            self._triggers[tid] = {"t": time.monotonic(), "used": False}
        return tid

    def _response_url_for(self, env_id):
        return f"{self.base_url}response/{env_id}"

    def _pick_conn(self, conn, need_hello=True):
        """The socket to deliver on (lock held).  Slack picks any of the
        app's sockets; the default is the newest that said hello."""
        if conn is None:
            live = [c for c in self._conns.values()
                    if not c.closed and c.close_sent_t is None and (c.hello_sent or not need_hello)]
            if not live:
                raise AssertionError("fake_slack: no live Socket Mode connection "
                                     f"(log {self.connection_log[-6:]})")
            return live[-1]
        c = self._conns.get(conn)
        if c is None or c.closed:
            raise AssertionError(f"fake_slack: connection {conn} is not live")
        if need_hello and not c.hello_sent:
            raise AssertionError(f"fake_slack: connection {conn} has not been sent hello")
        return c

    def _action_message(self, channel_id, message_ts):
        with self._cv:
            msgs = self._channels.get(channel_id, {"messages": []})["messages"]
            if message_ts is None:
                top = [m for m in msgs if not m["thread_ts"]]
                if not top:
                    raise AssertionError(f"fake_slack: no message in {channel_id} to click on")
                return self._public(top[-1], False)
            for m in msgs:
                if m["ts"] == message_ts:
                    return self._public(m, False)
        # A click on a message we never stored (stale client, forged test input).
        return {"type": "message", "ts": message_ts, "text": "", "blocks": []}

    @staticmethod
    def _find_button(blocks, action_id):
        for b in blocks or []:
            elements = b.get("elements", []) + ([b["accessory"]] if "accessory" in b else [])
            for e in elements:
                if isinstance(e, dict) and e.get("action_id") == action_id:
                    return dict(e, block_id=b.get("block_id", "b1"))
        return {}

    def _send_envelope(self, env_id, kind, payload, accepts, conn, extra=None, **ctx):
        frame = {"envelope_id": env_id, "type": kind, "payload": payload,
                 "accepts_response_payload": accepts}
        frame.update(extra or {})
        with self._cv:
            if payload.get("trigger_id") in self._triggers:   # whose interaction it was
                self._triggers[payload["trigger_id"]]["user"] = ctx.get("user")
            c = self._pick_conn(conn)
            env = self._envelopes.get(env_id)
            if env is None:
                env = {"id": env_id, "type": kind, "acks": 0, "deliveries": 0,
                       "superseded": False, "response_uses": 0, **ctx}
                self._envelopes[env_id] = env
            env.update(frame=frame, conn=c.id, sent_t=time.monotonic(),
                       retry_attempt=frame.get("retry_attempt", 0))
            env["deliveries"] += 1
        c.write(0x1, _dumps(frame), self.fragment_size)
        return env_id

    def _send_disconnect(self, c, reason):
        frame = {"type": "disconnect", "reason": reason,
                 "debug_info": {"host": f"applink-fake-{c.id}"}}
        c.write(0x1, _dumps(frame), self.fragment_size)
        with self._cv:
            self.disconnects_sent.append((time.monotonic(), reason, c.id))
        self._log("disconnect-sent", c.id)

    def _send_hello(self, c):
        with self._cv:
            live = sum(1 for x in self._conns.values() if not x.closed)
        frame = {"type": "hello", "num_connections": live,
                 "connection_info": {"app_id": APP_ID},
                 "debug_info": {"host": f"applink-fake-{c.id}", "build_number": 1,
                                "started": time.strftime("%Y-%m-%d %H:%M:%S.000"),
                                "approximate_connection_time": self.approximate_connection_time}}
        # hello_sent flips under wlock, so no envelope can overtake the hello
        # and a reply racing in right after it is never judged "before hello".
        with c.wlock:
            if c.closed or c.close_sent_t is not None or c.hello_sent:
                return
            with self._cv:
                c.hello_sent = True
                self.connection_log.append((time.monotonic(), "hello", c.id))
                self._cv.notify_all()
            c._write_locked(0x1, _dumps(frame), self.fragment_size)

    def _mark_closed(self, c):
        with self._cv:
            if c.closed:
                return
            c.closed = True
            self.connection_log.append((time.monotonic(), "closed", c.id))
            self._cv.notify_all()

    def _claim_ticket(self, ticket):
        with self._cv:
            if ticket not in self._tickets:
                return f"unknown ticket {ticket!r}"
            if self._tickets[ticket]:
                return f"ticket {ticket} reused (mint a fresh URL for every connect)"
            self._tickets[ticket] = True
            return None

    def _websocket(self, h):
        """Handles GET /link/: RFC 6455 handshake, then the socket's life."""
        problem, status = self._handshake_problem(h)
        if problem:
            self._violation(f"websocket handshake refused: {problem}")
            self._log("refused", None)
            extra = [("Sec-WebSocket-Version", "13")] if status == 426 else []
            h._reply(status, {"ok": False, "error": problem}, extra)
            return
        h.send_response(101, "Switching Protocols")
        h.send_header("Upgrade", "websocket")
        h.send_header("Connection", "Upgrade")
        h.send_header("Sec-WebSocket-Accept", ws_accept(h.headers["Sec-WebSocket-Key"].strip()))
        h.end_headers()
        query = urllib.parse.parse_qs(urllib.parse.urlsplit(h.path).query)
        with self._cv:
            self._conn_seq += 1
            c = _Conn(self._conn_seq, h.connection, h.rfile, query["ticket"][-1])
            self._conns[c.id] = c
            too_many = sum(1 for x in self._conns.values() if not x.closed) > self.max_connections
            self.connection_log.append((c.opened_t, "opened", c.id))
            self._cv.notify_all()
        if too_many:
            self._send_disconnect(c, "too_many_websockets")
            with self._cv:
                c.close_at = time.monotonic() + 1.0
        elif self.hello_delay > 0:
            c.hello_due = time.monotonic() + self.hello_delay
        else:
            self._send_hello(c)
        self._serve_socket(c)

    def _handshake_problem(self, h):
        hd = h.headers
        query = urllib.parse.parse_qs(urllib.parse.urlsplit(h.path).query)
        if h.request_version != "HTTP/1.1":
            return "websocket upgrade needs HTTP/1.1", 400
        if hd.get("Upgrade", "").lower() != "websocket":
            return "missing 'Upgrade: websocket'", 400
        if "upgrade" not in [t.strip().lower() for t in hd.get("Connection", "").split(",")]:
            return "missing 'Connection: Upgrade'", 400
        if hd.get("Sec-WebSocket-Version", "").strip() != "13":
            return "Sec-WebSocket-Version must be 13", 426
        try:
            if len(base64.b64decode(hd.get("Sec-WebSocket-Key", "").strip(), validate=True)) != 16:
                raise ValueError
        except ValueError:
            return "Sec-WebSocket-Key is not 16 base64 bytes", 400
        if "ticket" not in query:
            return "no ticket in the URL", 401
        problem = self._claim_ticket(query["ticket"][-1])
        return (problem, 401) if problem else (None, None)

    def _serve_socket(self, c):
        try:
            self._read_loop(c)
        except WsError as e:
            self._fail_socket(c, e.code, e.reason)
        except (OSError, EOFError, ValueError):
            pass   # peer vanished (or drop() woke us): nothing to answer
        finally:
            self._finish_socket(c)

    def _read_loop(self, c):
        msg_op, parts, size = None, [], 0
        while True:
            fin, op, payload = read_frame(c.rfile, MAX_WS_MESSAGE - size)
            if op >= 0x8:
                if self._on_control(c, op, payload):
                    return
                continue
            if op != 0x0:
                if msg_op is not None:
                    raise WsError(1002, "new data frame inside a fragmented message")
                msg_op, parts, size = op, [], 0
            elif msg_op is None:
                raise WsError(1002, "continuation frame with no message to continue")
            parts.append(payload)
            size += len(payload)
            if fin:
                data, op_done = b"".join(parts), msg_op
                msg_op, parts, size = None, [], 0
                self._on_message(c, op_done, data)

    def _on_control(self, c, op, payload):
        """Ping/pong/close.  Returns True once the socket is finished."""
        if op == 0x9:
            if self.answer_pings:
                c.write(0xA, payload)
            return False
        if op == 0xA:
            c.last_pong_t = time.monotonic()
            return False
        code = None
        if len(payload) == 1:
            raise WsError(1002, "close frame with a 1-byte payload")
        if len(payload) >= 2:
            code = struct.unpack("!H", payload[:2])[0]
            if not valid_close_code(code):
                raise WsError(1002, f"invalid close code {code}")
            try:
                payload[2:].decode("utf-8")
            except UnicodeDecodeError:
                raise WsError(1007, "close reason is not UTF-8") from None
        c.send_close(code or 0)   # echo the code (no-op if we closed first)
        return True

    def _on_message(self, c, op, data):
        if c.close_sent_t is not None:
            return   # RFC 6455 5.5.1: data after our close frame is discarded
        if op == 0x2:
            raise WsError(1003, "binary frame (Socket Mode speaks JSON text)")
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError:
            raise WsError(1007, "text message is not valid UTF-8") from None
        self._on_client_text(c, text)

    def _on_client_text(self, c, text):
        if not c.hello_sent:
            self._violation(f"socket {c.id}: client wrote before hello: {text[:200]!r}")
        try:
            obj = json.loads(text)
        except ValueError:
            self._violation(f"socket {c.id}: malformed JSON frame: {text[:200]!r}")
            return
        if not isinstance(obj, dict) or not isinstance(obj.get("envelope_id"), str):
            self._violation(f"socket {c.id}: frame is not an ack: {text[:200]!r}")
            return
        self._record_ack(c, obj, time.monotonic())

    def _record_ack(self, c, frame, now):
        eid = frame["envelope_id"]
        with self._cv:
            env = self._envelopes.get(eid)
            if env is None:
                self._violation(f"socket {c.id}: ack of unknown envelope {eid}")
                return
            if env["acks"] >= env["deliveries"]:
                self._violation(f"socket {c.id}: double ack of envelope {eid}")
                return
            env["acks"] += 1
            latency = now - env["sent_t"]
            self.acks.append({"envelope_id": eid, "payload": frame.get("payload"),
                              "latency": latency, "conn": c.id,
                              "late": latency > self.ack_deadline, "t": now})
            self._ack_frames.setdefault(eid, frame)
            self._cv.notify_all()
        self._check_ack_payload(env, frame)

    def _check_ack_payload(self, env, frame):
        if "payload" not in frame:
            return
        p = frame["payload"]
        if env.get("view_id"):
            problem = self._view_ack_problem(env, p)
            if problem:
                self._violation(f"ack of view submission {env['id']}: {problem}")
            return
        if not isinstance(p, dict):
            self._violation(f"ack of {env['id']}: payload is not an object")
        elif p and not env["frame"]["accepts_response_payload"]:
            self._violation(f"ack of {env['id']} ({env['type']}) carries a payload, "
                            "but accepts_response_payload is false")
        elif p:
            problem = self._response_problem(p)
            if problem:
                self._violation(f"ack payload of {env['id']}: {problem}")

    def _fail_socket(self, c, code, reason):
        """Fails the websocket: record, send close `code`, let the client
        answer, then drop TCP (RFC 6455 7.1.7)."""
        self._violation(f"socket {c.id}: {reason} -> close {code}")
        c.send_close(code, reason)
        try:
            c.sock.settimeout(1.0)
            while c.sock.recv(65536):
                pass   # discard until the client closes (or a second passes)
        except OSError:
            pass

    def _finish_socket(self, c):
        try:
            if c.drop_mode == "rst":
                c.sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            else:
                c.sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        with c.wlock:   # no writer may be mid-sendall on a closed fd
            c.sock.close()
            self._mark_closed(c)

    # ------------------------------------------------------- housekeeping

    def _housekeeping(self):
        """One thread for every timer: hello delay, server pings, scheduled
        closes, close-handshake timeouts, event redelivery."""
        while not self._stopping.wait(TICK):
            try:
                for action in self._due_actions():
                    action()
            except Exception:   # noqa: BLE001 - a fake bug must not kill the timers
                self._violation("fake_slack internal error in housekeeping: "
                                + traceback.format_exc())

    def _due_actions(self):
        now, actions = time.monotonic(), []
        with self._cv:
            for c in self._conns.values():
                if not c.closed:
                    actions += self._conn_actions(c, now)
            if self.redeliver_after is not None:
                actions += self._redeliveries(now)
        return actions

    def _conn_actions(self, c, now):
        acts = []
        if c.close_sent_t is not None:
            if now - c.close_sent_t > CLOSE_REPLY_TIMEOUT:
                acts.append(lambda: c.wake_reader("fin"))   # client never answered
            return acts
        if c.hello_due is not None and now >= c.hello_due:
            c.hello_due = None
            acts.append(lambda: self._send_hello(c))
        interval = self.server_ping_interval
        if interval is not None and now - c.last_ping_t >= interval:
            c.last_ping_t, c.ping_seq = now, c.ping_seq + 1
            seq = str(c.ping_seq).encode()
            acts.append(lambda: c.write(0x9, seq))
        if c.close_at is not None and now >= c.close_at:
            c.close_at = None
            acts.append(lambda: c.send_close(1000, "closing"))
        return acts

    def _redeliveries(self, now):
        """Events unacked for redeliver_after seconds go out again, as Slack
        does (retry_attempt+1, retry_reason "timeout"), up to 3 times."""
        acts = []
        for env in list(self._envelopes.values()):
            if (env["type"] != "events_api" or env["acks"] or env["superseded"]
                    or env["retry_attempt"] >= MAX_RETRIES
                    or now - env["sent_t"] < self.redeliver_after):
                continue
            try:
                c = self._pick_conn(None)
            except AssertionError:
                return acts   # nobody connected: retry once someone is
            env["sent_t"] = now   # so the next tick does not schedule it twice
            acts.append(lambda env=env, c=c: self._redeliver(env, c))
        return acts

    def _redeliver(self, env, c):
        frame = copy.deepcopy(env["frame"])
        frame["retry_attempt"] = env["retry_attempt"] + 1
        frame["retry_reason"] = "timeout"
        if self.redeliver_new_envelope_id:
            with self._cv:
                env["superseded"] = True
            frame["envelope_id"] = str(uuid.uuid4())
        try:
            self._send_envelope(frame["envelope_id"], env["type"], frame["payload"], False,
                                c.id, extra={"retry_attempt": frame["retry_attempt"],
                                             "retry_reason": "timeout"})
        except AssertionError:
            pass   # the socket died between scheduling and sending

    # ----------------------------------------------------------- Web API: API

    def messages(self, channel):
        with self._cv:
            if channel not in self._channels:
                raise AssertionError(f"fake_slack: unknown channel {channel}")
            return copy.deepcopy(self._channels[channel]["messages"])

    def thread(self, channel, ts):
        return [m for m in self.messages(channel) if m["thread_ts"] == ts and m["ts"] != ts]

    def wait_messages(self, channel, n, timeout=10):
        def enough():
            top = [m for m in self.messages(channel) if not m["thread_ts"] or m["thread_ts"] == m["ts"]]
            return top if len(top) >= n else None
        return self._wait(enough, timeout, lambda: f"{n} top-level message(s) in {channel} "
                          f"(have {len(self.messages(channel))}; last calls "
                          f"{[(c['method'], c['response'].get('error')) for c in self.calls[-5:]]})")

    def wait_calls(self, method, n=1, timeout=10):
        def enough():
            found = [c for c in self.calls if c["method"] == method]
            return found if len(found) >= n else None
        return self._wait(enough, timeout, f"{n} call(s) to {method}")

    def add_message(self, channel, text, user="U1", thread_ts=None, blocks=None):
        """Stores a message as if a human posted it (for history, updates)."""
        with self._cv:
            msg = self._store_message(channel, {"text": text, "blocks": blocks,
                                                "thread_ts": thread_ts}, user)
            return msg["ts"]

    def rate_limit(self, method="chat.postMessage", per_sec=1.0, burst=1, per_channel=True,
                   retry_after=1):
        with self._cv:
            if per_sec is None:
                self._limits.pop(method, None)
            else:
                self._limits[method] = {"per_sec": per_sec, "burst": burst,
                                        "per_channel": per_channel,
                                        "retry_after": retry_after, "buckets": {}}

    def fail_next(self, method, error="internal_error", status=200, times=1, retry_after=None):
        with self._cv:
            self._failures.setdefault(method, []).extend([(error, status, retry_after)] * times)

    # Channels that refuse the bot, as real Slack does, and how a test (a
    # person) fixes them.  remove_bot/join: the bot is not a member (posts:
    # not_in_channel; reading history: not_in_channel).  archive/unarchive:
    # archived (posts: is_archived; chat.update: cant_update_message, the
    # only fit in Slack's error list for it; history still reads).
    # delete_channel/create_channel: gone (every method: channel_not_found).
    # delete_message: someone deleted a message (update: message_not_found,
    # a reply under it: thread_not_found).

    def _channel_flag(self, channel, key, value):
        with self._cv:
            if channel not in self._channels:
                raise AssertionError(f"fake_slack: unknown channel {channel}")
            self._channels[channel][key] = value

    def remove_bot(self, channel):
        self._channel_flag(channel, "left", True)

    def join(self, channel):
        self._channel_flag(channel, "left", False)

    def archive(self, channel):
        self._channel_flag(channel, "archived", True)

    def unarchive(self, channel):
        self._channel_flag(channel, "archived", False)

    def delete_channel(self, channel):
        with self._cv:
            if self._channels.pop(channel, None) is None:
                raise AssertionError(f"fake_slack: unknown channel {channel}")

    def create_channel(self, channel, name=None):
        with self._cv:
            if channel in self._channels:
                raise AssertionError(f"fake_slack: channel {channel} exists")
            self._channels[channel] = {"name": name or re.sub(r"^c_", "", channel.lower()),
                                       "messages": []}

    def delete_message(self, channel, ts):
        """As a person deleting it: a message with thread replies stays as
        Slack's tombstone ("This message was deleted.", no longer the bot's:
        chat.update says cant_update_message; replies still go under it);
        one without replies is gone (message_not_found, thread_not_found)."""
        with self._cv:
            msgs = self._channels[channel]["messages"]
            msg = next((m for m in msgs if m["ts"] == ts), None)
            if msg is None:
                raise AssertionError(f"fake_slack: no message {ts} in {channel}")
            if self._replies.get(ts):
                msg.update(text="This message was deleted.", blocks=None, metadata=None,
                           user="USLACKBOT", subtype="tombstone", pings=[])
            else:
                msgs.remove(msg)
            self._cv.notify_all()

    # -------------------------------------------------------- Web API: inside

    def _api_call(self, name, verb, headers, raw):
        """Returns (status, body, extra headers) for /api/NAME and records the call."""
        call = {"method": name, "headers": headers, "body": None, "status": None,
                "response": None, "t": time.monotonic()}
        with self._cv:
            status, resp, extra = self._api_inner(name, verb, headers, raw, call)
            call["status"], call["response"] = status, resp
            self.calls.append(call)
            if status == 429:
                self.count_429 += 1
            self._cv.notify_all()
        return status, resp, extra

    def _api_inner(self, name, verb, headers, raw, call):
        handler = getattr(self, "_m_" + name.replace(".", "_"), None)
        if name in self.spec and verb not in self.spec[name]["verbs"]:
            self._violation(f"{verb} /api/{name}: Slack's spec takes this method as "
                            f"{' or '.join(sorted(self.spec[name]['verbs']))}")
            return 405, _fail("invalid_request"), [("Allow", "POST")]
        if name not in self.spec:
            self._violation(f"call to unknown method {name!r} (not in Slack's Web API spec)")
            return 404, _fail("unknown_method", req_method=name), []
        if handler is None:
            self._violation(f"{name}: a Slack method fake_slack does not implement yet")
            return 404, _fail("unknown_method", req_method=name), []
        args, warnings, error = self._parse_args(name, headers, raw)
        call["body"] = args if error is None else raw.decode("utf-8", "replace")
        auth_error = self._check_auth(name, headers, args or {})
        if auth_error:
            return 200, _fail(auth_error), []
        if error:
            return 200, _fail(error), []
        injected = self._injected_failure(name)
        if injected:
            return injected
        limited = self._rate_limited(name, args, call["t"])
        if limited:
            return limited
        resp = handler(args)
        if resp.get("ok") and warnings:
            resp["warning"] = ",".join(warnings)
            resp.setdefault("response_metadata", {})["warnings"] = warnings
        return 200, resp, self._scope_headers(name)

    # The scopes granted to the bot token, as Slack reports them in every
    # Web API answer's x-oauth-scopes header (vigil doctor reads auth.test's).
    # A test removes one to see what a missing scope looks like.
    BOT_SCOPES = ("chat:write", "commands", "users:read", "channels:history",
                  "groups:history", "channels:read", "groups:read")

    def _scope_headers(self, name):
        if name == "apps.connections.open":
            return [("x-oauth-scopes", "connections:write")]
        scopes = getattr(self, "scopes", self.BOT_SCOPES)
        return [("x-oauth-scopes", ",".join(scopes))]

    def _parse_args(self, name, headers, raw):
        """(args, warnings, error).  Empty bodies are always fine (no args).
        The body encoding must be one the spec's `consumes` lists for `name`,
        and every argument one it declares."""
        ctype, charset = _content_type(headers)
        if not raw.strip():
            return {}, [], None
        consumes = self.spec[name]["consumes"]
        if ctype in (JSON, FORM) and ctype not in consumes:
            self._violation(f"{name}: {ctype} body, but Slack's spec says it takes only "
                            f"{', '.join(sorted(consumes))}")
            if ctype == JSON:
                # Slack reads this method's arguments from a form or the query
                # only: a JSON body arrives as no arguments at all.
                return {}, [], None
        args, warnings, error = self._decode_body(name, ctype, charset, headers, raw)
        undeclared = sorted(set(args or ()) - self.spec[name]["args"] - {"token"})
        if undeclared:
            self._violation(f"{name}: argument(s) {', '.join(undeclared)} not declared "
                            "by Slack's spec for this method")
        return args, warnings, error

    def _decode_body(self, name, ctype, charset, headers, raw):
        if ctype == JSON:
            if charset not in (None, "utf-8", "utf8"):
                self._violation(f"{name}: JSON body declared as charset {charset}")
            try:
                args = json.loads(raw.decode("utf-8"))
            except (UnicodeDecodeError, ValueError):
                self._violation(f"{name}: invalid JSON body {raw[:200]!r}")
                return None, [], "invalid_json"
            if not isinstance(args, dict):
                self._violation(f"{name}: JSON body is not an object")
                return None, [], "invalid_json"
            return args, ([] if charset else ["missing_charset"]), None
        if ctype == FORM:
            args = {k: v[-1] for k, v in urllib.parse.parse_qs(
                raw.decode("utf-8", "replace"), keep_blank_values=True).items()}
            return args, [], None
        # Slack only reads JSON and form bodies: anything else arrives as "no arguments".
        self._violation(f"{name}: unsupported Content-Type {headers.get('content-type')!r}")
        return {}, [], None

    def _check_auth(self, name, headers, args):
        if "token" in args:
            self._violation(f"{name}: token sent in the body (Authorization header only)")
        auth = headers.get("authorization")
        if auth is None:
            if "token" in args:
                return "invalid_auth"
            self._violation(f"{name}: no Authorization header")
            return "not_authed"
        scheme, _, token = auth.partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            self._violation(f"{name}: malformed Authorization header")
            return "invalid_auth"
        token = token.strip()
        wants_app = name == "apps.connections.open"
        if token in (self.app_token, self.bot_token):
            if (token == self.app_token) != wants_app:
                kind = "app-level" if token == self.app_token else "bot"
                self._violation(f"{name}: called with the {kind} token")
                return "not_allowed_token_type"
            return None
        return "invalid_auth"

    def _injected_failure(self, name):
        for key in (name, "*"):
            queue = self._failures.get(key)
            if queue:
                error, status, retry_after = queue.pop(0)
                extra = [("Retry-After", str(retry_after))] if retry_after is not None else []
                return status, _fail(error), extra
        return None

    def _rate_limited(self, name, args, now):
        limit = self._limits.get(name)
        if not limit:
            return None
        key = args.get("channel") if limit["per_channel"] else None
        bucket = limit["buckets"].setdefault(key, _Bucket(limit["per_sec"], limit["burst"]))
        wait = max(1, int(-(-limit["retry_after"] // 1)))   # whole seconds, rounded up
        if bucket.last_429 is not None and self.strict_retry_after:
            since = now - bucket.last_429
            # Requests already in flight when the 429 went out get 0.25 s grace.
            if 0.25 < since < wait - 0.05:
                self._violation(f"{name}{' ' + str(key) if key else ''}: called again "
                                f"{since:.2f}s after a 429 with Retry-After: {wait}")
        if bucket.take(now):
            return None
        bucket.last_429 = now
        return 429, _fail("ratelimited"), [("Retry-After", str(wait))]

    # Method handlers run with the lock held and return the response body.

    # -- files (issue 17 §7): strict like Slack: an upload URL takes one POST
    # of exactly the length asked for, and only an uploaded file can be shared,
    # once, in a channel that exists.

    def _m_files_getUploadURLExternal(self, args):
        name, length = args.get("filename"), str(args.get("length", ""))
        if not name:
            return _fail("invalid_arguments")
        if not length.isdigit() or int(length) < 1:
            return _fail("invalid_arguments")
        fid = f"F{self._next():09d}"
        token = uuid.uuid4().hex
        self._uploads = getattr(self, "_uploads", {})
        self._uploads[token] = {"id": fid, "filename": name, "length": int(length),
                                "data": None, "shared": None}
        self.files = getattr(self, "files", {})
        return {"ok": True, "upload_url": f"{self.base_url}upload/{token}", "file_id": fid}

    def _upload(self, token, body):
        with self._cv:
            up = getattr(self, "_uploads", {}).get(token)
            if up is None or up["data"] is not None:
                self._violation(f"upload to {'a used' if up else 'an unknown'} upload URL")
                return 404, "Not Found"
            if len(body) != up["length"]:
                self._violation(f"upload of {len(body)} bytes to a URL asked for "
                                f"{up['length']}")
                return 400, "length mismatch"
            up["data"] = body
            self._cv.notify_all()
        return 200, f"OK - {len(body)}"

    def _m_files_completeUploadExternal(self, args):
        files = args.get("files")
        if isinstance(files, str):
            try:
                files = json.loads(files)
            except ValueError:
                return _fail("invalid_arguments")
        if not isinstance(files, list) or not files:
            return _fail("invalid_arguments")
        channel = args.get("channel_id")
        if channel and channel not in self._channels:
            return _fail("channel_not_found")
        done = []
        for f in files:
            up = next((u for u in getattr(self, "_uploads", {}).values()
                       if u["id"] == (f or {}).get("id")), None)
            if up is None or up["data"] is None:
                return _fail("file_not_found")
            if up["shared"] is not None:
                self._violation(f"{up['id']} completed twice")
                return _fail("file_not_found")
            up["shared"] = {"channel": channel, "title": f.get("title") or up["filename"]}
            self.files[up["id"]] = dict(up)
            done.append({"id": up["id"], "title": up["shared"]["title"]})
        return {"ok": True, "files": done}

    def _m_auth_test(self, args):
        return {"ok": True, "url": self.base_url, "team": TEAM_NAME, "user": BOT_NAME,
                "team_id": TEAM_ID, "user_id": BOT_USER_ID, "bot_id": BOT_ID,
                "is_enterprise_install": False}

    def _m_apps_connections_open(self, args):
        ticket = f"{self._next()}-{uuid.uuid4().hex[:8]}"
        self._tickets[ticket] = False
        base = self.link_base or f"ws://127.0.0.1:{self.port}"
        return {"ok": True, "url": f"{base}/link/?ticket={ticket}&app_id={APP_ID}"}

    def _m_chat_postMessage(self, args):
        ch, problem = self._message_problem(args, need_content=True)
        if problem:
            return problem
        if ch.get("archived"):
            return _fail("is_archived")
        if ch.get("left"):
            return _fail("not_in_channel")
        thread_ts = args.get("thread_ts") or None
        if thread_ts is not None and not self._is_top_level(ch, str(thread_ts)):
            return _fail("thread_not_found")
        metadata = None
        if args.get("metadata") not in (None, ""):
            metadata, bad = self._parse_metadata(args["metadata"])
            if bad:
                return _fail(bad)
        fields = {k: args.get(k) for k in ("text", "parse", "link_names", "mrkdwn",
                                             "unfurl_links", "unfurl_media", "reply_broadcast")}
        fields.update(blocks=self._blocks(args), thread_ts=str(thread_ts) if thread_ts else None,
                      metadata=metadata)
        msg = self._store_message(args["channel"], fields, BOT_USER_ID)
        return {"ok": True, "channel": args["channel"], "ts": msg["ts"],
                "message": self._public(msg, True)}

    def _m_chat_update(self, args):
        ch, problem = self._message_problem(args, need_content=True)
        if problem:
            return problem
        if ch.get("archived"):
            return _fail("cant_update_message")
        msg = next((m for m in ch["messages"] if m["ts"] == str(args.get("ts"))), None)
        if msg is None:
            return _fail("message_not_found")
        if msg["user"] != BOT_USER_ID:
            return _fail("cant_update_message")
        changes = {}
        if args.get("metadata") not in (None, ""):
            changes["metadata"], bad = self._parse_metadata(args["metadata"])
            if bad:
                return _fail(bad)
        if "text" in args:
            changes["text"] = args["text"]
        if "blocks" in args:   # absent keeps the old blocks; [] removes them
            changes["blocks"] = self._blocks(args) or None
        self._edit(msg, changes)
        return {"ok": True, "channel": args["channel"], "ts": msg["ts"], "text": msg["text"],
                "message": self._public(msg, True)}

    def _m_chat_postEphemeral(self, args):
        ch, problem = self._message_problem(args, need_content=True)
        if problem:
            return problem
        if ch.get("archived"):
            return _fail("is_archived")
        if ch.get("left"):
            return _fail("not_in_channel")
        if args.get("user") not in self.users:
            return _fail("user_not_found")
        ts = self._new_ts()
        self.ephemerals.append({"channel": args["channel"], "user": args["user"], "ts": ts,
                                "text": args.get("text"), "blocks": self._blocks(args),
                                "thread_ts": args.get("thread_ts"), "via": "chat.postEphemeral"})
        return {"ok": True, "message_ts": ts}

    def _m_conversations_history(self, args):
        ch = self._channels.get(args.get("channel"))
        if ch is None:
            return _fail("channel_not_found")
        if ch.get("left"):
            return _fail("not_in_channel")
        try:
            limit = min(max(int(args.get("limit") or 100), 1), 999)
        except (TypeError, ValueError):
            return _fail("invalid_arguments")
        try:
            oldest = _ts_key(args.get("oldest") or 0)
        except ValueError:
            return _fail("invalid_ts_oldest")
        try:
            latest = _ts_key(args["latest"]) if args.get("latest") else None
        except ValueError:
            return _fail("invalid_ts_latest")
        inclusive = _truthy(args.get("inclusive"))
        visible = [m for m in reversed(ch["messages"])
                   if (not m["thread_ts"] or m["thread_ts"] == m["ts"] or _truthy(m["reply_broadcast"]))
                   and self._in_range(m["ts"], oldest, latest, inclusive)]
        if args.get("cursor"):
            start = self._cursor_ts(args["cursor"])
            if start is None:
                return _fail("invalid_cursor")
            visible = [m for m in visible if _ts_key(m["ts"]) <= start]
        page, rest = visible[:limit], visible[limit:]
        meta = _truthy(args.get("include_all_metadata"))
        resp = {"ok": True, "messages": [self._public(m, meta) for m in page],
                "has_more": bool(rest), "pin_count": 0}
        if rest:
            cursor = base64.b64encode(f"next_ts:{rest[0]['ts'].replace('.', '')}".encode())
            resp["response_metadata"] = {"next_cursor": cursor.decode()}
        return resp

    def _m_conversations_replies(self, args):
        """A thread, oldest first: the parent, then its replies from `oldest`."""
        ch = self._channels.get(args.get("channel"))
        if ch is None:
            return _fail("channel_not_found")
        if ch.get("left"):
            return _fail("not_in_channel")
        parent = next((m for m in ch["messages"] if m["ts"] == args.get("ts")), None)
        if parent is None:
            return _fail("thread_not_found")
        try:
            limit = min(max(int(args.get("limit") or 100), 1), 999)
            oldest = _ts_key(args.get("oldest") or 0)
        except ValueError:
            return _fail("invalid_arguments")
        thread = [parent] + [m for m in ch["messages"] if m["thread_ts"] == parent["ts"]
                             and m["ts"] != parent["ts"]
                             and self._in_range(m["ts"], oldest, None, False)]
        meta = _truthy(args.get("include_all_metadata"))
        return {"ok": True, "messages": [self._public(m, meta) for m in thread[:limit]],
                "has_more": len(thread) > limit}

    def _m_users_info(self, args):
        user = self._user_object(args.get("user"))
        return {"ok": True, "user": user} if user else _fail("user_not_found")

    def _m_users_list(self, args):
        """The bot user, then `users`.  No limit (or 0) means all of them, as
        at Slack; cursors are Slack-shaped: base64 of "user:ID" (next to list)."""
        ids = [BOT_USER_ID] + [uid for uid in self.users if uid != BOT_USER_ID]
        try:
            limit = int(args.get("limit") or 0)
        except (TypeError, ValueError):
            return _fail("invalid_arguments")
        if limit < 0:
            return _fail("invalid_arguments")
        start = 0
        if args.get("cursor"):
            try:
                if not isinstance(args["cursor"], str):
                    raise ValueError
                kind, _, uid = base64.b64decode(args["cursor"], validate=True).decode().partition(":")
            except ValueError:
                return _fail("invalid_cursor")
            if kind != "user" or uid not in ids:
                return _fail("invalid_cursor")
            start = ids.index(uid)
        page = ids[start:start + limit] if limit else ids[start:]
        rest = ids[start + len(page):]
        cursor = base64.b64encode(f"user:{rest[0]}".encode()).decode() if rest else ""
        return {"ok": True, "members": [self._user_object(uid) for uid in page],
                "cache_ts": int(time.time()), "response_metadata": {"next_cursor": cursor}}

    def _m_conversations_info(self, args):
        cid = args.get("channel")
        ch = self._channels.get(cid)
        if ch is None:
            return _fail("channel_not_found")
        # A public channel (the bot may have left it: is_member); the is_*
        # flags are what clients branch on.
        return {"ok": True, "channel": {
            "id": cid, "name": ch["name"], "name_normalized": ch["name"],
            "is_channel": True, "is_group": False, "is_im": False, "is_mpim": False,
            "is_private": False, "is_archived": bool(ch.get("archived")), "is_general": False,
            "is_shared": False, "is_member": not ch.get("left"), "created": 1700000000,
            "context_team_id": TEAM_ID,
            "topic": {"value": "", "creator": "", "last_set": 0},
            "purpose": {"value": "", "creator": "", "last_set": 0}}}

    def _user_object(self, uid):
        """A user as users.info / users.list show it, or None if unknown."""
        if not isinstance(uid, str):
            return None
        if uid == BOT_USER_ID:
            u = {"name": BOT_NAME, "real_name": "vigil", "is_bot": True}
        elif uid in self.users:
            u = self.users[uid]
        else:
            return None
        display = u.get("display_name", u.get("name", ""))
        real = u.get("real_name", "")
        return {"id": uid, "team_id": TEAM_ID, "name": u.get("name", uid.lower()),
                "real_name": real, "deleted": False, "is_bot": u.get("is_bot", False),
                "tz": u.get("tz", "Europe/Copenhagen"),
                "profile": {"display_name": display, "real_name": real,
                            "display_name_normalized": display, "real_name_normalized": real}}

    # Message helpers (lock held)

    def _message_problem(self, args, need_content):
        """(channel, None) or (None, error body) for the checks every chat.* shares."""
        ch = self._channels.get(args.get("channel"))
        if ch is None:
            return None, _fail("channel_not_found")
        text = args.get("text")
        if text is not None and not isinstance(text, str):
            return None, _fail("invalid_arguments",
                               response_metadata={"messages": ["[ERROR] text must be a string"]})
        try:
            blocks = _json_arg(args["blocks"]) if args.get("blocks") not in (None, "") else None
        except ValueError:
            return None, _fail("invalid_blocks_format")
        if blocks is not None and not isinstance(blocks, list):
            return None, _fail("invalid_blocks_format")
        if need_content and not text and not blocks:
            return None, _fail("no_text")
        if text and len(text) > MAX_TEXT:
            return None, _fail("msg_too_long")
        errs = validate_blocks(blocks or [])
        if errs:
            return None, _fail("invalid_blocks", response_metadata={"messages": errs})
        return ch, None

    @staticmethod
    def _blocks(args):
        b = args.get("blocks")
        return _json_arg(b) if b not in (None, "") else None

    @staticmethod
    def _parse_metadata(raw):
        try:
            md = _json_arg(raw)
        except ValueError:
            return None, "invalid_metadata_format"
        if (not isinstance(md, dict) or not isinstance(md.get("event_type"), str)
                or not isinstance(md.get("event_payload"), dict)):
            return None, "invalid_metadata_format"
        return md, None

    def _is_top_level(self, ch, ts):
        return any(m["ts"] == ts and (not m["thread_ts"] or m["thread_ts"] == ts)
                   for m in ch["messages"])

    def _store_message(self, channel, fields, user):
        msg = {"ts": self._new_ts(), "text": fields.get("text"), "blocks": fields.get("blocks"),
               "metadata": fields.get("metadata"), "thread_ts": fields.get("thread_ts"),
               "user": user, "edits": 0}
        for k in ("parse", "link_names", "mrkdwn", "unfurl_links", "unfurl_media",
                  "reply_broadcast"):
            msg[k] = fields.get(k)
        msg["pings"] = self._pings(msg)
        self._channels[channel]["messages"].append(msg)
        if msg["thread_ts"] and msg["thread_ts"] != msg["ts"]:
            self._replies.setdefault(msg["thread_ts"], []).append(msg["ts"])
        self._cv.notify_all()
        return msg

    def _edit(self, msg, changes):
        msg.update(changes)
        msg["edits"] += 1
        msg["edited_ts"] = self._new_ts()
        msg["pings"] = self._pings(msg)
        self._cv.notify_all()

    def _pings(self, msg):
        return message_pings(msg["text"], msg["blocks"], msg["link_names"], msg["parse"],
                             self._users_by_name())

    def _public(self, m, with_metadata):
        """A stored message as Slack's API shows it."""
        out = {"type": "message", "user": m["user"], "text": m["text"] or "", "ts": m["ts"],
               "team": TEAM_ID}
        if m["user"] == BOT_USER_ID:
            out.update(bot_id=BOT_ID, app_id=APP_ID)
        if m["blocks"]:
            out["blocks"] = copy.deepcopy(m["blocks"])
        if m["thread_ts"]:
            out["thread_ts"] = m["thread_ts"]
        replies = self._replies.get(m["ts"])
        if replies and not m["thread_ts"]:
            out.update(thread_ts=m["ts"], reply_count=len(replies), latest_reply=replies[-1])
        if m["edits"]:
            out["edited"] = {"user": m["user"], "ts": m["edited_ts"]}
        if with_metadata and m["metadata"]:
            out["metadata"] = copy.deepcopy(m["metadata"])
        return out

    @staticmethod
    def _in_range(ts, oldest, latest, inclusive):
        k = _ts_key(ts)
        if inclusive:
            return k >= oldest and (latest is None or k <= latest)
        return k > oldest and (latest is None or k < latest)

    @staticmethod
    def _cursor_ts(cursor):
        try:
            raw = base64.b64decode(cursor, validate=True).decode()
        except ValueError:
            return None
        m = re.fullmatch(r"next_ts:(\d{7,})", raw)
        return int(m.group(1)) if m else None

    # ------------------------------------------------- views (issue 19): Web API

    def _take_trigger(self, tid):
        t = self._triggers.get(tid) if isinstance(tid, str) else None
        if t is None:
            self._violation(f"views.open with an unknown trigger_id {tid!r}")
            return "invalid_trigger_id"
        if t["used"]:
            self._violation(f"views.open with a trigger_id used before: {tid}")
            return "exchanged_trigger_id"
        if time.monotonic() - t["t"] > self.trigger_ttl:
            self._violation(f"views.open {time.monotonic() - t['t']:.1f}s after the interaction "
                            "(trigger_id expired after 3 s)")
            return "expired_trigger_id"
        t["used"] = True
        return None

    def _view_arg(self, name, args, kind):
        try:
            view = _json_arg(args.get("view"))
        except ValueError:
            return None, _fail("invalid_arguments")
        errs = validate_view(view, kind)
        if errs:
            self._violation(f"{name}: invalid view: {'; '.join(errs)}")
            return None, _fail("invalid_arguments", response_metadata={"messages": errs})
        return view, None

    def _new_view(self, view, user, previous=None):
        vid = previous["id"] if previous else f"V{self._next():08d}"
        rec = {"id": vid, "view": view, "user": user, "input": {}, "closed": False,
               "errors": None, "hash": f"{int(time.time())}.{uuid.uuid4().hex[:8]}",
               "updates": (previous["updates"] + 1) if previous else 0}
        if previous:   # Slack keeps what was typed in blocks that kept their ids
            keep = {b.get("block_id") for b in view.get("blocks", []) if b.get("type") == "input"}
            rec["input"] = {k: v for k, v in previous["input"].items() if k in keep}
        self.views[vid] = rec
        return rec

    @staticmethod
    def _initial_state(e):
        t = e.get("type")
        if t == "plain_text_input":
            return {"type": t, "value": e.get("initial_value")}
        if t == "checkboxes":
            return {"type": t, "selected_options": e.get("initial_options", [])}
        return {"type": t, "selected_option": e.get("initial_option")}

    def _public_view(self, rec):
        values = {}
        for b in rec["view"].get("blocks", []):
            if b.get("type") == "input" and b.get("block_id"):
                e = b["element"]
                values[b["block_id"]] = {e.get("action_id", "a"): rec["input"].get(
                    b["block_id"], self._initial_state(e))}
        return dict(rec["view"], id=rec["id"], team_id=TEAM_ID, app_id=APP_ID, bot_id=BOT_ID,
                    hash=rec["hash"], state={"values": values}, root_view_id=rec["id"],
                    previous_view_id=None, private_metadata=rec["view"].get("private_metadata", ""),
                    callback_id=rec["view"].get("callback_id", ""))

    def _m_views_open(self, args):
        problem = self._take_trigger(args.get("trigger_id"))
        if problem:
            return _fail(problem)
        view, bad = self._view_arg("views.open", args, "modal")
        if bad:
            return bad
        rec = self._new_view(view, user=self._triggers[args["trigger_id"]].get("user"))
        return {"ok": True, "view": self._public_view(rec)}

    def _m_views_update(self, args):
        rec = self.views.get(args.get("view_id"))
        if rec is None or rec["closed"]:
            return _fail("not_found")
        if args.get("hash") and args["hash"] != rec["hash"]:
            return _fail("hash_conflict")
        view, bad = self._view_arg("views.update", args, "modal")
        if bad:
            return bad
        rec = self._new_view(view, rec["user"], previous=rec)
        return {"ok": True, "view": self._public_view(rec)}

    def _m_views_publish(self, args):
        user = args.get("user_id")
        if user not in self.users:
            return _fail("user_not_found")
        view, bad = self._view_arg("views.publish", args, "home")
        if bad:
            return bad
        old = self.views.get(self.homes.get(user))
        if args.get("hash") and old and args["hash"] != old["hash"]:
            return _fail("hash_conflict")
        rec = self._new_view(view, user, previous=old)
        self.homes[user] = rec["id"]
        return {"ok": True, "view": self._public_view(rec)}

    def _view_ack_problem(self, env, p):
        if not isinstance(p, dict):
            return "payload is not an object"
        action = p.get("response_action")
        if action is None:
            return None if not p else f"unexpected keys {sorted(p)}"
        if action not in ("errors", "update", "push", "clear"):
            return f"response_action {action!r}"
        if action != "errors":
            return None
        errors = p.get("errors")
        rec = self.views.get(env["view_id"])
        inputs = {b.get("block_id") for b in rec["view"].get("blocks", [])
                  if b.get("type") == "input"}
        if not isinstance(errors, dict) or not errors:
            return "errors must be a non-empty object"
        for k, v in errors.items():
            if k not in inputs:
                return f"error for {k!r}, which is no input block of the view"
            if not isinstance(v, str) or not v:
                return f"error text for {k!r} must be a non-empty string"
        return None

    # ---------------------------------------- views (issue 19): a person's hands

    def wait_view(self, user="U1", updates=0, timeout=5):
        """The id of `user`'s newest open modal, once it has had `updates` updates."""
        def ready():
            for rec in reversed(list(self.views.values())):
                if rec["user"] == user and rec["view"]["type"] == "modal" and not rec["closed"]:
                    return rec["id"] if rec["updates"] >= updates else None
            return None
        return self._wait(ready, timeout, f"an open modal for {user} ({updates} updates)")

    def view(self, vid):
        with self._cv:
            return json.loads(json.dumps(self._public_view(self.views[vid])))

    def view_block(self, vid, prefix):
        """The block of view `vid` whose block_id starts with `prefix` ("f_text.")."""
        with self._cv:
            for b in self.views[vid]["view"].get("blocks", []):
                if str(b.get("block_id", "")).startswith(prefix):
                    return json.loads(json.dumps(b))
        raise AssertionError(f"fake_slack: view {vid} has no block {prefix}*")

    def _view_input(self, vid, field, state, dispatch_on, user):
        """Sets what `user` entered in the input block of `field`; sends the
        block_actions Slack would (dispatch_action) and returns its envelope id."""
        b = self.view_block(vid, f"f_{field}.")
        e = b["element"]
        with self._cv:
            rec = self.views[vid]
            rec["input"][b["block_id"]] = dict(state, type=e["type"])
        if not b.get("dispatch_action"):
            return None
        triggers = (e.get("dispatch_action_config") or {}).get("trigger_actions_on",
                                                                ["on_enter_pressed"])
        if dispatch_on and dispatch_on not in triggers:
            return None
        action = dict(state, type=e["type"], block_id=b["block_id"],
                      action_id=e.get("action_id", "a"),
                      action_ts=_fmt_ts(int(time.time() * 1_000_000)))
        return self._send_view_envelope(vid, "block_actions", user, actions=[action],
                                        container={"type": "view", "view_id": vid})

    def type_in(self, vid, field, text, user="U1"):
        return self._view_input(vid, field, {"value": text}, "on_character_entered", user)

    def pick(self, vid, field, value, user="U1"):
        b = self.view_block(vid, f"f_{field}.")
        opt = next((o for o in b["element"].get("options", []) if o["value"] == value), None)
        assert opt is not None, f"fake_slack: no option {value!r} in {field}"
        return self._view_input(vid, field, {"selected_option": opt}, None, user)

    def tick(self, vid, field, on=True, user="U1"):
        b = self.view_block(vid, f"f_{field}.")
        opts = b["element"]["options"] if on else []
        return self._view_input(vid, field, {"selected_options": opts}, None, user)

    def _send_view_envelope(self, vid, kind, user, **extra):
        env_id = str(uuid.uuid4())
        name = self._user_name(user)
        payload = {"type": kind, "team": {"id": TEAM_ID, "domain": TEAM_DOMAIN},
                   "user": {"id": user, "username": name, "name": name, "team_id": TEAM_ID},
                   "api_app_id": APP_ID, "token": VERIFICATION_TOKEN,
                   "trigger_id": self._trigger_id(), "view": self.view(vid),
                   "is_enterprise_install": False, "enterprise": None}
        payload.update(extra)
        env_id = self._send_envelope(env_id, "interactive", payload, kind == "view_submission",
                                     None, user=user, view_id=vid if kind == "view_submission"
                                     else None)
        return env_id

    def submit(self, vid, user="U1", timeout=5):
        """Presses the modal's submit button; returns the ack's payload (None:
        the modal closed; {"response_action": "errors", ...}: it stays open)."""
        env = self._send_view_envelope(vid, "view_submission", user, response_urls=[])
        frame = self.wait_ack(env, timeout)
        p = frame.get("payload") or None
        with self._cv:
            rec = self.views[vid]
            if p and p.get("response_action") == "errors":
                rec["errors"] = p["errors"]
            else:
                rec["closed"] = True
        return p

    # ---------------------- threads and shortcuts (issue 19): a person's hands

    def post_in_thread(self, channel, thread_ts, text, user="U1", raw=False, event_id=None):
        """`user` writes `text` under `thread_ts`: the message is stored and
        the `message` event (message.channels) is sent, text escaped as
        Slack escapes it (raw=True: as given).  Returns (envelope id, ts)."""
        ts = self.add_message(channel, text, user=user, thread_ts=thread_ts)
        event = {"type": "message", "channel": channel, "user": user, "ts": ts,
                 "thread_ts": thread_ts, "event_ts": ts, "channel_type": "channel",
                 "text": text if raw else self.escape_command_text(text),
                 "team": TEAM_ID, "client_msg_id": str(uuid.uuid4())}
        return self.send_event(event, event_id=event_id), ts

    def open_home(self, user="U1"):
        """`user` opens the app's Home tab: the app_home_opened event."""
        return self.send_event({"type": "app_home_opened", "user": user, "channel": "D" + user,
                                "tab": "home", "event_ts": _fmt_ts(int(time.time() * 1e6))})

    def wait_home(self, user="U1", updates=0, timeout=5):
        """The id of `user`'s published Home, once it has had `updates` republishes."""
        return self._wait(lambda: self.homes.get(user) if user in self.homes and
                          self.views[self.homes[user]]["updates"] >= updates else None,
                          timeout, f"{user}'s App Home ({updates} updates)")

    def press_in_view(self, vid, action_id, value, user="U1"):
        """A button in view `vid` (the App Home's rows): block_actions from the view."""
        with self._cv:
            blocks = self.views[vid]["view"].get("blocks", [])
        button = next((dict(e, block_id=b.get("block_id", "b")) for b in blocks
                       for e in b.get("elements", []) if isinstance(e, dict)
                       and e.get("action_id") == action_id and e.get("value") == value), None)
        assert button is not None, f"fake_slack: no button {action_id}={value} in view {vid}"
        action = {"type": "button", "action_id": action_id, "block_id": button["block_id"],
                  "value": value, "text": button["text"],
                  "action_ts": _fmt_ts(int(time.time() * 1_000_000))}
        return self._send_view_envelope(vid, "block_actions", user, actions=[action],
                                        container={"type": "view", "view_id": vid})

    def send_message_shortcut(self, callback_id, message_ts, channel="C_MENTIONS", user="U1"):
        """A message shortcut (manifest `shortcuts`, type message) on `message_ts`."""
        msg = self._action_message(channel, message_ts)
        env_id = str(uuid.uuid4())
        name = self._user_name(user)
        payload = {"type": "message_action", "callback_id": callback_id,
                   "team": {"id": TEAM_ID, "domain": TEAM_DOMAIN},
                   "user": {"id": user, "username": name, "name": name, "team_id": TEAM_ID},
                   "channel": {"id": channel, "name": self._channel_name(channel)},
                   "message": msg, "message_ts": msg["ts"], "token": VERIFICATION_TOKEN,
                   "action_ts": _fmt_ts(int(time.time() * 1_000_000)),
                   "trigger_id": self._trigger_id(), "api_app_id": APP_ID,
                   "response_url": self._response_url_for(env_id), "is_enterprise_install": False}
        return self._send_envelope(env_id, "interactive", payload, False, None, user=user,
                                   channel=channel)

    # ---------------------------------------------------------- response_url

    def _response_url(self, env_id, headers, raw):
        """POST to a response_url from a slash/action payload (JSON, 5 uses)."""
        entry = {"envelope_id": env_id, "body": None, "status": 200, "t": time.monotonic()}
        status, resp = self._response_inner(env_id, headers, raw, entry)
        entry["status"] = status
        with self._cv:
            self.responses.append(entry)
            self._cv.notify_all()
        return status, resp, []

    def _response_inner(self, env_id, headers, raw, entry):
        with self._cv:
            env = self._envelopes.get(env_id)
            if env is None or env["type"] not in ("slash_commands", "interactive"):
                self._violation(f"POST to unknown response_url {env_id}")
                return 404, _fail("expired_url")
            env["response_uses"] += 1
            if env["response_uses"] > RESPONSE_URL_USES:
                self._violation(f"response_url of {env_id} used more than {RESPONSE_URL_USES} times")
                return 404, _fail("used_url")
        if _content_type(headers)[0] != "application/json":
            self._violation(f"response_url {env_id}: Content-Type must be application/json")
            return 400, _fail("invalid_payload")
        try:
            body = json.loads(raw.decode("utf-8"))
        except (UnicodeDecodeError, ValueError):
            self._violation(f"response_url {env_id}: invalid JSON")
            return 400, _fail("invalid_payload")
        entry["body"] = body
        problem = self._response_problem(body) if isinstance(body, dict) else "not an object"
        if problem:
            self._violation(f"response_url {env_id}: {problem}")
            return 400, _fail("invalid_payload")
        with self._cv:
            self._apply_response(env, body)
        return 200, {"ok": True}

    @staticmethod
    def _response_problem(body):
        if body.get("response_type") not in (None, "ephemeral", "in_channel"):
            return f"response_type {body.get('response_type')!r}"
        blocks = body.get("blocks")
        if blocks is not None:
            if not isinstance(blocks, list):
                return "blocks is not an array"
            errs = validate_blocks(blocks)
            if errs:
                return "invalid blocks: " + "; ".join(errs)
        if not (body.get("text") or blocks or _truthy(body.get("delete_original"))):
            return "no text or blocks"
        if isinstance(body.get("text"), str) and len(body["text"]) > MAX_TEXT:
            return "text too long"
        return None

    def _apply_response(self, env, body):
        """What Slack does with a response: edit/delete the clicked message,
        post in channel, or show it to the user alone (lock held)."""
        channel = env.get("channel")
        original = None
        if env.get("message_ts") and channel in self._channels:
            original = next((m for m in self._channels[channel]["messages"]
                             if m["ts"] == env["message_ts"]), None)
        if _truthy(body.get("delete_original")):
            if original is not None:
                self._channels[channel]["messages"].remove(original)
        elif _truthy(body.get("replace_original")) and original is not None:
            self._edit(original, {"text": body.get("text", original["text"]),
                                  "blocks": body.get("blocks", original["blocks"])})
        elif body.get("response_type") == "in_channel" and channel in self._channels:
            self._store_message(channel, {"text": body.get("text"), "blocks": body.get("blocks"),
                                          "thread_ts": body.get("thread_ts")}, BOT_USER_ID)
        else:
            self.ephemerals.append({"channel": channel, "user": env.get("user"),
                                    "ts": self._new_ts(), "text": body.get("text"),
                                    "blocks": body.get("blocks"),
                                    "thread_ts": body.get("thread_ts"), "via": "response_url"})
        self._cv.notify_all()


# --------------------------------------------------------------------------

def main(argv=None):
    ap = argparse.ArgumentParser(description="Fake Slack (Socket Mode + Web API) on 127.0.0.1")
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--app-token", default="xapp-1-test")
    ap.add_argument("--bot-token", default="xoxb-test")
    ap.add_argument("--channels", default="C_MENTIONS,C_ESCALATE")
    ap.add_argument("--verbose", action="store_true")
    args = ap.parse_args(argv)
    fs = FakeSlack(app_token=args.app_token, bot_token=args.bot_token,
                   channels=tuple(c for c in args.channels.split(",") if c),
                   users={"U1": {"name": "alice", "real_name": "Alice Jensen"}},
                   port=args.port, verbose=args.verbose)
    done = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: done.set())
    signal.signal(signal.SIGINT, lambda *_: done.set())
    fs.start()
    print(f"READY {fs.api_url}", flush=True)
    while not done.wait(0.5):
        pass
    fs.stop()
    for e in fs.errors:
        print(f"fake_slack: violation: {e}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
