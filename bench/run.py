#!/usr/bin/env python3
"""bench/run.py — `make bench`: vigil beside Hubot on the same fake Slack,
and vigil against the limits of its own machine.

Every scenario runs each bot BENCH_RUNS times, alternated (vigil, Hubot,
vigil, Hubot ...) so a noisy neighbour hurts both alike; we report the
median, the spread (min..max and (max-min)/median) and the ratio of the
medians.  Absolute times are noisy on shared machines; ratios measured in
one run are what we quote.  Results go to bench/results/latest.json;
bench/report.py turns them into BENCHMARKS.md and the latency chart.

This is a benchmark, not a test: nothing here fails for being slow.  It
fails only when a bot misbehaves (a lost or doubled answer, a protocol
violation the fake saw, a 429 the outbox provoked)."""
import argparse
import base64
import json
import math
import os
import platform
import re
import shutil
import signal
import socket
import sqlite3
import statistics
import struct
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
import urllib.request

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "tests", "fakes"))
from fake_slack import FakeSlack  # noqa: E402
from fake_x import FakeX  # noqa: E402
sys.path.insert(0, os.path.join(ROOT, "tests", "e2e"))
from harness import Raw, write_config  # noqa: E402

APP, BOT = "xapp-1-bench", "xoxb-bench"
NUSERS = 50                      # staff who send commands, in rotation
USERS = {f"U{100 + i}": {"name": f"agent{i}", "real_name": f"Agent {i}"} for i in range(NUSERS)}
UIDS = list(USERS)
PROBE = "U099"                   # sends only the startup probes (its answers stay apart)
USERS[PROBE] = {"name": "prober", "real_name": "Startup Probe"}
ANSWER_UID = re.compile(r"\((U\d+)\)")
DEADLINE = 3.0                   # Slack's ack deadline: an answer later than this failed
RAMP = (500, 1000, 2000, 3000, 5000, 7500, 10000, 15000)   # commands/s, 2 s each


def log(*a):
    print(*a, file=sys.stderr, flush=True)


def rss_kb(pid, anon=False):
    """VmRSS and VmHWM of `pid`, in KiB (and RssAnon, the process's own
    memory without the shared libraries' pages, when `anon`)."""
    out = {}
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            k, _, v = line.partition(":")
            if k in ("VmRSS", "VmHWM", "RssAnon"):
                out[k] = int(v.split()[0])
    if anon:
        return out["VmRSS"], out["VmHWM"], out["RssAnon"]
    return out["VmRSS"], out["VmHWM"]


def summary(samples):
    """Median and spread of a list of numbers (None when empty)."""
    xs = [x for x in samples if x is not None]
    if not xs:
        return None
    med = statistics.median(xs)
    return {"median": med, "min": min(xs), "max": max(xs), "n": len(xs),
            "spread": (max(xs) - min(xs)) / med if med else 0.0, "samples": xs}


def pct(xs, p):
    """The p-th percentile (nearest rank) of xs."""
    xs = sorted(xs)
    if not xs:
        return None
    k = math.ceil(p / 100.0 * len(xs)) - 1   # nearest rank
    return xs[max(0, min(len(xs) - 1, k))]


# --------------------------------------------------------------------- bots

class Vigil:
    name = "vigil"

    def __init__(self, build, tmp, fs, replay=None, slack=None, scripts=None):
        self.tmp = tmp
        self.db = os.path.join(tmp, "vigil.db")
        empty = os.path.join(tmp, "none.jsonl")
        open(empty, "a").close()
        staff = {u: {"name": f"Agent {i}", "initials": f"A{i}", "role": "agent"}
                 for i, u in enumerate(UIDS)}
        cfg = write_config(
            tmp, chat="slack", log_level="warn", staff=staff,
            scripts={"dir": scripts or os.path.join(ROOT, "scripts"),
                     "lib": os.path.join(ROOT, "lua")},
            replay={"file": replay or empty, "interval": 0.01},
            channels={"mentions": "C_MENTIONS", "escalations": "C_ESCALATE"},
            slack=dict({"app_token": Raw('env("SLACK_APP_TOKEN")'),
                        "bot_token": Raw('env("SLACK_BOT_TOKEN")'), "api_url": fs.api_url,
                        "post_rate": 50, "digest_threshold": 20}, **(slack or {})))
        self.log = open(os.path.join(tmp, "vigil.log"), "ab")
        self.t0 = time.monotonic()
        self.proc = subprocess.Popen(
            [os.path.join(build, "vigil"), "run", "-c", cfg], cwd=ROOT,
            stdin=subprocess.DEVNULL, stdout=self.log, stderr=self.log,
            env=dict(os.environ, SLACK_APP_TOKEN=APP, SLACK_BOT_TOKEN=BOT,
                     NO_PROXY="127.0.0.1"))

    @staticmethod
    def fake(**kw):
        return FakeSlack(app_token=APP, bot_token=BOT, channels=("C_MENTIONS", "C_ESCALATE"),
                         users=USERS, **kw).start()

    def stop(self):
        self.proc.send_signal(signal.SIGTERM)
        try:
            rc = self.proc.wait(15)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            rc = self.proc.wait()
        self.log.close()
        return rc


