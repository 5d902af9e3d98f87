"""``lotse-agi``: the IVR as a classic AGI script, one process per call.

For small installations without the FastAGI daemon. Asterisk runs it as
``AGI(lotse-agi,lotse,${LOTSE_DIALLED})`` (or route ``lotse-next`` with the
resume arguments), and it runs the same sans-IO session as ``lotse serve``,
so both give the same results. The config is read on every call from
$LOTSE_CONFIG (default /etc/lotse/config); prompts are played from
$LOTSE_PROMPTS (default: the config's prompts_dir); $LOTSE_PRETEND_TIME
('YYYY-MM-DD HH:MM') pins the routing clock in labs and tests. An invalid config or any
failure leaves LOTSE_OUTCOME unset, so the dialplan's fallback queue takes
the call.
"""

from __future__ import annotations

import os
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from asterisk.agi import AGI, AGIAppError, AGIHangup

from ivr import contract as c
from ivr.agi import CallerHungUp, command_text, environment, reply_value, resume_from_args
from ivr.session import Session, resumed, session
from routing.cases import parse_local
from routing.engine import Call, Decision, Live
from routing.loader import load

DEFAULT_CONFIG = "/etc/lotse/config"


def main() -> int:
    agi = AGI(stderr=open(os.devnull, "w"))  # noqa: SIM115 - pyst2 writes debug lines to stderr; Asterisk would log them
    route, *args = sys.argv[1:] or [c.AGI_ROUTE]
    headers = {**agi.env, "agi_network_script": route}
    headers.update({f"agi_arg_{n}": value for n, value in enumerate(args, 1)})
    try:
        env = environment(headers)
    except ValueError as exc:
        agi.verbose(f"lotse-agi: bad AGI environment: {exc}", 1)
        return 1
    config = Path(os.environ.get("LOTSE_CONFIG", DEFAULT_CONFIG))
    result = load(config)
    if result.center is None:
        agi.verbose(f"lotse-agi: {config} is invalid ({len(result.errors)} errors; lotse validate {config}); fallback", 1)
        return 1
    center = result.center
    prompts = os.environ.get("LOTSE_PROMPTS") or center.prompts_dir
    now = datetime.now(UTC)
    pretend = os.environ.get("LOTSE_PRETEND_TIME")
    if pretend:  # labs and tests only, like lotse serve --pretend-time
        now = parse_local(pretend, center.tz)
        agi.verbose(f"lotse-agi: routing clock pinned to {pretend} (LOTSE_PRETEND_TIME)", 3)
    if env.script == c.AGI_ROUTE_NEXT:
        steps = resumed(center, resume_from_args(env.args), now, Live(), prompts)
    else:
        steps = session(center, Call(env.dialled, env.caller), now, Live(), prompts)
    try:
        decision = drive(agi, steps)
    except (CallerHungUp, AGIHangup):
        return 0
    agi.verbose(f"lotse-agi: {decision.tenant or '-'} -> {decision.outcome.value} ({decision.reason})", 2)
    return 0


def drive(agi: Any, steps: Session) -> Decision:
    """Carry out the session's commands over pyst2's connection."""
    try:
        command = next(steps)
        while True:
            try:
                reply = agi.execute(command_text(command))
            except AGIAppError:  # result=-1: the channel is gone
                raise CallerHungUp("the channel is gone") from None
            command = steps.send(reply_value(command, reply))
    except StopIteration as stop:
        decision: Decision = stop.value
        return decision


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
