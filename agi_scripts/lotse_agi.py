"""``lotse-agi``: the IVR as a classic AGI script, one process per call.

For small installations without the FastAGI daemon. Asterisk runs it as
``AGI(lotse-agi,lotse,${LOTSE_DIALLED})`` (or route ``lotse-next`` with the
resume arguments), and it runs the same sans-IO session as ``lotse serve``,
so both give the same results. The config is read on every call from
$LOTSE_CONFIG (default /etc/lotse/config); prompts are played from
$LOTSE_PROMPTS (default: the config's prompts_dir); $LOTSE_PRETEND_TIME
('YYYY-MM-DD HH:MM') pins the routing clock in labs and tests.

Failure policy: an invalid config, an unreadable AGI environment, a closed
pipe, a reply that does not come within $LOTSE_AGI_TIMEOUT seconds (default
120; the environment within 5) or any other failure ends the script with one
line on stderr (Asterisk logs it) and exit status 1, LOTSE_OUTCOME unset, so
the dialplan's fallback queue takes the call.
"""

from __future__ import annotations

import os
import signal
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from types import FrameType
from typing import Any

from asterisk.agi import AGI, AGIAppError, AGIError, AGIHangup

from ivr.agi import CallerHungUp, command_text, environment, reply_value, resume_from_args
from ivr.session import Session, queue_callback, resumed, session
from pbx import contract as c
from pbx.throttle import reason
from routing.cases import parse_local
from routing.engine import Call, Decision, Live
from routing.loader import load
from routing.problems import LotseError
from runtime.settings import Environment

HEADER_TIMEOUT = 5.0  # seconds for Asterisk to send the AGI environment


class NoReplyError(LotseError):
    """Asterisk did not answer in time."""


def main() -> int:
    connection: list[Any] = []  # pyst2's AGI, once the environment was read
    try:
        return run(connection, Environment.read(os.environ))
    except (CallerHungUp, AGIHangup):
        return 0
    except (NoReplyError, AGIError, LotseError, OSError, ValueError) as exc:
        report(connection[0] if connection else None, f"lotse-agi: {reason(exc)}; the dialplan falls back")
        return 1
    finally:
        _quiet_stdout()


def run(connection: list[Any], settings: Environment) -> int:
    reply_timeout = settings.classic_reply_timeout
    with deadline(HEADER_TIMEOUT, "no AGI environment on stdin"):
        agi = AGI(stderr=open(os.devnull, "w"))  # noqa: SIM115 - pyst2 writes debug lines to stderr; Asterisk would log them
    route, *args = sys.argv[1:] or [c.AGI_ROUTE]
    if not agi.env:
        raise ValueError("no AGI environment on stdin (run by Asterisk's AGI() only)")
    connection.append(agi)
    headers = {**agi.env, "agi_network_script": route}
    headers.update({f"agi_arg_{n}": value for n, value in enumerate(args, 1)})
    env = environment(headers)  # ValueError names what is missing or too long
    config = Path(settings.classic_config)
    result = load(config, settings.values)
    if result.center is None:
        raise LotseError(f"{config} is invalid ({len(result.errors)} errors; lotse validate {config})")
    center = result.center
    prompts = settings.classic_prompts or center.prompts_dir
    now = datetime.now(UTC)
    pretend = settings.pretend_time
    if pretend:  # labs and tests only, like lotse serve --pretend-time
        now = parse_local(pretend, center.tz)
    if env.script == c.AGI_ROUTE_NEXT:
        steps = resumed(center, resume_from_args(env.args), now, Live(), prompts)
    elif env.script == c.AGI_ROUTE_CALLBACK:
        steps = queue_callback(center, resume_from_args(env.args), now, prompts)
    else:
        steps = session(center, Call(env.dialled, env.caller), now, Live(), prompts)
    decision = drive(agi, steps, reply_timeout)
    report(agi, f"lotse-agi: [{env.uniqueid}] {decision.tenant or '-'} -> {decision.outcome.value} ({decision.reason})", level=2)
    return 0


def drive(agi: Any, steps: Session, reply_timeout: float = 120.0) -> Decision:
    """Carry out the session's commands over pyst2's connection."""
    try:
        command = next(steps)
        while True:
            try:
                with deadline(reply_timeout, f"no reply from Asterisk to {command_text(command)!r} within {reply_timeout:g} s"):
                    reply = agi.execute(command_text(command))
            except AGIAppError:  # result=-1 or a hang-up: the channel is gone
                raise CallerHungUp("the channel is gone") from None
            command = steps.send(reply_value(command, reply))
    except StopIteration as stop:
        decision: Decision = stop.value
        return decision


@contextmanager
def deadline(seconds: float, message: str) -> Iterator[None]:
    """Raise NoReplyError(message) if the block takes longer than ``seconds`` (SIGALRM: this process has one thread)."""

    def expired(signum: int, frame: FrameType | None) -> None:
        raise NoReplyError(message)

    previous = signal.signal(signal.SIGALRM, expired)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def report(agi: Any, line: str, level: int = 1) -> None:
    """One line for Asterisk's log (the AGI VERBOSE command); on stderr when Asterisk cannot be told. Never fails."""
    if agi is not None:
        try:
            with deadline(2.0, "no reply to VERBOSE"):
                agi.verbose(line, level)
            return
        except (NoReplyError, AGIError, OSError, ValueError):  # pyst2 raises ValueError on a garbled reply
            pass  # Asterisk is gone or not answering: stderr is what is left
    try:
        sys.stderr.write(line + "\n")
        sys.stderr.flush()
    except OSError:
        pass  # stderr is closed too: nothing is left to tell


def _quiet_stdout() -> None:
    """Flush stdout now; if Asterisk closed the pipe, point it at /dev/null so that exit prints no traceback."""
    try:
        sys.stdout.flush()
    except OSError:
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
