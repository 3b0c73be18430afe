"""End-to-end: vigil as a Debian service (issue 20): one instance per store,
SIGHUP reloads the config, systemd's notify protocol (READY, STATUS,
WATCHDOG) on a NOTIFY_SOCKET of the test's own, journald priorities,
install tree, unit file, man page, doctor, check-config shapes, REPL."""
import os
import signal
import socket
import subprocess
import sys
import time

from harness import ROOT, SAMPLE, Bot, Raw, query, replay_done, run_cli, vigil_path, wait_for, \
    write_config

sys.path.insert(0, os.path.join(ROOT, "tests", "fakes"))
from fake_slack import FakeSlack  # noqa: E402
from fake_x import FakeX  # noqa: E402
from test_x import SECRETS as X_SECRETS, fake as fake_x  # noqa: E402

TOKENS = {"SLACK_APP_TOKEN": "xapp-1-test", "SLACK_BOT_TOKEN": "xoxb-test"}
STAFF = {"U1": {"name": "Alice Jensen", "initials": "AJ", "role": "lead"}}
BRAND = "1500000000000000001"
CHANNELS = {"mentions": "C_MENTIONS", "escalations": "C_ESCALATE", "on_duty": "@oncall"}


def fake_slack():
    fs = FakeSlack(app_token=TOKENS["SLACK_APP_TOKEN"], bot_token=TOKENS["SLACK_BOT_TOKEN"],
                   channels=("C_MENTIONS", "C_ESCALATE"),
                   users={"U1": {"name": "alice", "real_name": "Alice Jensen"}})
    fs.start()
    return fs


def slack_keys(fs, **more):
    return dict({"app_token": Raw('env("SLACK_APP_TOKEN")'),
                 "bot_token": Raw('env("SLACK_BOT_TOKEN")'),
                 "api_url": fs.api_url, "post_rate": 50, "ping_interval": 1,
                 "idle_timeout": 3}, **more)


class NotifySocket:
    """A datagram socket playing systemd's side of sd_notify."""

    def __init__(self, tmp):
        self.path = os.path.join(tmp, "notify.sock")
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.sock.bind(self.path)
        self.sock.settimeout(0.1)
        self.got = []   # (monotonic time it was drained, line)

    def drain(self):
        while True:
            try:
                data = self.sock.recv(4096)
            except (socket.timeout, BlockingIOError):
                return
            for line in data.decode().split("\n"):
                if line:
                    self.got.append((time.monotonic(), line))

    def lines(self, prefix):
        self.drain()
        return [line for _, line in self.got if line.startswith(prefix)]

    def since(self, t, prefix):
        self.drain()
        return [line for at, line in self.got if at >= t and line.startswith(prefix)]

    def close(self):
        self.sock.close()


# --- one instance per store ------------------------------------------------

def test_a_second_vigil_on_the_same_store_exits_1_naming_the_first_and_touches_nothing(tmp):
    cfg = write_config(tmp)
    first = Bot(tmp, cfg, name="first")
    first.wait_started()
    fs, fx = fake_slack(), FakeX(brand_id=BRAND, brand_username="AcmeSupport", bearer="AAAA-b")
    fx.start()
    try:
        other = os.path.join(tmp, "other")
        os.mkdir(other)
        cfg2 = write_config(other, chat="slack", source="x", staff=STAFF, channels=CHANNELS,
                            store={"path": os.path.join(tmp, "vigil.db")},
                            slack=slack_keys(fs),
                            x={"api_url": fx.api_url, "handle": "AcmeSupport",
                               "bearer_token": Raw('env("X_BEARER")')})
        t0 = time.monotonic()
        r = subprocess.run([vigil_path(), "run", "-c", cfg2], capture_output=True, text=True,
                           timeout=20, env=dict(os.environ, X_BEARER="AAAA-b", **TOKENS))
        assert r.returncode == 1, r.stderr
        assert time.monotonic() - t0 < 5
        assert f"pid {first.proc.pid}" in r.stderr, r.stderr
        assert fx.requests == [], "the second vigil reached X"
        assert fs.calls == [] and fs.connections() == [], "the second vigil reached Slack"
        assert first.alive()
        assert first.stop()[0] == 0
        # once the first is gone, the store is free again
        second = Bot(tmp, cfg, name="again")
        second.wait_started()
        assert second.stop()[0] == 0
    finally:
        fs.stop()
        fx.stop()


