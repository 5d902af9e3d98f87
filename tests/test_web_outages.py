"""lotse web when the database or Redis is away: every page says what is unavailable and keeps what still works,
every action that could not be carried out says so (HTTP 503), and /health tells which dependency is down.

In-process and without services: the real app on uvicorn with a fake Asterisk (tests/webapp.py), Redis at a port
where nothing listens, and the call database (SQLite) cut after the app started, as a PostgreSQL that went away.
"""

from __future__ import annotations

import asyncio
import html
import io
import json
import logging
import sqlite3
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import redis
from sqlalchemy import Engine, create_engine, event
from sqlalchemy.exc import OperationalError

from lotse.cli import main
from metrics import dispositions
from promises.store import Request
from routing.model import Center
from runtime.web import with_connect_timeout
from stores.live import LiveState
from tests.conftest import EXAMPLE, ROOT
from tests.relay import Relay
from tests.test_web import record
from tests.webapp import PASSWORD, WebLab, post, web_lab
from web.board import TenantView
from web.dependencies import Dependencies, Dependency
from web.feed import Feed
from web.users import Role, set_user

CLOSED = "redis://127.0.0.1:1/0"  # nothing listens there: Redis is down
NO_DATABASE = "Die Datenbank ist nicht erreichbar"
NO_REDIS = "Die Live-Daten (Redis) sind nicht erreichbar"
QUIET = "pages say so and refuse what needs it until it answers again"


class Cut:
    """The database lost after the app started: every new connection is refused (pooled ones are dropped)."""

    def __init__(self, engine: Engine) -> None:
        self.engine, self.down = engine, False
        event.listen(engine, "do_connect", self._connect)

    def _connect(self, *args: Any) -> None:
        if self.down:
            raise sqlite3.OperationalError("unable to open database file (cut by the test)")

    def __call__(self, down: bool = True) -> None:
        self.down = down
        self.engine.dispose()


@pytest.fixture
def lab(example: Center, tmp_path: Path) -> Iterator[WebLab]:
    with web_lab(example, tmp_path, redis_url=CLOSED) as running:
        yield running


def shown(answer: httpx.Response) -> str:
    return html.unescape(answer.text)


def tracebacks(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.exc_info or r.levelno >= logging.ERROR]


def warnings_about(caplog: pytest.LogCaptureFixture, name: str) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING and name in r.getMessage()]


def test_with_the_database_lost_the_agent_page_says_so_and_pause_still_works(lab: WebLab, caplog: pytest.LogCaptureFixture) -> None:
    agent = lab.client("anna")
    assert agent.get("/agent").status_code == 200
    Cut(lab.store.engine)()
    page = agent.get("/agent")
    assert page.status_code == 200
    assert f"{NO_DATABASE} – Ihre letzten Gespräche, Rückrufe und Tickets sind gerade nicht verfügbar." in shown(page)
    assert NO_REDIS in shown(page) and "Pausengrund" in shown(page)
    assert post(agent, "/agent", "/agent/state", {"action": "pause", "reason": "3"}).status_code == 303
    assert lab.ami.actions[-1]["Action"] == "QueuePause"
    assert "Sie sind in Pause: Schulung." in shown(agent.get("/agent"))
    for _ in range(3):
        agent.get("/agent")
    assert tracebacks(caplog) == []
    assert len(warnings_about(caplog, "database")) == 1  # one line for the outage, not one per request


def test_with_the_database_lost_reports_answer_503_naming_it(lab: WebLab, caplog: pytest.LogCaptureFixture) -> None:
    viewer = lab.client("vera")
    Cut(lab.store.engine)()
    page = viewer.get("/reports")
    assert page.status_code == 503
    assert f"{NO_DATABASE} – Berichte sind gerade nicht verfügbar." in shown(page)
    assert viewer.get("/wallboard").status_code == 200  # the board itself comes from the feed (its figures: below)
    assert tracebacks(caplog) == []


