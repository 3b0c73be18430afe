"""End-to-end: a store that fails (issue 14) -- deleted under the bot, not a
database, locked while X is walked -- and a walk longer than the page cap:
the bot stops loudly, never re-walks X for a store failure, and never moves
its cursor past a mention it did not store."""
import os
import shutil
import sqlite3
import subprocess
import time

from harness import SAMPLE, Bot, outbox_drained, query, replay_done, vigil_path, wait_for, write_config
from test_x import add_customers, fake, start, tickets


def test_a_store_deleted_while_running_stops_the_bot_with_exit_1(tmp):
    cfg = write_config(tmp)
    bot = Bot(tmp, cfg)
    bot.wait_started()
    os.unlink(os.path.join(tmp, "vigil.db"))
    rc = bot.proc.wait(10)
    assert rc == 1, rc
    log = bot.stderr()
    assert "the store is gone" in log and "the file was deleted" in log, log[-2000:]
    assert os.path.join(tmp, "vigil.db") in log


def test_a_store_that_is_not_sqlite_is_refused_at_start_naming_the_path(tmp):
    path = os.path.join(tmp, "vigil.db")
    with open(path, "w") as f:
        f.write("not a database\n" * 500)
    cfg = write_config(tmp)
    r = subprocess.run([vigil_path(), "run", "-c", cfg], capture_output=True, text=True,
                       timeout=20, stdin=subprocess.DEVNULL)
    assert r.returncode == 1, r
    assert f"path={path}" in r.stderr and "not a database" in r.stderr, r.stderr
    assert "vigil started" not in r.stderr


def test_a_locked_store_keeps_the_pages_read_and_does_not_rewalk_x(tmp):
    fx = fake()
    try:
        add_customers(fx, 2)
        bot, dbp = start(tmp, fx)
        wait_for(lambda: len(tickets(dbp)) == 2, 20, "2 tickets", bot)
        con = sqlite3.connect(dbp, isolation_level=None, timeout=5)
        con.execute("BEGIN IMMEDIATE")            # another program holds the write lock
        more = add_customers(fx, 3, start=2)
        n0 = len([r for r in fx.requests if r["path"].endswith("/mentions")])
        time.sleep(4)
        during = [r for r in fx.requests if r["path"].endswith("/mentions")][n0:]
        assert len(during) <= 2, f"{len(during)} walks of X while the store was locked"
        assert "keeping the pages read and retrying the store" in bot.stderr()
        con.execute("ROLLBACK")
        con.close()
        wait_for(lambda: len(tickets(dbp)) == 5, 30, "the kept mentions stored", bot)
        assert tickets(dbp)[2:] == more
        after = [r for r in fx.requests if r["path"].endswith("/mentions")][n0:]
        assert len(after) - len(during) <= 3, "the walk was repeated after the store came back"
        assert fx.errors == [], fx.errors
        assert bot.stop()[0] == 0
    finally:
        fx.stop()


def test_a_walk_longer_than_the_page_cap_stores_everything_and_never_skips(tmp):
    fx = fake()
    try:
        add_customers(fx, 3)
        # reach 10 with 5 a page: a stretch of 4 pages (20 mentions) at most
        bot, dbp = start(tmp, fx, max_results=5, reach=10)
        wait_for(lambda: len(tickets(dbp)) == 3, 20, "3 tickets", bot)
        more = add_customers(fx, 57, start=3)
        wait_for(lambda: len(tickets(dbp)) == 60, 60, "all 60 tickets", bot)
        assert sorted(tickets(dbp)[3:], key=int) == sorted(more, key=int)
        assert query(dbp, "SELECT count(*), count(DISTINCT id) FROM mentions") == [(60, 60)]
        wait_for(lambda: query(dbp, "SELECT value FROM cursors WHERE source='x'")
                 == [(more[-1],)], 20, "the cursor at the newest mention", bot)
        assert "it goes on where it stopped" in bot.stderr()
        assert fx.errors == [], fx.errors
        assert bot.stop()[0] == 0
    finally:
        fx.stop()


def test_a_store_failing_for_a_while_tells_the_admins_once_and_status_shows_it(tmp):
    dbp = os.path.join(tmp, "vigil.db")
    cfg = write_config(tmp, store={"path": dbp, "alert_after": 2},
                       replay={"file": SAMPLE, "interval": 0.5})
    bot = Bot(tmp, cfg)
    bot.wait_started()
    con = sqlite3.connect(dbp, isolation_level=None, timeout=5)
    con.execute("BEGIN IMMEDIATE")                # another program holds the write lock
    try:
        wait_for(lambda: "vigil cannot write its store" in bot.stdout(), 15,
                 "the admins told", bot)
        r = subprocess.run([vigil_path(), "repl", "-c", cfg, "-e", ":status"],
                           capture_output=True, text=True, timeout=20)
        assert "store" in r.stdout and "FAILING" in r.stdout, r.stdout
        time.sleep(2.5)                           # still failing: nobody is told twice
        assert bot.stdout().count("vigil cannot write its store") == 1, bot.stdout()[-2000:]
    finally:
        con.execute("ROLLBACK")
        con.close()
    wait_for(lambda: replay_done(dbp) and outbox_drained(dbp), 30, "the replay stored", bot)
    assert query(dbp, "SELECT count(*) FROM tickets") == [(9,)]
    r = subprocess.run([vigil_path(), "repl", "-c", cfg, "-e", ":status"],
                       capture_output=True, text=True, timeout=20)
    assert "FAILING" not in r.stdout, r.stdout
    assert bot.stop()[0] == 0


def test_a_store_the_bot_cannot_write_is_refused_at_start_naming_the_path(tmp):
    if os.getuid() != 0:
        return   # only root can run the bot as a user who cannot write the file
    dbp = os.path.join(tmp, "vigil.db")
    con = sqlite3.connect(dbp)
    con.execute("CREATE TABLE t (x)")
    con.close()
    os.chmod(dbp, 0o644)                          # root's file: read-only to nobody
    run_dir = os.path.join(tmp, "run")
    os.mkdir(run_dir, 0o700)
    os.chown(run_dir, 65534, 65534)
    os.chmod(tmp, 0o755)
    cfg = write_config(tmp, admin={"socket": os.path.join(run_dir, "vigil.sock")})
    os.chmod(cfg, 0o644)
    # a copy of the binary nobody can run (the clone may sit in a private
    # directory); the store is refused before anything else of the tree is read
    exe = os.path.join(tmp, "vigil")
    shutil.copy(vigil_path(), exe)
    os.chmod(exe, 0o755)
    r = subprocess.run([exe, "run", "-c", cfg], capture_output=True, text=True,
                       timeout=20, stdin=subprocess.DEVNULL, cwd=tmp,
                       preexec_fn=lambda: os.setuid(65534))
    assert r.returncode == 1, (r.returncode, r.stderr[-2000:])
    assert dbp in r.stderr and "needs a writable SQLite database" in r.stderr, r.stderr[-2000:]
    assert "vigil started" not in r.stderr