def test_the_store_and_its_directory_are_private(tmp):
    d = os.path.join(tmp, "state")
    cfg = write_config(tmp, store={"path": os.path.join(d, "vigil.db")})
    bot = Bot(tmp, cfg)
    bot.wait_started()
    assert oct(os.stat(d).st_mode & 0o777) == "0o700"
    assert oct(os.stat(os.path.join(d, "vigil.db")).st_mode & 0o777) == "0o600"
    assert bot.stop()[0] == 0


# --- SIGHUP --------------------------------------------------------------

def staff_names(sock_path):
    """The staff the running bot knows, asked over its admin socket."""
    import json
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as c:
        c.settimeout(5)
        c.connect(sock_path)
        c.sendall(b'{"id":1,"op":"complete","kind":"staff"}\n')
        data = b""
        while not data.endswith(b"\n"):
            data += c.recv(65536)
    return sorted(json.loads(data)["items"])


def test_sighup_reloads_staff_and_a_broken_file_keeps_the_old_config(tmp):
    sock = os.path.join(tmp, "vigil.sock")
    cfg = write_config(tmp, log_level="info", staff=STAFF)
    bot = Bot(tmp, cfg)
    bot.wait_started()
    assert staff_names(sock) == ["alice", "local"]
    # a new teammate: no restart, the same process keeps its connections
    write_config(tmp, log_level="info", staff=dict(STAFF, U9={"name": "Zed New", "role": "admin"}),
                 channels={"escalations": "#new-escalations"})
    bot.proc.send_signal(signal.SIGHUP)
    wait_for(lambda: 'msg="config reloaded"' in bot.stderr(), 10, "the reload", bot)
    assert staff_names(sock) == ["alice", "local", "zed"]
    assert "needs_restart" not in bot.stderr()

    # a broken file: the running config stays, the log and the admins hear why
    with open(cfg, "a") as f:
        f.write("sla = { first_resp = 10 }\n")
    bot.proc.send_signal(signal.SIGHUP)
    wait_for(lambda: "config not reloaded" in bot.stderr(), 10, "the refusal", bot)
    assert "unknown key 'sla.first_resp'" in bot.stderr()
    wait_for(lambda: "was NOT reloaded" in bot.stdout(), 5, "the console notice", bot)
    assert staff_names(sock) == ["alice", "local", "zed"]
    # a key read only at start is named, not silently ignored
    write_config(tmp, log_level="info", staff=STAFF, command="/support")
    bot.proc.send_signal(signal.SIGHUP)
    wait_for(lambda: "take effect only at restart" in bot.stderr(), 10, "the restart note", bot)
    assert "keys=command" in bot.stderr()
    assert staff_names(sock) == ["alice", "local"]
    assert bot.alive()
    assert bot.stop()[0] == 0


# --- systemd ---------------------------------------------------------------

