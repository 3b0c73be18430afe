"""End-to-end: the admin socket's line protocol and `vigil repl`, against a
running bot; the interactive REPL is driven in a real terminal (tmux)."""
import json
import os
import shutil
import socket
import stat
import subprocess
import threading
import time

from harness import ROOT, Bot, outbox_drained, query, replay_done, vigil_path, wait_for, \
    write_config


def start(tmp, **keys):
    cfg = write_config(tmp, **keys)
    dbp = os.path.join(tmp, "vigil.db")
    bot = Bot(tmp, cfg)
    wait_for(lambda: replay_done(dbp) and outbox_drained(dbp), 20, "replay", bot)
    return bot, cfg, dbp, os.path.join(tmp, "vigil.sock")


class Client:
    def __init__(self, path):
        self.s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.s.settimeout(10)
        self.s.connect(path)
        self.f = self.s.makefile("rwb")
        self.n = 0

    def send(self, obj):
        self.f.write(json.dumps(obj).encode() + b"\n")
        self.f.flush()

    def recv(self):
        line = self.f.readline()
        assert line, "the bot closed the connection"
        return json.loads(line)

    def call(self, op, **kw):
        self.n += 1
        self.send(dict(id=self.n, op=op, **kw))
        while True:
            msg = self.recv()
            if msg.get("id") == self.n:
                return msg

    def close(self):
        self.s.close()


def repl(cfg, *args, stdin=None, env=None):
    return subprocess.run([vigil_path(), "repl", "-c", cfg, *args], input=stdin, cwd=ROOT,
                          capture_output=True, text=True, timeout=30,
                          env=dict(os.environ, NO_COLOR="1", **(env or {})))


def test_socket_is_private_and_answers_the_line_protocol(tmp):
    bot, cfg, dbp, sock = start(tmp)
    assert stat.S_IMODE(os.stat(sock).st_mode) == 0o600
    c = Client(sock)
    assert c.call("ping") == {"id": 1, "ok": True}
    r = c.call("exec", line=":status")
    assert r["ok"] and "tickets     9 (30 mentions)" in r["text"], r
    r = c.call("exec", line="/tw assign 2 me")
    assert r["ok"] and "#2 is yours now" in r["text"], r
    r = c.call("exec", line=":nope")
    assert r["ok"] is False and "Unknown command" in r["text"]
    r = c.call("complete", kind="verbs")
    assert "reply" in r["items"] and "assign" in r["items"]
    r = c.call("complete", kind="tickets")
    assert "9" in r["items"]
    c.send_raw = c.f.write(b"{not json\n")
    c.f.flush()
    err = c.recv()
    assert err["ok"] is False and "not a JSON object" in err["error"], err
    assert c.call("ping")["ok"]            # still usable after garbage
    c.close()
    assert bot.stop()[0] == 0