class Hubot:
    """Hubot 14 with @hubot-friends/hubot-slack in Socket Mode (see
    bench/hubot/), answering the same "whoami" as a channel message."""
    name = "hubot"

    def __init__(self, build, tmp, fs):
        self.tmp = tmp
        self.log = open(os.path.join(tmp, "hubot.log"), "ab")
        self.t0 = time.monotonic()
        self.proc = subprocess.Popen(
            [os.path.join(ROOT, "bench", "hubot", "start.sh")], cwd=os.path.join(ROOT, "bench", "hubot"),
            stdin=subprocess.DEVNULL, stdout=self.log, stderr=self.log,
            env=dict(os.environ, HUBOT_SLACK_APP_TOKEN=APP, HUBOT_SLACK_BOT_TOKEN=BOT,
                     BENCH_SLACK_API_URL=fs.api_url, NO_PROXY="127.0.0.1"),
            start_new_session=True)

    @staticmethod
    def fake(**kw):
        # @slack/web-api posts forms everywhere: Slack's spec (the fake's
        # rules) takes them on every method
        return FakeSlack(app_token=APP, bot_token=BOT, channels=("C_MENTIONS", "C_ESCALATE"),
                         users=USERS, **kw).start()

    def stop(self):
        try:
            os.killpg(self.proc.pid, signal.SIGTERM)
            rc = self.proc.wait(15)
        except subprocess.TimeoutExpired:
            os.killpg(self.proc.pid, signal.SIGKILL)
            rc = self.proc.wait()
        except ProcessLookupError:
            rc = self.proc.wait()
        self.log.close()
        return rc


class Floor:
    """The measuring floor: a Socket Mode client that does nothing but
    answer each slash command in its ack at once (Python, in this process).
    What it measures is the fake's own cost plus a minimal client's, the
    part of every round trip that is neither vigil's nor Hubot's."""
    name = "floor"

    def __init__(self, fs):
        req = urllib.request.Request(fs.api_url + "apps.connections.open", data=b"",
                                     headers={"Authorization": f"Bearer {APP}",
                                              "Content-Type": "application/json; charset=utf-8"})
        with urllib.request.urlopen(req, timeout=10) as r:
            url = urllib.parse.urlsplit(json.load(r)["url"])
        self.sock = socket.create_connection((url.hostname, url.port))
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        key = base64.b64encode(os.urandom(16)).decode()
        self.sock.sendall((f"GET {url.path}?{url.query} HTTP/1.1\r\nHost: {url.netloc}\r\n"
                           "Upgrade: websocket\r\nConnection: Upgrade\r\n"
                           f"Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n\r\n")
                          .encode())
        self.rfile = self.sock.makefile("rb")
        while self.rfile.readline() not in (b"\r\n", b""):
            pass   # the 101 and its headers
        self.thread = threading.Thread(target=self._loop, daemon=True)
        self.thread.start()

    def _send(self, opcode, payload):
        mask = os.urandom(4)
        n = len(payload)
        head = bytes([0x80 | opcode]) + (bytes([0x80 | n]) if n < 126 else
                                         bytes([0x80 | 126]) + struct.pack("!H", n))
        body = bytes(b ^ mask[i % 4] for i, b in enumerate(payload))
        self.sock.sendall(head + mask + body)

    def _loop(self):
        try:
            while True:
                b0, b1 = self.rfile.read(2)
                n = b1 & 0x7F
                if n == 126:
                    n = struct.unpack("!H", self.rfile.read(2))[0]
                elif n == 127:
                    n = struct.unpack("!Q", self.rfile.read(8))[0]
                data = self.rfile.read(n)
                op = b0 & 0x0F
                if op == 0x9:
                    self._send(0xA, data)
                elif op == 0x8:
                    return
                elif op == 0x1:
                    frame = json.loads(data)
                    if frame.get("type") == "slash_commands":
                        uid = frame["payload"]["user_id"]
                        ack = {"envelope_id": frame["envelope_id"],
                               "payload": {"text": f"You are {uid} ({uid}), agent."}}
                        self._send(0x1, json.dumps(ack).encode())
        except (OSError, ValueError):
            return

    def stop(self):
        try:
            self._send(0x8, struct.pack("!H", 1000))
            self.sock.close()
        except OSError:
            pass


