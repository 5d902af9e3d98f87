from __future__ import annotations

import io
import json
import shutil
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import replace
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from prometheus_client import generate_latest

from lotse.cli import main
from metrics.exporter import Exporter
from metrics.records import CallRecord
from metrics.store import Store
from routing.loader import load_or_raise
from tests.conftest import EXAMPLE, MINIMAL
from tests.test_store import captured


def run(*args: str) -> tuple[int, str]:
    out = io.StringIO()
    code = main(list(args), out)
    return code, out.getvalue()


def test_validate_example() -> None:
    code, text = run("validate", str(EXAMPLE))
    assert code == 0
    assert f"{EXAMPLE}: valid: 0 error(s), 2 warning(s) in 7 file(s)" in text
    assert (
        "minden.yaml:32:19: warning: tenants.minden.entries.schulen.numbers.0: from 2027-08-01 on, 0571 89-444 is no longer routed" in text
    )
    assert "  until 2026-12-31: 5 tenants, 9 numbers, 5 queues, 4 departments, 6 menus" in text
    assert "  from 2027-01-01 on: 6 tenants, 10 numbers, 5 queues, 4 departments, 7 menus" in text
    assert "  from 2027-08-01 on: 6 tenants, 9 numbers, 5 queues, 4 departments, 7 menus" in text


def test_validate_at_a_day_checks_the_config_in_force_then() -> None:
    code, text = run("validate", "--at", "2027-09-01", str(EXAMPLE))
    assert code == 0
    assert "no longer routed" not in text  # that stop lies before the day
    assert "  on 2027-09-01: 6 tenants, 9 numbers" in text


def test_misspelt_queue_in_the_example_names_file_line_and_fix(tmp_path: Path) -> None:
    config = tmp_path / "config"
    shutil.copytree(EXAMPLE, config)
    center = config / "center.yaml"
    center.write_text(
        center.read_text(encoding="utf-8").replace("{name: Kfz-Zulassung, queue: kfz}", "{name: Kfz-Zulassung, queue: kfzz}"),
        encoding="utf-8",
    )
    line = next(n for n, text in enumerate(center.read_text(encoding="utf-8").splitlines(), 1) if "queue: kfzz" in text)
    code, text = run("validate", str(config))
    assert code == 1
    assert f"{center}:{line}:" in text
    assert "topics.zulassung.queue: unknown queue 'kfzz' (did you mean 'kfz'? (queues))" in text


def test_validate_json(write: Callable[..., Path]) -> None:
    path = write(MINIMAL.replace("queue: q}}", "queue: x}}"))
    code, text = run("validate", "--json", str(path))
    data = json.loads(text)
    assert code == 1 and data["ok"] is False
    assert data["problems"][0] | {"file": None} == {
        "severity": "error",
        "file": None,
        "line": 3,
        "column": 34,
        "path": "topics.t.queue",
        "message": "unknown queue 'x'",
        "hint": "valid: q (queues)",
    }


def test_simulate_prints_the_path_step_by_step() -> None:
    code, text = run("simulate", "--config", str(EXAMPLE), "--to", "115", "--from", "05722 1", "--at", "2026-11-23 10:00", "--digits", "2")
    assert code == 0
    assert "Call to 115 from 05722 1 at Mon 2026-11-23 10:00 (Europe/Berlin)" in text
    assert " 1. dialled 115: 115; caller prefix +495722 (the longest that matches; also +4957) -> tenant bueckeburg" in text
    assert "Result: outcome=queue tenant=bueckeburg entry=115 topic=abfall queue=buergerservice reason=in_hours" in text
    assert "Agent hears and sees: [Stadt Bückeburg] Abfallberatung" in text


def test_simulate_with_live_facts() -> None:
    code, text = run(
        "simulate",
        "--config",
        str(EXAMPLE),
        "--to",
        "0571 807-0",
        "--from",
        "0571 1",
        "--at",
        "2026-11-23 10:00",
        "--digits",
        "11",
        "--agents",
        "kfz=0",
        "--agents",
        "buergerservice=2",
    )
    assert code == 0
    assert "queue kfz: no agent logged in -> overflow queue buergerservice" in text


