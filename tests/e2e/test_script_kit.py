"""End-to-end: the script author's kit with the real binary, in a copy of
the repository's scripts/ and lua/ as an admin would have them: vigil
new-command writes a command whose test passes under vigil test, refuses
to overwrite or to take a bad name, and a failing test fails the run with
the test file's line."""
import os
import shutil
import subprocess

from harness import ROOT, vigil_path


def kit(tmp, *args):
    return subprocess.run([vigil_path(), *args], cwd=tmp, capture_output=True, text=True,
                          timeout=60)


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
