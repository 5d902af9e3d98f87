"""Real calls through the real Asterisk: AMI Originate into the lab's caller simulation."""

from __future__ import annotations

import asyncio
import os
import shutil
import signal
import subprocess
from pathlib import Path

from tests.integration.conftest import Lab
from tests.integration.lab import ROOT, Ami, lotse_serve, new_caller, of

EXAMPLE = ROOT / "config"
MONDAY = "2026-11-23 10:00"
REDIS = "redis://127.0.0.1:6379/0"


def test_rendered_config_loads_without_warnings(asterisk: Lab) -> None:
    problems = [line for line in asterisk.startup_log.splitlines() if "WARNING[" in line or "ERROR[" in line]
    assert "extensions_lotse.conf" in (asterisk.root / "etc/lotse-lab/extensions.conf").read_text()
    assert problems == []


def test_tenant_number_in_hours_reaches_queue_and_agent_hears_whisper(asterisk: Lab, serve_log: Path) -> None:
    async def scenario() -> None:
        caller = new_caller("0571")
        async with Ami() as ami:
            await ami.call("0571890", caller, "1")
            decision = await ami.decision(caller)
            assert (decision["LOTSE_TENANT"], decision["LOTSE_ENTRY"], decision["LOTSE_TOPIC"]) == ("minden", "own", "ausweis")
            joined = await ami.wait_for("QueueCallerJoin", of(caller, "QueueCallerJoin", Queue="buergerservice"))
            assert joined["CallerIDName"] == "[Stadt Minden] Personalausweis und Reisepass"
            whisper = await ami.wait_for("whisper", of(caller, "UserEvent", UserEvent="LotseWhisper"))
            assert whisper["Label"] == "[Stadt Minden] Personalausweis und Reisepass"
            await ami.wait_for("AgentConnect", of(caller, "AgentConnect", Queue="buergerservice"))

    with lotse_serve(EXAMPLE, MONDAY, serve_log):
        asyncio.run(scenario())


def test_115_caller_prefix_chooses_the_tenant(asterisk: Lab, serve_log: Path) -> None:
    async def scenario() -> None:
        caller = new_caller("05722")
        async with Ami() as ami:
            await ami.call("115", caller, "2")
            decision = await ami.decision(caller)
            assert (decision["LOTSE_TENANT"], decision["LOTSE_ENTRY"], decision["LOTSE_TOPIC"]) == ("bueckeburg", "115", "abfall")
            await ami.wait_for("QueueCallerJoin", of(caller, "QueueCallerJoin", Queue="buergerservice"))

    with lotse_serve(EXAMPLE, MONDAY, serve_log):
        asyncio.run(scenario())


def test_115_callers_of_a_shared_area_code_choose_the_administration(asterisk: Lab, serve_log: Path) -> None:
    async def scenario() -> None:
        # (a caller who chooses nothing gets the default after the choice was asked twice: tests/test_routing_115.py)
        county = new_caller("0571")
        async with Ami() as ami:
            await ami.call("115", county, "22")  # 2: the Kreis; then its menu's 2: Personalausweis
            decision = await ami.decision(county)
            assert (decision["LOTSE_TENANT"], decision["LOTSE_ENTRY"], decision["LOTSE_TOPIC"]) == ("kreis", "115", "ausweis")
            await ami.wait_for("QueueCallerJoin", of(county, "QueueCallerJoin", Queue="buergerservice"))
            played = [e.get("Command", "") for e in ami.events if of(county, "AGIExecStart")(e)]
            assert any("service_115/choices/49571/prompt" in command for command in played), played

    with lotse_serve(EXAMPLE, MONDAY, serve_log):
        asyncio.run(scenario())


