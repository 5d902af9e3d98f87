"""lotse web's sessions and log-ins, in-process (starlette's TestClient, SQLite, no Redis):
a session ends on the server (log-out, password changed, user removed, idle), and guessing passwords is stopped
per account and per address, with a log line fail2ban can match."""

from __future__ import annotations

import logging
import re
from pathlib import Path

import pytest

from routing.model import Center
from tests.web_sessions_kit import PASSWORD, Site, csrf_of, log_in, migrated_db

FAIL2BAN = re.compile(r"^.* lotse\.web web: login (?:failed|refused) from (?P<host>\S+) for user '[^']*'")


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


def test_the_fail2ban_filter_matches_the_log_line_with_the_address(site: Site, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, "lotse.web")
    log_in(site.client(address="203.0.113.9"), "sabine' from 192.0.2.1 for user 'x", "wrong-password-1")
    formatter = logging.Formatter("%(asctime)s %(levelname)s %(name)s %(message)s")
    lines = [formatter.format(r) for r in caplog.records if "203.0.113.9" in r.getMessage()]
    assert lines and all(FAIL2BAN.match(line)["host"] == "203.0.113.9" for line in lines)  # type: ignore[index]
    assert PASSWORD not in caplog.text
