"""Helpers for end-to-end tests: start the real vigil binary with a config
written for the test, wait on what it stores, stop or kill it."""
import os
import random
import signal
import sqlite3
import subprocess
import time

ROOT = os.environ.get("VIGIL_ROOT", os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__)))))
SAMPLE = os.path.join(ROOT, "config", "sample-mentions.jsonl")


def vigil_path():
    return os.path.join(os.environ.get("VIGIL_BUILD", os.path.join(ROOT, "build")), "vigil")


class Raw(str):
    """Lua source written as is, e.g. Raw('env("SLACK_BOT_TOKEN")')."""


def lua_value(v):
    if isinstance(v, Raw):
        return str(v)
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, (int, float)):
        return repr(v)
    if isinstance(v, str):
        return '"' + v.replace("\\", "\\\\").replace('"', '\\"') + '"'
    if isinstance(v, dict):
        return "{ " + ", ".join(f'["{k}"] = {lua_value(x)}' for k, x in v.items()) + " }"
    raise TypeError(v)


def write_config(tmp, name="vigil.lua", **keys):
    """Writes a config whose top-level keys are `keys` (dicts become tables)."""
    base = {
        "chat": "console",
        "source": "replay",
        "store": {"path": os.path.join(tmp, "vigil.db")},
        "replay": {"file": SAMPLE, "interval": 0.05},
        "x": {"handle": "AcmeSupport", "user_id": "1500000000000000001"},
        "admin": {"socket": os.path.join(tmp, "vigil.sock")},
        # sends go at once and nothing collides: tests of the undo window and
        # the collision guard (test_hold.py) ask for them
        "reply": {"hold": 0, "collision_window": 0},
    }
    if isinstance(keys.get("reply"), dict):
        keys["reply"] = {**base["reply"], **keys["reply"]}
    base.update(keys)
    path = os.path.join(tmp, name)
    with open(path, "w") as f:
        for k, v in base.items():
            f.write(f"{k} = {lua_value(v)}\n")
    return path


_started = []   # every Bot of the current test, reaped by reap()


def reap():
    """Kills whatever a test left running (a failed test skips its stop())."""
    while _started:
        b = _started.pop()
        if b.proc.poll() is None:
            b.proc.kill()
            b.proc.wait()
        for f in (b.out, b.log):
            if not f.closed:
                f.close()


class Bot:
    """A running build/vigil.  stdout/stderr go to files in `tmp`."""

    def __init__(self, tmp, config, stdin=None, name="bot", args=(), env=None):
        # Every value handed in through the environment is a secret here:
        # whatever happens, none may appear in what vigil prints.
        self.secrets = [v for v in (env or {}).values() if len(v) >= 4]
        self.tmp = tmp
        self.out_path = os.path.join(tmp, f"{name}.out")
        self.log_path = os.path.join(tmp, f"{name}.log")
        self.out = open(self.out_path, "ab")
        self.log = open(self.log_path, "ab")
        # VIGIL_WRAPPER runs the bot under a tool, e.g. valgrind (make test-valgrind)
        wrapper = os.environ.get("VIGIL_WRAPPER", "").split()
        self.proc = subprocess.Popen(
            [*wrapper, vigil_path(), "run", "-c", config, *args],
            cwd=ROOT, stdin=stdin if stdin is not None else subprocess.DEVNULL,
            stdout=self.out, stderr=self.log,
            env=dict(os.environ, NO_COLOR="1", NO_PROXY="127.0.0.1,localhost", **(env or {})))
        _started.append(self)

    def wait_started(self, timeout=20):
        wait_for(lambda: 'msg="vigil started"' in self.stderr(), timeout, "vigil to start", self)

    def stdout(self):
        with open(self.out_path, errors="replace") as f:
            return f.read()

    def stderr(self):
        with open(self.log_path, errors="replace") as f:
            return f.read()

    def alive(self):
        return self.proc.poll() is None

    def assert_rss_below(self, mib):
        """The bot's resident memory stays under `mib` MiB (skipped under
        ASan, whose quarantine keeps what was freed)."""
        if "asan" in os.environ.get("VIGIL_BUILD", ""):
            return
        with open(f"/proc/{self.proc.pid}/status") as f:
            rss = next(int(line.split()[1]) for line in f if line.startswith("VmRSS:"))
        assert rss < mib * 1024, f"RSS {rss} KiB"

    def stop(self, sig=signal.SIGTERM, timeout=10):
        """Signals the bot; returns (exit code, seconds it took to exit)."""
        t0 = time.monotonic()
        self.proc.send_signal(sig)
        try:
            rc = self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
            raise AssertionError(f"vigil did not exit within {timeout}s of {sig.name}")
        self.out.close()
        self.log.close()
        self.check_secrets()
        return rc, time.monotonic() - t0

    def check_secrets(self):
        text = self.stdout() + self.stderr()
        leaked = [s[:6] + "…" for s in self.secrets if s in text]
        assert not leaked, f"secrets in vigil's output: {leaked}"

    def kill(self):
        self.proc.kill()
        self.proc.wait()
        self.out.close()
        self.log.close()
        self.check_secrets()


def db(path):
    con = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=5)
    return con


def query(path, sql, *args):
    if not os.path.exists(path):
        return []
    con = db(path)
    try:
        return con.execute(sql, args).fetchall()
    except sqlite3.OperationalError:
        return []
    finally:
        con.close()


def wait_for(pred, timeout=20, what="condition", bot=None):
    t0 = time.monotonic()
    while time.monotonic() - t0 < timeout:
        if pred():
            return
        if bot is not None and not bot.alive():
            raise AssertionError(f"vigil exited ({bot.proc.returncode}) while waiting for {what}")
        time.sleep(0.05)
    raise AssertionError(f"timed out after {timeout}s waiting for {what}")


def replay_done(dbpath, pages=None):
    """True once the replay cursor reached the end of the sample file."""
    if pages is None:
        with open(SAMPLE) as f:
            pages = sum(1 for line in f if line.strip())
    rows = query(dbpath, "SELECT value FROM cursors WHERE source='replay'")
    return bool(rows) and rows[0][0].endswith(f"#{pages}")


def outbox_drained(dbpath):
    rows = query(dbpath, "SELECT count(*) FROM outbox WHERE state IN ('queued','inflight')")
    return bool(rows) and rows[0][0] == 0


def run_cli(*args, env=None, timeout=20):
    return subprocess.run([vigil_path(), *args], cwd=ROOT, capture_output=True, text=True,
                          timeout=timeout, env=dict(os.environ, **(env or {})))


def seeded():
    """A random.Random for a property or chaos test: its seed is printed, and
    VIGIL_SEED=N repeats the run."""
    seed = int(os.environ.get("VIGIL_SEED", random.randrange(1 << 30)))
    print(f"     seed={seed} (VIGIL_SEED={seed} repeats it)")
    return random.Random(seed)


def stop_fakes(*fakes):
    """Stops each fake server a test started; None stands for one it did not
    get to start (a test's `finally`)."""
    for f in fakes:
        if f:
            f.stop()