def test_holiday_and_closed_hours_announce_and_hang_up(asterisk: Lab, serve_log: Path) -> None:
    async def scenario(reason: str) -> None:
        caller = new_caller("0571")
        async with Ami() as ami:
            await ami.call("0571890", caller)
            decision = await ami.decision(caller)
            assert (decision["LOTSE_OUTCOME"], decision["LOTSE_REASON"]) == ("hangup", reason)
            await ami.wait_for("Hangup", of(caller, "Hangup"))
            assert not any(of(caller, "QueueCallerJoin")(e) for e in ami.events)

    with lotse_serve(EXAMPLE, "2026-12-25 10:00", serve_log):
        asyncio.run(scenario("holiday"))
    with lotse_serve(EXAMPLE, "2026-11-23 07:15", serve_log):
        asyncio.run(scenario("closed"))
    log = serve_log.read_text()
    assert "minden/- -> hangup  (holiday)" in log and "minden/- -> hangup  (closed)" in log


def test_invalid_key_then_silence_goes_to_the_menu_default(asterisk: Lab, serve_log: Path) -> None:
    async def scenario() -> None:
        caller = new_caller("05702")
        async with Ami() as ami:
            await ami.call("057028220", caller, "7")
            decision = await ami.decision(caller, timeout=90)
            assert (decision["LOTSE_TENANT"], decision["LOTSE_TOPIC"], decision["LOTSE_REASON"]) == (
                "petershagen",
                "allgemein",
                "menu_default",
            )
            await ami.wait_for("QueueCallerJoin", of(caller, "QueueCallerJoin", Queue="buergerservice"))

    with lotse_serve(EXAMPLE, MONDAY, serve_log):
        asyncio.run(scenario())


def test_department_forward(asterisk: Lab, serve_log: Path) -> None:
    async def scenario() -> None:
        caller = new_caller("0571")
        async with Ami() as ami:
            await ami.call("0571890", caller, "3")
            decision = await ami.decision(caller)
            assert (decision["LOTSE_OUTCOME"], decision["LOTSE_DEPARTMENT"], decision["LOTSE_NUMBER"]) == (
                "department",
                "standesamt-minden",
                "+4957189300",
            )
            to_department = await ami.wait_for(
                "DialEnd to the department", lambda e: of(caller, "DialEnd")(e) and "@lotse-lab-departments" in e.get("DestChannel", "")
            )
            assert to_department["DialStatus"] == "ANSWER"
            assert "Local/+4957189300@lotse-lab-departments" in to_department["DestChannel"]

    with lotse_serve(EXAMPLE, "2026-11-26 15:00", serve_log):
        asyncio.run(scenario())


def test_an_info_plays_in_the_ivr_and_the_dialplan_ends_the_call(asterisk: Lab, serve_log: Path) -> None:
    async def scenario() -> None:
        caller = new_caller("0571")
        async with Ami() as ami:
            await ami.call("0571890", caller, "4")  # Minden's Abfuhrtermine; no key after it: heard
            decision = await ami.decision(caller)
            assert (decision["LOTSE_OUTCOME"], decision["LOTSE_TENANT"], decision["LOTSE_QUEUE"]) == ("info", "minden", "")
            hangup = of(caller, "Newexten", Context="lotse-dispatch", Extension="info", Application="Hangup")
            await ami.wait_for("the info's Hangup", hangup)
            assert not [e for e in ami.events if of(caller, "QueueCallerJoin")(e)]

    with lotse_serve(EXAMPLE, MONDAY, serve_log):
        asyncio.run(scenario())


def test_lotse_down_sends_calls_to_the_fallback_queue(asterisk: Lab) -> None:
    async def scenario() -> None:
        caller = new_caller("0571")
        async with Ami() as ami:
            await ami.call("0571890", caller, "1")
            await ami.wait_for("QueueCallerJoin", of(caller, "QueueCallerJoin", Queue="zentrale"))

    asyncio.run(scenario())  # no lotse serve running