def floor_run(quick):
    """Round trips at 100/s through the floor client (see Floor)."""
    fs = Vigil.fake()
    fl = Floor(fs)
    try:
        fs.wait_connected(timeout=10)
        drv = Driver(fs, fl)
        first, _ = drv.blast(100, 200 if quick else 1000)
        lat = [x for x in drv.wait_answered(first, 30) if x is not None]
        return {"rtt100_ms": [x * 1000 for x in lat], "rtt100_p50_ms": pct(lat, 50) * 1000,
                "rtt100_p99_ms": pct(lat, 99) * 1000}
    finally:
        fl.stop()
        fs.stop()


# ------------------------------------------------------------- the driver

class Driver:
    """Sends "whoami" the way each bot takes it and times the answer at the
    fake: vigil gets a slash command and answers in the ack's payload;
    Hubot gets a channel message and answers with chat.postMessage.  The
    clock starts just before the frame is written and stops when the
    answer has been read and parsed by the fake."""

    def __init__(self, fs, bot):
        self.fs, self.bot = fs, bot
        self.sent = []            # (monotonic, user id)
        self.lock = threading.Lock()
        self.seq = 0

    def send(self, uid):
        t = time.monotonic()
        if self.bot.name != "hubot":
            env = self.fs.send_slash("whoami", user_id=uid)
            with self.lock:
                self.sent.append((t, uid, env))
        else:
            with self.lock:
                self.seq += 1
                ts = f"{int(time.time())}.{self.seq:06d}"
                self.sent.append((t, uid, ts))
            self.fs.send_event({"type": "message", "channel": "C_MENTIONS", "user": uid,
                                "text": "whoami", "ts": ts, "event_ts": ts,
                                "channel_type": "channel", "team": "T0BENCH"})

    def answers(self):
        """[(monotonic answered, user id, envelope or None)] in arrival order."""
        with self.fs._cv:
            if self.bot.name != "hubot":
                return [(a["t"], None, a["envelope_id"]) for a in self.fs.acks]
            out = []
            for c in self.fs.calls:
                if c["method"] == "chat.postMessage" and c["status"] == 200:
                    m = ANSWER_UID.search(str((c["body"] or {}).get("text", "")))
                    out.append((c["t"], m.group(1) if m else None, None))
            return out

    def doubled(self):
        """Answers beyond one per command sent (startup probes aside: a
        late answer to a second probe is not a double)."""
        ans = self.answers()
        if self.bot.name != "hubot":
            envs = {env for _, _, env in self.sent}
            mine = [env for _, _, env in ans if env in envs]
            return len(mine) - len(set(mine))
        return sum(1 for _, uid, _ in ans if uid != PROBE) - len(self.sent)

    def latencies(self, first=0):
        """Latencies (s) of commands sent[first:], None where unanswered.
        vigil's answers carry the envelope id; Hubot's name the user, and
        each user's answers come in the order that user asked."""
        ans = self.answers()
        sent = self.sent[first:]
        if self.bot.name != "hubot":
            at = {env: t for t, _, env in ans}
            return [at[env] - t - 0 if env in at else None for t, _, env in sent]
        queues = {}
        for t, uid, _ in ans:
            queues.setdefault(uid, []).append(t)
        # Answers to commands before `first` come first in each user's queue.
        for t, uid, _ in self.sent[:first]:
            if queues.get(uid):
                queues[uid].pop(0)
        out = []
        for t, uid, _ in sent:
            q = queues.get(uid)
            out.append(q.pop(0) - t if q else None)
        return out

    def blast(self, rate, count, start_index=0):
        """Open loop: command i goes out at t0 + i/rate whatever the bot
        does.  Returns (index of the first command, achieved send rate)."""
        first = len(self.sent)
        t0 = time.monotonic()
        for i in range(count):
            due = t0 + i / rate
            delay = due - time.monotonic()
            if delay > 0.0005:
                time.sleep(delay)
            self.send(UIDS[(start_index + i) % NUSERS])
        took = time.monotonic() - t0
        return first, (count - 1) / took if took > 0 else float("inf")

    def wait_answered(self, first, timeout):
        t_end = time.monotonic() + timeout
        while time.monotonic() < t_end:
            lat = self.latencies(first)
            if all(x is not None for x in lat):
                return lat
            time.sleep(0.05)
        return self.latencies(first)


