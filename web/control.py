"""Agents' state changed from the web: log in, log out, pause, ready, through Asterisk's AMI.

The same queue actions the phone codes run in the dialplan (render/agent_codes.py):
QueueAdd of every queue that rings one of the agent's groups (with their
penalty and name), QueueRemove, QueuePause with the reason. Asterisk stays the
one place the state lives; lotse metrics sees the QueueMember* events and the
wallboard shows the change like any other. Needs an AMI user with ``write =
agent`` (``[lotse-web]`` in the rendered manager_lotse.conf).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterable
from typing import Any

from pbx.ami import AmiLink, AmiSettings
from render.agent_codes import penalty, queues_of
from render.agents import Agent
from routing.model import Center

log = logging.getLogger("lotse.web")


class ControlError(RuntimeError):
    """An action Asterisk did not carry out; the message says which and why (in German, for the page)."""


def interface_of(agent: Agent) -> str:
    return f"PJSIP/{agent.id}"


def login_actions(center: Center, agent: Agent) -> list[dict[str, str]]:
    member = interface_of(agent)
    return [
        {
            "Action": "QueueAdd",
            "Queue": q,
            "Interface": member,
            "Penalty": str(penalty(center, agent, q)),
            "MemberName": agent.name,
            "StateInterface": member,
        }
        for q in queues_of(center, agent)
    ]


def logout_actions(center: Center, agent: Agent) -> list[dict[str, str]]:
    return [{"Action": "QueueRemove", "Queue": q, "Interface": interface_of(agent)} for q in queues_of(center, agent)]


def pause_action(interface: str, reason: str | None) -> dict[str, str]:
    """Pause (reason given) or ready (None) in every queue of the interface."""
    action = {"Action": "QueuePause", "Interface": interface, "Paused": "false" if reason is None else "true"}
    if reason:
        action["Reason"] = reason
    return action


class Control:
    def __init__(self, settings: AmiSettings) -> None:
        self.link = AmiLink(settings, lambda event: None, self._logged_in)

    async def _logged_in(self, manager: Any) -> None:
        log.info("AMI: logged in for agents' actions")

    def start(self) -> None:
        self.link.start()

    async def close(self) -> None:
        await self.link.close()

    async def run(self, actions: list[dict[str, str]], tolerate: tuple[str, ...] = ()) -> None:
        """Send each action; raises ControlError for the first that Asterisk refused (unless its message is tolerated)."""
        manager = self.link.manager
        if not self.link.up or manager is None:
            raise ControlError("Asterisk ist nicht erreichbar (AMI); bitte später noch einmal versuchen.")
        for action in actions:
            try:
                reply = await asyncio.wait_for(manager.send_action(dict(action), as_list=False), 5.0)
            except (TimeoutError, OSError) as exc:
                raise ControlError(f"Asterisk hat auf {action['Action']} nicht geantwortet ({exc or 'Zeitüberschreitung'}).") from None
            response, message = str(reply.get("Response", "")), str(reply.get("Message", ""))
            if response != "Success" and not any(t in message for t in tolerate):
                raise ControlError(
                    f"Asterisk hat {action['Action']} für {action.get('Queue', action.get('Interface'))} abgelehnt: {message}"
                )
            log.info("AMI %s %s: %s", action["Action"], action.get("Queue") or action.get("Interface"), message or response)


def remove_actions(interface: str, queues: Iterable[str]) -> list[dict[str, str]]:
    """QueueRemove of the interface from each of the queues (a supervisor logs out an agent as the live state shows them)."""
    return [{"Action": "QueueRemove", "Queue": q, "Interface": interface} for q in queues]