def test_reload_during_calls_leaves_running_calls_alone(asterisk: Lab, serve_log: Path, tmp_path: Path) -> None:
    config = tmp_path / "config"
    shutil.copytree(EXAMPLE, config)
    center = config / "center.yaml"

    async def scenario(process_pid: int) -> None:
        before, after = new_caller("0571"), new_caller("0571")
        async with Ami("lab", "lab-measure-2026") as ami:  # the lab's user sees AGI events
            await ami.call("0571890", before, "1")
            # lotse has read the call's AGI environment and sent its first command: the call runs on the old config.
            await ami.wait_for("lotse's first AGI command", of(before, "AGIExecStart"))
            text = center.read_text(encoding="utf-8").replace("Personalausweis und Reisepass", "Ausweise")
            center.write_text(text, encoding="utf-8")
            os.kill(process_pid, signal.SIGHUP)
            old = await ami.decision(before)
            await ami.call("0571890", after, "1")
            new = await ami.decision(after)
            assert old["LOTSE_TOPIC_NAME"] == "Personalausweis und Reisepass"
            assert new["LOTSE_TOPIC_NAME"] == "Ausweise"

    with lotse_serve(config, MONDAY, serve_log) as process:
        asyncio.run(scenario(process.pid))
    assert "config" in serve_log.read_text() and serve_log.read_text().count("loaded: 5 tenants") == 2


def test_an_invalid_reload_keeps_the_old_config(asterisk: Lab, serve_log: Path, tmp_path: Path) -> None:
    config = tmp_path / "config"
    shutil.copytree(EXAMPLE, config)

    async def scenario(process_pid: int) -> None:
        center = config / "center.yaml"
        center.write_text(center.read_text(encoding="utf-8").replace("queue: kfz}", "queue: kfzz}", 1), encoding="utf-8")
        os.kill(process_pid, signal.SIGHUP)
        caller = new_caller("0571")
        async with Ami() as ami:
            await ami.call("0571890", caller, "1")
            decision = await ami.decision(caller)
            assert decision["LOTSE_QUEUE"] == "buergerservice"

    with lotse_serve(config, MONDAY, serve_log) as process:
        asyncio.run(scenario(process.pid))
    log = serve_log.read_text()
    assert "rejected, 1 error(s); the previous config keeps serving" in log
    assert "unknown queue 'kfzz'" in log


def test_emergency_switched_on_at_runtime_takes_the_calls(asterisk: Lab, serve_log: Path) -> None:
    lotse = [str(ROOT / ".venv/bin/lotse"), "emergency"]
    switch = [*lotse, "on", "minden/bombe", "--config", str(EXAMPLE), "--redis", REDIS]

    async def scenario(expect_emergency: bool) -> None:
        # the city's number; the Bürgertelefon's own number; 115 from a region no tenant takes (caught while on)
        calls = {"own": ("0571890", new_caller("0571")), "line": ("057189500", new_caller("0571")), "115": ("115", new_caller("030"))}
        async with Ami() as ami:
            for number, caller in calls.values():
                await ami.call(number, caller)
            for kind, (_, caller) in calls.items():
                decision = await ami.decision(caller)
                if expect_emergency:
                    entry = "own" if kind == "own" else "emergency"
                    assert (decision["LOTSE_REASON"], decision["LOTSE_QUEUE"], decision["LOTSE_TOPIC"], decision["LOTSE_ENTRY"]) == (
                        "emergency",
                        "buergertelefon",
                        "bombe",
                        entry,
                    ), kind
                    await ami.wait_for("QueueCallerJoin", of(caller, "QueueCallerJoin", Queue="buergertelefon"))
                else:  # Sunday: the line's number routes like the city's own number, closed; 115 too
                    assert decision["LOTSE_REASON"] == "closed", kind

    sunday = "2026-11-22 11:00"
    try:
        assert subprocess.run(switch, capture_output=True, text=True, check=False).returncode == 0
        with lotse_serve(EXAMPLE, sunday, serve_log, REDIS):
            asyncio.run(scenario(expect_emergency=True))
            off = subprocess.run([*lotse, "off", "minden/bombe", "--config", str(EXAMPLE), "--redis", REDIS], check=False)
            assert off.returncode == 0
            asyncio.run(scenario(expect_emergency=False))
    finally:
        subprocess.run([*lotse, "off", "minden/bombe", "--config", str(EXAMPLE), "--redis", REDIS], check=False)