def test_with_both_down_the_supervisor_page_names_both_and_claims_no_line_is_off(lab: WebLab) -> None:
    supervisor = lab.client("sabine")  # logged in before the outage (web/sessions.py: OUTAGE_GRACE)
    Cut(lab.store.engine)()
    page = supervisor.get("/supervisor")
    assert page.status_code == 200
    text = shown(page)
    assert f"{NO_DATABASE} – offene Tickets sind gerade nicht verfügbar." in text
    assert f"{NO_REDIS} – angemeldete Agenten und der Zustand der Notfall-Leitungen sind gerade nicht bekannt." in text
    assert "Bürgertelefon Bombenentschärfung ist <strong>unbekannt</strong>" in text and "ist <strong>ausgeschaltet" not in text


def test_with_redis_down_switching_an_emergency_line_answers_503_and_says_it_was_not_switched(
    lab: WebLab, caplog: pytest.LogCaptureFixture
) -> None:
    supervisor = lab.client("sabine")
    answer = post(supervisor, "/supervisor", "/supervisor/emergency", {"tenant": "minden", "emergency": "bombe", "on": "1"})
    assert answer.status_code == 503
    text = shown(answer)
    assert f"Bürgertelefon Bombenentschärfung (Stadt Minden) wurde NICHT eingeschaltet: {NO_REDIS}." in text
    assert "ist eingeschaltet" not in text and "ist eingeschaltet" not in shown(supervisor.get("/supervisor"))
    assert tracebacks(caplog) == []


def test_with_redis_down_a_supervisor_still_pauses_and_logs_out_an_agent(lab: WebLab) -> None:
    supervisor = lab.client("sabine")
    answer = post(supervisor, "/supervisor", "/supervisor/agent", {"interface": "PJSIP/anna", "action": "pause", "reason": "4"})
    assert answer.status_code == 303 and "Anna Schmidt ist in Pause: Backoffice." in shown(supervisor.get("/supervisor"))
    assert (lab.ami.actions[-1]["Action"], lab.ami.actions[-1]["Interface"]) == ("QueuePause", "PJSIP/anna")
    post(supervisor, "/supervisor", "/supervisor/agent", {"interface": "PJSIP/anna", "action": "logout"})
    removed = {a["Queue"] for a in lab.ami.actions if a.get("Action") == "QueueRemove"}
    assert removed == {"buergerservice", "kfz", "buergertelefon", "zentrale"}  # every queue of her groups (agents.yaml)
    answer = post(supervisor, "/supervisor", "/supervisor/agent", {"interface": "PJSIP/nobody", "action": "logout"})
    assert "'PJSIP/nobody' ist nicht angemeldet." in shown(supervisor.get("/supervisor"))


def test_with_the_database_lost_a_disposition_is_not_taken_and_says_so(lab: WebLab) -> None:
    now = time.time()
    lab.store.write([record("c1", "Anna Schmidt", now - 600)])
    agent = lab.client("anna")
    assert 'value="c1"' in agent.get("/agent").text
    cut = Cut(lab.store.engine)
    cut()
    answer = post(agent, "/agent", "/agent/disposition", {"call": "c1", "code": "solved"})
    assert answer.status_code == 503
    assert f"Das Gesprächsergebnis wurde NICHT gespeichert: {NO_DATABASE}. Bitte später noch einmal erfassen." in shown(answer)
    cut(False)
    assert dispositions.of_calls(lab.store.engine, now - 3600, now) == {}
    post(agent, "/agent", "/agent/disposition", {"call": "c1", "code": "solved"})
    assert "Erfasst: gelöst." in shown(agent.get("/agent"))  # back: it works again at once


def test_with_the_database_lost_ticket_moves_are_refused_and_nothing_changes(lab: WebLab, caplog: pytest.LogCaptureFixture) -> None:
    now = time.time()
    lab.promises.add_ticket(Request.parse("t-1", f"ticket|{now}|minden||kfz|kfz|kfz-stelle|unreachable|057112345|"), now + 3600, now)
    ticket = lab.promises.tickets("open")[0]
    agent, supervisor = lab.client("anna"), lab.client("sabine")
    cut = Cut(lab.store.engine)
    cut()
    claim = post(agent, "/agent", "/agent/ticket", {"id": str(ticket.id), "action": "claim"})
    assert claim.status_code == 503 and f"Das Ticket wurde NICHT übernommen: {NO_DATABASE}." in shown(claim)
    assign = post(supervisor, "/supervisor", "/supervisor/ticket", {"id": str(ticket.id), "assignee": "anna"})
    assert assign.status_code == 503 and f"Das Ticket wurde NICHT an anna übergeben: {NO_DATABASE}." in shown(assign)
    cut(False)
    assert (lab.promises.ticket(ticket.id).status, lab.promises.history(ticket.id)[-1][1]) == ("open", "opened")
    assert tracebacks(caplog) == []


