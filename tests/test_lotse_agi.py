"""lotse-agi as Asterisk runs it: a process talking AGI on stdin/stdout, including the ways that goes wrong."""

from __future__ import annotations

import os
import subprocess
import sys
import time

from tests.conftest import EXAMPLE
from tests.fakes import variables_set

ENV = {**os.environ, "LOTSE_CONFIG": str(EXAMPLE), "LOTSE_PRETEND_TIME": "2026-11-23 10:00", "LOTSE_AGI_TIMEOUT": "0.5"}
ARGV = [sys.executable, "-m", "agi_scripts.lotse_agi", "lotse", "0571890"]
HEADERS = b"agi_request: lotse-agi\nagi_uniqueid: 17.9\nagi_callerid: 057112345\nagi_channel: Local/x;2\n\n"


def run(stdin: bytes) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run(ARGV, input=stdin, capture_output=True, env=ENV, timeout=30, check=False)


def test_a_real_session_over_pipes() -> None:
    process = subprocess.Popen(ARGV, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=ENV)
    assert process.stdin is not None and process.stdout is not None
    process.stdin.write(HEADERS)
    process.stdin.flush()
    variables = {}
    while line := process.stdout.readline().decode():
        if line.startswith("SET VARIABLE"):
            variables.update(variables_set(line))
        reply = b"200 result=49 endpos=1\n" if line.startswith("STREAM FILE") and not variables else b"200 result=1\n"
        process.stdin.write(reply)
        process.stdin.flush()
    assert process.wait(10) == 0
    assert variables["LOTSE_QUEUE"] == "buergerservice"


def test_empty_stdin_is_one_line_and_the_fallback() -> None:
    result = run(b"")
    assert result.returncode == 1
    assert result.stderr.decode().splitlines() == [
        "lotse-agi: no AGI environment on stdin (run by Asterisk's AGI() only); the dialplan falls back"
    ]


def test_garbage_stdin_names_what_is_missing() -> None:
    result = run(b"hello\nworld: x\n\n")
    assert result.returncode == 1
    assert result.stderr.decode().splitlines() == ["lotse-agi: the AGI environment has no agi_uniqueid; the dialplan falls back"]


def test_a_reply_that_never_comes_times_out() -> None:
    process = subprocess.Popen(ARGV, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=ENV)
    assert process.stdin is not None
    process.stdin.write(HEADERS)
    process.stdin.flush()  # and then Asterisk says nothing more, the pipe stays open
    started = time.monotonic()
    assert process.wait(15) == 1
    assert time.monotonic() - started < 10
    assert process.stderr is not None
    (line,) = process.stderr.read().decode().splitlines()
    assert line.startswith("lotse-agi: no reply from Asterisk to 'STREAM FILE") and line.endswith("within 0.5 s; the dialplan falls back")
    process.stdin.close()


def test_a_closed_stdout_ends_quietly() -> None:
    process = subprocess.Popen(ARGV, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=ENV)
    assert process.stdin is not None and process.stdout is not None and process.stderr is not None
    process.stdout.close()  # Asterisk went away
    process.stdin.write(HEADERS)
    process.stdin.close()
    assert process.wait(15) in (0, 1)
    assert b"Traceback" not in process.stderr.read()