def test_cases_pass_and_fail(write: Callable[..., Path]) -> None:
    code, text = run("simulate", "--config", str(EXAMPLE), "--cases", str(EXAMPLE / "routing-cases.yaml"))
    assert code == 0 and text.rstrip().endswith(" passed, 0 failed")
    bad = write("cases:\n  - {name: wrong, to: '115', from: '0571 1', at: '2026-11-23 10:00', expect: {tenant: kreis}}\n")
    code, text = run("simulate", "--config", str(EXAMPLE), "--cases", str(bad))
    assert code == 1
    assert f"FAIL wrong ({bad}:2:5)" in text and "tenant: expected kreis, got minden" in text
    assert text.rstrip().endswith("0 passed, 1 failed")


def test_simulate_on_a_broken_config_reports_and_fails(write: Callable[..., Path]) -> None:
    path = write(MINIMAL.replace("state: NW", "state: XX"))
    code, text = run("simulate", "--config", str(path), "--to", "0281 1")
    assert code == 1 and "'XX' is not a German state code" in text


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["simulate", "--config", str(EXAMPLE)], "simulate needs --to NUMBER"),
        (["simulate", "--config", str(EXAMPLE), "--to", "115", "--at", "23.11.2026"], "argument --at: '23.11.2026' is not a time"),
        (
            ["simulate", "--config", str(EXAMPLE), "--to", "115", "--at", "2026-03-29 02:30"],
            "argument --at: '2026-03-29 02:30' does not exist",
        ),
        (["simulate", "--config", str(EXAMPLE), "--to", "115", "--digits", "1a"], "argument --digits: key 2 ('a') is not a telephone key"),
        (["simulate", "--config", str(EXAMPLE), "--to", "115", "--agents", "kfz"], "argument --agents: 'kfz' must be QUEUE=N"),
        (["simulate", "--config", str(EXAMPLE), "--to", "115", "--emergency", "bombe"], "argument --emergency: 'bombe' must be TENANT/ID"),
        (["validate", "--at", "2027-02-30", str(EXAMPLE)], "argument --at: '2027-02-30' is not a day; write it as YYYY-MM-DD"),
        (["frobnicate"], "invalid choice: 'frobnicate'"),
    ],
)
def test_bad_arguments_exit_2_and_name_the_argument(args: list[str], message: str, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(args, io.StringIO())
    assert exit_info.value.code == 2
    assert message in capsys.readouterr().err


def test_schema_to_stdout() -> None:
    code, text = run("schema")
    assert code == 0 and json.loads(text)["title"] == "lotse routing config"


def test_console_command_is_installed() -> None:
    lotse = Path(sys.executable).with_name("lotse")
    result = subprocess.run([str(lotse), "validate", "-q", str(EXAMPLE)], capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stdout + result.stderr


def on_the_test_clock(records: list[CallRecord], now: float) -> list[CallRecord]:
    """The captured calls moved so that the first arrived an hour before ``now`` (no test depends on the date)."""
    shift = now - 3600 - min(r.arrived for r in records)

    def moved(stamp: float | None) -> float | None:
        return None if stamp is None else stamp + shift

    return [
        replace(r, arrived=r.arrived + shift, ended=r.ended + shift, queued=moved(r.queued), answered=moved(r.answered)) for r in records
    ]


def test_report_and_purge_on_recorded_calls(tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path / 'calls.db'}"
    now = time.time()
    calls = on_the_test_clock(captured(), now)  # seven real calls from the lab
    store = Store.open(db)
    store.write(calls)
    store.close()
    tz = load_or_raise(EXAMPLE).tz
    first = datetime.fromtimestamp(min(r.arrived for r in calls), tz).date()
    last = datetime.fromtimestamp(max(r.arrived for r in calls), tz).date()
    span = ("--from", first.isoformat(), "--to", (last + timedelta(days=1)).isoformat())
    code, text = run("report", "--config", str(EXAMPLE), "--db", db, *span, "--by", "", "--format", "csv")
    assert code == 0
    header, row = text.splitlines()
    assert header.startswith("interval,calls,offered,answered,answered_within,abandoned,short_abandoned,service_level,target_seconds,")
    assert row.startswith("all,7,2,2,2,0,1,100.0,30,")  # the impatient caller is a short abandon
    code, text = run("report", "--config", str(EXAMPLE), "--db", db, *span, "--by", "entry", "--format", "json")
    assert {row["entry"]: row["calls"] for row in json.loads(text)} == {"-": 1, "115": 1, "own": 5}
    store = Store.open(db)
    store.write([replace(calls[0], uniqueid="old", arrived=now - 3 * 86400, ended=now - 3 * 86400 + 60)])
    store.close()
    code, text = run("purge", "--db", db, "--days", "1")
    assert code == 0 and text == "deleted 1 call record(s) older than 1 days\n"  # the captured calls are an hour old


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ["report", "--config", str(EXAMPLE), "--from", "2026-11-01", "--to", "2026-12-01", "--by", "agent"],
            "argument --by: 'agent' is not one of",
        ),
        (
            ["report", "--config", str(EXAMPLE), "--from", "1.11.2026", "--to", "2026-12-01"],
            "argument --from/--to: '1.11.2026 00:00' is not a time",
        ),
        (["purge", "--days", "0"], "argument --days: keep at least 1 day"),
        (
            ["emergency", "on", "minden/bombee", "--config", str(EXAMPLE)],
            "tenant 'minden' has no emergency 'bombee' (did you mean 'bombe'?)",
        ),
    ],
)
def test_metric_commands_name_bad_arguments(args: list[str], message: str, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(args, io.StringIO())
    assert exit_info.value.code == 2
    assert message in capsys.readouterr().err


def test_html_report_has_the_charts_and_the_figures(tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path / 'calls.db'}"
    store = Store.open(db)
    store.write(captured())
    store.close()
    code, html = run("report", "--config", str(EXAMPLE), "--db", db, "--from", "2026-11-01", "--to", "2026-12-01", "--format", "html")
    assert code == 0
    assert html.startswith('<!DOCTYPE html><html lang="de">') and "<script" not in html
    assert "Bericht ServiceCenter Minden-Lübbecke: 01.11.2026 bis 30.11.2026 (einschließlich)" in html  # --to is exclusive
    assert '<tr><th scope="row">So 22.11.</th><td class="num">2</td>' in html
    assert '100,0 % <span class="met">erreicht</span>' in html  # the day against its target, the value written
    # waits of 4.8 s and 5.4 s are 4 and 5 whole seconds, as Asterisk counts: both under 10 s
    assert '<tr><th scope="row">0–10 s</th><td class="num">2</td><td class="num">100,0 %</td>' in html
    assert "Stadt Minden gesamt" in html and "Stadt Bückeburg gesamt" in html and "Alle Verwaltungen" in html
    assert "Keine Anrufdaten an" in html  # the other opening days of November have no records


def test_prometheus_and_the_report_show_the_same_numbers(tmp_path: Path) -> None:
    center = load_or_raise(EXAMPLE)
    exporter = Exporter(center)
    records = captured()
    for record in records:
        exporter.observe(record)
    db = f"sqlite:///{tmp_path / 'calls.db'}"
    store = Store.open(db)
    store.write(records)
    store.close()
    code, text = run(
        "report", "--config", str(EXAMPLE), "--db", db, "--from", "2026-11-01", "--to", "2026-12-01", "--by", "", "--format", "json"
    )
    assert code == 0
    (row,) = json.loads(text)
    metrics = generate_latest(exporter.registry).decode()

    def total(name: str) -> float:
        return sum(float(line.rsplit(" ", 1)[1]) for line in metrics.splitlines() if line.startswith(name + "{"))

    assert total("lotse_calls_total") == row["calls"]
    assert total("lotse_calls_offered_total") == row["offered"]
    assert total("lotse_calls_answered_total") == row["answered"]
    assert total("lotse_calls_abandoned_total") == row["abandoned"]


def test_report_takes_a_plain_path_and_never_creates_a_database(tmp_path: Path) -> None:
    missing = tmp_path / "nowhere" / "calls.db"
    code, text = run("report", "--config", str(EXAMPLE), "--db", str(missing), "--from", "2026-11-01", "--to", "2026-12-01")
    assert code == 1 and text == f"no call records at {missing}: the file does not exist (lotse metrics --db writes them; give that --db)\n"
    assert not missing.parent.exists()
    code, text = run("purge", "--db", str(tmp_path / "calls.db"), "--days", "30")
    assert code == 1 and "does not exist" in text and not (tmp_path / "calls.db").exists()
    Store.open(f"sqlite:///{tmp_path / 'calls.db'}").close()  # an empty database, as lotse metrics leaves it
    code, text = run("report", "--config", str(EXAMPLE), "--db", str(tmp_path / "calls.db"), "--from", "2026-11-01", "--to", "2026-12-01")
    assert code == 0 and text == f"no calls between 2026-11-01 and 2026-11-30 (both included) in sqlite:///{tmp_path / 'calls.db'}\n"


def test_report_refuses_a_period_that_ends_before_it_starts(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_:
        run("report", "--config", str(EXAMPLE), "--from", "2026-12-01", "--to", "2026-11-01")
    assert exit_.value.code == 2
    assert "argument --to: 2026-11-01 is not after --from 2026-12-01 (--to is the day after the last day)" in capsys.readouterr().err


def test_report_names_an_unreachable_database() -> None:
    code, text = run(
        "report",
        "--config",
        str(EXAMPLE),
        "--db",
        "postgresql+psycopg://lotse:geheim@127.0.0.1:1/x",
        "--from",
        "2026-11-01",
        "--to",
        "2026-12-01",
    )
    assert code == 1 and text.startswith("cannot open the call records at postgresql+psycopg://lotse:***@127.0.0.1:1/x: ")


def test_cases_that_cannot_run_are_located_errors(write: Callable[..., Path]) -> None:
    cases = write(
        """\
cases:
  - name: DST gap
    to: 0571 89-0
    at: 2026-03-29 02:30
    expect: {tenant: minden}
  - name: unknown queue
    to: 0571 89-0
    at: 2026-11-23 10:00
    live: {agents: {buergerservise: 0}, emergencies: [minden/bombee]}
    expect: {tenant: minden}
""",
        "cases.yaml",
    )
    code, text = run("simulate", "--config", str(EXAMPLE), "--cases", str(cases))
    assert code == 1
    assert text.splitlines() == [
        f"{cases}:2:5: error: cases[0]: at: '2026-03-29 02:30' does not exist in Europe/Berlin: "
        "the clocks skip it for daylight saving time",
        f"FAIL DST gap ({cases}:2:5): cannot run",
        f"{cases}:6:5: error: cases[1]: live.agents: unknown queue 'buergerservise' (did you mean 'buergerservice'?)",
        f"{cases}:6:5: error: cases[1]: live.emergencies: tenant 'minden' has no emergency 'bombee' (did you mean 'bombe'?)",
        f"FAIL unknown queue ({cases}:6:5): cannot run",
        "0 passed, 2 failed",
    ]


def test_simulate_names_an_unknown_queue_in_the_live_facts(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        run("simulate", "--config", str(EXAMPLE), "--to", "0571 89-0", "--agents", "kfzz=1")
    assert "argument --agents: unknown queue 'kfzz' (did you mean 'kfz'?)" in capsys.readouterr().err


def test_json_into_a_closed_pipe_is_quiet() -> None:
    lotse = Path(sys.executable).with_name("lotse")
    command = f"'{lotse}' schema | true"  # the reader is gone before lotse (slower to start) writes
    result = subprocess.run(command, shell=True, capture_output=True, text=True, check=False)
    assert result.returncode == 0 and "Traceback" not in result.stderr and "BrokenPipe" not in result.stderr