def wait(pred, timeout, what):
    t_end = time.monotonic() + timeout
    while time.monotonic() < t_end:
        v = pred()
        if v:
            return v
        time.sleep(0.002)
    raise RuntimeError(f"timed out after {timeout}s waiting for {what}")


# --------------------------------------------------------------- scenarios

def chat_run(kind, build, quick):
    """One life of one bot: startup, idle footprint, round trip at 100/s,
    10,000 commands, then the sustained-rate ramp."""
    tmp = tempfile.mkdtemp(prefix=f"bench-{kind.name}-")
    fs = kind.fake()
    bot = None
    res = {}
    try:
        bot = kind(build, tmp, fs)
        drv = Driver(fs, bot)
        res["startup_ms"] = startup(fs, drv, bot) * 1000
        time.sleep(5)
        res["rss_idle_kb"], _, res["rss_idle_anon_kb"] = rss_kb(bot.proc.pid, anon=True)

        n100 = 200 if quick else 1000
        first, _ = drv.blast(100, n100)
        lat = drv.wait_answered(first, 30)
        ok = [x for x in lat if x is not None]
        res["rtt100_ms"] = [x * 1000 for x in ok]
        res["rtt100_lost"] = len(lat) - len(ok)
        res["rtt100_p50_ms"] = pct(res["rtt100_ms"], 50)
        res["rtt100_p99_ms"] = pct(res["rtt100_ms"], 99)

        n10k = 2000 if quick else 10000
        first, sent_rate = drv.blast(1000, n10k)
        lat = drv.wait_answered(first, 120)
        res["load_lost"] = sum(1 for x in lat if x is None)
        res["rss_after_10k_kb"], res["rss_peak_kb"] = rss_kb(bot.proc.pid)

        res["ramp"] = []
        best = 0
        for rate in RAMP[:4] if quick else RAMP:
            first, achieved = drv.blast(rate, int(rate * 2))
            lat = drv.wait_answered(first, 10)
            got = [x for x in lat if x is not None]
            step = {"rate": rate, "achieved": round(achieved), "answered": len(got),
                    "sent": len(lat), "max_ms": max(got) * 1000 if got else None,
                    "p99_ms": pct(got, 99) * 1000 if got else None}
            res["ramp"].append(step)
            passed = len(got) == len(lat) and max(got) < DEADLINE
            log(f"    {kind.name} ramp {rate}/s (sent at {achieved:.0f}/s): "
                f"{len(got)}/{len(lat)} answered, max {step['max_ms'] or 0:.1f} ms"
                f"{'' if passed else '  <- over'}")
            if not passed:
                break
            best = max(best, achieved)   # the fake may send a later step slower
            time.sleep(1)
        res["sustained_per_s"] = best
        res["rss_end_kb"], res["rss_peak_end_kb"] = rss_kb(bot.proc.pid)
        dup = drv.doubled()
        if dup > 0:
            raise RuntimeError(f"{kind.name} answered {dup} commands twice")
        res["fake_errors"] = fs.errors[:5]
    finally:
        if bot:
            res["exit"] = bot.stop()
        fs.stop()
        shutil.rmtree(tmp, ignore_errors=True)
    return res


def startup(fs, drv, bot):
    """Process start to the first answer to a command.  A probe goes out
    the moment hello does, and again every 10 ms until one is answered:
    Hubot drops what arrives before it has loaded its scripts (it acks
    and forgets), so "hello handled" is proved by an answer, not by the
    socket."""
    fs.wait_connected(timeout=60)
    while time.monotonic() - bot.t0 < 60:
        drv.send(PROBE)
        probes = {env for _, _, env in drv.sent}   # vigil's; Hubot's answers name the user
        t_end = time.monotonic() + 0.01
        while time.monotonic() < t_end:
            for t, uid, env in drv.answers():
                if uid == PROBE or env in probes:
                    drv.sent = []   # the probes are not part of any later measurement
                    return t - bot.t0
            time.sleep(0.001)
    raise RuntimeError(f"{bot.name} never answered a command")


