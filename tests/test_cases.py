from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from routing.cases import load_cases, parse_local, run_case
from routing.model import Center
from tests.conftest import BERLIN, EXAMPLE


def test_the_example_cases_all_pass(example: Center) -> None:
    cases, problems = load_cases(EXAMPLE / "routing-cases.yaml")
    assert problems == []
    assert len(cases) >= 30
    failures = [(case.name, result.mismatches) for case, loc in cases if not (result := run_case(example, case, loc)).passed]
    assert failures == []


def test_a_wrong_expectation_is_reported_with_its_place(example: Center, write: Callable[..., Path]) -> None:
    file = write(
        """\
cases:
  - name: Minden Ausweis
    to: 0571 89-0
    from: 0571 1
    at: 2026-11-23 10:00
    digits: "1"
    expect: {topic: abfall, queue: buergerservice, tenant: null}
"""
    )
    ((case, location),), _ = load_cases(file)
    result = run_case(example, case, location)
    assert not result.passed
    assert result.mismatches == ("tenant: expected None, got minden", "topic: expected abfall, got ausweis")
    assert str(location) == f"{file}:2:5"


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ('    at: "2026-11-23"', "cases.0.at: '2026-11-23' is not a time; write it as YYYY-MM-DD HH:MM"),
        ('    digits: "1x"', "cases.0.digits: key 2 ('x') is not a telephone key"),
        ("    expect: {queue: q, color: red}", "cases.0.expect.color: unknown key 'color'"),
        ("    live: {emergencies: [bombe]}", "cases.0.live.emergencies: 'bombe' must be written as tenant/emergency"),
    ],
)
def test_broken_case_files_name_the_problem(write: Callable[..., Path], line: str, message: str) -> None:
    base = {"at": '    at: "2026-11-23 10:00"', "digits": '    digits: "1"', "expect": "    expect: {queue: q}", "live": "    live: {}"}
    key = line.split(":", maxsplit=1)[0].strip()
    base[key] = line
    file = write("cases:\n  - name: x\n    to: '115'\n" + "\n".join(base.values()) + "\n")
    cases, problems = load_cases(file)
    assert cases == []
    assert any(message in str(p) for p in problems), [str(p) for p in problems]


def test_times_that_dst_skips_are_rejected() -> None:
    with pytest.raises(ValueError, match="the clocks skip it"):
        parse_local("2026-03-29 02:30", BERLIN)
    assert parse_local("2026-10-25 02:30", BERLIN).fold == 0  # the repeated hour: the first one
