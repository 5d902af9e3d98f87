from __future__ import annotations

import os
import shutil
import subprocess
import sys
import sysconfig
from dataclasses import replace
from pathlib import Path

import pytest

from ivr.agi import AgiError, CallerHungUp, command_text, environment, parse_environment, parse_reply, reply_value, resume_from_args
from ivr.session import channel_variables, resumed, run, session
from outcomes.commands import SetVariable, Stream, WaitDigit
from pbx import contract as c
from render.dialplan import RenderError, RenderOptions, dialled_forms, mailboxes, render
from routing.engine import KEYS, Call, Live, Outcome, Resume
from routing.model import Center, Entry
from tests.conftest import ROOT, at

MONDAY = at("2026-11-23 10:00")
HEADERS = {
    "agi_network_script": "lotse",
    "agi_uniqueid": "1700.1",
    "agi_callerid": "057112345",
    "agi_callingpres": "0",
    "agi_arg_1": "0571890",
}


def test_environment_from_headers() -> None:
    env = parse_environment([f"{k}: {v}" for k, v in HEADERS.items()] + ["agi_channel: Local/x;2", "junk line"])
    assert (env.script, env.uniqueid, env.caller, env.dialled, env.channel) == ("lotse", "1700.1", "057112345", "0571890", "Local/x;2")


@pytest.mark.parametrize(("pres", "number"), [("32", "057112345"), ("67", "057112345"), ("0", "unknown"), ("0", "")])
def test_withheld_numbers_are_hidden(pres: str, number: str) -> None:
    assert environment({**HEADERS, "agi_callingpres": pres, "agi_callerid": number}).caller is None


