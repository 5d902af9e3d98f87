"""Every AMI action lotse sends, each by its own function; callers never build an action themselves.

The builders are pure (an action is a dict of AMI headers; ``Variable`` may repeat, so it is a list). ``send``
and ``send_list`` carry one out over a panoramisk manager, always bounded in time: an action Asterisk never
answers would otherwise wait for ever (panoramisk's ``send_action`` of a single-reply action such as QueueAdd
waits for more replies unless ``as_list=False``).
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from typing import Any

Action = dict[str, Any]  # header -> value (str), Variable -> list of 'NAME=value'


def queue_add(queue: str, interface: str, penalty: int, member_name: str) -> Action:
    """Log an agent's phone in to a queue, rung by its device state."""
    return {
        "Action": "QueueAdd",
        "Queue": queue,
        "Interface": interface,
        "Penalty": str(penalty),
        "MemberName": member_name,
        "StateInterface": interface,
    }


def queue_remove(queue: str, interface: str) -> Action:
    return {"Action": "QueueRemove", "Queue": queue, "Interface": interface}


def queue_pause(interface: str, reason: str | None) -> Action:
    """Pause with ``reason`` in every queue of the interface, or ready again (None)."""
    action: Action = {"Action": "QueuePause", "Interface": interface, "Paused": "false" if reason is None else "true"}
    if reason:
        action["Reason"] = reason
    return action


def queue_status(queue: str | None = None) -> Action:
    """The queues' params, members and waiting callers (one queue, or all)."""
    return {"Action": "QueueStatus", **({"Queue": queue} if queue else {})}


def core_show_channels() -> Action:
    return {"Action": "CoreShowChannels"}


def originate(channel: str, context: str, exten: str, timeout_ms: int, caller_id: str, variables: Mapping[str, str]) -> Action:
    """Start ``channel`` asynchronously; once it answers, it runs ``context``/``exten``/1 with ``variables`` set."""
    return {
        "Action": "Originate",
        "Channel": channel,
        "Context": context,
        "Exten": exten,
        "Priority": "1",
        "Async": "true",
        "Timeout": str(timeout_ms),
        "CallerID": caller_id,
        "Variable": [f"{name}={value}" for name, value in variables.items()],
    }


def hangup(channel: str) -> Action:
    """Hang up the channels whose name matches (``/regex/``) or equals ``channel``."""
    return {"Action": "Hangup", "Channel": channel}


def describe(action: Action) -> str:
    """'QueueAdd buergerservice' for logs and messages: the action and what it is about."""
    about = action.get("Queue") or action.get("Interface") or action.get("Channel") or ""
    return f"{action['Action']} {about}".rstrip()


async def send(manager: Any, action: Action, timeout: float) -> Mapping[str, Any]:
    """An action with one reply; raises TimeoutError or OSError when Asterisk does not answer in time."""
    reply = await asyncio.wait_for(manager.send_action(dict(action), as_list=False), timeout)
    return reply  # type: ignore[no-any-return]


async def send_list(manager: Any, action: Action, timeout: float) -> list[Any]:
    """An action answered by a list of events (QueueStatus, CoreShowChannels): every message of the answer."""
    answer = await asyncio.wait_for(manager.send_action(dict(action)), timeout)
    return answer if isinstance(answer, list) else [answer]
