"""lotse web's sessions and log-ins, in-process (starlette's TestClient, SQLite, no Redis):
a session ends on the server (log-out, password changed, user removed, idle), and guessing passwords is stopped
per account and per address, with a log line fail2ban can match."""

from __future__ import annotations

import asyncio
import io
import logging
import os
import re
import threading
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from starlette.requests import Request

from lotse.cli import main
from metrics.store import Store
from routing.model import Center
from runtime.process import LocalTimeFormatter
from tests.conftest import ROOT
from tests.test_web_outages import Cut
from tests.web_sessions_kit import IDLE, PASSWORD, Site, csrf_of, log_in, migrated_db, session_of
from web.logins import ADDRESS_LIMIT, USER_LIMIT, Locked, Logins, lock_for
from web.pages.wallboard import session_alive, stream
from web.sessions import OUTAGE_GRACE, TOUCH
from web.users import UsersFile, check_password


def fail2ban_filter() -> re.Pattern[str]:
    """The failregex of docs/security.md, its <HOST> as a named group (fail2ban's is stricter: an address or name)."""
    text = (ROOT / "docs/security.md").read_text(encoding="utf-8")
    regex = next(line.split("=", 1)[1].strip() for line in text.splitlines() if line.startswith("failregex ="))
    return re.compile(regex.replace("<HOST>", r"(?P<host>[0-9A-Fa-f.:]+)"))