def test_a_client_that_vanishes_mid_line_and_50_concurrent_clients(tmp):
    bot, cfg, dbp, sock = start(tmp)
    half = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    half.connect(sock)
    half.sendall(b'{"id":1,"op":"exec","line":":sta')
    half.close()
    results, errors = [], []

    def one(i):
        try:
            c = Client(sock)
            r = c.call("exec", line=f"/tw note 1 from client {i}")
            results.append(r["ok"])
            c.close()
        except Exception as e:  # noqa: BLE001
            errors.append(repr(e))
    threads = [threading.Thread(target=one, args=(i,)) for i in range(50)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert errors == [] and results == [True] * 50, (errors, results.count(True))
    assert query(dbp, "SELECT count(*) FROM events WHERE action='note'") == [(50,)]
    assert bot.alive()
    assert bot.stop()[0] == 0


def rss_kib(bot):
    with open(f"/proc/{bot.proc.pid}/status") as f:
        return next(int(line.split()[1]) for line in f if line.startswith("VmRSS:"))


def test_a_client_that_never_reads_is_held_then_dropped_and_others_are_answered(tmp):
    bot, cfg, dbp, sock = start(tmp)
    before = rss_kib(bot)
    hog = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    hog.connect(sock)
    hog.settimeout(0.2)
    burst = b'{"id":1,"op":"exec","line":":tickets"}\n' * 500
    stop = threading.Event()
    sent = [0]

    def flood():   # asks and asks, never reads an answer
        while not stop.is_set():
            try:
                hog.sendall(burst)
                sent[0] += len(burst)
            except socket.timeout:
                continue
            except OSError:
                return   # dropped: fine
    t = threading.Thread(target=flood)
    t.start()
    try:
        end = time.time() + 8
        while time.time() < end:
            c = Client(sock)
            t0 = time.time()
            r = c.call("exec", line=":status")
            took = time.time() - t0
            c.close()
            # under valgrind everything is 20-50x slower: answered is the claim there
            assert r["ok"] and (took < 1.5 or os.environ.get("VIGIL_WRAPPER")), (took, r)
            time.sleep(0.3)
        if "asan" not in os.environ.get("VIGIL_BUILD", "") and not os.environ.get("VIGIL_WRAPPER"):
            grown = rss_kib(bot) - before
            assert grown < 48 * 1024, f"RSS grew {grown} KiB while a client did not read"
    finally:
        stop.set()
        t.join(5)
        hog.close()
    assert "admin: a client is not reading its answers" in bot.stderr(), sent[0]
    assert bot.alive()
    assert bot.stop()[0] == 0


def test_a_half_line_left_idle_is_dropped(tmp):
    bot, cfg, dbp, sock = start(tmp, admin={"socket": os.path.join(tmp, "vigil.sock"),
                                             "idle_timeout": 1})
    half = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    half.connect(sock)
    half.settimeout(10)
    half.sendall(b'{"id":1,"op":"exec","line":":sta')
    t0 = time.time()
    rest = half.recv(4096)   # the bot's goodbye, then EOF
    while rest and b"\n" in rest and half.recv(4096):
        pass
    assert time.time() - t0 < 5, "an idle half line was kept"
    half.close()
    idle = Client(sock)   # a client with nothing pending may stay as long as it likes
    time.sleep(2.5)
    assert idle.call("exec", line=":status")["ok"]
    idle.close()
    assert bot.stop()[0] == 0


def must_refuse_to_start(cfg, want):
    r = subprocess.run([vigil_path(), "run", "-c", cfg], cwd=ROOT, capture_output=True,
                       text=True, timeout=15, env=dict(os.environ, NO_COLOR="1"))
    assert r.returncode == 1 and want in r.stderr, (r.returncode, r.stderr[-2000:])


def test_a_regular_file_at_the_socket_path_is_kept_and_the_bot_says_why(tmp):
    path = os.path.join(tmp, "vigil.sock")
    with open(path, "w") as f:
        f.write("precious\n")
    must_refuse_to_start(write_config(tmp), 'is not a socket')
    assert open(path).read() == "precious\n"


def test_a_socket_directory_others_can_write_is_refused(tmp):
    shared = os.path.join(tmp, "shared")
    os.mkdir(shared)
    os.chmod(shared, 0o777)
    cfg = write_config(tmp, admin={"socket": os.path.join(shared, "vigil.sock")})
    must_refuse_to_start(cfg, "others can write")
    assert not os.path.exists(os.path.join(shared, "vigil.sock"))


def test_a_stale_socket_left_by_a_crash_is_replaced(tmp):
    path = os.path.join(tmp, "vigil.sock")
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.bind(path)      # bound, never listening: what a killed bot leaves
    s.close()
    bot, cfg, dbp, sock = start(tmp)
    c = Client(sock)
    assert c.call("ping")["ok"]
    c.close()
    assert bot.stop()[0] == 0


def test_another_user_is_refused(tmp):
    if os.getuid() != 0:
        return   # only root can become another uid to try
    bot, cfg, dbp, sock = start(tmp)
    os.chmod(tmp, 0o755)
    os.chmod(sock, 0o666)   # even with the file opened up, the uid check holds
    # The bot answers and closes as soon as it has checked the peer, which
    # may be before or after the client writes: a write that meets the closed
    # socket is part of the refusal, not a failure of the test.  Whatever the
    # order, the client reads the refusal and nothing else.
    code = """
import socket, sys
s = socket.socket(socket.AF_UNIX)
s.connect(sys.argv[1])
try:
    s.sendall(b'{"id":1,"op":"ping"}\\n')
except (BrokenPipeError, ConnectionResetError):
    pass
got = b""
try:
    while True:
        chunk = s.recv(4096)
        if not chunk:
            break
        got += chunk
except ConnectionResetError:
    pass
sys.stdout.write(got.decode())
"""
    r = subprocess.run(["python3", "-c", code, sock], capture_output=True, text=True,
                       timeout=10, preexec_fn=lambda: os.setuid(65534))
    assert r.returncode == 0, (r.stdout, r.stderr)
    lines = r.stdout.splitlines()
    assert len(lines) == 1 and "refused" in lines[0] and '"ok":false' in lines[0].replace(" ", ""), \
        (r.stdout, r.stderr)
    assert "admin: refused a client of another user" in bot.stderr()
    assert bot.stop()[0] == 0


def test_repl_scripts_with_e_and_stdin_and_exit_status(tmp):
    bot, cfg, dbp, sock = start(tmp)
    r = repl(cfg, "-e", ":status")
    assert r.returncode == 0 and "uptime" in r.stdout, r
    r = repl(cfg, "-e", ":inject @eve my parcel is lost", "-e", ":tickets open")
    assert r.returncode == 0, r
    assert "Injected @eve: ticket #10" in r.stdout and "@eve" in r.stdout.split("#10 ")[-1]
    r = repl(cfg, stdin=":show 10\n/tw assign 10 me\n:bogus\n")
    assert r.returncode == 1, r
    assert "injected" in r.stdout and "#10 is yours now" in r.stdout
    events = [a for (a,) in query(dbp, "SELECT detail FROM events WHERE ticket_id=10 "
                                       "AND action='opened'")]
    assert events == ["@eve: my parcel is lost (injected)"], events
    r = repl(cfg, "-e", ":lua 6*7")
    assert r.stdout.strip() == "42"
    assert bot.stop()[0] == 0
    r = repl(cfg, "-e", ":status")
    assert r.returncode == 1 and "no bot is running" in r.stderr and "make run" in r.stderr


def test_a_teammate_typed_the_slack_way_at_the_repl_is_the_teammate_slack_would_mean(tmp):
    staff = {"U2": {"name": "Bob Okafor", "initials": "BO", "role": "agent"}}
    bot, cfg, dbp, sock = start(tmp, staff=staff)
    r = repl(cfg, "-e", "/tw assign 1 <@U2|bobby>", "-e", "/tw assign 2 <@U2>")
    assert r.returncode == 0, r
    assert "#1 is now Bob Okafor's." in r.stdout and "#2 is now Bob Okafor's." in r.stdout, r
    assert query(dbp, "SELECT assignee FROM tickets WHERE id IN (1, 2)") == [("U2",), ("U2",)]
    assert bot.stop()[0] == 0


def test_repl_never_prints_terminal_control_sequences_from_outside_text(tmp):
    bot, cfg, dbp, sock = start(tmp)
    evil = "hi \x1b[2J\x1b]52;c;ZXZpbA==\x07 \u2067rtl\u2069 \u202eover \x9b31m"
    r = repl(cfg, "-e", ":inject @eve " + evil, "-e", ":show 10", "-e", ":tickets open",
             "-e", ':lua "\\27]52;c;ZXZpbA==\\7\\27[2J"')
    assert r.returncode == 0, r
    assert "Injected @eve: ticket #10" in r.stdout and "rtl" in r.stdout, r.stdout
    for bad in ("\x1b", "\x07", "\x9b", "\u2066", "\u2067", "\u2068", "\u2069", "\u202e"):
        assert bad not in r.stdout, (bad, r.stdout)
    # the store keeps what was typed
    (text,), = query(dbp, "SELECT text FROM tickets WHERE id=10")
    assert "\x1b]52;" in text
    assert bot.stop()[0] == 0


def test_tail_streams_mentions_commands_and_outbox_results(tmp):
    bot, cfg, dbp, sock = start(tmp)
    c = Client(sock)
    assert c.call("tail", on=True)["ok"]
    other = Client(sock)
    other.call("exec", line=":inject @tailer hello there")
    other.call("exec", line="/tw note 10 watching")
    kinds = set()
    deadline = time.time() + 10
    while {"mention", "command", "outbox"} - kinds and time.time() < deadline:
        msg = c.recv()
        if msg.get("event") == "tail":
            kinds.add(msg["kind"])
    assert {"mention", "command", "outbox"} <= kinds, kinds
    c.close()
    other.close()
    assert bot.stop()[0] == 0


# --- a real terminal -------------------------------------------------------

class Tmux:
    def __init__(self, tmp, name):
        self.name, self.tmp = name, tmp

    def run(self, *args):
        return subprocess.run(["tmux", "-L", "vigil-test", *args], capture_output=True,
                              text=True, timeout=10)

    def start(self, cmd, env):
        exports = " ".join(f"{k}={v}" for k, v in env.items())
        self.run("new-session", "-d", "-s", self.name, "-x", "160", "-y", "40",
                 f"env {exports} {cmd}")

    def keys(self, *keys):
        self.run("send-keys", "-t", self.name, *keys)

    def screen(self):
        return self.run("capture-pane", "-p", "-t", self.name).stdout

    def wait(self, text, timeout=10):
        try:
            wait_for(lambda: text in self.screen(), timeout, f"{text!r} on the screen")
        except AssertionError as e:
            raise AssertionError(f"{e}; the screen:\n{self.screen()}") from None

    def kill(self):
        self.run("kill-session", "-t", self.name)


def test_repl_in_a_terminal_completes_remembers_and_runs_commands(tmp):
    if not shutil.which("tmux"):
        raise AssertionError("tmux is not installed (make deps installs it)")
    sdir, ldir = os.path.join(tmp, "scripts"), os.path.join(tmp, "lua")
    shutil.copytree(os.path.join(ROOT, "scripts"), sdir)
    shutil.copytree(os.path.join(ROOT, "lua"), ldir)
    bot, cfg, dbp, sock = start(tmp, scripts={"dir": sdir, "lib": ldir})
    env = {"XDG_STATE_HOME": os.path.join(tmp, "state"), "NO_COLOR": "1", "TERM": "xterm"}
    t = Tmux(tmp, f"repl{os.getpid()}")
    try:
        t.start(f"{vigil_path()} repl -c {cfg}", env)
        t.wait("vigil>")
        t.keys("/tw assi", "Tab")
        t.wait("vigil> /tw assign")   # capture-pane drops the trailing space
        t.keys("9 me", "Enter")
        t.wait("#9 is yours now")
        t.keys(":sh", "Tab")
        t.wait("vigil> :show")
        t.keys("C-u")
        t.keys(":inject @tmuxer help me please", "Enter")
        t.wait("Injected @tmuxer: ticket #10")
        t.keys(":tickets", "Enter")
        t.wait("@tmuxer")
        t.keys(":show 1", "Tab", "Tab")            # 1 and 10: both offered
        t.wait("10")
        t.keys("C-u")
        with open(os.path.join(sdir, "ping.lua"), "w") as f:
            f.write('return command { usage = "ping", help = "pong", run = function() '
                    'return "pong" end }\n')
        time.sleep(0.5)
        t.keys("/tw pin", "Tab")
        t.wait("vigil> /tw ping")
        t.keys("Enter")
        t.wait("pong")
        t.keys("C-d")
        time.sleep(0.5)
        t.kill()
        # history survives a restart of the REPL
        t.start(f"{vigil_path()} repl -c {cfg}", env)
        t.wait("vigil>")
        t.keys("Up")
        t.wait("vigil> /tw ping")
        t.keys("C-c")                              # Ctrl-C clears the line, stays
        time.sleep(0.3)
        t.keys(":status", "Enter")
        t.wait("uptime")
    finally:
        t.kill()
    assert query(dbp, "SELECT assignee FROM tickets WHERE id=9") == [("local-admin",)]
    assert bot.stop()[0] == 0


def test_repl_prints_an_answer_longer_than_64_kib(tmp):
    # the REPL once read into a fixed 64 KiB buffer and silently dropped a
    # longer line: it then waited for that answer forever
    bot, cfg, dbp, sock = start(tmp)
    r = repl(cfg, "-e", ':lua string.rep("ab", 60000)')
    assert r.returncode == 0, (r.returncode, r.stderr[-500:])
    assert r.stdout.count("ab") == 60000, len(r.stdout)
    assert bot.stop()[0] == 0