@pytest.mark.parametrize(("drop", "message"), [("agi_network_script", "neither agi_network_script"), ("agi_uniqueid", "no agi_uniqueid")])
def test_incomplete_environment_names_what_is_missing(drop: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        environment({k: v for k, v in HEADERS.items() if k != drop})


def test_classic_agi_request_names_the_script() -> None:
    headers = {k: v for k, v in HEADERS.items() if k != "agi_network_script"} | {"agi_request": "/usr/share/asterisk/agi-bin/lotse-agi"}
    assert environment(headers).script == "lotse-agi"


def test_command_text_quotes_values() -> None:
    assert command_text(Stream("/p/a", KEYS)) == 'STREAM FILE "/p/a" "0123456789*#"'
    assert command_text(WaitDigit(5000)) == "WAIT FOR DIGIT 5000"
    assert command_text(SetVariable("X", 'a "b" \\ c')) == 'SET VARIABLE X "a \\"b\\" \\\\ c"'


def test_reply_meaning() -> None:
    assert reply_value(Stream("f", KEYS), parse_reply("200 result=49 endpos=1234")) == "1"
    assert reply_value(Stream("f", KEYS), parse_reply("200 result=0 endpos=8000")) is None
    assert reply_value(WaitDigit(5000), parse_reply("200 result=35")) == "#"
    assert reply_value(SetVariable("X", "y"), parse_reply("200 result=1")) is None
    assert parse_reply("200 result=49 endpos=1234") == {"status_code": 200, "result": ("49", ""), "msg": ""}
    assert parse_reply("200 result=0 (timeout)")["result"] == ("0", "timeout")  # parentheses: panoramisk's parser
    with pytest.raises(CallerHungUp):
        reply_value(Stream("f"), parse_reply("HANGUP"))
    with pytest.raises(CallerHungUp):
        reply_value(WaitDigit(10), parse_reply("200 result=-1"))
    with pytest.raises(AgiError, match="AGIInvalidCommand"):
        reply_value(SetVariable("X", "y"), parse_reply("510 Invalid or unknown command"))


def test_session_plays_menu_waits_and_sets_the_contract(example: Center) -> None:
    commands, decision = run(session(example, Call("0571 89-0", "0571 1"), MONDAY, Live(), "/p"), {WaitDigit(5000): "1"})
    assert commands[:3] == [
        Stream("/p/tenants/minden/greeting", KEYS),
        Stream("/p/tenants/minden/menus/main/prompt", KEYS),
        WaitDigit(5000),
    ]
    (handover,) = [cmd for cmd in commands if isinstance(cmd, SetVariable)]  # the whole decision in one command
    assert handover.name == c.VAR_DECISION
    variables = c.unpack(handover.value)
    assert variables[c.VAR_OUTCOME] == "queue" and variables[c.VAR_QUEUE] == "buergerservice"
    assert variables[c.VAR_AGENT_LABEL] == "[Stadt Minden] Personalausweis und Reisepass"
    assert variables[c.VAR_WHISPER] == "/p/whisper/tenant/minden&/p/whisper/topic/ausweis"
    assert decision.queue == "buergerservice"


def test_a_key_during_the_greeting_skips_the_rest(example: Center) -> None:
    greeting = Stream("/p/tenants/minden/greeting", KEYS)
    commands, decision = run(session(example, Call("0571 89-0", "0571 1"), MONDAY, Live(), "/p"), {greeting: "2"})
    assert isinstance(commands[1], SetVariable) and c.unpack(commands[1].value)[c.VAR_OUTCOME] == "queue"
    assert decision.ctx.topic == "abfall"


# set by the dialplan itself, or by lotse promises on a callback's channels
DIALPLAN_SETS = (
    "VAR_DIALLED",
    "VAR_HOPS",
    "VAR_DECISION",
    "VAR_JOINED",
    "VAR_ATTEMPT",
    "VAR_CALLBACK_WAIT",
    "VAR_MESSAGE_FILE",
    "VAR_FALLBACK_HOLDS",
    "VAR_HAND_ON",
)


def test_every_contract_variable_is_set_every_time(example: Center) -> None:
    decision = run(session(example, Call("115", "anonymous"), MONDAY, Live(), "/p"))[1]
    names = {name.lstrip("_") for name in channel_variables(decision, "/p")}
    assert names == {
        getattr(c, n) for n in dir(c) if n.startswith("VAR_") and n not in DIALPLAN_SETS
    }  # the dialplan sets those, and LOTSE_DECISION carries the rest
    assert set(c.DECISION_FIELDS) == names


def test_the_decision_survives_packing_and_the_rendered_unpack(example: Center) -> None:
    values = {name: f"value {n}" for n, name in enumerate(c.DECISION_FIELDS)} | {c.VAR_TOPIC_NAME: "Kfz | Führerschein"}
    assert c.unpack(c.pack(values)) == values | {c.VAR_TOPIC_NAME: "Kfz / Führerschein"}
    rendered = render(example, RenderOptions(), "config")["extensions_lotse.conf"]
    for n, name in enumerate(c.DECISION_FIELDS, 1):
        prefix = "__" if name in c.INHERITED else ""
        assert f"Set({prefix}{name}=${{CUT(LOTSE_DECISION,|,{n})}})" in rendered


def test_resume_after_queue_timeout_uses_the_overflow(example: Center) -> None:
    back = resume_from_args(("queue", "kfz", "kreis", "own", "zulassung", "+495711"))
    assert back == Resume(Outcome.QUEUE, "kfz", "kreis", Entry.OWN, "zulassung", "+495711")
    decision = run(resumed(example, back, MONDAY, Live(), "/p"))[1]
    assert (decision.queue, decision.reason, decision.ctx.topic) == ("buergerservice", "overflow", "zulassung")
    nothing = run(resumed(example, Resume(Outcome.QUEUE, "zentrale", None, None, None, None), MONDAY, Live(), "/p"))[1]
    assert (nothing.queue, nothing.reason) == ("zentrale", "unknown_resume")


def test_resume_args_are_checked() -> None:
    with pytest.raises(ValueError, match="must be queue or department"):
        resume_from_args(("voicemail",))


def test_render_contains_every_number_form_and_the_fallback(example: Center) -> None:
    files = render(example, RenderOptions(), "config")
    dialplan = files["extensions_lotse.conf"]
    for form in ("0571890", "+49571890", "49571890", "115"):
        assert f"exten => {form},1,Set(__LOTSE_DIALLED=${{EXTEN}})" in dialplan
    assert "AGI(agi://127.0.0.1:4573/lotse,${LOTSE_DIALLED})" in dialplan
    assert 'GotoIf($["${AGISTATUS}" != "SUCCESS"]?lotse-fallback,s,1)' in dialplan
    assert " same => n(join),Queue(zentrale)" in dialplan
    assert "[buergerservice]\n; Bürgerservice; agent groups: team-buergerservice\nstrategy = rrmemory" in files["queues_lotse.conf"]
    assert "jobcenter => ,jobcenter@lotse" in files["voicemail_lotse.conf"]
    queues = files["queues_lotse.conf"]
    buergerservice, kfz = queues.split("[buergerservice]")[1].split("[kfz]")
    assert "autopause = yes" in buergerservice and "autopause = no" in kfz  # the example pauses unanswered agents there
    assert "context = lotse-queue-exit\nperiodic-announce = " in buergerservice and "periodic-announce-frequency = 45" in buergerservice
    classic = render(example, RenderOptions(agi="classic"), "config")["extensions_lotse.conf"]
    assert "AGI(lotse-agi,lotse,${LOTSE_DIALLED})" in classic


def test_with_two_nodes_each_fastagi_is_asked_in_turn_before_the_fallback(example: Center) -> None:
    one = render(example, RenderOptions(), "config")["extensions_lotse.conf"]
    two = render(example, RenderOptions(fastagi_backups=(("192.0.2.11", 4573),)), "config")["extensions_lotse.conf"]
    assert "FAILURE" not in one and "(asked)" not in one  # one node: the dialplan as it always was
    first = two.index("AGI(agi://127.0.0.1:4573/lotse,${LOTSE_DIALLED})")
    chain = two[first:].splitlines()[:7]
    assert chain[1:] == [
        ' same => n,GotoIf($["${AGISTATUS}" != "FAILURE"]?asked)',
        " same => n,Log(WARNING,lotse: FastAGI 127.0.0.1:4573 failed for call ${UNIQUEID}: asking 192.0.2.11:4573)",
        " same => n,Set(LOTSE_DECISION=)",
        " same => n,AGI(agi://192.0.2.11:4573/lotse,${LOTSE_DIALLED})",
        " same => n(asked),NoOp(lotse answered: ${AGISTATUS})",
        ' same => n,GotoIf($["${AGISTATUS}" != "SUCCESS"]?lotse-fallback,s,1)',
    ]
    assert two.count("agi://192.0.2.11:4573/") == 3  # the first route, the next step, the queue's callback key
    assert all(";" not in line for line in chain)  # a ';' would start a comment in extensions.conf
    classic = render(example, RenderOptions(agi="classic", fastagi_backups=(("192.0.2.11", 4573),)), "config")
    assert "FAILURE" not in classic["extensions_lotse.conf"]  # the classic script runs on the Asterisk host itself


def test_render_needs_a_fallback_queue(example: Center) -> None:
    with pytest.raises(RenderError, match="fallback_queue is not set"):
        render(replace(example, fallback_queue=None), RenderOptions(), "config")


def test_dialled_forms() -> None:
    assert dialled_forms("+492812030", "49") == ["02812030", "+492812030", "492812030"]
    assert dialled_forms("+31201234", "49") == ["+31201234", "31201234"]
    assert dialled_forms("115", "49") == ["115"]


def test_mailboxes_are_collected(example: Center) -> None:
    assert mailboxes(example) == {"lotse": {"jobcenter", "schulen"}}  # schulen: the start of an entry


# What the lab's chroot (asterisk/lab) gives lotse-agi besides the project's own packages: pyst2 (asterisk) and
# panoramisk copied from the venv, the rest Debian's python3-pydantic, -holidays, -yaml, -six with their dependencies.
CHROOT_THIRD_PARTY = {
    "asterisk",
    "pyst2",
    "panoramisk",
    "pydantic",
    "pydantic_core",
    "annotated_types",
    "typing_extensions",
    "typing_inspection",
    "holidays",
    "dateutil",
    "python_dateutil",
    "six",
    "yaml",
    "_yaml",
    "pyyaml",
}  # fmt: skip (their modules and their metadata, by the name before the version)


def test_the_classic_script_runs_on_what_the_lab_gives_it(tmp_path: Path) -> None:
    """lotse-agi imports with the packages asterisk/lab copies and the chroot's third-party ones alone (no redis, no SQL)."""
    listed = subprocess.run([sys.executable, str(ROOT / "asterisk" / "lab-packages.py")], capture_output=True, text=True, check=True)
    for package in listed.stdout.split():
        shutil.copytree(ROOT / package, tmp_path / package)
    site = Path(sysconfig.get_paths()["purelib"])
    for entry in site.iterdir():
        if entry.name.split("-")[0].removesuffix(".py").lower() in CHROOT_THIRD_PARTY:
            (tmp_path / entry.name).symlink_to(entry)
    code = "import agi_scripts.lotse_agi, sys; print(sorted({m.split('.')[0] for m in sys.modules} & {'redis', 'sqlalchemy'}))"
    isolated = {"PATH": os.environ.get("PATH", ""), "PYTHONPATH": str(tmp_path)}
    result = subprocess.run([sys.executable, "-S", "-c", code], check=False, capture_output=True, text=True, env=isolated, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"
    assert {"agi_scripts", "ivr", "routing"} <= set(listed.stdout.split())


def test_command_text_never_lets_a_line_break_through() -> None:
    assert command_text(SetVariable("X", "a\r\nb\rc")) == 'SET VARIABLE X "a  b c"'


def test_the_resumed_caller_is_normalised() -> None:
    assert resume_from_args(("queue", "q", "a", "own", "t", "0571 12345")).caller == "+4957112345"
    assert resume_from_args(("queue", "q", "a", "own", "t", "not a number")).caller is None
