"""The AMI actions lotse sends (pbx/actions.py), as Asterisk's manager expects their headers."""

from __future__ import annotations

from pbx import actions


def test_queue_actions_name_queue_interface_and_member() -> None:
    assert actions.queue_add("kfz", "PJSIP/anna", 10, "Anna Adler") == {
        "Action": "QueueAdd",
        "Queue": "kfz",
        "Interface": "PJSIP/anna",
        "Penalty": "10",
        "MemberName": "Anna Adler",
        "StateInterface": "PJSIP/anna",
    }
    assert actions.queue_remove("kfz", "PJSIP/anna") == {"Action": "QueueRemove", "Queue": "kfz", "Interface": "PJSIP/anna"}


def test_a_pause_carries_its_reason_and_ready_has_none() -> None:
    assert actions.queue_pause("PJSIP/anna", "Backoffice") == {
        "Action": "QueuePause",
        "Interface": "PJSIP/anna",
        "Paused": "true",
        "Reason": "Backoffice",
    }
    assert actions.queue_pause("PJSIP/anna", None) == {"Action": "QueuePause", "Interface": "PJSIP/anna", "Paused": "false"}


def test_originate_sets_each_variable_as_its_own_header() -> None:
    action = actions.originate("Local/7@q/n", "dial", "7", 95000, '"Rückruf" <7>', {"A": "1", "__B": "x=y"})
    assert action["Variable"] == ["A=1", "__B=x=y"]
    assert (action["Async"], action["Timeout"], action["Priority"]) == ("true", "95000", "1")
    assert actions.describe(action) == "Originate Local/7@q/n"


def test_status_of_one_queue_or_all() -> None:
    assert actions.queue_status("kfz") == {"Action": "QueueStatus", "Queue": "kfz"}
    assert actions.queue_status() == {"Action": "QueueStatus"}
    assert actions.describe(actions.core_show_channels()) == "CoreShowChannels"
