"""lotse serve's journal: written per session, read back for the calls of an AMI gap."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from pbx import journal
from pbx.journal import Journal

DECIDED = {
    "LOTSE_OUTCOME": "callback",
    "LOTSE_REASON": "overflow",
    "LOTSE_TENANT": "minden",
    "LOTSE_TOPIC": "ausweis",
    "LOTSE_WHISPER": "x",
}


def test_a_session_is_read_back_with_its_decision(tmp_path: Path) -> None:
    path = tmp_path / "journal"
    Journal(path).write("1.1", 100.0, 112.5, "0571890", "05711234", DECIDED)
    (entry,) = journal.read(path, since=100.0).values()
    assert (entry.uniqueid, entry.started, entry.ended, entry.dialled, entry.caller) == ("1.1", 100.0, 112.5, "0571890", "05711234")
    assert entry.variables["LOTSE_OUTCOME"] == "callback" and entry.variables["LOTSE_TENANT"] == "minden"
    assert "LOTSE_WHISPER" not in entry.variables  # only what a record needs


def test_only_sessions_that_ended_since_the_gap_are_read(tmp_path: Path) -> None:
    path = tmp_path / "journal"
    Journal(path).write("1.1", 100.0, 110.0, "0571890", "", {})
    Journal(path).write("1.2", 200.0, 210.0, "0571890", "", {})
    assert list(journal.read(path, since=150.0)) == ["1.2"]


def test_a_call_asked_again_keeps_its_first_start_number_and_last_decision(tmp_path: Path) -> None:
    path = tmp_path / "journal"
    log = Journal(path)
    log.write("1.1", 100.0, 110.0, "0571890", "05711234", {"LOTSE_OUTCOME": "queue", "LOTSE_QUEUE": "kfz"})
    log.write("1.1", 400.0, 405.0, "", "05711234", {"LOTSE_OUTCOME": "callback", "LOTSE_REASON": "overflow"})
    entry = journal.read(path, since=0.0)["1.1"]
    assert (entry.started, entry.ended, entry.dialled, entry.sessions) == (100.0, 405.0, "0571890", 2)
    assert entry.variables["LOTSE_OUTCOME"] == "callback"


def test_unreadable_lines_are_skipped_and_counted(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    path = tmp_path / "journal"
    path.write_text('not json\n{"uniqueid": "1.9"}\n{"uniqueid": "1.1", "started": 1, "ended": 2, "variables": []}\n', encoding="utf-8")
    Journal(path).write("1.2", 100.0, 110.0, "115", "", {})
    assert list(journal.read(path, since=0.0)) == ["1.2"]
    assert "3 unreadable line(s) skipped" in caplog.text


def test_the_journal_is_rotated_and_both_parts_are_read(tmp_path: Path) -> None:
    path = tmp_path / "journal"
    log = Journal(path, max_bytes=1000)  # a line is about 330 bytes
    for n in range(6):
        log.write(f"1.{n}", 100.0 + n, 110.0 + n, "0571890", "05711234", DECIDED)
    assert journal.rotated(path).exists() and path.stat().st_size < 1000
    assert sorted(journal.read(path, since=0.0)) == [f"1.{n}" for n in range(6)]
    for n in range(6, 12):
        log.write(f"1.{n}", 100.0 + n, 110.0 + n, "0571890", "05711234", DECIDED)
    assert "1.0" not in journal.read(path, since=0.0)  # two parts are kept, the oldest lines go


def test_a_failed_write_is_logged_once_and_never_raised(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO)
    log = Journal(tmp_path / "missing" / "journal")
    for n in range(3):
        log.write(f"1.{n}", 1.0, 2.0, "115", "", {})
    assert caplog.text.count("cannot write the journal") == 1
    (tmp_path / "missing").mkdir()
    log.write("1.9", 1.0, 2.0, "115", "", {})
    assert "written again" in caplog.text and list(journal.read(log.path, 0.0)) == ["1.9"]
