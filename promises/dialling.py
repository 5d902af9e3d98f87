"""Starting callbacks: each queue's state (QueueStatus), the callbacks the rules allow, each attempt's Originate.

An attempt is marked in the store before it is originated, with its id (the Local channel's extension:
Local/<attempt>@lotse-callback-queue) and the node whose Asterisk gets it; one that Asterisk refuses, or that
finds no agent in time, is pending again ``RETRY_NO_AGENT`` seconds later and not counted as an attempt.

An attempt ends by its result file (the dialplan writes it when Dial returns, also when the agent hangs up
first). Whether one without a result still runs only its own Asterisk knows: ``reconcile`` asks it
(CoreShowChannels) for the attempt's Local channel, so a worker that died right after an Originate, or was
restarted while the agent talks to the caller, never dials that callback again; an attempt whose channel is
gone without a result (Asterisk restarted) is pending again at once.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from panoramisk import Manager

from outcomes.callback import CALLBACK_WHISPER
from pbx import actions
from pbx import contract as c
from pbx.ami import flat
from promises.store import Promises
from routing.model import Center
from routing.promises import QueueState, to_start

log = logging.getLogger("lotse.promises")
PLACEHOLDER = f"@{c.CONTEXT_CALLBACK_QUEUE}"  # in a callback's own channel in the queue: Local/<attempt>@lotse-callback-queue-...
RETRY_NO_AGENT = 30.0  # seconds before a callback that found no agent in time is tried again (not counted as an attempt)
GRACE = 30.0  # seconds an attempt may be without its Local channel (the Originate on its way) before reconcile ends it


class Dialler:
    """The callback attempts of one worker: their ids, and the Originate that starts each."""

    def __init__(self, center: Center, config_at: Callable[[float], Center], prompts: str, callback_wait: int, node: str) -> None:
        self.center = center
        self.node = node  # whose Asterisk this worker originates on (the attempts' attempt_node)
        self.config_at = config_at  # the config in force at a time (the keeper's)
        self.prompts = prompts  # as Asterisk sees them; empty: the config's prompts_dir
        self.callback_wait = callback_wait
        self._ids = itertools.count(1)

    async def dispatch(self, store: Promises, manager: Manager, now: float) -> list[str]:
        """Start the callbacks the rules allow; returns their attempt ids."""
        pending = await asyncio.to_thread(store.pending)
        if not pending:
            return []
        dialling = await asyncio.to_thread(store.dialling)
        states = {}
        for queue in sorted({p.queue for p in pending}):
            state = await queue_state(manager, queue, now)
            if state is not None:
                in_progress = sum(1 for row in dialling if row["queue"] == queue)
                states[queue] = QueueState(state.waiting, state.free_agents, in_progress)
        started = []
        for request in to_start(pending, states, [row["number"] for row in dialling], now):
            attempt = f"{int(now * 1000)}{next(self._ids) % 100:02d}"
            if not await asyncio.to_thread(store.start_attempt, request.id, attempt, now, self.node):
                continue  # started by someone else in the meantime
            row = await asyncio.to_thread(store.callback, request.id)
            assert row is not None
            try:  # as_list=False: the first answer ('queued'); panoramisk would wait for OriginateResponse (minutes)
                reply = await actions.send(manager, self.originate(row, attempt), 10.0)
            except (TimeoutError, OSError) as exc:
                reply = {"Message": f"no answer ({exc!r})"}
            if not getattr(reply, "success", False):
                log.error("callback %s: Originate refused: %s", request.id, flat(reply).get("Message", "no answer"))
                await asyncio.to_thread(store.requeue, attempt, now, now + RETRY_NO_AGENT)
                continue
            log.info("callback %s: attempt %s waits in queue %s for an agent", request.id, attempt, request.queue)
            started.append(attempt)
        return started

    async def reconcile(self, store: Promises, manager: Manager, results: Path, now: float) -> int:
        """This node's attempts without a result against its Asterisk: one whose Local channel is gone is pending again."""
        mine = [row for row in await asyncio.to_thread(store.dialling) if row["attempt_node"] == self.node]
        mine = [row for row in mine if now - (row["attempt_started"] or 0.0) > GRACE]
        if not mine:
            return 0
        live = await live_attempts(manager)
        if live is None:
            return 0  # Asterisk did not say: ask again next round
        ended = 0
        for row in mine:
            attempt = row["attempt_id"]
            if attempt in live or (results / attempt).exists():  # a result written as its channel ended: take_results has it
                continue
            if await asyncio.to_thread(store.requeue, attempt, now, now):
                log.warning("callback %s: attempt %s has no channel in Asterisk and no result; pending again", row["id"], attempt)
                ended += 1
        return ended

    def originate(self, row: dict[str, Any], attempt: str) -> actions.Action:
        tenant = self.config_at(row["created"]).tenants.get(row["tenant"])
        topic = tenant.topics.get(row["topic"]) if tenant else None
        prompts = (self.prompts or self.center.prompts_dir).rstrip("/")
        whisper = [f"{prompts}/{CALLBACK_WHISPER.file}", f"{prompts}/whisper/tenant/{tenant.id if tenant else '115'}"]
        if topic is not None:
            whisper.append(f"{prompts}/whisper/topic/{topic.id}")
        label = f"[{tenant.name if tenant else '115'}] Rückruf {topic.name if topic else ''}".rstrip()  # the agent sees it is one
        variables = {
            c.VAR_QUEUE: row["queue"],
            c.VAR_CALLBACK_NUMBER: row["number"],
            c.VAR_RING_TIMEOUT: str(self.center.promises.callback_ring_timeout),
            c.VAR_CALLBACK_WAIT: str(self.callback_wait),
            f"__{c.VAR_WHISPER}": "&".join(whisper),
            f"__{c.VAR_AGENT_LABEL}": label,
            f"__{c.VAR_TENANT}": row["tenant"],
            f"__{c.VAR_TOPIC}": row["topic"],
        }
        return actions.originate(
            channel=f"Local/{attempt}@{c.CONTEXT_CALLBACK_QUEUE}/n",
            context=c.CONTEXT_CALLBACK_DIAL,
            exten=attempt,
            timeout_ms=(self.callback_wait + 5) * 1000,
            caller_id=f'"Rückruf" <{attempt}>',
            variables=variables,
        )


