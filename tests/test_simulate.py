"""What `lotse simulate` and `lotse validate` print: the Result line, the trace of an intake, the summary line."""

from __future__ import annotations

import io

import pytest

from lotse.cli import main
from tests.conftest import EXAMPLE
from tests.test_cli import run


def test_the_result_line_names_the_entry_a_call_came_in_on_as_the_trace_does() -> None:
    code, text = run("simulate", "--config", str(EXAMPLE), "--to", "0571 89-444", "--from", "0571 1234", "--at", "2026-12-07 08:00")
    assert code == 0
    assert " 1. dialled +4957189444: entry schulen (Krankmeldung Schulen) of minden" in text
    assert "Result: outcome=voicemail tenant=minden entry=schulen topic=- mailbox=schulen@lotse" in text


def test_an_intake_is_a_step_of_its_own_with_the_fields_keyed_in() -> None:
    at = ("--to", "0571 89-444", "--from", "0571 1234", "--at", "2026-12-07 08:00")
    code, text = run("simulate", "--config", str(EXAMPLE), *at, "--fields", "123456")
    assert code == 0
    lines = [line.strip() for line in text.splitlines()]
    assert lines[5:9] == [
        "5. voicemail schulen@lotse: message intake krankmeldung (Krankmeldungen Schulen), batches at 08:30, 10:30, 12:30",
        '6. asks for Schulnummer (up to 6 digits, then #): plays center/messages/krankmeldung/fields/0/prompt: "Bitte geben Sie die Nummer'
        ' der Schule ein und drücken Sie die Raute..."',
        "7. keyed in: Schulnummer=123456",
        "8. records the message into the spool for the next batch",
    ]
    assert 'mailbox=schulen@lotse intake=krankmeldung fields="Schulnummer=123456" reason=in_hours' in text
    _, silent = run("simulate", "--config", str(EXAMPLE), *at)
    assert "7. keyed in: Schulnummer=-" in silent


def test_fields_for_an_intake_must_be_digits(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(["simulate", "--config", str(EXAMPLE), "--to", "0571 89-444", "--at", "2026-12-07 08:00", "--fields", "12a"], io.StringIO())
    assert exit_info.value.code == 2
    assert "argument --fields: '12a' is not what a caller keys in; give digits, e.g. --fields 123456" in capsys.readouterr().err


def test_the_last_wrong_key_in_an_area_code_choice_plays_its_prompt_once() -> None:
    at = ("--at", "2026-12-07 09:00")
    code, text = run("simulate", "--config", str(EXAMPLE), "--to", "115", "--from", "0571 1234", *at, "--digits", "77")
    assert code == 0
    assert text.count("plays service_115/choices/invalid") == 2  # once after each of the two wrong keys
    assert text.count('"Diese Eingabe ist leider nicht möglich."') == 2


def test_the_validate_summary_is_the_last_line_with_dated_periods() -> None:
    code, text = run("validate", str(EXAMPLE))
    assert code == 0
    lines = text.splitlines()
    assert lines[-1] == f"{EXAMPLE}: valid: 0 error(s), 2 warning(s) in 7 file(s)"
    assert lines[-4:-1] == [
        "  until 2026-12-31: 5 tenants, 9 numbers, 5 queues, 4 departments, 6 menus",
        "  from 2027-01-01 on: 6 tenants, 10 numbers, 5 queues, 4 departments, 7 menus",
        "  from 2027-08-01 on: 6 tenants, 9 numbers, 5 queues, 4 departments, 7 menus",
    ]
