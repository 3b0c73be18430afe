#!/usr/bin/env python3
"""make soak: vigil under steady mentions, commands and faults for a while
(SOAK_SECONDS, default 600), sampling its RSS and open file descriptors
every second; fails if either keeps growing.  Not part of make test.

usage: python3 tests/soak.py [--seconds N] [--build DIR]
"""
import argparse
import os
import random
import statistics
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "tests", "e2e"))
sys.path.insert(0, os.path.join(ROOT, "tests", "fakes"))
os.environ.setdefault("VIGIL_ROOT", ROOT)

from fake_slack import FakeSlack  # noqa: E402
from fake_x import FakeX  # noqa: E402
import harness  # noqa: E402


def sample(pid):
    with open(f"/proc/{pid}/status") as f:
        rss = next(int(line.split()[1]) for line in f if line.startswith("VmRSS:"))
    return rss, len(os.listdir(f"/proc/{pid}/fd"))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--seconds", type=int, default=int(os.environ.get("SOAK_SECONDS", 600)))
    ap.add_argument("--build", default="build")
    a = ap.parse_args()
    os.environ["VIGIL_BUILD"] = os.path.join(ROOT, a.build)
    env = {"SLACK_APP_TOKEN": "xapp-1-soak", "SLACK_BOT_TOKEN": "xoxb-soak", "X_BEARER": "AAAA-soak",
           "X_CK": "ck-soak", "X_CS": "cs-soak", "X_TK": "tk-soak", "X_TS": "ts-soak"}
    fs = FakeSlack(app_token=env["SLACK_APP_TOKEN"], bot_token=env["SLACK_BOT_TOKEN"],
                   channels=("C_MENTIONS", "C_ESCALATE"), users={"U1": {"name": "alice"}})
    fx = FakeX(brand_id="1500000000000000001", brand_username="AcmeSupport", bearer=env["X_BEARER"],
               oauth1=dict(consumer_key="ck-soak", consumer_secret="cs-soak", token="tk-soak",
                           token_secret="ts-soak"))
    fx.rate_limits = {"mentions": (10**6, 900), "tweets": (10**6, 900)}
    fx.daily_limits = {"tweets": 10**6, "dm": 10**6}
    fs.start()
    fx.start()
    rnd = random.Random(7)
    tmp = tempfile.mkdtemp(prefix="vigil-soak-")
    cfg = harness.write_config(
        tmp, chat="slack", source="x", staff={"U1": {"name": "Alice", "role": "lead"}},
        channels={"mentions": "C_MENTIONS", "escalations": "C_ESCALATE"},
        slack={"app_token": harness.Raw('env("SLACK_APP_TOKEN")'),
               "bot_token": harness.Raw('env("SLACK_BOT_TOKEN")'), "api_url": fs.api_url,
               "post_rate": 50},
        x={"api_url": fx.api_url, "handle": "AcmeSupport", "bearer_token": harness.Raw('env("X_BEARER")'),
           "oauth1": {"consumer_key": harness.Raw('env("X_CK")'), "consumer_secret": harness.Raw('env("X_CS")'),
                      "token": harness.Raw('env("X_TK")'), "token_secret": harness.Raw('env("X_TS")')},
           "poll_interval": 1})
    bot = harness.Bot(tmp, cfg, env=env)
    bot.wait_started()
    fs.wait_connected()
    samples, n, faults, commands = [], 0, 0, 0
    t0 = time.time()
    try:
        while time.time() - t0 < a.seconds:
            for _ in range(rnd.randint(0, 4)):
                fx.add_mention(text=f"@AcmeSupport soak {n}", author=(str(500000 + n % 300),
                                                                     f"soak{n % 300}", "Soak"))
                n += 1
            if fs.connections() and n:
                try:
                    env_id = fs.send_slash(f"note {rnd.randint(1, max(1, n // 2))} soak note",
                                           user_id="U1")
                    fs.wait_ack(env_id, timeout=3)
                    commands += 1
                except AssertionError:
                    pass
            elapsed = int(time.time() - t0)
            if elapsed and elapsed % 30 == 0 and fs.connections():
                fs.drop()
                faults += 1
            if elapsed and elapsed % 20 == 0:
                fx.inject("mentions", rnd.choice(["500", "503", "truncated", "html"]))
                faults += 1
            samples.append(sample(bot.proc.pid))
            time.sleep(1)
    finally:
        rc, _ = bot.stop()
        fs.stop()
        fx.stop()
    warm = max(5, len(samples) // 10)
    first, last = samples[warm:2 * warm], samples[-warm:]
    rss0, rss1 = statistics.median(s[0] for s in first), statistics.median(s[0] for s in last)
    fd0, fd1 = statistics.median(s[1] for s in first), statistics.median(s[1] for s in last)
    print(f"soak: {a.seconds}s, {n} mentions, {commands} commands, {faults} faults; "
          f"RSS {rss0:.0f} -> {rss1:.0f} KiB, fds {fd0:.0f} -> {fd1:.0f}, exit {rc}")
    grew = rss1 > rss0 * 1.2 + 2048 or fd1 > fd0 + 8
    print("soak: FAIL, growth without bound" if grew or rc else "soak: ok")
    return 1 if grew or rc else 0


if __name__ == "__main__":
    sys.exit(main())