@dataclass(frozen=True, slots=True)
class _Seen:
    waiting: tuple[float, ...]
    free_agents: int


async def queue_state(manager: Manager, queue: str, now: float) -> _Seen | None:
    """Who waits in ``queue`` (join times, callbacks' own channels left out) and how many agents are free; None if unknown."""
    try:
        messages = [flat(m) for m in await actions.send_list(manager, actions.queue_status(queue), 5.0)]
    except (TimeoutError, OSError) as exc:
        log.warning("QueueStatus %s not answered: %s", queue, exc)
        return None
    if not any(m.get("Event") == "QueueParams" for m in messages):
        return None
    waiting, free = [], 0
    for m in messages:
        if m.get("Event") == "QueueEntry" and PLACEHOLDER not in m.get("Channel", ""):
            waiting.append(now - float(m.get("Wait", "0") or 0))
        elif m.get("Event") == "QueueMember" and m.get("Paused") == "0" and m.get("Status") == "1" and m.get("InCall", "0") == "0":
            free += 1  # Status 1: AST_DEVICE_NOT_INUSE
    return _Seen(tuple(waiting), free)


async def live_attempts(manager: Manager) -> set[str] | None:
    """The attempts whose Local channel Asterisk has (CoreShowChannels); None when it did not answer the whole list."""
    try:
        messages = [flat(m) for m in await actions.send_list(manager, actions.core_show_channels(), 5.0)]
    except (TimeoutError, OSError) as exc:
        log.warning("CoreShowChannels not answered: %s", exc)
        return None
    if not any(m.get("Event") == "CoreShowChannelsComplete" for m in messages):
        return None
    local = [m.get("Channel", "").removeprefix("Local/").partition("@") for m in messages if m.get("Channel", "").startswith("Local/")]
    return {attempt for attempt, _, rest in local if rest.startswith(f"{c.CONTEXT_CALLBACK_QUEUE}-")}
