"""lotse web in-process: log-in, roles, CSRF, the live wallboard, agents' and supervisors' actions, reports.

The real app on uvicorn, the real Redis, SQLite, and a fake Asterisk that answers the agents' AMI actions.
"""

from __future__ import annotations

import html
import json
import time
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

import httpx
import pytest

from metrics import dispositions
from metrics.records import CallRecord
from outcomes.results import Result
from promises.store import Request
from routing.model import Center
from tests.webapp import WebLab, csrf_of, login, post, web_lab

pytestmark = pytest.mark.services  # the real Redis at 127.0.0.1:6379 (scripts/services)


@pytest.fixture
def lab(example: Center, tmp_path: Path) -> Iterator[WebLab]:
    with web_lab(example, tmp_path) as running:
        yield running


def shown(client: httpx.Client, path: str) -> str:
    """A page's text as a person reads it (entities decoded)."""
    return html.unescape(client.get(path).text)


def record(uniqueid: str, agent: str, arrived: float, tenant: str = "minden", wait: float = 12.0) -> CallRecord:
    return CallRecord(
        uniqueid, tenant, "own", "057189", "0571xxx", "kfz", ("kfz",), "", "in_hours", Result.ANSWERED,
        arrived, arrived + 10, arrived + 10 + wait, arrived + 100, wait, 78.0, agent,
    )  # fmt: skip


def test_log_in_with_a_wrong_password_is_refused_in_german(lab: WebLab) -> None:
    client = lab.client()
    assert client.get("/wallboard").headers["location"] == "/login?next=/wallboard"
    answer = login(client, "vera", "not-her-password")
    assert answer.status_code == 401 and "Benutzername oder Passwort ist falsch." in answer.text
    assert login(client, "vera").headers["location"] == "/wallboard"
    page = client.get("/wallboard")
    assert page.status_code == 200 and '<html lang="de">' in page.text and "Vera (Betrachter)" in page.text


def test_a_viewer_gets_403_for_supervisor_actions_and_nothing_changes(lab: WebLab) -> None:
    viewer = lab.client("vera")
    page = viewer.get("/supervisor")
    assert page.status_code == 403 and "braucht die Rolle Supervisor" in page.text and "Rolle Betrachter" in page.text
    token = csrf_of(viewer.get("/wallboard").text)
    answer = viewer.post("/supervisor/emergency", data={"csrf": token, "tenant": "minden", "emergency": "bombe", "on": "1"})
    assert answer.status_code == 403
    assert lab.live.emergencies() == set()


def test_a_form_without_the_session_token_is_refused(lab: WebLab) -> None:
    supervisor = lab.client("sabine")
    answer = supervisor.post("/supervisor/emergency", data={"csrf": "forged", "tenant": "minden", "emergency": "bombe", "on": "1"})
    assert answer.status_code == 403 and "CSRF" in answer.text
    assert lab.live.emergencies() == set()
    anonymous = lab.client()
    assert anonymous.post("/supervisor/emergency", data={"tenant": "minden"}).status_code == 401


def test_a_supervisor_switches_an_emergency_line_on_and_routing_sees_it(lab: WebLab) -> None:
    supervisor = lab.client("sabine")
    answer = post(supervisor, "/supervisor", "/supervisor/emergency", {"tenant": "minden", "emergency": "bombe", "on": "1"})
    assert answer.status_code == 303
    assert lab.live.emergencies() == {"minden/bombe"}
    assert ("minden", "bombe") in lab.live.live(["buergerservice"]).emergencies  # what lotse serve routes by
    page = shown(supervisor, "/supervisor")
    assert "ist eingeschaltet." in page and 'role="status"' in page
    post(supervisor, "/supervisor", "/supervisor/emergency", {"tenant": "minden", "emergency": "bombe", "on": "0"})
    assert lab.live.emergencies() == set()
    unknown = post(supervisor, "/supervisor", "/supervisor/emergency", {"tenant": "minden", "emergency": "flut", "on": "1"})
    assert unknown.status_code == 303 and "Unbekannte Notfall-Leitung 'minden/flut'" in shown(supervisor, "/supervisor")


