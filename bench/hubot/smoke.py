#!/usr/bin/env python3
"""Smoke test of the Hubot side of the benchmark: python3 bench/hubot/smoke.py

Starts tests/fakes/fake_slack.py in-process (127.0.0.1, port 0; the forms
@slack/web-api sends pass its spec checks), runs Hubot through start.sh,
and checks that `whoami` gets exactly one answer per message:

  1. one cold message (the adapter then calls users.info and
     conversations.info before it answers; later messages hit its caches),
  2. N messages one after the other (latency of each),
  3. N messages sent back to back without waiting (a burst).

Prints spawn->hello and spawn->READY times, latencies, node's RSS, and the
fake's strictness violations (must be none).  Exit status 0 = all good.
Needs `npm ci` in bench/hubot first.
"""
import argparse
import os
import signal
import statistics
import subprocess
import sys
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "..", "tests", "fakes"))
from fake_slack import FakeSlack, TEAM_ID  # noqa: E402

APP, BOT = "xapp-1-bench", "xoxb-bench"
CHANNEL, USER = "C_MENTIONS", "U1"
WANT = "You are alice (U1), agent. Your replies are signed ^??."


def rss_kb(pid, field="VmRSS"):
    """VmRSS (or VmHWM, the peak) of `pid` in kB, from /proc."""
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    raise RuntimeError(f"no {field} for pid {pid}")


class Hubot:
    """start.sh as a child; a thread collects its stdout and spots READY."""

    def __init__(self, api_url):
        env = dict(os.environ, BENCH_SLACK_API_URL=api_url,
                   HUBOT_SLACK_APP_TOKEN=APP, HUBOT_SLACK_BOT_TOKEN=BOT)
        self.t_spawn = time.monotonic()
        self.proc = subprocess.Popen([os.path.join(HERE, "start.sh")], env=env,
                                     stdout=subprocess.PIPE, text=True)
        self.lines, self.ready, self.t_ready = [], threading.Event(), None
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self):
        for line in self.proc.stdout:
            if line.strip() == "READY" and not self.ready.is_set():
                self.t_ready = time.monotonic()
                self.ready.set()
            else:
                self.lines.append(line.rstrip())   # Hubot's own (error-level) log

    def check_is_node(self):
        # start.sh execs node, so this pid is what we measure and signal.
        with open(f"/proc/{self.proc.pid}/comm") as f:
            comm = f.read().strip()
        if comm != "node":
            raise AssertionError(f"pid {self.proc.pid} is {comm!r}, not node (exec missing?)")

    def stop(self):
        """SIGTERM; returns (exit status, seconds it took)."""
        t0 = time.monotonic()
        self.proc.send_signal(signal.SIGTERM)
        try:
            rc = self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            rc = self.proc.wait()
        return rc, time.monotonic() - t0


def message_event(fs, text="whoami"):
    # Stored as alice's message first, so the event's ts is a real message.
    ts = fs.add_message(CHANNEL, text, user=USER)
    return {"type": "message", "channel": CHANNEL, "user": USER, "text": text, "ts": ts,
            "channel_type": "channel", "event_ts": ts, "team": TEAM_ID}


def replies(fs):
    return [c for c in fs.calls if c["method"] == "chat.postMessage"]


def ask(fs, timeout=10):
    """One whoami, waits for its answer; returns latency in seconds."""
    n = len(replies(fs))
    t0 = time.monotonic()
    fs.send_event(message_event(fs))
    call = fs.wait_calls("chat.postMessage", n + 1, timeout)[n]
    return call["t"] - t0


def ms(seconds):
    return f"{seconds * 1000:.1f} ms"


def run(n_seq, n_burst):
    problems = []
    fs = FakeSlack(app_token=APP, bot_token=BOT, channels=(CHANNEL, "C_ESCALATE"),
                   users={USER: {"name": "alice", "real_name": "Alice Jensen"}})
    fs.start()
    hubot = None
    try:
        hubot = Hubot(fs.api_url)
        fs.wait_connected(timeout=30)
        t_hello = next(t for t, ev, _ in fs.connection_log if ev == "hello")
        if not hubot.ready.wait(30):
            raise AssertionError("Hubot never printed READY; its log:\n" + "\n".join(hubot.lines))
        hubot.check_is_node()
        print(f"startup: spawn->hello {ms(t_hello - hubot.t_spawn)}, "
              f"spawn->READY {ms(hubot.t_ready - hubot.t_spawn)}")
        print(f"rss after startup: {rss_kb(hubot.proc.pid) / 1024:.1f} MiB")
        startup_calls = [c["method"] for c in fs.calls]

        cold = ask(fs)
        print(f"cold whoami: {ms(cold)}  (calls so far: {[c['method'] for c in fs.calls]})")
        lat = [ask(fs) for _ in range(n_seq)]
        p95 = statistics.quantiles(lat, n=20)[-1]
        print(f"{n_seq} sequential: min {ms(min(lat))}, median {ms(statistics.median(lat))}, "
              f"p95 {ms(p95)}, max {ms(max(lat))}")

        before = len(replies(fs))
        t0 = time.monotonic()
        for _ in range(n_burst):
            fs.send_event(message_event(fs))
        got = fs.wait_calls("chat.postMessage", before + n_burst, 30)
        print(f"{n_burst} in a burst: all answered in {ms(got[-1]['t'] - t0)}")

        time.sleep(1.0)   # time for any duplicate answer to show up
        total = 1 + n_seq + n_burst
        answers = replies(fs)
        if len(answers) != total:
            problems.append(f"{len(answers)} answers to {total} messages")
        bad = [c["body"] for c in answers
               if c["body"] != {"channel": CHANNEL, "text": WANT} or not c["response"].get("ok")]
        if bad:
            problems.append(f"unexpected answers: {bad[:3]}")
        if fs.unacked():
            problems.append(f"unacked envelopes: {fs.unacked()}")
        if len(fs.acks) != total:
            problems.append(f"{len(fs.acks)} acks for {total} events")
        print(f"answers: {len(answers)} for {total} messages, acks: {len(fs.acks)}, "
              f"late acks: {sum(a['late'] for a in fs.acks)}")
        print(f"rss after messages: {rss_kb(hubot.proc.pid) / 1024:.1f} MiB, "
              f"peak (VmHWM) {rss_kb(hubot.proc.pid, 'VmHWM') / 1024:.1f} MiB")
        print(f"startup calls: {startup_calls}")
    finally:
        if hubot is not None:
            rc, took = hubot.stop()
            closed = [ev for _, ev, _ in fs.connection_log if ev == "closed"]
            print(f"sigterm: exit {rc} after {ms(took)}, socket closed: {bool(closed)}")
            if rc != 0:
                problems.append(f"hubot exited {rc} on SIGTERM")
            if hubot.lines:
                print("hubot log:\n  " + "\n  ".join(hubot.lines))
        fs.stop()
    print(f"fake errors: {fs.errors}")
    problems += fs.errors
    return problems


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--messages", type=int, default=20, help="sequential and burst size")
    a = ap.parse_args()
    if a.messages < 2:
        ap.error("--messages must be at least 2 (for the percentiles)")
    problems = run(a.messages, a.messages)
    print("OK" if not problems else "FAIL: " + "; ".join(problems))
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
