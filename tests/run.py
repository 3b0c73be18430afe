#!/usr/bin/env python3
"""vigil's test runner: C unit tests, then end-to-end tests against the real
build/vigil.  Prints one line per test and a final `N passed, N failed`.

usage: python3 tests/run.py [--build DIR] [FILTER...]
"""
import argparse
import importlib.util
import os
import re
import subprocess
import sys
import tempfile
import time
import traceback

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def run_unit(build, filters):
    exe = os.path.join(build, "unit-tests")
    args = [exe] + filters[:1]
    print(f"== unit tests ({exe})", flush=True)
    env = dict(os.environ, VIGIL_ROOT=ROOT)
    p = subprocess.run(args, cwd=ROOT, env=env, stdout=subprocess.PIPE,
                       stderr=subprocess.STDOUT, text=True, errors="replace")
    out = p.stdout
    sys.stdout.write(out)
    m = re.search(r"^unit: (\d+) passed, (\d+) failed$", out, re.M)
    if not m:
        print(f"FAIL unit-tests: no summary line (exit {p.returncode})")
        return 0, 1
    passed, failed = int(m.group(1)), int(m.group(2))
    if p.returncode != 0 and failed == 0:
        print(f"FAIL unit-tests: exit {p.returncode} (crash or sanitizer report above)")
        failed = 1
    return passed, failed


def run_scripts(build, filters):
    """The shipped scripts' own Lua tests (scripts/tests/*_test.lua), run by
    `vigil test`; a FILTER keeps the test files whose name contains it."""
    exe = os.path.join(build, "vigil")
    files = sorted(f for f in os.listdir(os.path.join(ROOT, "scripts", "tests"))
                   if f.endswith("_test.lua") and (not filters or any(x in f for x in filters)))
    print(f"== script tests ({exe} test)", flush=True)
    passed = failed = 0
    if files:
        p = subprocess.run([exe, "test"] + [os.path.join("scripts", "tests", f) for f in files],
                           cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                           text=True, errors="replace")
        sys.stdout.write(p.stdout)
        m = re.search(r"^(\d+) passed, (\d+) failed$", p.stdout, re.M)
        if not m:
            print(f"FAIL vigil test: no summary line (exit {p.returncode})")
            failed = 1
        else:
            passed, failed = int(m.group(1)), int(m.group(2))
            if p.returncode != 0 and failed == 0:
                print(f"FAIL vigil test: exit {p.returncode} (crash or sanitizer report above)")
                failed = 1
    if not filters or any(x in "replay_golden" for x in filters):
        # The demo's sample day through the shipped scripts, against its
        # golden transcript (tests/fixtures/replay/make_journal.py says how
        # to regenerate both after a deliberate change of wording).
        fx = os.path.join("tests", "fixtures", "replay")
        p = subprocess.run([exe, "replay", os.path.join(fx, "sample-day.jsonl"), "--scripts",
                            "scripts", "-c", "config/vigil.lua", "--expect",
                            os.path.join(fx, "sample-day.golden")], cwd=ROOT,
                           stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                           errors="replace")
        if p.returncode == 0:
            print("ok   replay_golden: the sample day through scripts/ matches its transcript")
            passed += 1
        else:
            sys.stdout.write(p.stdout[-6000:])
            print(f"FAIL replay_golden (exit {p.returncode}); regenerate deliberately: "
                  f"{os.path.join(fx, 'make_journal.py')}")
            failed += 1
    return passed, failed


def run_fakes(filters):
    """The fakes' own self-tests: a fake that lies makes every e2e test lie."""
    print("== fake self-tests", flush=True)
    passed = failed = 0
    d = os.path.join(ROOT, "tests", "fakes")
    for name in sorted(os.listdir(d)):
        if not (name.startswith("test_") and name.endswith(".py")):
            continue
        if filters and not any(f in name for f in filters):
            continue
        p = subprocess.run([sys.executable, os.path.join(d, name)], cwd=ROOT,
                           stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                           errors="replace", timeout=300)
        m = re.search(r"^(\d+) passed, (\d+) failed$", p.stdout, re.M)
        if not m or p.returncode != 0:
            sys.stdout.write(p.stdout[-3000:])
            print(f"FAIL {name} (exit {p.returncode})")
            failed += 1 if not m else max(int(m.group(2)), 1)
            passed += int(m.group(1)) if m else 0
        else:
            print(f"ok   {name}: {m.group(0)}")
            passed += int(m.group(1))
    return passed, failed