def test_health_says_which_dependency_is_down_and_sees_what_a_page_found(lab: WebLab) -> None:
    client = lab.client()
    answer = client.get("/health")
    assert answer.status_code == 503
    assert answer.json()["status"] == "down" and answer.json()["database"] == "up" and "127.0.0.1:1" in answer.json()["redis"]
    assert answer.json()["problems"] == [f"redis: {answer.json()['redis']}"]
    agent = lab.client("anna")  # logged in before the outage
    Cut(lab.store.engine)()
    agent.get("/agent")  # the page finds the database gone: /health says so at once, not after its next check
    assert "unable to open database file" in client.get("/health").json()["database"]


class Probe:
    """A dependency's probe the test steers: answers, fails, or hangs until released."""

    def __init__(self) -> None:
        self.calls, self.failing = 0, False
        self.release = threading.Event()
        self.release.set()

    def __call__(self) -> None:
        self.calls += 1
        self.release.wait(10)
        if self.failing:
            raise redis.ConnectionError("Error 111 connecting to 127.0.0.1:6379. Connection refused.")


def dependency(probe: Probe, now: list[float], timeout: float = 1.5) -> Dependency:
    return Dependency("redis", NO_REDIS, (redis.RedisError,), probe, lambda: now[0], 2.0, timeout)


def test_health_probes_at_most_every_two_seconds_and_sees_an_outage_within_them() -> None:
    probe, now = Probe(), [100.0]
    live = dependency(probe, now)

    async def checks() -> list[str]:
        found = [await live.check()]
        probe.failing = True
        now[0] = 101.9
        found.append(await live.check())  # the finding of 1.9 s ago
        now[0] = 102.0
        found.append(await live.check())  # 2 s old: probed again
        return found

    assert asyncio.run(checks()) == ["", "", "Error 111 connecting to 127.0.0.1:6379. Connection refused."]
    assert probe.calls == 2


def test_a_hanging_dependency_is_down_after_the_timeout_and_the_loop_goes_on_meanwhile(caplog: pytest.LogCaptureFixture) -> None:
    probe, now = Probe(), [0.0]
    probe.release.clear()  # like a PostgreSQL behind a dropped route: the connect never returns
    live = dependency(probe, now, timeout=0.05)

    async def checks() -> list[str]:
        ticks = 0

        async def ticking() -> None:
            nonlocal ticks
            while True:
                ticks += 1
                await asyncio.sleep(0)

        ticker = asyncio.get_running_loop().create_task(ticking())
        found = await asyncio.gather(live.check(), live.check(), live.check())  # three /health requests at once
        ticker.cancel()
        probe.release.set()
        return [*found, "ticked" if ticks > 1 else "the loop was blocked"]

    assert asyncio.run(checks()) == ["no answer within 0.05 s"] * 3 + ["ticked"]
    assert probe.calls == 1  # one probe for all three
    assert warnings_about(caplog, "redis unreachable") == ["redis unreachable (no answer within 0.05 s): " + QUIET]


def test_an_outage_is_logged_once_and_its_end_once(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, "lotse.web")
    now = [0.0]
    live = dependency(Probe(), now)
    for second in range(5):
        now[0] = second
        live.found("Connection refused")
    now[0] = 65.0
    live.found("")
    live.found("")
    assert [(r.levelname, r.getMessage()) for r in caplog.records] == [
        ("WARNING", f"redis unreachable (Connection refused): {QUIET}"),
        ("INFO", "redis reachable again after 65 s"),
    ]


def test_the_wallboards_figures_with_the_database_lost_warn_once_and_say_so(example: Center, caplog: pytest.LogCaptureFixture) -> None:
    def figures(center: Center, now: float) -> tuple[TenantView, ...]:
        raise OperationalError("SELECT", {}, sqlite3.OperationalError("unable to open database file"))

    live = LiveState(redis.Redis.from_url(CLOSED))
    feed = Feed(lambda: example, live, figures, CLOSED, figures_every=0.0, dependencies=Dependencies.of(None, live))
    for _ in range(3):
        asyncio.run(feed.refresh())
    assert feed.figures_error == f"{NO_DATABASE} ((sqlite3.OperationalError) unable to open database file)"
    assert NO_REDIS in json.loads(feed.latest)["error"]
    assert len(warnings_about(caplog, "database")) == 1 and len(warnings_about(caplog, "redis")) == 1


