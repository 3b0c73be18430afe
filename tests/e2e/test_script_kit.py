"""End-to-end: the script author's kit with the real binary, in a copy of
the repository's scripts/ and lua/ as an admin would have them: vigil
new-command writes a command whose test passes under vigil test, refuses
to overwrite or to take a bad name, and a failing test fails the run with
the test file's line."""
import json
import os
import shutil
import subprocess

from harness import ROOT, vigil_path


def kit(tmp, *args, env=None):
    return subprocess.run([vigil_path(), *args], cwd=tmp, capture_output=True, text=True,
                          timeout=60, env=dict(os.environ, **(env or {})))


def copy_scripts(tmp):
    shutil.copytree(os.path.join(ROOT, "scripts"), os.path.join(tmp, "scripts"),
                    ignore=shutil.ignore_patterns("tests"))
    shutil.copytree(os.path.join(ROOT, "lua"), os.path.join(tmp, "lua"))


def test_new_command_writes_a_command_whose_test_passes(tmp):
    copy_scripts(tmp)
    p = kit(tmp, "new-command", "snooze")
    assert p.returncode == 0, p.stderr
    assert "vigil test scripts/tests/snooze_test.lua" in p.stdout, p.stdout
    with open(os.path.join(tmp, "scripts", "snooze.lua")) as f:
        script = f.read()
    for part in ('usage = "snooze <ticket>"', "help  =", 'roles = "agent"'):
        assert part in script, script
    p = kit(tmp, "test", "scripts/tests/snooze_test.lua")
    assert p.returncode == 0, p.stdout + p.stderr
    assert p.stdout.rstrip().endswith("3 passed, 0 failed"), p.stdout


def test_new_command_refuses_to_overwrite_or_a_bad_name(tmp):
    copy_scripts(tmp)
    with open(os.path.join(tmp, "scripts", "assign.lua")) as f:
        before = f.read()
    p = kit(tmp, "new-command", "assign")
    assert p.returncode == 1 and "already exists" in p.stderr, (p.returncode, p.stderr)
    with open(os.path.join(tmp, "scripts", "assign.lua")) as f:
        assert f.read() == before
    assert not os.path.exists(os.path.join(tmp, "scripts", "tests", "assign_test.lua"))
    for bad in ("Snooze", "snooze!", "../evil", "hooks", "x" * 33):
        p = kit(tmp, "new-command", bad)
        assert p.returncode == 2 and "cannot be a command" in p.stderr, (bad, p.stderr)
    shipped = [n for n in os.listdir(os.path.join(ROOT, "scripts")) if n != "tests"]
    assert sorted(os.listdir(os.path.join(tmp, "scripts"))) == sorted(shipped)


def test_a_failing_script_test_names_its_line_and_fails_the_run(tmp):
    copy_scripts(tmp)
    assert kit(tmp, "new-command", "snooze").returncode == 0
    path = os.path.join(tmp, "scripts", "snooze.lua")
    with open(path) as f:
        script = f.read()
    with open(path, "w") as f:
        f.write(script.replace('"#%d: noted."', '"#%d: noted!"'))
    p = kit(tmp, "test")
    assert p.returncode == 1, p.stdout
    assert "scripts/tests/snooze_test.lua:8:" in p.stdout, p.stdout
    assert 'expected "#1: noted."' in p.stdout and 'got "#1: noted!"' in p.stdout, p.stdout
    assert p.stdout.rstrip().endswith("2 passed, 1 failed"), p.stdout


