"""Agents' softphones: the rendered PJSIP endpoints accept a real SIP registration (SIPp), log in by code,
get queue calls on a SIP phone (SIPp answering), and get none while paused."""

from __future__ import annotations

import asyncio
import contextlib
import subprocess
import time
from collections.abc import Callable, Iterator
from pathlib import Path

from tests.conftest import EXAMPLE
from tests.integration.conftest import Lab
from tests.integration.lab import Ami, lab, lab_state, lotse_serve, new_caller, of

SIPP = Path(__file__).parent / "sipp"
SCENARIO = SIPP / "register.xml"
LAB_AGENTS = ("Local/anna@lotse-lab-agents/n", "Local/ben@lotse-lab-agents/n")  # static lab members: paused for the SIP test
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
            assert paused.get("PausedReason", paused.get("Reason")) == "Schulung"  # reason 3, by its name
            await dial_code(ami, "clara", "*22")
            await ami.wait_for("clara ready", member("QueueMemberPause", Queue="kfz", Paused="0"), 20)
            await dial_code(ami, "clara", "*12")
            await ami.wait_for("clara logged out", member("QueueMemberRemoved", Queue="kfz"), 20)
        assert "PJSIP/clara" not in lab("cli", "queue show kfz")

    asyncio.run(scenario())


def test_a_logged_in_agent_and_her_pause_survive_a_restart_of_asterisk(asterisk: Lab) -> None:
    """persistentmembers = yes: Asterisk keeps dynamic members and pauses in AstDB; lotse keeps no agent state."""

    async def log_in_and_pause() -> None:
        async with Ami() as ami:
            await dial_code(ami, "clara", "*11")
            await ami.wait_for("clara logged in", member("QueueMemberAdded", Queue="kfz"), 20)
            await dial_code(ami, "clara", "*214")
            await ami.wait_for("clara paused", member("QueueMemberPause", Queue="kfz", Paused="1"), 20)

    async def state_after_restart() -> dict[str, str]:
        async with Ami() as ami:
            answer = await ami.manager.send_action({"Action": "QueueStatus", "Queue": "kfz"})
            members = [dict(m) for m in (answer if isinstance(answer, list) else [answer]) if m.get("Event") == "QueueMember"]
            found = next((m for m in members if m.get("StateInterface") == "PJSIP/clara" or m.get("Location") == "PJSIP/clara"), {})
            await dial_code(ami, "clara", "*12")
            await ami.wait_for("clara logged out", member("QueueMemberRemoved", Queue="kfz"), 20)
            return found

    asyncio.run(log_in_and_pause())
    lab("stop")
    lab("start", str(lab_state() / "conf"))
    found = asyncio.run(state_after_restart())
    assert (found.get("Paused"), found.get("PausedReason"), found.get("Name")) == ("1", "Backoffice", "Clara Wolff")


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