def test_the_web_apps_postgresql_gets_a_connect_timeout_so_that_no_page_waits_for_minutes() -> None:
    assert (
        with_connect_timeout("postgresql+psycopg://lotse:s3cret@db/lotse") == "postgresql+psycopg://lotse:s3cret@db/lotse?connect_timeout=2"
    )
    assert (
        with_connect_timeout("postgresql+psycopg://lotse@db/lotse?connect_timeout=5")
        == "postgresql+psycopg://lotse@db/lotse?connect_timeout=5"
    )
    assert with_connect_timeout("sqlite:///lotse-calls.db") == "sqlite:///lotse-calls.db"
    with pytest.raises(OperationalError, match="Connection refused"):  # psycopg takes the parameter (no TypeError)
        create_engine(with_connect_timeout("postgresql+psycopg://lotse@127.0.0.1:1/lotse")).connect()


def test_lotse_web_started_with_the_database_down_says_so_in_one_line(tmp_path: Path) -> None:
    users = tmp_path / "users.yaml"
    set_user(users, "vera", Role.VIEWER, PASSWORD, "Vera", "")
    out = io.StringIO()
    args = ["web", "--config", str(EXAMPLE), "--agents", str(ROOT / "asterisk" / "agents.example.yaml"), "--users", str(users)]
    args += ["--db", "postgresql+psycopg://lotse:s3cret@127.0.0.1:1/lotse", "--redis", CLOSED, "--listen", "127.0.0.1:0"]
    assert main(args, out, {}) == 1
    assert out.getvalue().startswith("lotse web: cannot open the database at postgresql+psycopg://lotse:***@127.0.0.1:1/lotse")
    assert "Connection refused" in out.getvalue() and len(out.getvalue().splitlines()) == 1  # no traceback, no secret


def test_the_wallboard_with_redis_down_keeps_todays_figures_from_the_database(example: Center) -> None:
    minden = TenantView("minden", "Stadt Minden", 12, 10, 9, 80.0, 80.0, 20, 90.0, 95.0)
    live = LiveState(redis.Redis.from_url(CLOSED))
    feed = Feed(lambda: example, live, lambda center, now: (minden,), CLOSED, dependencies=Dependencies.of(None, live))
    asyncio.run(feed.refresh())
    board = json.loads(feed.latest)
    assert board["error"] == f"{NO_REDIS} – Warteschlangen, Agenten und Notfall-Leitungen werden gerade nicht angezeigt."
    assert [(t["name"], t["calls"], t["service_level"]) for t in board["tenants"]] == [("Stadt Minden", 12, 80.0)]
    assert "queues" not in board and "emergencies" not in board  # no live part shown from an old state


@pytest.mark.services  # the real Redis, lost after the app started and back again: the client's pooled connections
def test_redis_lost_after_start_turns_health_red_refuses_the_switch_and_all_works_again_when_back(example: Center, tmp_path: Path) -> None:
    with Relay(("127.0.0.1", 6379)) as relay, web_lab(example, tmp_path, redis_url=f"redis://127.0.0.1:{relay.port}/0") as lab:
        supervisor, monitor = lab.client("sabine"), lab.client()
        assert monitor.get("/health").json()["redis"] == "up" and "ist <strong>ausgeschaltet" in supervisor.get("/supervisor").text
        relay.cut()
        switch = {"tenant": "minden", "emergency": "bombe", "on": "1"}
        assert post(supervisor, "/supervisor", "/supervisor/emergency", switch).status_code == 503
        assert monitor.get("/health").status_code == 503  # what the switch found, at once
        relay.restore()
        assert post(supervisor, "/supervisor", "/supervisor/emergency", switch).status_code == 303
        assert lab.live.emergencies() == {"minden/bombe"} and monitor.get("/health").json()["redis"] == "up"
        lab.live.redis.delete(*lab.live.redis.scan_iter(f"{lab.prefix}:*"))
