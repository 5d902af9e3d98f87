"""Agents' figures from queue_log lines (pure): logged-in and pause time, calls, handle time, occupancy; team level."""

from __future__ import annotations

import pytest

from metrics.agent_figures import per_agent, per_team

T = 1_800_000_000  # any moment: the figures depend on the lines' times only


def lines(*entries: tuple[int, str, str, str, str]) -> list[str]:
    return [f"{T + at}|{callid}|{queue}|{agent}|{event}" for at, callid, queue, agent, event in entries]


def test_logged_in_paused_and_handled_time_of_one_agent() -> None:
    log = [
        *lines(
            (0, "NONE", "kfz", "Anna Schmidt", "ADDMEMBER|"),
            (0, "NONE", "buergerservice", "Anna Schmidt", "ADDMEMBER|"),  # two queues: logged in once
            (600, "1.1", "kfz", "Anna Schmidt", "CONNECT|12|1.2|3"),
            (900, "1.1", "kfz", "Anna Schmidt", "COMPLETECALLER|12|300|1"),
            (1200, "NONE", "kfz", "Anna Schmidt", "PAUSE|Schulung"),
            (1200, "NONE", "buergerservice", "Anna Schmidt", "PAUSE|Schulung"),  # paused in both: counted once
            (3000, "NONE", "kfz", "Anna Schmidt", "UNPAUSE|"),
            (3600, "NONE", "kfz", "Anna Schmidt", "REMOVEMEMBER|"),
            (3600, "NONE", "buergerservice", "Anna Schmidt", "REMOVEMEMBER|"),
            (3700, "2.1", "kfz", "Ben", "COMPLETEAGENT|5|200|1"),
        ),
        "a broken line",
    ]
    found, unreadable = per_agent(log, T, T + 7200, {"kfz": 30})
    anna = found["Anna Schmidt"]
    assert (anna.logged_in, anna.paused, anna.calls, anna.talk, anna.handle) == (3600, {"Schulung": 1800}, 1, 300, 330)
    assert anna.occupancy == pytest.approx(100 * 330 / 1800)
    assert found["Ben"].calls == 1 and found["Ben"].logged_in == 0
    assert unreadable == 1


def test_the_period_cuts_sessions_that_run_over_its_edges() -> None:
    log = lines((0, "NONE", "kfz", "Anna", "ADDMEMBER|"), (500, "NONE", "kfz", "Anna", "PAUSE|"))
    found, _ = per_agent(log, T + 100, T + 1000, {})
    assert found["Anna"].logged_in == 900  # from the period's start to its end: still logged in
    assert found["Anna"].paused == {"ohne Grund": 500}


def test_teams_smaller_than_the_minimum_are_not_shown_on_their_own() -> None:
    log = lines(*[(0, "NONE", "kfz", name, "ADDMEMBER|") for name in ("A", "B", "C", "D")])
    by_agent, _ = per_agent(log, T, T + 3600, {})
    teams = {"A": ("team-kfz",), "B": ("team-kfz",), "C": ("team-kfz", "team-jobcenter"), "D": ("team-jobcenter",)}
    shown, hidden = per_team(by_agent, teams, 3)
    assert list(shown) == ["team-kfz"] and shown["team-kfz"].agents == 3 and shown["team-kfz"].logged_in == 3 * 3600
    assert hidden == 1  # D is only in a team of two