def next_board(stream: Iterator[str], condition: object, timeout: float = 2.0) -> dict[str, object]:
    deadline = time.monotonic() + timeout
    for line in stream:
        if line.startswith("data: "):
            board: dict[str, object] = json.loads(line[6:])
            if callable(condition) and condition(board):
                return board
        if time.monotonic() > deadline:
            break
    raise AssertionError("no such board within the time")


def test_the_wallboard_stream_shows_a_new_waiting_caller_at_once_and_no_numbers(lab: WebLab) -> None:
    viewer = lab.client("vera")
    with viewer.stream("GET", "/wallboard/events") as answer:
        assert answer.headers["content-type"].startswith("text/event-stream")
        lines = answer.iter_lines()
        next_board(lines, lambda b: "queues" in b)
        joined = time.time()
        lab.live.apply({"Event": "QueueCallerJoin", "Queue": "kfz", "Uniqueid": "1700.1", "CallerIDNum": "057112345"}, joined)
        board = next_board(lines, lambda b: any(q["id"] == "kfz" and q["waiting"] == 1 for q in b["queues"]))
        assert time.time() - joined < 2.0
        assert "057112345" not in json.dumps(board) and "1700.1" not in json.dumps(board)
        kfz = next(q for q in board["queues"] if q["id"] == "kfz")  # type: ignore[attr-defined]
        assert kfz["oldest"] == pytest.approx(joined)
        lab.live.apply({"Event": "QueueMemberPause", "Queue": "kfz", "Interface": "PJSIP/anna", "MemberName": "Anna Schmidt",
                        "Paused": "1", "PausedReason": "Schulung", "Status": "1"}, time.time())  # fmt: skip
        board = next_board(lines, lambda b: bool(b["agents"]))
        assert board["agents"] == [
            {"interface": "PJSIP/anna", "name": "Anna Schmidt", "state": "paused", "reason": "Schulung", "queues": ["kfz"]}
        ]


def test_todays_figures_per_tenant_on_the_wallboard(lab: WebLab, example: Center) -> None:
    now = time.time()
    lab.store.write([record("a1", "Anna Schmidt", now - 300, wait=12), record("a2", "Anna Schmidt", now - 200, wait=50)])
    lab.feed.poke()
    viewer = lab.client("vera")
    with viewer.stream("GET", "/wallboard/events") as answer:
        board = next_board(answer.iter_lines(), lambda b: any(t["calls"] == 2 for t in b.get("tenants", [])), timeout=5)
    minden = next(t for t in board["tenants"] if t["id"] == "minden")  # type: ignore[attr-defined]
    assert (minden["offered"], minden["answered"], minden["service_level"]) == (2, 2, 50.0)
    assert (
        minden["service_level_target"] == example.tenants["minden"].targets.service_level_percent or example.targets.service_level_percent
    )


def test_an_agent_logs_in_pauses_with_a_reason_and_is_ready_again(lab: WebLab, example: Center) -> None:
    agent = lab.client("anna")
    assert post(agent, "/agent", "/agent/state", {"action": "login"}).status_code == 303
    adds = [a for a in lab.ami.actions if a.get("Action") == "QueueAdd"]
    assert {a["Queue"] for a in adds} == {"buergerservice", "kfz", "buergertelefon", "zentrale"}
    assert adds[0]["Interface"] == "PJSIP/anna" and adds[0]["MemberName"] == "Anna Schmidt" and adds[0]["StateInterface"] == "PJSIP/anna"
    assert "Sie sind angemeldet." in shown(agent, "/agent")
    post(agent, "/agent", "/agent/state", {"action": "pause", "reason": "3"})
    pause = [a for a in lab.ami.actions if a.get("Action") == "QueuePause"][-1]
    assert (pause["Interface"], pause["Paused"], pause["Reason"]) == ("PJSIP/anna", "true", "Schulung")
    post(agent, "/agent", "/agent/state", {"action": "ready"})
    assert [a for a in lab.ami.actions if a.get("Action") == "QueuePause"][-1]["Paused"] == "false"
    post(agent, "/agent", "/agent/state", {"action": "logout"})
    assert {a["Queue"] for a in lab.ami.actions if a.get("Action") == "QueueRemove"} == {a["Queue"] for a in adds}