def fetch_pages(n, authors, dest):
    """n mentions from the fake X, fetched as vigil fetches them (100 a
    page), written as page-NNNN.json oldest first and as one JSON-lines
    replay file.  Returns the replay path."""
    fx = FakeX(brand_id="1500000000000000001", brand_username="AcmeSupport",
               bearer="bench-bearer")
    fx.rate_limits = {k: (10**9, 900) for k in fx.rate_limits}
    fx.max_reachable = n
    fx.gzip = False
    fx.start()
    try:
        fx.add_mentions(n, authors=authors, seed=7)
        pages, token = [], None
        fields = ("tweet.fields=created_at,author_id,conversation_id,in_reply_to_user_id,"
                  "referenced_tweets,lang,entities,edit_history_tweet_ids&expansions=author_id,"
                  "referenced_tweets.id&user.fields=name,username,profile_image_url,verified")
        while True:
            url = (f"{fx.api_url}users/1500000000000000001/mentions?max_results=100&{fields}"
                   + (f"&pagination_token={token}" if token else ""))
            req = urllib.request.Request(url, headers={"Authorization": "Bearer bench-bearer"})
            with urllib.request.urlopen(req, timeout=30) as r:
                body = r.read()
            pages.append(body)
            token = json.loads(body).get("meta", {}).get("next_token")
            if not token:
                break
        if fx.errors:
            raise RuntimeError(f"fake X saw protocol errors: {fx.errors[:3]}")
    finally:
        fx.stop()
    pages.reverse()   # X walks newest first; a bot that kept up saw the oldest first
    os.makedirs(dest, exist_ok=True)
    replay = os.path.join(dest, "mentions.jsonl")
    with open(replay, "wb") as rf:
        for i, body in enumerate(pages):
            with open(os.path.join(dest, f"page-{i:04d}.json"), "wb") as f:
                f.write(body)
            rf.write(body.replace(b"\n", b"") + b"\n")
    return replay


ROUTING_RULES = [   # keyword -> tag, a realistic on_mention hook's table
    ("refund", "billing"), ("charged", "billing"), ("invoice", "billing"),
    ("order", "orders"), ("package", "orders"), ("pakke", "orders"), ("delivery", "orders"),
    ("app", "app"), ("crash", "app"), ("login", "app"), ("password", "app"),
    ("broken", "quality"), ("wrong", "quality"), ("lid", "quality"),
    ("cancel", "retention"), ("subscription", "retention"),
    ("urgent", "urgent"), ("asap", "urgent"), ("angry", "urgent"), ("lawyer", "legal"),
]


def hook_scripts(tmp, kind):
    """A scripts/ dir holding the default commands and one on_mention hook."""
    d = os.path.join(tmp, f"scripts-{kind}")
    shutil.copytree(os.path.join(ROOT, "scripts"), d)
    if kind == "trivial":
        body = "on_mention = function(ticket, mention) end"
    else:
        rules = ",\n".join(f'  {{ "{k}", "{t}" }}' for k, t in ROUTING_RULES)
        # Several keywords share a tag, and tagging twice is an error.
        body = ("on_mention = function(ticket, mention)\n"
                "  if not mention.is_new then return end\n"
                "  local text, tagged = mention.text:lower(), {}\n"
                "  for _, r in ipairs(RULES) do\n"
                "    if not tagged[r[2]] and text:find(r[1], 1, true) then\n"
                "      tagged[r[2]] = true\n"
                "      ticket:tag(r[2])\n"
                "    end\n"
                "  end\n"
                "end")
        body = f"local RULES = {{\n{rules}\n}}\n" + "return hooks { " + body + " }\n"
        with open(os.path.join(d, "hooks", "routing.lua"), "w") as f:
            f.write(body)
        return d
    with open(os.path.join(d, "hooks", "routing.lua"), "w") as f:
        f.write("return hooks { " + body + " }\n")
    return d


def core(build, *args):
    out = subprocess.run([os.path.join(build, "bench_core"), *args], capture_output=True,
                         text=True, timeout=600)
    if out.returncode:
        raise RuntimeError(f"bench_core {args[0]} failed: {out.stderr.strip()}")
    if "level=error" in out.stderr:   # a failing hook would measure its error path
        raise RuntimeError(f"bench_core {args[0]} logged errors: {out.stderr[:500]}")
    return json.loads(out.stdout)