@contextlib.contextmanager
def sip_phone(agent: str, password: str, port: int) -> Iterator[subprocess.Popen[bytes]]:
    """A registered softphone that answers calls: SIPp phone.xml on port, registered as the agent's contact."""
    argv = ["sipp", "-sf", str(SIPP / "phone.xml"), "-i", "127.0.0.1", "-p", str(port), "-mp", str(port + 2000), "-rtp_echo"]
    phone = subprocess.Popen([*argv, "-nostdin"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, cwd="/tmp")
    try:
        register = ["sipp", "127.0.0.1:5060", "-sf", str(SIPP / "register_contact.xml"), "-s", agent, "-au", agent, "-ap", password]
        register += ["-m", "1", "-i", "127.0.0.1", "-p", str(port + 1), "-key", "contact_port", str(port), "-timeout", "10"]
        subprocess.run([*register, "-timeout_error", "-nostdin"], check=True, capture_output=True, timeout=30, cwd="/tmp")
        deadline = time.monotonic() + 15
        while f"{agent}/sip:{agent}@127.0.0.1:{port}" not in (contacts := lab("cli", "pjsip show contacts")) or "Avail" not in contacts:
            assert time.monotonic() < deadline, f"the phone's contact is not qualified:\n{contacts}"
            time.sleep(0.3)
        yield phone
    finally:
        phone.terminate()
        phone.wait(10)


def test_a_sip_agent_logs_in_by_code_gets_a_call_gets_none_while_paused_and_one_when_ready(asterisk: Lab, serve_log: Path) -> None:
    first, second = new_caller("0571"), new_caller("0571")
    anna = "PJSIP/anna"

    async def pause_lab_agents(ami: Ami, paused: bool) -> None:
        for agent in LAB_AGENTS:
            await ami.manager.send_action(
                {"Action": "QueuePause", "Queue": "buergerservice", "Interface": agent, "Paused": str(paused).lower()}
            )

    async def scenario() -> None:
        async with Ami() as ami:
            await pause_lab_agents(ami, True)
            try:
                await dial_code(ami, "anna", "*11")
                await ami.wait_for("anna logged in", lambda e: e.get("Event") == "QueueMemberAdded" and e.get("Interface") == anna
                                   and e.get("Queue") == "buergerservice", 20)  # fmt: skip
                await ami.call("0571890", first, "1")
                connect = await ami.wait_for("the first call answered on anna's SIP phone", of(first, "AgentConnect"), 90)
                assert connect["Interface"] == anna and connect["Queue"] == "buergerservice"
                await ami.manager.send_action({"Action": "Hangup", "Channel": connect["Channel"]})
                await ami.wait_for("the first caller gone", of(first, "Hangup"), 20)
                await dial_code(ami, "anna", "*211")
                paused = await ami.wait_for("anna paused", lambda e: e.get("Event") == "QueueMemberPause" and e.get("Interface") == anna
                                            and e.get("Queue") == "buergerservice" and e.get("Paused") == "1", 20)  # fmt: skip
                assert paused.get("PausedReason") == "Pause"
                await ami.call("0571890", second, "1")
                await ami.wait_for("the second caller waits", of(second, "QueueCallerJoin", Queue="buergerservice"), 60)
                await asyncio.sleep(8)  # more than a ring cycle: a paused agent is not rung
                rung = [e for e in ami.events if e.get("Event") == "AgentCalled" and second in e.get("CallerIDNum", "")]
                assert rung == [], "a paused agent was rung"
                await dial_code(ami, "anna", "*22")
                connect = await ami.wait_for("the second call answered once anna is ready", of(second, "AgentConnect"), 60)
                assert connect["Interface"] == anna
                await ami.manager.send_action({"Action": "Hangup", "Channel": connect["Channel"]})
                await dial_code(ami, "anna", "*12")
                await ami.wait_for("anna logged out", lambda e: e.get("Event") == "QueueMemberRemoved" and e.get("Interface") == anna, 20)
            finally:
                await pause_lab_agents(ami, False)

    with sip_phone("anna", SECRETS["anna"], 5090), lotse_serve(EXAMPLE, "2026-11-23 10:00", serve_log):
        asyncio.run(scenario())
    # the callers' channels run in the center's language: app_queue's announcements are Debian's German sounds
    log = (asterisk.root / "var/log/lotse-lab/messages.log").read_text(encoding="utf-8", errors="replace").splitlines()
    plays = [line for line in log if first in line and "Playing" in line]
    assert plays and all("(language 'de')" in line for line in plays), plays[:3]
    assert (asterisk.root / "usr/share/asterisk/sounds/de/queue-youarenext.gsm").exists()


def test_hand_ons_nobody_answers_attended_comes_back_blind_goes_on_as_the_departments_unanswered_says(
    asterisk: Lab, serve_log: Path
) -> None:
    """Two calls at once, both handed on to the Ordnungsamt (never answers in the lab; unanswered: callback).
    Attended (*2 3, hanna in buergerservice): after its ring time the agent is back with the caller; the department was
    rung with the call's label. Blind (#1 3, bernd in kfz): lotse takes the caller over and decides the department's
    callback, as after its own unanswered forward."""
    attended, blind = new_caller("0571"), new_caller("0571")
    hanna, bernd = "Local/hanna@lotse-lab-handon-agents/n", "Local/bernd@lotse-lab-blind-agents/n"
    members = [("buergerservice", hanna), ("kfz", bernd)]

    def handon_of(label: str) -> Callable[[dict[str, str]], bool]:
        return lambda e: e.get("UserEvent") == "LotseHandOn" and e.get("Label") == label

    def dial_end(e: dict[str, str]) -> bool:
        return e.get("Event") == "DialEnd" and "4957189319" in e.get("DestChannel", "")

    async def scenario() -> None:
        async with Ami() as ami:
            await _only_these_agents(ami, members, True)
            try:
                await ami.call("0571890", attended, "1")  # Minden, Personalausweis: buergerservice
                await ami.call("05718070", blind, "12")  # Kreis, Führerschein: kfz
                connect = await ami.wait_for("hanna answers", of(attended, "AgentConnect"), 90)
                assert connect["Interface"] == hanna
                assert (await ami.wait_for("bernd answers", of(blind, "AgentConnect"), 90))["Interface"] == bernd
                labels = {"[Stadt Minden] Personalausweis und Reisepass", "[Kreis Minden-Lübbecke] Führerschein"}
                for label in labels:
                    await ami.wait_for(f"the hand-on of {label}", handon_of(label), 40)
                handons = [e for e in ami.events if e.get("UserEvent") == "LotseHandOn"]
                assert {e["Department"] for e in handons} == {"ordnungsamt-minden"} and {e["Label"] for e in handons} == labels
                for _ in range(400):  # both departments' rings end (the Kreis caller took a second menu: later)
                    if len([e for e in ami.events if dial_end(e)]) == 2:
                        break
                    await asyncio.sleep(0.1)
                await asyncio.sleep(2)
                assert [e["DialStatus"] for e in ami.events if dial_end(e)] == ["NOANSWER", "NOANSWER"]
                gone = [e for e in ami.events if e.get("Event") == "Hangup" and e.get("Channel", "").startswith(f"Local/{attended}")]
                assert gone == [], "the attended caller was lost with the failed hand-on"
                back = [e for e in ami.events if e.get("Event") == "BridgeEnter" and "hanna" in e.get("Channel", "")]
                assert len(back) >= 2, "hanna is not back in a bridge with her caller"
                outcome = await ami.wait_for(
                    "lotse's next decision for the blind one",
                    lambda e: _var_of(e, blind) == "LOTSE_OUTCOME" and e.get("Value") == "callback",
                    60,
                )
                assert outcome
                departments = [e.get("Value") for e in ami.events if _var_of(e, blind) == "LOTSE_DEPARTMENT"]
                assert departments and departments[-1] == "ordnungsamt-minden"
                for caller in (attended, blind):
                    await ami.manager.send_action({"Action": "Hangup", "Channel": f"/^Local/{caller}.*/"})
            finally:
                await _only_these_agents(ami, members, False)

    with lotse_serve(EXAMPLE, "2026-11-23 10:00", serve_log):
        asyncio.run(scenario())


async def _only_these_agents(ami: Ami, members: list[tuple[str, str]], on: bool) -> None:
    """on: the lab's agents of both queues paused and ``members`` (queue, interface) added; off: the other way round."""
    if not on:
        for queue, agent in members:
            remove = {"Action": "QueueRemove", "Queue": queue, "Interface": agent}
            await asyncio.wait_for(ami.manager.send_action(remove, as_list=False), 10)
    for queue in ("buergerservice", "kfz"):
        for member in LAB_AGENTS:
            pause = {"Action": "QueuePause", "Queue": queue, "Interface": member, "Paused": "true" if on else "false"}
            await ami.manager.send_action(pause)
    if on:
        for queue, agent in members:
            add = {"Action": "QueueAdd", "Queue": queue, "Interface": agent, "MemberName": agent.split("/")[1].split("@")[0]}
            await asyncio.wait_for(ami.manager.send_action(add, as_list=False), 10)


def _var_of(event: dict[str, str], caller: str) -> str:
    """The variable a VarSet event sets on the caller's channel ('' for other events and channels)."""
    if event.get("Event") != "VarSet" or caller not in event.get("Channel", ""):
        return ""
    return event.get("Variable", "").lstrip("_")