def test_record_journals_pages_and_commands_without_secrets_and_replay_reproduces_them(tmp):
    import stat
    from harness import Bot, Raw, outbox_drained, replay_done, wait_for, write_config
    jdir = os.path.join(tmp, "journal")
    secrets = {"X_BEARER": "AAAAbearer-secret-7f3a9c", "SLACK_BOT": "xoxb-secret-5521-bot"}
    cfg = write_config(tmp, record={"dir": jdir},
                       admin={"socket": os.path.join(tmp, "vigil.sock"), "user": "U1"},
                       staff={"U1": {"name": "Alice Jensen", "initials": "AJ", "role": "lead"}},
                       x={"handle": "AcmeSupport", "user_id": "1500000000000000001",
                          "bearer_token": Raw('env("X_BEARER")')},
                       slack={"bot_token": Raw('env("SLACK_BOT")'),
                              "app_token": "xapp-secret-literal-0042"})
    dbp = os.path.join(tmp, "vigil.db")
    bot = Bot(tmp, cfg, stdin=subprocess.PIPE, env=secrets)
    wait_for(lambda: replay_done(dbp) and outbox_drained(dbp), what="replay", bot=bot)
    for line, answer in (("/tw assign 1 me", "#1 is yours now"),
                         ("/tw reply 1 hello from the journal", "queued")):
        bot.proc.stdin.write(line.encode() + b"\n")
        bot.proc.stdin.flush()
        wait_for(lambda: answer in bot.stdout(), 10, answer, bot)
    # the admin socket's commands (vigil repl) and :inject are journaled too,
    # as the admin user; :inject from the console goes the same way
    for line, answer in (("/tw note 1 from the repl", "Note added to #1"),
                         (":inject @zed my parcel never came", "Injected @zed: ticket #")):
        r = kit(ROOT, "repl", "-c", cfg, "-e", line, env=secrets)
        assert r.returncode == 0 and answer in r.stdout, r.stdout + r.stderr
    bot.proc.stdin.write(b":inject @yan where is my refund\n")
    bot.proc.stdin.flush()
    wait_for(lambda: "Injected @yan" in bot.stdout(), 10, ":inject at the console", bot)
    rc, _ = bot.stop()
    assert rc == 0
    days = os.listdir(jdir)
    assert len(days) == 1 and days[0].endswith(".jsonl"), days
    path = os.path.join(jdir, days[0])
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    with open(path) as f:
        text = f.read()
    for secret in list(secrets.values()) + ["xapp-secret-literal-0042"]:
        assert secret not in text, f"{secret[:8]}… is in the journal"
    entries = [json.loads(l) for l in text.splitlines()]
    pages = [e for e in entries if e["kind"] == "page"]
    commands = [e for e in entries if e["kind"] == "command"]
    assert sum(len(p["mentions"]) for p in pages) == 32, len(pages)
    injected = [p["mentions"][0] for p in pages if p["source"] == "inject"]
    assert [(m["handle"], m["text"], m["injected"]) for m in injected] == [
        ("zed", "my parcel never came", True), ("yan", "where is my refund", True)], injected
    assert [(c["user"], c["raw"]) for c in commands] == [
        ("U1", "/tw assign 1 me"), ("U1", "/tw reply 1 hello from the journal"),
        ("U1", "/tw note 1 from the repl")]

    # replayed offline (the folder: every day in it), through the same scripts
    p = kit(ROOT, "replay", jdir, "--scripts", "scripts", "-c", cfg,
            "--out", os.path.join(tmp, "golden"), env=secrets)
    assert p.returncode == 0, p.stderr
    with open(os.path.join(tmp, "golden")) as f:
        transcript = f.read()
    assert "command U1: /tw assign 1 me\n    | #1 is yours now." in transcript, transcript
    assert "public reply to " in transcript and ": hello from the journal ^AJ\n" in transcript
    assert "command U1: /tw note 1 from the repl\n" in transcript, transcript
    assert transcript.count(" posted to #support: ") == 11, transcript
    assert "my parcel never came" in transcript and "where is my refund" in transcript
    p = kit(ROOT, "replay", path, "--scripts", "scripts", "-c", cfg,
            "--expect", os.path.join(tmp, "golden"), env=secrets)
    assert p.returncode == 0 and "matches" in p.stdout, p.stdout + p.stderr


def test_the_replay_source_reads_its_file_as_it_goes_not_whole(tmp):
    from harness import SAMPLE, Bot, query, wait_for, write_config
    # 40 MB of pages: the sample's first page, then empty pages padded out
    # (a big day); the bot must not hold the file in memory.
    big = os.path.join(tmp, "big.jsonl")
    with open(SAMPLE) as f:
        first = f.readline()
    pad = json.dumps({"data": [], "meta": {"result_count": 0}, "pad": "x" * 4000}) + "\n"
    with open(big, "w") as f:
        f.write(first)
        for _ in range(10_000):
            f.write(pad)
    assert os.path.getsize(big) > 40_000_000
    cfg = write_config(tmp, replay={"file": big, "interval": 0.2})
    dbp = os.path.join(tmp, "vigil.db")
    bot = Bot(tmp, cfg)
    wait_for(lambda: os.path.exists(dbp) and query(dbp, "SELECT count(*) FROM tickets")[0][0] == 3,
             what="the first page", bot=bot)
    bot.assert_rss_below(30)
    rc, _ = bot.stop()
    assert rc == 0