def load_e2e():
    d = os.path.join(ROOT, "tests", "e2e")
    sys.path.insert(0, d)
    tests = []
    for name in sorted(os.listdir(d)):
        if not (name.startswith("test_") and name.endswith(".py")):
            continue
        spec = importlib.util.spec_from_file_location(name[:-3], os.path.join(d, name))
        mod = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(mod)
        for attr in dir(mod):
            if attr.startswith("test_") and callable(getattr(mod, attr)):
                fn = getattr(mod, attr)
                tests.append((name[:-3], attr, fn, fn.__code__.co_firstlineno))
    tests.sort(key=lambda t: (t[0], t[3]))
    return tests


def run_e2e(build, filters):
    print("== end-to-end tests", flush=True)
    os.environ["VIGIL_BUILD"] = os.path.abspath(os.path.join(ROOT, build))
    os.environ["VIGIL_ROOT"] = ROOT
    passed = failed = 0
    tests = load_e2e()
    import harness   # loaded by load_e2e's path; reaps bots a failed test left running
    sys.path.insert(0, os.path.join(ROOT, "tests", "fakes"))
    import strict    # the fakes started during a test, with what each refused
    for mod, name, fn, _ in tests:
        full = f"{mod}.{name}"
        if filters and not any(f in full for f in filters):
            continue
        with tempfile.TemporaryDirectory(prefix="vigil-e2e-") as tmp:
            t0 = time.monotonic()
            try:
                try:
                    fn(tmp)
                except Exception:
                    harness.reap()
                    for fake_name, errs in strict.take_violations():   # often the cause
                        print(f"   {fake_name} recorded: {errs[:5]}")
                    raise
                harness.reap()
                violations = strict.take_violations()
                # A request the real service would refuse fails the test even
                # when the test did not look (the fake answered it anyway).
                if violations:
                    raise AssertionError("the fakes recorded violations: " + "; ".join(
                        f"{fake_name}: {errs[:5]}" for fake_name, errs in violations))
            except Exception as e:  # noqa: BLE001 - every failure is reported
                failed += 1
                print(f"FAIL {full} ({time.monotonic() - t0:.1f}s): {e}")
                tb = traceback.format_exc().strip().splitlines()
                print("   " + "\n   ".join(tb[-6:]))
                for log in sorted(os.listdir(tmp)):
                    if log.endswith(".log") or log.endswith(".out"):
                        path = os.path.join(tmp, log)
                        lines = open(path, errors="replace").read().splitlines()
                        print(f"   --- {log} (last 15 lines)")
                        for line in lines[-15:]:
                            print("   " + line)
            else:
                passed += 1
                print(f"ok   {full} ({time.monotonic() - t0:.1f}s)", flush=True)
    return passed, failed


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--build", default="build")
    ap.add_argument("--only", choices=["unit", "scripts", "fakes", "e2e"])
    ap.add_argument("filters", nargs="*")
    a = ap.parse_args()
    passed = failed = 0
    if a.only in (None, "unit"):
        p, f = run_unit(a.build, a.filters)
        passed, failed = passed + p, failed + f
    if a.only in (None, "scripts"):
        p, f = run_scripts(a.build, a.filters if a.only else [])
        passed, failed = passed + p, failed + f
    if a.only in (None, "fakes") and a.build == "build":   # plain Python: once is enough
        p, f = run_fakes(a.filters if a.only else [])
        passed, failed = passed + p, failed + f
    if a.only in (None, "e2e"):
        p, f = run_e2e(a.build, a.filters)
        passed, failed = passed + p, failed + f
    print(f"{passed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
