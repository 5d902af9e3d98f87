from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from render.agent_codes import features as agent_features
from render.agent_codes import render as agent_dialplan
from render.agents import load_agents, manager_user, pjsip
from routing.model import Center
from routing.problems import ConfigError
from tests.conftest import ROOT

AGENTS = ROOT / "asterisk" / "agents.example.yaml"
SECRETS = ROOT / "asterisk" / "secrets.example.yaml"


def test_example_agents_with_secrets(example: Center) -> None:
    agents = load_agents(AGENTS, SECRETS, example)
    assert [a.id for a in agents.agents] == ["anna", "ben", "clara", "deniz"]
    assert agents.ami_secret == "lab-ami-2026-secret" and agents.warnings == ()
    dialplan = agent_dialplan(example, agents, "/p")
    login = dialplan.split("[lotse-agent-login]")[1].split("\n\n")[0]
    assert "exten => anna,1,NoOp(Anna Schmidt: buergerservice, kfz, buergertelefon, zentrale)" in login  # her groups' queues
    assert " same => n,AddQueueMember(kfz,PJSIP/clara,0,,Clara Wolff,PJSIP/clara)" in login
    assert " same => n,AddQueueMember(kfz,PJSIP/anna,10,,Anna Schmidt,PJSIP/anna)" in login  # skill level 2 in kfz: rung after experts
    assert " same => n,AddQueueMember(buergerservice,PJSIP/anna,0,,Anna Schmidt,PJSIP/anna)" in login
    assert " same => n,AddQueueMember(jobcenter,PJSIP/deniz,1,,Deniz Kaya,PJSIP/deniz)" in login  # with her penalty
    assert "exten => *213,1,PauseQueueMember(,PJSIP/${CALLERID(num)},,Schulung)\n same => n,Playback(/p/agents/pause-3)" in dialplan
    assert "exten => _*3[123],1,UserEvent(LotseDisposition,Agent: ${CALLERID(num)},Code: ${EXTEN:2})" in dialplan
    endpoints = pjsip(agents)
    assert "[deniz]\ntype = auth\nauth_type = userpass\nusername = deniz\npassword = lab-deniz-2026-secret" in endpoints
    assert "direct_media = no\nlanguage = de" in endpoints and "qualify_frequency = 30" in endpoints
    assert "secret = s3cret-value\n" in manager_user("s3cret-value")


def test_passwords_come_from_the_environment(example: Center, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LOTSE_PASSWORD_ANNA", "from-the-environment")
    agents = load_agents(AGENTS, SECRETS, example)
    assert agents.agents[0].password == "from-the-environment"


def test_missing_and_short_passwords_are_errors_with_places(example: Center, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LOTSE_PASSWORD_ANNA", "short")
    with pytest.raises(ConfigError) as error:
        load_agents(AGENTS, None, example)
    lines = [str(p).replace(f"{AGENTS}:", "") for p in error.value.problems]
    assert lines == [
        "9:15: error: agents.anna.password: the password of 'anna' is shorter than 12 characters (SIP passwords are attacked online)",
        "11:5: error: agents.ben: agent 'ben' has no password (set password: ${ENV_VAR} or add it to the secrets file)",
        "14:5: error: agents.clara: agent 'clara' has no password (set password: ${ENV_VAR} or add it to the secrets file)",
        "17:5: error: agents.deniz: agent 'deniz' has no password (set password: ${ENV_VAR} or add it to the secrets file)",
    ]


def test_unknown_groups_and_unstaffed_queues_are_warned_about(example: Center, write: Callable[..., Path]) -> None:
    file = write('agents:\n  anna: {name: Anna, groups: [team-kfzz], password: "long-enough-password"}\n', "agents.yaml")
    agents = load_agents(file, None, example)
    messages = [p.message for p in agents.warnings]
    assert "no queue rings group 'team-kfzz'" in messages
    assert "queue 'kfz' rings group 'team-kfz', which no agent is in" in messages


def test_codes_and_pause_reasons_are_configurable(example: Center, write: Callable[..., Path]) -> None:
    file = write(
        'agents:\n  anna: {name: Anna, groups: [team-kfz], password: "long-enough-password"}\n'
        'codes: {login: "*51", pause: "*6"}\npause_reasons: {"1": Mittag, "5": Teambesprechung}\n',
        "agents.yaml",
    )
    agents = load_agents(file, None, example)
    assert agents.codes["login"] == "*51" and agents.codes["logout"] == "*12"
    dialplan = agent_dialplan(example, agents, "/p")
    assert "exten => *51,1,Gosub(lotse-agent-login,${CALLERID(num)},1)" in dialplan
    assert "exten => *65,1,PauseQueueMember(,PJSIP/${CALLERID(num)},,Teambesprechung)" in dialplan
    assert "Nachbearbeitung" not in dialplan


def test_codes_that_cannot_be_told_apart_are_errors(example: Center, write: Callable[..., Path]) -> None:
    file = write(
        'agents:\n  anna: {name: Anna, groups: [team-kfz], password: "long-enough-password"}\ncodes: {pause: "*2", login: "*11"}\n',
        "agents.yaml",
    )
    with pytest.raises(ConfigError) as error:
        load_agents(file, None, example)
    errors = [p.message for p in error.value.problems if p.severity.value == "error"]
    assert errors == ["the codes pause (*2) and unpause (*22) cannot be told apart"]


def test_a_level_for_a_group_the_agent_is_not_in_is_an_error(example: Center, write: Callable[..., Path]) -> None:
    file = write(
        'agents:\n  anna: {name: Anna, groups: [team-kfz], levels: {team-jobcenter: 2}, password: "long-enough-password"}\n', "a.yaml"
    )
    with pytest.raises(ConfigError) as error:
        load_agents(file, None, example)
    assert "'team-jobcenter' has a level but is not one of the groups of 'anna'" in [p.message for p in error.value.problems]


def test_hand_on_renders_the_transfer_context_and_the_features(example: Center, write: Callable[..., Path]) -> None:
    agents = load_agents(AGENTS, SECRETS, example)
    dialplan = agent_dialplan(example, agents, "/p", "Local/{number}@amt")
    handon = dialplan.split("[lotse-handon]")[1]
    assert "exten => 3,1,NoOp(hand-on to ordnungsamt-minden: Ordnungsamt Minden)" in handon
    assert " same => n,Dial(Local/+4957189319@amt,12,U(lotse-handon-whisper))" in handon
    assert ' same => n,GotoIf($["${BLINDTRANSFER}" != ""]?back,1)' in handon  # blind and unanswered: back to the queue
    assert "exten => back,1,Set(LOTSE_OUTCOME=department)\n same => n,Set(LOTSE_QUEUE=)" in handon
    assert " same => n,Set(LOTSE_DEPARTMENT=${LOTSE_HANDON})\n same => n,Goto(lotse-dispatch,next,1)" in handon
    conf = agent_features(agents, "/p")
    assert "[featuremap]\natxfer => *2\nblindxfer => #1" in conf and "atxfernoanswertimeout = 17" in conf
    assert "transferannouncesound = /p/agents/transfer" in conf
    file = write(
        'agents:\n  anna: {name: Anna, groups: [team-kfz], password: "long-enough-password"}\nhand_on: {"1": standesamt}\n', "a.yaml"
    )
    with pytest.raises(ConfigError) as error:
        load_agents(file, None, example)
    assert any("unknown department 'standesamt'" in str(p) and "standesamt-minden" in str(p) for p in error.value.problems)
