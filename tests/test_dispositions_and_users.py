"""Pure parts of the agents' tools: dispositions from phone codes, FCR, the users file, the board's agents."""

from __future__ import annotations

from pathlib import Path

import pytest

from metrics.dispositions import Desk, Disposition, resolution
from stores.live import Snapshot
from web.board import agents_of
from web.users import Role, UsersError, check_password, hash_password, load_users, set_user


def test_a_phone_code_applies_to_the_agents_last_answered_call() -> None:
    desk = Desk()
    assert desk.feed({"Event": "UserEvent", "UserEvent": "LotseDisposition", "Agent": "anna", "Code": "1"}, 5.0) is None
    assert desk.unmatched == 1  # no call of hers seen yet: counted, not guessed
    desk.feed({"Event": "AgentConnect", "Uniqueid": "u1", "Interface": "PJSIP/anna"}, 1.0)
    desk.feed({"Event": "AgentConnect", "Uniqueid": "u2", "Interface": "Local/ben@lotse-lab-agents/n"}, 2.0)
    desk.feed({"Event": "AgentConnect", "Uniqueid": "u3", "Interface": "PJSIP/anna"}, 3.0)
    found = desk.feed({"Event": "UserEvent", "UserEvent": "LotseDisposition", "Agent": "anna", "Code": "2"}, 9.0)
    assert found == Disposition("u3", "anna", "handed_on", 9.0, "phone")
    assert desk.feed({"Event": "UserEvent", "UserEvent": "LotseDisposition", "Agent": "ben", "Code": "3"}, 9.5).uniqueid == "u2"  # type: ignore[union-attr]
    assert desk.feed({"Event": "UserEvent", "UserEvent": "LotseDisposition", "Agent": "anna", "Code": "7"}, 10.0) is None


def test_first_contact_resolution_counts_only_disposed_calls() -> None:
    found = resolution(["a", "b", "c", "d"], {"a": "solved", "b": "solved", "c": "handed_on", "x": "solved"})
    assert (found.answered, found.disposed) == (4, 3) and found.fcr == pytest.approx(200 / 3)
    assert found.by_code == {"solved": 2, "handed_on": 1, "callback": 0}
    assert resolution(["a"], {}).fcr is None


def test_passwords_are_hashed_and_checked() -> None:
    stored = hash_password("correct horse battery")
    assert stored.startswith("scrypt$16384$8$1$") and "correct" not in stored
    assert check_password(stored, "correct horse battery") and not check_password(stored, "wrong horse battery")
    assert not check_password("plain-text", "plain-text")
    with pytest.raises(UsersError, match="use at least 10"):
        hash_password("short")


def test_users_file_errors_name_the_user_and_the_fix(tmp_path: Path) -> None:
    file = tmp_path / "users.yaml"
    set_user(file, "anna", Role.AGENT, "a-good-password", "Anna", "anna")
    assert file.stat().st_mode & 0o777 == 0o600
    assert load_users(file, {"anna"})["anna"].role is Role.AGENT
    with pytest.raises(UsersError, match=r"user 'anna': agent 'anna' is not in agents.yaml"):
        load_users(file, {"ben"})
    file.write_text("users:\n  bob: {role: boss, password: x}\n")
    with pytest.raises(UsersError, match="user 'bob': role 'boss' is not one of viewer, agent, supervisor, admin"):
        load_users(file)
    file.write_text("users:\n  bob: {role: viewer, password: secret123}\n")
    with pytest.raises(UsersError, match=r"password is not a scrypt hash; set it with: lotse user bob"):
        load_users(file)
    file.write_text("users:\n  eve: {role: agent, password: 'scrypt$1$2$3$4$5'}\n")
    with pytest.raises(UsersError, match="an agent's login needs 'agent:'"):
        load_users(file)


def test_an_agent_in_several_queues_shows_once_with_the_busiest_state() -> None:
    snapshot = Snapshot(
        members={"kfz": {"PJSIP/anna": "paused", "PJSIP/ben": "available"}, "buergerservice": {"PJSIP/anna": "talking"}},
        waiting={},
        pauses={"PJSIP/anna": "Schulung"},
        names={"PJSIP/anna": "Anna Schmidt"},
        emergencies=frozenset(),
    )
    agents = agents_of(snapshot)
    assert [(a.name, a.state, a.reason, a.queues) for a in agents] == [
        ("Anna Schmidt", "talking", "", ("buergerservice", "kfz")),
        ("ben", "available", "", ("kfz",)),
    ]
