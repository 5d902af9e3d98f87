"""The spool folders lotse promises takes files from (promises/inbox.py): only complete regular files are taken;
a directory, FIFO, socket, symlink, an empty, half, oversized or unreadable file is set aside in rejected/ with
its reason, reported once, and never holds back the other requests nor the worker's loop."""

from __future__ import annotations

import asyncio
import contextlib
import errno
import io
import logging
import os
import socket
import threading
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from prometheus_client import CollectorRegistry, generate_latest

from pbx import contract as c
from promises.exporter import PromiseCollector
from promises.intakes import batch_mail, recorded
from tests.keeper_kit import MONDAY, Lab, request_line, run, started


def set_aside_lines(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if "set aside" in r.getMessage()]


def exported(lab_keeper: Any) -> str:
    registry = CollectorRegistry()
    registry.register(PromiseCollector(lab_keeper))
    return generate_latest(registry).decode()


def test_only_complete_regular_files_are_taken_and_the_rest_set_aside_once_with_the_reason(
    tmp_path: Path, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    async def scenario(lab: Lab) -> None:
        folder = lab.spool / c.SPOOL_REQUESTS
        lab.request("1700000000.1", request_line("callback", MONDAY))
        (folder / "1700000000.2").mkdir()
        (tmp_path / "elsewhere").write_text(request_line("callback", MONDAY, number="+4930123"), encoding="utf-8")
        (folder / "1700000000.3").symlink_to(tmp_path / "elsewhere")
        (folder / "1700000000.4").symlink_to(tmp_path / "nowhere")
        monkeypatch.chdir(folder)  # a socket's address is short that way
        listener = socket.socket(socket.AF_UNIX)
        listener.bind("1700000000.5")
        lab.request("1700000000.6", "")
        os.utime(folder / "1700000000.6", (MONDAY - 120, MONDAY - 120))  # empty for two minutes: Asterisk never wrote it
        lab.request("1700000000.7", request_line("callback", MONDAY).removesuffix(c.SPOOL_END))
        os.utime(folder / "1700000000.7", (MONDAY - 10, MONDAY - 10))  # being written: left for the next round
        lab.request("1700000000.8", "x" * 100_000 + c.SPOOL_END)
        lab.request("1700000000.9", request_line("ticket", MONDAY, department="standesamt-minden", reason="department_closed"))
        keeper = await started(lab)
        try:
            assert await keeper.take_requests(lab.now) == 2
            first = set_aside_lines(caplog)
            lab.now += 1
            assert await keeper.take_requests(lab.now) == 0
            assert set_aside_lines(caplog) == first  # reported once
            metrics = exported(keeper)
        finally:
            await keeper.close()
            listener.close()
        rejected = lab.spool / "rejected"
        assert sorted(p.name for p in folder.iterdir()) == ["1700000000.7"]
        assert sorted(p.name for p in rejected.iterdir() if not p.name.endswith(".why")) == [f"1700000000.{n}" for n in (2, 3, 4, 5, 6, 8)]
        assert (rejected / "1700000000.3").is_symlink() and (tmp_path / "elsewhere").exists()  # the link moved, not its target
        why = {n: (rejected / f"1700000000.{n}.why").read_text(encoding="utf-8") for n in (2, 3, 5, 6, 8)}
        assert "a directory, not a regular file" in why[2] and "a symbolic link" in why[3] and "a socket" in why[5]
        assert "empty" in why[6] and "120 s" in why[6] and "100004 bytes" in why[8]
        assert len(first) == 6 and all("request file 1700000000." in line and str(rejected) in line for line in first)
        assert 'lotse_promises_spool_set_aside_total{reason="not_a_regular_file"} 4.0' in metrics
        assert 'lotse_promises_spool_set_aside_total{reason="incomplete"} 1.0' in metrics
        assert 'lotse_promises_spool_set_aside_total{reason="too_large"} 1.0' in metrics

    run(tmp_path, scenario)


@contextlib.contextmanager
def unblocked_after(fifo: Path, seconds: float) -> Iterator[list[bool]]:
    """A guard, not a wait: should a read of ``fifo`` block the test's event loop, a writer ends it after ``seconds``."""
    fired: list[bool] = []

    def unblock() -> None:
        with contextlib.suppress(OSError):  # ENXIO: nobody is reading it, nothing to end
            os.close(os.open(fifo, os.O_WRONLY | os.O_NONBLOCK))
            fired.append(True)

    timer = threading.Timer(seconds, unblock)
    timer.start()
    try:
        yield fired
    finally:
        timer.cancel()


def test_a_fifo_among_the_requests_blocks_neither_the_round_nor_the_loop(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    async def scenario(lab: Lab) -> None:
        folder = lab.spool / c.SPOOL_REQUESTS
        folder.mkdir(parents=True)
        os.mkfifo(folder / "1700000000.1")
        lab.request("1700000000.2", request_line("callback", MONDAY))
        keeper = await started(lab)
        ticks = 0

        async def tick() -> None:  # stands for /health and the API: anything else the loop serves meanwhile
            nonlocal ticks
            while True:
                ticks += 1
                await asyncio.sleep(0)

        ticking = asyncio.get_running_loop().create_task(tick())
        try:
            with unblocked_after(folder / "1700000000.1", 5.0) as fired:
                assert await asyncio.wait_for(keeper.take_requests(lab.now), 5.0) == 1
            assert not fired, "the worker's loop was blocked on the FIFO until the guard wrote to it"
        finally:
            ticking.cancel()
            await keeper.close()
        assert ticks > 0
        assert (lab.spool / "rejected" / "1700000000.1").exists() and not (folder / "1700000000.1").exists()
        assert "request file 1700000000.1 set aside" in caplog.text and "a FIFO, not a regular file" in caplog.text

    run(tmp_path, scenario)


def test_a_file_lotse_may_not_read_is_set_aside_and_the_others_taken(
    tmp_path: Path, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    """As root a chmod 000 file is still readable: the system's refusal (EACCES) is faked, for both ways of opening."""

    def refused(path: Any) -> bool:
        return str(path).endswith("1700000000.1")

    real_os_open, real_io_open = os.open, io.open

    def os_open(path: Any, *args: Any, **kwargs: Any) -> int:
        if refused(path):
            raise PermissionError(errno.EACCES, "Permission denied", str(path))
        return real_os_open(path, *args, **kwargs)

    def io_open(path: Any, *args: Any, **kwargs: Any) -> Any:
        if refused(path):
            raise PermissionError(errno.EACCES, "Permission denied", str(path))
        return real_io_open(path, *args, **kwargs)

    async def scenario(lab: Lab) -> None:
        lab.request("1700000000.1", request_line("callback", MONDAY))
        lab.request("1700000000.2", request_line("callback", MONDAY))
        keeper = await started(lab)
        monkeypatch.setattr(os, "open", os_open)
        monkeypatch.setattr(io, "open", io_open)
        try:
            assert await keeper.take_requests(lab.now) == 1
        finally:
            monkeypatch.undo()
            await keeper.close()
        assert (lab.spool / "rejected" / "1700000000.1").exists()
        (line,) = set_aside_lines(caplog)
        assert "request file 1700000000.1" in line and "cannot be read (Permission denied)" in line

    caplog.set_level(logging.INFO)
    run(tmp_path, scenario)


def test_the_results_folder_is_read_the_same_way(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    async def scenario(lab: Lab) -> None:
        keeper = await started(lab)
        (lab.spool / c.SPOOL_RESULTS / "a-directory").mkdir()
        os.mkfifo(lab.spool / c.SPOOL_RESULTS / "a-fifo")
        try:
            with unblocked_after(lab.spool / c.SPOOL_RESULTS / "a-fifo", 5.0) as fired:
                await asyncio.wait_for(keeper.take_results(lab.now), 5.0)
            assert not fired, "the worker's loop was blocked on the FIFO until the guard wrote to it"
        finally:
            await keeper.close()
        assert sorted(p.name for p in (lab.spool / "rejected").iterdir() if not p.name.endswith(".why")) == ["a-directory", "a-fifo"]
        assert len(set_aside_lines(caplog)) == 2 and "result file a-directory set aside" in caplog.text

    run(tmp_path, scenario)


def test_a_message_intakes_files_are_read_the_same_way_and_no_link_is_attached(tmp_path: Path, example: Any) -> None:
    """messages/: a FIFO for a .msg is skipped (never waited on); a .wav that is a symbolic link is neither measured nor mailed."""
    spool = tmp_path / "spool"
    folder = spool / c.SPOOL_MESSAGES
    folder.mkdir(parents=True)
    secret = tmp_path / "secret"
    secret.write_bytes(b"RIFF" + bytes(40) + bytes(16000 * 3))
    os.mkfifo(folder / "1796100000.1.msg")
    (folder / "1796100000.1.done").write_text(f"DTMF|{int(MONDAY)}{c.SPOOL_END}", encoding="utf-8")
    (folder / "1796100000.2.msg").write_text(f"krankmeldung|{int(MONDAY)}|05714711|Schulnummer=1{c.SPOOL_END}", encoding="utf-8")
    (folder / "1796100000.2.wav").symlink_to(secret)
    (folder / "1796100000.2.done").write_text(f"DTMF|{int(MONDAY)}{c.SPOOL_END}", encoding="utf-8")
    intake = example.messages["krankmeldung"]
    with unblocked_after(folder / "1796100000.1.msg", 5.0) as fired:
        (message,) = recorded(spool, intake)
    assert not fired
    assert (message.msg_id, message.duration, message.sound) == ("1796100000.2", 0, None)
    mail = batch_mail(example, intake, [replace(message, sound=folder / "1796100000.2.wav")], MONDAY, "lotse@x", "to@x")
    assert list(mail.iter_attachments()) == []