def test_when_asterisk_is_unreachable_the_agent_is_told_and_nothing_pretends(lab: WebLab) -> None:
    lab.ami.handlers["queuepause"] = lambda action: [{"Response": "Error", "Message": "Interface not found"}]
    agent = lab.client("anna")
    post(agent, "/agent", "/agent/state", {"action": "pause", "reason": "1"})
    assert "Asterisk hat QueuePause für PJSIP/anna abgelehnt: Interface not found" in shown(agent, "/agent")
    lab.run(lab.ami.stop())
    post(agent, "/agent", "/agent/state", {"action": "ready"})
    assert "Asterisk ist nicht erreichbar" in shown(agent, "/agent")


def test_an_agent_records_how_a_call_ended_only_for_their_own_calls(lab: WebLab) -> None:
    now = time.time()
    lab.store.write([record("c1", "Anna Schmidt", now - 600), record("c2", "Ben Yilmaz", now - 500)])
    agent = lab.client("anna")
    page = shown(agent, "/agent")
    assert "Meine letzten Gespräche" in page and 'value="c1"' in page and 'value="c2"' not in page
    post(agent, "/agent", "/agent/disposition", {"call": "c1", "code": "solved"})
    assert "Erfasst: gelöst." in shown(agent, "/agent")
    post(agent, "/agent", "/agent/disposition", {"call": "c2", "code": "solved"})
    assert "gehört nicht zu Ihren letzten Gesprächen" in shown(agent, "/agent")
    post(agent, "/agent", "/agent/disposition", {"call": "c1", "code": "callback"})  # changed her mind: the later one holds
    assert dispositions.of_calls(lab.store.engine, now - 3600, now) == {"c1": "callback"}


def test_worklist_and_a_supervisor_reassigning_a_ticket(lab: WebLab) -> None:
    now = time.time()
    fields = f"ticket|{now}|minden||kfz|kfz|kfz-stelle|unreachable|057112345|"
    lab.promises.add_ticket(Request.parse("t-1", fields), now + 3600, now)
    lab.promises.add_callback(Request.parse("cb-1", f"callback|{now}|minden||kfz|kfz||queue_callback|057199999|{now - 60}"), now)
    agent = lab.client("anna")
    page = shown(agent, "/agent")
    assert "Rückruf an 057199999" in page and "057112345" in page and "Übernehmen" in page
    supervisor = lab.client("sabine")
    ticket = lab.promises.tickets("open")[0]
    post(supervisor, "/supervisor", "/supervisor/ticket", {"id": str(ticket.id), "assignee": "anna"})
    assert "Ticket an anna übergeben." in shown(supervisor, "/supervisor")
    moved = lab.promises.ticket(ticket.id)
    assert (moved.status, moved.assignee) == ("in_progress", "anna")
    assert lab.promises.history(ticket.id)[-1][1:] == ("assigned", "sabine", "to anna")
    post(agent, "/agent", "/agent/ticket", {"id": str(ticket.id), "action": "done", "note": "Termin vereinbart"})
    assert lab.promises.ticket(ticket.id).status == "done"