@pytest.fixture(scope="module")
def migrated(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return migrated_db(tmp_path_factory.mktemp("migrated"))


@pytest.fixture
def site(example: Center, tmp_path: Path, migrated: Path) -> Site:
    return Site.make(example, tmp_path, migrated)


def test_a_cookie_saved_before_log_out_opens_nothing_after_it(site: Site) -> None:
    sabine = site.client()
    assert log_in(sabine, "sabine").status_code == 303
    saved = dict(sabine.cookies)
    token = csrf_of(sabine.get("/wallboard").text)
    assert sabine.get("/supervisor", follow_redirects=False).status_code == 200
    sabine.post("/logout", data={"csrf": token}, follow_redirects=False)
    replay = site.client(cookies=saved)
    assert replay.get("/supervisor", follow_redirects=False).headers["location"] == "/login?next=/supervisor"
    answer = replay.post("/supervisor/emergency", data={"csrf": token, "tenant": "minden", "emergency": "bombe", "on": "1"})
    assert answer.status_code == 401 and "Bitte zuerst anmelden." in answer.text


def test_a_user_removed_from_the_users_file_is_out_at_the_next_request(site: Site) -> None:
    sabine, vera = site.client(), site.client()
    log_in(sabine, "sabine"), log_in(vera, "vera")
    site.remove_user("sabine")
    assert sabine.get("/supervisor", follow_redirects=False).headers["location"] == "/login?next=/supervisor"
    assert log_in(site.client(), "sabine").status_code == 401
    assert vera.get("/wallboard", follow_redirects=False).status_code == 200  # the others stay in


def test_lotse_user_remove_takes_a_user_out_of_the_file_and_their_sessions_end(site: Site) -> None:
    sabine = site.client()
    log_in(sabine, "sabine")
    out = io.StringIO()
    assert main(["user", "sabine", "--users", str(site.users_file), "--remove"], out, environ={}) == 0
    assert out.getvalue() == f"{site.users_file}: sabine removed; lotse web ends their sessions at their next request\n"
    assert sabine.get("/wallboard", follow_redirects=False).status_code == 303
    assert main(["user", "sabine", "--users", str(site.users_file), "--remove"], out, environ={}) == 1
    assert out.getvalue().endswith(f"{site.users_file}: no user 'sabine' (known: anna, vera)\n")


def test_a_changed_password_ends_the_sessions_opened_with_the_old_one(site: Site) -> None:
    sabine = site.client()
    log_in(sabine, "sabine")
    site.set_password("sabine", "a-new-password-2026")
    assert sabine.get("/wallboard", follow_redirects=False).status_code == 303
    assert log_in(site.client(), "sabine").status_code == 401
    again = site.client()
    assert log_in(again, "sabine", "a-new-password-2026").status_code == 303
    assert again.get("/wallboard", follow_redirects=False).status_code == 200


def test_five_wrong_passwords_lock_the_account_and_the_right_one_is_refused_then(site: Site) -> None:
    for _ in range(5):
        assert log_in(site.client(), "sabine", "guess-guess-guess").status_code == 401
    locked = site.client()
    answer = log_in(locked, "sabine")
    assert answer.status_code == 429
    assert "Zu viele Fehlversuche" in answer.text and "erneut versuchen" in answer.text
    assert locked.get("/supervisor", follow_redirects=False).status_code == 303  # not logged in


def test_the_fail2ban_filter_matches_the_log_lines_with_the_address(site: Site, example: Center, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, "lotse.web")
    guesser = site.client(address="203.0.113.9")
    for _ in range(USER_LIMIT + 1):  # five failures, then a refusal
        log_in(guesser, "sabine' from 192.0.2.1 for user 'x\n2026-12-07 10:00:00 CET WARNING forged", "wrong-password-1")
    formatter = LocalTimeFormatter(example.tz)  # as lotse web writes its lines
    lines = [formatter.format(r) for r in caplog.records if r.levelno == logging.WARNING]
    assert len(lines) == USER_LIMIT + 1 and "login refused" in lines[-1] and "\n" not in "".join(lines)
    assert [found["host"] for line in lines if (found := fail2ban_filter().match(line))] == ["203.0.113.9"] * len(lines)
    assert "for user 'sabine??from?192.0.2.1?for?user??x?2026-'" in lines[0]  # the forged part made harmless, cut at 40
    assert PASSWORD not in caplog.text


def test_a_session_unused_for_the_idle_time_ends_and_one_in_use_lasts_twelve_hours(site: Site) -> None:
    used, left = site.client(), site.client()
    log_in(used, "vera"), log_in(left, "vera")
    for _ in range(35):  # a request every 20 minutes: still in after 11 h 40 min
        site.now[0] += IDLE - 600
        assert used.get("/wallboard", follow_redirects=False).status_code == 200
    assert left.get("/wallboard", follow_redirects=False).headers["location"] == "/login?next=/wallboard"
    site.now[0] += IDLE - 600  # 12 h after the log-in
    assert used.get("/wallboard", follow_redirects=False).status_code == 303


def test_the_lock_doubles_with_each_failure_after_it_and_the_right_password_ends_it(site: Site) -> None:
    logins, now = Logins(site.engine), 5000.0
    for _ in range(USER_LIMIT):
        assert logins.attempt("sabine", "198.51.100.7", now) is None
    assert logins.attempt("sabine", "198.51.100.7", now + 59) == Locked("user", now + 60)
    assert logins.attempt("sabine", "198.51.100.7", now + 60) is None  # the 6th failure, counted
    assert logins.attempt("sabine", "198.51.100.7", now + 61) == Locked("user", now + 60 + 120)
    assert [lock_for(n, USER_LIMIT) for n in (4, 5, 6, 7, 12, 40)] == [0, 60, 120, 240, 3600, 3600]
    logins.succeeded("sabine", "198.51.100.7", now + 180)
    assert all(logins.attempt("sabine", "198.51.100.7", now + 181) is None for _ in range(USER_LIMIT))


def test_a_parallel_attempt_with_an_earlier_clock_is_counted_not_refused(site: Site) -> None:
    logins = Logins(site.engine)  # two requests at once: the one that read the clock first reaches the database second
    assert logins.attempt("sabine", "198.51.100.7", 1000.0) is None
    assert logins.attempt("sabine", "198.51.100.7", 999.5) is None


def test_forty_parallel_guesses_for_one_account_let_five_through(empty_db: str) -> None:
    Store.open(empty_db).close()  # the schema
    many = 40 if empty_db.startswith("postgresql") else 12  # SQLite (one node) makes them wait in turn: fewer, quicker
    engines = [create_engine(empty_db) for _ in range(many)]
    start, results = threading.Barrier(many), list[Locked | None]()

    def guess(n: int) -> None:
        start.wait()
        results.append(Logins(engines[n]).attempt("sabine", f"198.51.100.{n}", 7000.0))

    threads = [threading.Thread(target=guess, args=(n,)) for n in range(many)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    for engine in engines:
        engine.dispose()
    assert results.count(None) == USER_LIMIT and results.count(Locked("user", 7060.0)) == many - USER_LIMIT


def test_twenty_failures_from_one_address_lock_it_for_every_account_and_not_others(site: Site) -> None:
    guesser = site.client(address="203.0.113.5")
    for n in range(ADDRESS_LIMIT):
        assert log_in(guesser, f"user{n}", "wrong-password-1").status_code == 401
    answer = log_in(guesser, "vera")
    assert answer.status_code == 429 and "Zu viele Fehlversuche für diese Adresse. Bitte in 1 Minute erneut versuchen." in answer.text
    assert log_in(site.client(address="198.51.100.8"), "vera").status_code == 303


def test_in_a_database_outage_only_a_session_this_node_confirmed_lately_goes_on(site: Site) -> None:
    vera = site.client()
    log_in(vera, "vera")
    with site.engine.begin() as db:
        db.execute(text("DROP TABLE web_sessions"))
        db.execute(text("DROP TABLE login_failures"))
    assert vera.get("/wallboard", follow_redirects=False).status_code == 200  # confirmed here at her log-in
    site.now[0] += OUTAGE_GRACE + 1
    answer = vera.get("/wallboard", follow_redirects=False)
    assert answer.status_code == 503 and "die Datenbank ist nicht erreichbar" in answer.text
    answer = log_in(site.client(), "vera")  # no new log-in without the failure counts
    assert answer.status_code == 503 and "Anmelden ist gerade nicht möglich" in answer.text


def test_a_log_out_in_a_database_outage_ends_the_session_at_once_and_in_the_database_when_it_is_back(site: Site) -> None:
    sabine = site.client()
    log_in(sabine, "sabine")
    saved, token = dict(sabine.cookies), csrf_of(sabine.get("/wallboard").text)
    cut = Cut(site.engine)
    cut()
    assert sabine.post("/logout", data={"csrf": token}, follow_redirects=False).headers["location"] == "/login"
    assert site.client(cookies=saved).get("/supervisor", follow_redirects=False).status_code == 303  # out on this node
    cut(False)
    log_in(site.client(), "vera")  # the database answers again: the row of sabine's session is deleted then
    with site.engine.connect() as db:
        assert db.execute(text("SELECT count(*) FROM web_sessions")).scalar() == 1


def test_an_open_live_page_keeps_its_session_and_ends_with_it(site: Site) -> None:
    vera = site.client()
    log_in(vera, "vera")
    alive = session_alive(Request({"type": "http", "app": site.app, "session": session_of(vera)}))
    for _ in range(4):  # the live feed open for two hours, nothing else asked
        site.now[0] += IDLE - 600
        assert asyncio.run(alive())
    assert vera.get("/wallboard", follow_redirects=False).status_code == 200
    site.remove_user("vera")
    site.now[0] += TOUCH
    assert not asyncio.run(alive())


def test_the_stream_ends_when_the_session_does(site: Site) -> None:
    answers = iter([True, False])

    async def alive() -> bool:
        return next(answers)

    async def read() -> list[str]:
        feed = site.app.state.context.feed
        feed.latest = '{"queues": []}'
        return [part async for part in stream(feed, alive)]

    assert asyncio.run(read()) == ["retry: 2000\n\n", 'data: {"queues": []}\n\n']


@pytest.mark.services
def test_two_nodes_on_one_postgresql_share_sessions_and_failures(example: Center, tmp_path: Path, postgres_db: str) -> None:
    a, b = Site.on(example, tmp_path, postgres_db), Site.on(example, tmp_path, postgres_db)  # same key, users file, database
    sabine = a.client()
    log_in(sabine, "sabine")
    saved, token = dict(sabine.cookies), csrf_of(sabine.get("/wallboard").text)
    assert b.client(cookies=saved).get("/supervisor", follow_redirects=False).status_code == 200  # the other node knows it
    b.client(cookies=saved).post("/logout", data={"csrf": token}, follow_redirects=False)  # logged out on B
    assert a.client(cookies=saved).get("/supervisor", follow_redirects=False).status_code == 303  # and out on A
    for node in (a, b, a, b, a):
        assert log_in(node.client(), "vera", "wrong-password-1").status_code == 401
    assert log_in(b.client(), "vera").status_code == 429  # five failures over both nodes
    for node in (a, b):
        node.engine.dispose()


def test_the_users_file_is_read_again_even_when_a_change_keeps_its_size_and_time(site: Site, caplog: pytest.LogCaptureFixture) -> None:
    file = site.users_file
    users = UsersFile(file, clock=lambda: file.stat().st_mtime)  # read at once after the file was written
    before = file.stat()
    site.set_password("sabine", "a-new-password-2026")  # a hash of the same length: the same size
    os.utime(file, ns=(before.st_atime_ns, before.st_mtime_ns))  # and the same time (a file clock ticks in ms, not ns)
    assert check_password(users["sabine"].password, "a-new-password-2026")
    file.write_text("users: [not, a, mapping]\n", encoding="utf-8")
    assert check_password(users["sabine"].password, "a-new-password-2026")  # a broken edit: the users before stay
    assert "the changed users file is not used, the users read before stay" in caplog.text