def ingest_runs(build, runs, quick):
    n = 5000 if quick else 20000
    tmp = tempfile.mkdtemp(prefix="bench-ingest-")
    res = {"mentions": n, "trivial": [], "routing": [], "sqlite": [], "rows": None}
    try:
        pages = os.path.join(tmp, "pages")
        fetch_pages(n, n // 2, pages)
        scripts = {k: hook_scripts(tmp, k) for k in ("trivial", "routing")}
        npages = len([p for p in os.listdir(pages) if p.startswith("page-")])
        for r in range(runs):
            for kind in ("trivial", "routing"):
                db = os.path.join(tmp, f"{kind}-{r}.db")
                out = core(build, "ingest", scripts[kind], os.path.join(ROOT, "lua"), db, pages)
                res[kind].append(out)
            # The same rows, straight into SQLite, in as many transactions.
            src = os.path.join(tmp, f"trivial-{r}.db")
            dst = os.path.join(tmp, f"raw-{r}.db")
            res["sqlite"].append(core(build, "sqlite", src, dst, str(npages)))
            if res["rows"] is None:
                con = sqlite3.connect(src)
                res["rows"] = {t: con.execute(f"SELECT count(*) FROM {t}").fetchone()[0]
                               for t in ("tickets", "mentions", "events", "outbox")}
                con.close()
            for f in os.listdir(tmp):
                if f.endswith((".db", ".db-wal", ".db-shm")) and not f.startswith(f"trivial-{r}"):
                    os.unlink(os.path.join(tmp, f))
            log(f"    ingest run {r + 1}: trivial {res['trivial'][-1]['per_second']:.0f}/s, "
                f"routing {res['routing'][-1]['per_second']:.0f}/s, "
                f"raw SQLite {res['sqlite'][-1]['per_second']:.0f}/s")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return res


def dispatch_runs(build, runs):
    tmp = tempfile.mkdtemp(prefix="bench-dispatch-")
    res = {"hook": [], "nohook": [], "slash": []}
    try:
        for r in range(runs):
            # vigil's own work for a slash command, frame in to ack out
            out = core(build, "slash", os.path.join(ROOT, "scripts"), os.path.join(ROOT, "lua"),
                       os.path.join(tmp, f"s{r}.db"), "100000")
            res["slash"].append(out["us_per_command"])
            for hook in (1, 0):
                out = core(build, "dispatch", os.path.join(ROOT, "scripts"),
                           os.path.join(ROOT, "lua"), os.path.join(tmp, f"d{r}{hook}.db"),
                           "200000", str(hook))
                res["hook" if hook else "nohook"].append(out["us_per_command"])
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return res


def search_runs(build, runs, quick):
    """/tw find over a store of 100,000 tickets (issue 17 §5), and the same
    order number as a LIKE scan: bench_core search."""
    n = 20000 if quick else 100000
    tmp = tempfile.mkdtemp(prefix="bench-search-")
    res = []
    try:
        for r in range(runs):
            res.append(core(build, "search", os.path.join(tmp, f"s{r}.db"), str(n)))
            log(f"    search run {r + 1}: {res[-1]['tickets']} tickets built in "
                f"{res[-1]['build_seconds']:.1f} s; "
                + ", ".join(f"{q['query']} {q['ms']:.2f} ms" for q in res[-1]["queries"])
                + f"; LIKE {res[-1]['like_ms']:.1f} ms vs FTS {res[-1]['fts_ms']:.3f} ms")
            for f in os.listdir(tmp):
                os.unlink(os.path.join(tmp, f))
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return res


def reload_run(build, quick):
    """Saves a new whoami.lua into a running vigil and times, at the fake,
    how long until a command gets the new answer."""
    tmp = tempfile.mkdtemp(prefix="bench-reload-")
    scripts = os.path.join(tmp, "scripts")
    shutil.copytree(os.path.join(ROOT, "scripts"), scripts)
    fs = Vigil.fake()
    bot = Vigil(build, tmp, fs, scripts=scripts)
    times = []
    try:
        drv = Driver(fs, bot)
        fs.wait_connected(timeout=30)
        for k in range(3 if quick else 10):
            marker = f"version {k}"
            body = f'return command {{ usage = "whoami", run = function(ctx) return "{marker}" end }}\n'
            path = os.path.join(scripts, "whoami.lua")
            tmpf = path + ".new"
            with open(tmpf, "w") as f:   # the way editors save: write, then rename
                f.write(body)
            t_save = time.monotonic()
            os.rename(tmpf, path)
            while True:
                n = len(fs.acks)
                drv.send(UIDS[0])
                env = drv.sent[-1][2]
                frame = fs.wait_ack(env, timeout=5)
                text = json.dumps(frame.get("payload") or {})
                if marker in text:
                    times.append((fs.acks[n]["t"] - t_save) * 1000)
                    break
                if time.monotonic() - t_save > 10:
                    raise RuntimeError("the new whoami.lua never answered")
                time.sleep(0.001)
            time.sleep(0.3)
    finally:
        bot.stop()
        fs.stop()
        shutil.rmtree(tmp, ignore_errors=True)
    return times


def storm_run(build, replay, n, rate):
    """n tickets queued at once, posted at slack.post_rate = `rate` while the
    fake enforces that same rate; times the drain and counts 429s."""
    tmp = tempfile.mkdtemp(prefix="bench-storm-")
    fs = Vigil.fake()
    fs.rate_limit("chat.postMessage", per_sec=rate, burst=1, per_channel=True)
    bot = Vigil(build, tmp, fs, replay=replay,
                slack={"post_rate": rate, "digest_threshold": 100000})
    try:
        fs.wait_connected(timeout=30)

        def posts():
            with fs._cv:
                return [c["t"] for c in fs.calls
                        if c["method"] == "chat.postMessage" and c["status"] == 200
                        and not (c["body"] or {}).get("thread_ts")]
        wait(lambda: len(posts()) >= n, n / rate * 3 + 30, f"{n} ticket posts")
        ts = posts()[:n]
        queued = sqlite3.connect(bot.db).execute(
            "SELECT count(*) FROM outbox WHERE kind='post_ticket'").fetchone()[0]
        return {"seconds": ts[-1] - ts[0], "limit_seconds": (n - 1) / rate,
                "count_429": fs.count_429, "posts": len(ts), "jobs": queued,
                "fake_errors": fs.errors[:5]}
    finally:
        bot.stop()
        fs.stop()
        shutil.rmtree(tmp, ignore_errors=True)


def tickets_footprint(build, replay, n):
    """vigil's RSS once n tickets are stored (X mentions replayed, tickets
    posted to the fake Slack as digests)."""
    tmp = tempfile.mkdtemp(prefix="bench-tickets-")
    fs = Vigil.fake()
    bot = Vigil(build, tmp, fs, replay=replay, slack={"post_rate": 1000})
    try:
        fs.wait_connected(timeout=30)

        def count():
            try:
                con = sqlite3.connect(f"file:{bot.db}?mode=ro", uri=True, timeout=5)
                c = con.execute("SELECT count(*) FROM mentions").fetchone()[0]
                con.close()
                return c >= n
            except sqlite3.Error:
                return False
        wait(count, 120, f"{n} mentions stored")
        con = sqlite3.connect(f"file:{bot.db}?mode=ro", uri=True)
        tickets = con.execute("SELECT count(*) FROM tickets").fetchone()[0]
        con.close()
        time.sleep(2)
        rss, hwm = rss_kb(bot.proc.pid)
        return {"tickets": tickets, "mentions": n, "rss_kb": rss, "peak_kb": hwm}
    finally:
        bot.stop()
        fs.stop()
        shutil.rmtree(tmp, ignore_errors=True)


def machine():
    cpu = "?"
    with open("/proc/cpuinfo") as f:
        for line in f:
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    with open("/proc/meminfo") as f:
        mem = int(f.readline().split()[1]) // 1024
    node = subprocess.run(["node", "--version"], capture_output=True, text=True).stdout.strip()
    with open(os.path.join(ROOT, "bench", "hubot", "package.json")) as f:
        deps = json.load(f).get("dependencies", {})
    return {"cpu": cpu, "cores": os.cpu_count(), "mem_mb": mem, "kernel": platform.release(),
            "python": platform.python_version(), "node": node, "hubot": deps,
            "sqlite": sqlite3.sqlite_version,
            "commit": commit()}


def commit():
    """HEAD, with -dirty when the code differs from it (the results and
    BENCHMARKS.md, which every run rewrites, do not count)."""
    def git(*args):
        return subprocess.run(["git", *args], cwd=ROOT, capture_output=True,
                              text=True).stdout.strip()
    dirty = git("status", "--porcelain", "--", ".", ":!bench/results", ":!BENCHMARKS.md")
    return git("rev-parse", "--short", "HEAD") + ("-dirty" if dirty else "")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--build", default="build/bench")
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--quick", action="store_true", help="smaller loads (trying the bench out)")
    ap.add_argument("--only", default="chat,ingest,dispatch,reload,storm,tickets,search")
    ap.add_argument("--out", default=os.path.join(ROOT, "bench", "results", "latest.json"))
    a = ap.parse_args()
    build = os.path.join(ROOT, a.build) if not os.path.isabs(a.build) else a.build
    only = set(a.only.split(","))
    started = time.time()
    out = {"when": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()), "machine": machine(),
           "runs": a.runs, "quick": a.quick,
           "command": "make bench" + (f" BENCH_RUNS={a.runs}" if a.runs != 5 else "")
           + (" BENCH_ARGS=--quick" if a.quick else "")}
    # Which run each scenario came from: a partial run (--only) keeps the
    # others' results, and this says which are older.
    stamp = {"when": out["when"], "commit": out["machine"]["commit"], "runs": a.runs,
             "quick": a.quick}
    out["scenarios"] = {k: dict(stamp) for k in only}
    last = [time.time()]

    def lap(name):   # how long a scenario took, in its stamp
        now = time.time()
        out["scenarios"][name]["seconds"] = round(now - last[0])
        last[0] = now

    if "chat" in only:
        log(f"== chat: startup, footprint, round trip, sustained rate ({a.runs} x 2 runs, A B A B)")
        runs = {"vigil": [], "hubot": []}
        out["floor"] = []
        for r in range(a.runs):
            # The floor runs between the bots' runs, under the same noise.
            out["floor"].append(floor_run(a.quick))
            for kind in (Vigil, Hubot):
                res = chat_run(kind, build, a.quick)
                runs[kind.name].append(res)
                log(f"  run {r + 1} {kind.name}: startup {res['startup_ms']:.0f} ms, idle "
                    f"{res['rss_idle_kb'] / 1024:.1f} MB, p50 {res['rtt100_p50_ms']:.2f} ms, "
                    f"p99 {res['rtt100_p99_ms']:.2f} ms, after 10k "
                    f"{res['rss_after_10k_kb'] / 1024:.1f} MB, sustained "
                    f"{res['sustained_per_s']:.0f}/s")
        out["chat"] = runs
        log("  the measuring floor (the fake and an instant Python client), p50: "
            + ", ".join(f"{r['rtt100_p50_ms']:.2f}" for r in out["floor"]) + " ms")
        lap("chat")
    with tempfile.TemporaryDirectory(prefix="bench-pages-") as pages:
        replay = None
        if only & {"storm", "tickets"}:
            log("== fetching 10,000 mentions from the fake X")
            replay = fetch_pages(10000, 10000, pages)
        if "ingest" in only:
            log("== ingest: fake X pages -> tickets + outbox jobs, against raw SQLite")
            out["ingest"] = ingest_runs(build, a.runs, a.quick)
            lap("ingest")
        if "dispatch" in only:
            log("== Lua dispatch, with and without the instruction-count hook")
            out["dispatch"] = dispatch_runs(build, a.runs)
            log(f"    hook {out['dispatch']['hook']} us, no hook {out['dispatch']['nohook']} us, "
                f"slash command frame to ack {out['dispatch']['slash']} us")
            lap("dispatch")
        if "search" in only:
            log("== search: /tw find over 100,000 tickets")
            out["search"] = search_runs(build, a.runs, a.quick)
            lap("search")
        if "reload" in only:
            log("== hot reload")
            out["reload"] = [reload_run(build, a.quick) for _ in range(a.runs)]
            log(f"    {out['reload']}")
            lap("reload")
        if "storm" in only:
            log("== outbox storm: 1,000 ticket posts at slack.post_rate = 50")
            small = os.path.join(pages, "storm.jsonl")
            with open(replay, "rb") as src, open(small, "wb") as dst:
                lines = src.readlines()
                dst.writelines(lines[-12:])   # the newest 1,200 mentions, >1,000 tickets
            out["storm"] = []
            for r in range(a.runs):
                res = storm_run(build, small, 1000, 50)
                out["storm"].append(res)
                log(f"    run {r + 1}: {res['posts']} posts in {res['seconds']:.2f} s "
                    f"(limit {res['limit_seconds']:.2f} s), {res['count_429']} x 429")
            lap("storm")
        if "tickets" in only:
            log("== footprint after 10,000 tickets")
            out["tickets"] = []
            for r in range(a.runs):
                res = tickets_footprint(build, replay, 10000)
                out["tickets"].append(res)
                log(f"    run {r + 1}: {res['tickets']} tickets, RSS {res['rss_kb'] / 1024:.1f} MB")
            lap("tickets")
    out["seconds"] = round(time.time() - started)
    os.makedirs(os.path.dirname(a.out), exist_ok=True)
    if os.path.exists(a.out):   # a partial run (--only) keeps the other scenarios
        with open(a.out) as f:
            old = json.load(f)
        for k, v in old.items():
            if k == "scenarios":
                v.pop("floor", None)   # once a scenario of its own, now part of chat
                out["scenarios"] = dict(v, **out["scenarios"])
            out.setdefault(k, v)
    # The time all the scenarios of this result took (some may be older).
    out["seconds"] = sum(st.get("seconds", 0) for st in out["scenarios"].values()) or \
        out["seconds"]
    with open(a.out, "w") as f:
        json.dump(out, f, indent=1)
    log(f"== results: {os.path.relpath(a.out, ROOT)} ({out['seconds']} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