def test_notify_socket_gets_ready_status_and_a_watchdog_that_stops_without_slack(tmp):
    fs = fake_slack()
    ns = NotifySocket(tmp)
    try:
        cfg = write_config(tmp, chat="slack", staff=STAFF, channels=CHANNELS,
                           slack=slack_keys(fs))
        bot = Bot(tmp, cfg, env=dict(TOKENS, NOTIFY_SOCKET=ns.path, WATCHDOG_USEC="1000000"))
        bot.wait_started()
        fs.wait_connected()
        wait_for(lambda: ns.lines("READY=1"), 10, "READY=1", bot)
        wait_for(lambda: any("chat connected" in s for s in ns.lines("STATUS=")), 10,
                 "STATUS=", bot)
        assert any("tickets open; outbox" in s for s in ns.lines("STATUS="))
        wait_for(lambda: len(ns.lines("WATCHDOG=1")) >= 3, 10, "watchdog pings", bot)

        # systemctl reload: the Socket Mode link stays up, systemd hears RELOADING
        opens = len([c for c in fs.calls if c["method"] == "apps.connections.open"])
        bot.proc.send_signal(signal.SIGHUP)
        wait_for(lambda: 'msg="config reloaded"' in bot.stderr(), 10, "the reload", bot)
        wait_for(lambda: ns.lines("RELOADING=1"), 5, "RELOADING=1", bot)
        time.sleep(0.5)
        assert len([c for c in fs.calls if c["method"] == "apps.connections.open"]) == opens
        assert len(fs.connections()) == 1

        fs.stop()   # Slack goes away; vigil keeps retrying (give_up_after 0)
        wait_for(lambda: "watchdog is no longer fed" in bot.stderr(), 20,
                 "the watchdog to stop", bot)
        ns.drain()   # pings sent before the log line are stamped now, not later
        quiet_from = time.monotonic()
        time.sleep(2.5)
        assert ns.since(quiet_from, "WATCHDOG=1") == [], "pinged while disconnected"
        assert any("NOT connected" in s for s in ns.lines("STATUS="))
        assert bot.alive()
        assert bot.stop()[0] == 0
        assert ns.lines("STOPPING=1")
    finally:
        fs.stop()
        ns.close()


def test_under_journald_each_line_carries_its_priority(tmp):
    cfg = write_config(tmp, log_level="info", replay={"file": os.path.join(tmp, "absent.jsonl")})
    log = os.path.join(tmp, "j.log")
    with open(log, "wb") as f:
        st = os.fstat(f.fileno())
        r = subprocess.run([vigil_path(), "run", "-c", cfg], stdout=subprocess.DEVNULL, stderr=f,
                           env=dict(os.environ, JOURNAL_STREAM=f"{st.st_dev}:{st.st_ino}"),
                           timeout=20)
    text = open(log).read()
    assert r.returncode == 1
    lines = [line for line in text.splitlines() if line]
    assert lines and all(line[:3] in ("<7>", "<6>", "<4>", "<3>", "<2>") for line in lines), text
    assert any(line.startswith("<3>ts=") and "level=error" in line for line in lines), text
    # not journald's stream (redirected elsewhere): no prefixes
    r = subprocess.run([vigil_path(), "run", "-c", cfg], capture_output=True, text=True,
                       env=dict(os.environ, JOURNAL_STREAM="1:1"), timeout=20)
    assert r.stderr.startswith("ts="), r.stderr


# --- REPL ------------------------------------------------------------------

def test_repl_finds_the_socket_without_secrets_and_e_fails_when_a_command_fails(tmp):
    sock = os.path.join(tmp, "vigil.sock")
    # the production config reads its tokens with env(); the operator's shell has none
    cfg = write_config(tmp, staff=STAFF,
                       reply={"signature": Raw('env("VIGIL_SIGNATURE_UNSET_HERE")')})
    bot = Bot(tmp, cfg, env={"VIGIL_SIGNATURE_UNSET_HERE": " ^{initials}"})
    bot.wait_started()
    wait_for(lambda: replay_done(os.path.join(tmp, "vigil.db")), 20, "the replay", bot)
    env = {k: v for k, v in os.environ.items() if k != "VIGIL_SIGNATURE_UNSET_HERE"}

    def repl(*args):
        return subprocess.run([vigil_path(), "repl", *args], capture_output=True, text=True,
                              timeout=20, env=env)

    r = repl("-c", cfg, "-e", ":status")
    assert r.returncode == 0 and "uptime" in r.stdout, r.stderr
    r = repl("--socket", sock, "-e", "/tw help")
    assert r.returncode == 0 and "assign" in r.stdout, r.stderr
    r = repl("--socket", sock, "-e", "/tw frobnicate 1")
    assert r.returncode == 1 and "Unknown command" in r.stdout
    r = repl("--socket", sock, "-e", "/tw close 99999")
    assert r.returncode == 1, r.stdout                       # the script failed (no ticket)
    r = repl("--socket", sock, "-e", "/tw close 1", "-e", "/tw close 1")
    assert r.returncode == 1, r.stdout                       # the second one fails
    r = repl("--socket", os.path.join(tmp, "nothing.sock"), "-e", ":status")
    assert r.returncode == 1 and "no bot is running" in r.stderr
    assert bot.stop()[0] == 0


