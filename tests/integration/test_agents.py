"""Agents' softphones: the rendered PJSIP endpoints accept a real SIP registration (SIPp)."""

from __future__ import annotations

import asyncio
import subprocess
from collections.abc import Callable
from pathlib import Path

from tests.integration.conftest import Lab
from tests.integration.lab import Ami, lab

SCENARIO = Path(__file__).parent / "sipp" / "register.xml"
SECRETS = {"anna": "lab-anna-2026-secret", "ben": "lab-ben-2026-secret"}  # asterisk/secrets.example.yaml


def register(agent: str, password: str, port: int) -> int:
    argv = ["sipp", "127.0.0.1:5060", "-sf", str(SCENARIO), "-s", agent, "-au", agent, "-ap", password]
    argv += ["-m", "1", "-i", "127.0.0.1", "-p", str(port), "-timeout", "10", "-timeout_error", "-nostdin"]
    return subprocess.run(argv, capture_output=True, check=False, timeout=30, cwd="/tmp").returncode


def test_rendered_endpoints_are_loaded(asterisk: Lab) -> None:
    endpoints = lab("cli", "pjsip show endpoints")
    for agent in ("anna", "ben", "clara", "deniz"):
        assert f"Endpoint:  {agent}/{agent}" in endpoints
    assert "PJSIP/" not in lab("cli", "queue show kfz")  # agents log in with *11


async def dial_code(ami: Ami, agent: str, code: str) -> None:
    """The agent's phone dials a feature code (a Local channel with the endpoint's caller ID)."""
    originate = {"Action": "Originate", "Channel": f"Local/{code}@lotse-agents", "Application": "Wait", "Data": "6"}
    await ami.manager.send_action({**originate, "CallerID": f"<{agent}>", "Async": "true"}, as_list=False)


def member(name: str, **fields: str) -> Callable[[dict[str, str]], bool]:
    """A queue member event of clara's phone with the given fields."""
    return lambda e: e.get("Event") == name and e.get("Interface") == "PJSIP/clara" and all(e.get(k) == v for k, v in fields.items())


def test_an_agent_logs_in_pauses_with_a_reason_is_ready_again_and_logs_out_by_feature_codes(asterisk: Lab) -> None:
    async def scenario() -> None:
        async with Ami() as ami:
            await dial_code(ami, "clara", "*11")
            added = await ami.wait_for("clara logged in to kfz", member("QueueMemberAdded", Queue="kfz"), 20)
            assert added["MemberName"] == "Clara Wolff"
            said = await ami.wait_for(
                "the confirmation", lambda e: e.get("Event") == "Newexten" and "agents/logged-in" in e.get("AppData", "")
            )
            assert said["Application"] == "Playback"
            await dial_code(ami, "clara", "*213")
            paused = await ami.wait_for("clara paused", member("QueueMemberPause", Queue="kfz", Paused="1"), 20)
            assert paused.get("PausedReason", paused.get("Reason")) == "3"  # Schulung
            await dial_code(ami, "clara", "*22")
            await ami.wait_for("clara ready", member("QueueMemberPause", Queue="kfz", Paused="0"), 20)
            await dial_code(ami, "clara", "*12")
            await ami.wait_for("clara logged out", member("QueueMemberRemoved", Queue="kfz"), 20)
        assert "PJSIP/clara" not in lab("cli", "queue show kfz")

    asyncio.run(scenario())


def test_an_agent_registers_with_the_right_password_only(asterisk: Lab) -> None:
    assert register("ben", "wrong-password-123", 5081) != 0
    assert "ben/sip:ben@" not in lab("cli", "pjsip show contacts")
    assert register("anna", SECRETS["anna"], 5082) == 0
    assert "anna/sip:anna@127.0.0.1:5082" in lab("cli", "pjsip show contacts")


def test_lotses_ami_user_may_follow_calls_but_not_originate(asterisk: Lab) -> None:
    """The rendered user has write = reporting only: an Originate (which could run System()) is refused."""

    async def scenario() -> None:
        async with Ami("lotse", "lab-ami-2026-secret") as ami:
            channels = await ami.manager.send_action({"Action": "CoreShowChannels"})
            first = channels[0] if isinstance(channels, list) else channels
            assert first.success, dict(first)
            refused = await ami.manager.send_action(
                {"Action": "Originate", "Channel": "Local/s@lotse-fallback", "Application": "System", "Data": "true", "Async": "false"}
            )
            answer = refused[0] if isinstance(refused, list) else refused
            assert not answer.success and "Permission denied" in answer.get("Message", "")

    asyncio.run(scenario())