def test_a_supervisor_pauses_and_logs_out_an_agent_seen_on_the_board(lab: WebLab) -> None:
    for queue in ("kfz", "buergerservice"):
        lab.live.apply({"Event": "QueueMemberAdded", "Queue": queue, "Interface": "PJSIP/anna", "MemberName": "Anna Schmidt",
                        "Status": "1", "Paused": "0"}, time.time())  # fmt: skip
    supervisor = lab.client("sabine")
    assert "Anna Schmidt" in shown(supervisor, "/supervisor")
    post(supervisor, "/supervisor", "/supervisor/agent", {"interface": "PJSIP/anna", "action": "pause", "reason": "4"})
    assert lab.ami.actions[-1] | {"ActionID": ""} == {"Action": "QueuePause", "Interface": "PJSIP/anna", "Paused": "true",
                                                      "Reason": "Backoffice", "ActionID": ""}  # fmt: skip
    post(supervisor, "/supervisor", "/supervisor/agent", {"interface": "PJSIP/anna", "action": "logout"})
    assert sorted(a["Queue"] for a in lab.ami.actions if a.get("Action") == "QueueRemove") == ["buergerservice", "kfz"]
    post(supervisor, "/supervisor", "/supervisor/agent", {"interface": "PJSIP/nobody", "action": "logout"})
    assert "'PJSIP/nobody' ist nicht angemeldet." in shown(supervisor, "/supervisor")


def test_the_report_page_names_tenants_has_totals_and_notes_a_gap(lab: WebLab, example: Center) -> None:
    monday = datetime(2026, 11, 23, 10, 0, tzinfo=example.tz).timestamp()  # Mon 23.11.; Tuesday 24.11. has no records
    lab.store.write([record("r1", "Anna Schmidt", monday, wait=12), record("r2", "Anna Schmidt", monday + 60, wait=45)])
    lab.store.write([record("r3", "Ben Yilmaz", monday + 2 * 86400, wait=5)])
    dispositions.save(lab.store.engine, [dispositions.Disposition("r1", "anna", "solved", monday + 200, "web")])
    viewer = lab.client("vera")
    page = viewer.get("/reports", params={"von": "2026-11-23", "bis": "2026-11-25"}).text
    assert "23.11.2026 bis 25.11.2026 (einschließlich)" in page
    assert "Stadt Minden – Hauptnummer" in page and "Stadt Minden gesamt" in page and "Alle Verwaltungen" in page
    assert "Keine Anrufdaten an 1 Öffnungstag(en): 24.11.2026" in page
    assert "66,7 %" in page  # service level of the three calls (two within 30 s), written out
    fcr = page.split("Erstlösungsquote (First Contact Resolution)")[1]
    assert '<th scope="row">Stadt Minden</th><td class="num">3</td><td class="num">1</td><td class="num">1</td>' in fcr
    assert '100,0 % <span class="met">(erreicht, Ziel 75 %)</span>' in fcr
    bad = viewer.get("/reports", params={"von": "2026-11-25", "bis": "2026-11-23"})
    assert bad.status_code == 400 and "'bis' liegt vor 'von'." in html.unescape(bad.text)


def test_health_needs_no_log_in(lab: WebLab) -> None:
    answer = httpx.get(f"{lab.url}/health").json()
    assert answer["ami"] == "up" and answer["redis"] == "up"


def test_agent_figures_on_the_report_page_are_per_team_and_small_teams_stay_hidden(example: Center, tmp_path: Path) -> None:
    monday = int(datetime(2026, 11, 23, 8, 0, tzinfo=example.tz).timestamp())
    queue_log = tmp_path / "queue_log"
    queue_log.write_text(
        f"{monday}|NONE|kfz|Anna Schmidt|ADDMEMBER|\n{monday + 3600}|NONE|kfz|Anna Schmidt|PAUSE|Schulung\n"
        f"{monday + 5400}|NONE|kfz|Anna Schmidt|UNPAUSE|\n{monday + 7200}|NONE|kfz|Anna Schmidt|REMOVEMEMBER|\n"
    )
    with web_lab(example, tmp_path, queue_log=queue_log) as lab:
        page = html.unescape(lab.client("vera").get("/reports", params={"von": "2026-11-23", "bis": "2026-11-23"}).text)
    section = page.split("Agenten (je Team)")[1]
    assert "Anna" not in section  # her teams have fewer than 3 agents: the works council's rule
    assert "1 Agent(en) nur in Teams mit weniger als 3 Personen: nicht einzeln ausgewiesen." in section