def test_repl_completes_staff_names_after_at(tmp):
    import shutil
    from test_admin import Tmux
    if not shutil.which("tmux"):
        raise AssertionError("tmux is not installed (make deps installs it)")
    sock = os.path.join(tmp, "vigil.sock")
    cfg = write_config(tmp, staff=STAFF)
    bot = Bot(tmp, cfg)
    bot.wait_started()
    t = Tmux(tmp, f"svcrepl{os.getpid()}")
    try:
        t.start(f"{vigil_path()} repl --socket {sock}",
                {"XDG_STATE_HOME": os.path.join(tmp, "state"), "NO_COLOR": "1", "TERM": "xterm"})
        t.wait("vigil>")
        t.keys("/tw assign 1 @ali", "Tab")
        t.wait("vigil> /tw assign 1 @alice")
        t.keys("C-u", "C-d")
    finally:
        t.kill()
    assert bot.stop()[0] == 0


# --- check-config ------------------------------------------------------------

def test_check_config_exits_2_naming_each_shape_problem(tmp):
    sdir = os.path.join(tmp, "scripts")
    os.mkdir(sdir)
    with open(os.path.join(sdir, "wipe.lua"), "w") as f:
        f.write('return command { role = "admin", run = function() return "wiped" end }\n')
    cfg = write_config(tmp, chat="slack", staff={"alice": {"name": "Alice"}},
                       scripts={"dir": sdir},
                       channels={"mentions": "#support", "escalations": "C0123ABCD"},
                       slack={"app_token": "xoxb-wrong", "bot_token": "xoxb-ok"},
                       x={"handle": "@AcmeSupport"})
    r = run_cli("check-config", "-c", cfg)
    assert r.returncode == 2, r.stdout + r.stderr
    for want in ("slack.app_token must be an app-level token", "channels.mentions must be a "
                 "Slack channel id", 'staff key "alice"', "x.handle must be the handle without",
                 "unknown key 'role'", "5 problems"):
        assert want in r.stderr, (want, r.stderr)
    assert "xoxb-wrong" not in r.stderr
    r = run_cli("check-config", "-c", os.path.join(ROOT, "config", "vigil.lua"))
    assert r.returncode == 0, r.stderr


# --- install -----------------------------------------------------------------

