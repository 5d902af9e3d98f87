"""Agents' softphones: the rendered PJSIP endpoints accept a real SIP registration (SIPp)."""

from __future__ import annotations

import asyncio
import subprocess
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
    members = lab("cli", "queue show kfz")
    assert "Anna Schmidt (PJSIP/anna)" in members and "Clara Wolff (PJSIP/clara)" in members
    assert "Ben Yilmaz" not in members  # ben is not in team-kfz


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