def test_make_install_lays_out_the_tree_the_unit_verifies_and_man_renders(tmp):
    import shutil
    dest = os.path.join(tmp, "dest")
    build = os.environ.get("VIGIL_BUILD", os.path.join(ROOT, "build"))
    r = subprocess.run(["make", "--no-print-directory", "-C", ROOT, "install", f"DESTDIR={dest}",
                        "PREFIX=/usr", f"BUILD={os.path.relpath(build, ROOT)}"],
                       capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stdout + r.stderr
    for f, mode in (("usr/bin/vigil", 0o755), ("usr/share/vigil/scripts/assign.lua", 0o644),
                    ("usr/share/vigil/scripts/hooks/sla.lua", 0o644),
                    ("usr/share/vigil/lua/vigil/text.lua", 0o644),
                    ("etc/vigil/vigil.lua", 0o644),
                    ("usr/lib/systemd/system/vigil.service", 0o644),
                    ("usr/share/man/man1/vigil.1", 0o644)):
        p = os.path.join(dest, f)
        assert os.path.isfile(p), f
        assert os.stat(p).st_mode & 0o777 == mode, (f, oct(os.stat(p).st_mode))
    unit = open(os.path.join(dest, "usr/lib/systemd/system/vigil.service")).read()
    assert "ExecStart=/usr/bin/vigil run -c /etc/vigil/vigil.lua" in unit
    assert "Type=notify" in unit and "WatchdogSec=" in unit and "@BINDIR@" not in unit and "@SYSCONFDIR@" not in unit
    conf = open(os.path.join(dest, "etc/vigil/vigil.lua")).read()
    assert '"/usr/share/vigil/scripts"' in conf and "@DATADIR@" not in conf
    # an installed config is never overwritten
    with open(os.path.join(dest, "etc/vigil/vigil.lua"), "a") as f:
        f.write("-- edited by the admin\n")
    r = subprocess.run(["make", "--no-print-directory", "-C", ROOT, "install", f"DESTDIR={dest}",
                        "PREFIX=/usr", f"BUILD={os.path.relpath(build, ROOT)}"],
                       capture_output=True, text=True, timeout=300)
    assert r.returncode == 0 and "edited by the admin" in open(
        os.path.join(dest, "etc/vigil/vigil.lua")).read()

    # man renders the page
    r = subprocess.run(["man", "-l", os.path.join(dest, "usr/share/man/man1/vigil.1")],
                       capture_output=True, text=True, timeout=30,
                       env=dict(os.environ, MANPAGER="cat", MANWIDTH="80"))
    assert r.returncode == 0 and "VIGIL(1)" in r.stdout and "EXIT STATUS" in r.stdout, r.stderr

    # systemd-analyze verify accepts the unit (ExecStart pointed at the tree's binary)
    if not shutil.which("systemd-analyze"):
        raise AssertionError("systemd-analyze is not installed (make deps installs systemd)")
    vdir = os.path.join(tmp, "verify")
    os.mkdir(vdir)
    with open(os.path.join(vdir, "vigil.service"), "w") as f:
        f.write(unit.replace("/usr/bin/vigil", os.path.join(dest, "usr/bin/vigil")))
    r = subprocess.run(["systemd-analyze", "verify", "--man=no",
                        os.path.join(vdir, "vigil.service")],
                       capture_output=True, text=True, timeout=60)
    assert r.returncode == 0 and "vigil.service" not in r.stderr, r.stderr


# --- doctor ------------------------------------------------------------------

def doctor(tmp, fs, fx, env=None, staff=STAFF, channels=CHANNELS, **x):
    cfg = write_config(tmp, chat="slack", source="x", staff=staff, channels=channels,
                       slack=slack_keys(fs),
                       x=dict({"api_url": fx.api_url, "handle": "AcmeSupport",
                               "bearer_token": Raw('env("X_BEARER")'),
                               "oauth1": {"consumer_key": Raw('env("X_CK")'),
                                          "consumer_secret": Raw('env("X_CS")'),
                                          "token": Raw('env("X_TK")'),
                                          "token_secret": Raw('env("X_TS")')}}, **x))
    e = dict(os.environ, NO_PROXY="127.0.0.1,localhost", **TOKENS)
    e.update(X_SECRETS)
    e.update(env or {})
    r = subprocess.run([vigil_path(), "doctor", "-c", cfg], capture_output=True, text=True,
                       timeout=60, env=e)
    for secret in list(TOKENS.values()) + list(X_SECRETS.values()) + list((env or {}).values()):
        assert secret not in r.stdout + r.stderr, "a secret in doctor's output"
    return r


def failures(r):
    """The FAIL lines, each with its fix."""
    return [line for line in r.stdout.splitlines() if line.startswith("FAIL") or "fix:" in line]


def test_doctor_passes_a_config_the_services_accept(tmp):
    fs, fx = fake_slack(), fake_x()
    try:
        r = doctor(tmp, fs, fx)
        assert r.returncode == 0, r.stdout + r.stderr
        for want in ("ok    slack.app_token opens Socket Mode", "ok    slack.bot_token is a valid",
                     "(#mentions): the bot is a member", "the bot token has the scopes",
                     "staff U1 (Alice Jensen) is a workspace member",
                     f"X has an account @AcmeSupport, user id {BRAND}",
                     "x.oauth1 acts as @AcmeSupport", "X rate-limit budget", "checks passed"):
            assert want in r.stdout, (want, r.stdout)
        assert not failures(r)
        assert [c for c in fs.calls if c["method"] == "conversations.info"]
        assert not fs.errors and not fx.errors, (fs.errors, fx.errors)
    finally:
        fs.stop()
        fx.stop()


def test_doctor_names_each_slack_failure_with_its_fix(tmp):
    fs, fx = fake_slack(), fake_x()
    try:
        # a token of the wrong type, and a revoked bot token
        r = doctor(tmp, fs, fx, env={"SLACK_APP_TOKEN": "xoxb-not-an-app-token",
                                     "SLACK_BOT_TOKEN": "xoxb-revoked"})
        assert r.returncode == 1, r.stdout + r.stderr
        out = "\n".join(failures(r))
        assert "FAIL  slack.app_token opens Socket Mode: not an xapp- token" in out, r.stdout
        assert "FAIL  slack.bot_token is a valid bot token: invalid_auth" in out, r.stdout
        assert "fix: create an app-level token with the connections:write scope" in out

        # a missing scope, a channel the bot left, a channel that does not exist, a stranger
        fs.scopes = [s for s in FakeSlack.BOT_SCOPES if s != "channels:history"]
        fs.remove_bot("C_ESCALATE")
        r = doctor(tmp, fs, fx, staff=dict(STAFF, U404={"name": "Nobody"}),
                   channels=dict(CHANNELS, mentions="C0NOSUCH"))
        assert r.returncode == 1
        out = "\n".join(failures(r))
        assert "the bot token has the scopes vigil uses; missing: channels:history" in out, out
        assert "fix: add the missing scopes under OAuth & Permissions" in out
        assert "channels.mentions C0NOSUCH exists: channel_not_found" in out, out
        assert "channels.escalations C_ESCALATE (#escalate): the bot is a member" in out, out
        assert "fix: in #escalate, type /invite @" in out
        assert "staff U404 (Nobody) is a workspace member: user_not_found" in out, out
        assert "Alice" not in out
        assert "4 of" in r.stdout and "checks failed" in r.stdout
    finally:
        fs.stop()
        fx.stop()


def test_doctor_names_each_x_failure_with_its_fix(tmp):
    fs, fx = fake_slack(), fake_x()
    try:
        r = doctor(tmp, fs, fx, env={"X_BEARER": "AAAA-revoked", "X_TS": "ts-wrong-secret"})
        assert r.returncode == 1
        out = "\n".join(failures(r))
        assert "FAIL  X accepts the read credential" in out, r.stdout
        assert "FAIL  x.oauth1 signs requests for replies and DMs" in out, r.stdout
        # what X would refuse, as the fake saw it: the point of this check
        assert any("unknown bearer token" in e for e in fx.errors), fx.errors
        assert any("bad OAuth 1.0a signature" in e for e in fx.errors), fx.errors
        fx.errors.clear()

        r = doctor(tmp, fs, fx, handle="NoSuchHandle")
        out = "\n".join(failures(r))
        assert r.returncode == 1 and "FAIL  X has an account @NoSuchHandle" in out, r.stdout
        assert "x.oauth1 acts as @AcmeSupport, not @NoSuchHandle" in out, r.stdout

        r = doctor(tmp, fs, fx, user_id="1234")
        out = "\n".join(failures(r))
        assert r.returncode == 1 and f'fix: set x.user_id = "{BRAND}"' in out, r.stdout

        fx.rate_limits = {"users": (1, 900)}
        r = doctor(tmp, fs, fx)
        out = "\n".join(failures(r))
        assert r.returncode == 1 and "X rate-limit budget for user lookups: 0 of 1 left" in out, \
            r.stdout
    finally:
        fs.stop()
        fx.stop()
