from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

from routing.loader import load
from routing.problems import Severity
from routing.schema import json_schema
from tests.conftest import BOMB, EXAMPLE, MINIMAL, ROOT


def test_example_config_is_valid_with_a_prompt_warning_and_the_pilot_end() -> None:
    result = load(EXAMPLE)
    assert result.center is not None
    assert result.errors == ()
    assert [w.path for w in result.warnings] == [("center", "prompts_dir"), ("tenants", "minden", "entries", "schulen", "numbers", 0)]
    assert len(result.files) == 7  # routing-cases.yaml is not config


def test_one_file_per_tenant_merges(write: Callable[..., Path], tmp_path: Path) -> None:
    write("center: {name: Test, state: NW, fallback_queue: q}\nqueues: {q: {}}\ntopics: {t: {name: T, queue: q}}\n", "center.yaml")
    write('tenants:\n  a: {name: A, numbers: ["0281 1"], start: {topic: t}}\n', "tenants/a.yaml")
    write('tenants:\n  b: {name: B, numbers: ["0281 2"], start: {topic: t}}\n', "tenants/b.yml")
    result = load(tmp_path)
    assert result.center is not None
    assert sorted(result.center.tenants) == ["a", "b"]


def test_an_id_defined_in_two_files_names_both_places(write: Callable[..., Path], tmp_path: Path) -> None:
    write("center: {name: Test, state: NW, fallback_queue: q}\nqueues: {q: {}}\ntopics: {t: {name: T, queue: q}}\n", "center.yaml")
    first = write('tenants:\n  a: {name: A, numbers: ["0281 1"], start: {topic: t}}\n', "tenants/a.yaml")
    second = write('tenants:\n  a: {name: A2, numbers: ["0281 2"], start: {topic: t}}\n', "tenants/b.yaml")
    (error,) = load(tmp_path).errors
    assert (
        str(error)
        == f"{second}:2:3: error: tenants.a: 'a' is defined twice (first defined at {first}:2:3; ids must be unique across all files)"
    )


def test_a_section_given_twice_is_an_error(write: Callable[..., Path], tmp_path: Path) -> None:
    write(MINIMAL, "a.yaml")
    second = write("center: {name: Other, state: NW}\n", "b.yaml")
    (error,) = load(tmp_path).errors
    assert str(error).startswith(f"{second}:1:1: error: center: 'center' is given in more than one file")


def test_environment_substitution(write: Callable[..., Path]) -> None:
    path = write(MINIMAL.replace('"0281 1"', '"${WESEL_NUMBER}"').replace("name: Test", 'name: "${CENTER_NAME:-Servicecenter}"'))
    result = load(path, env={"WESEL_NUMBER": "0281 203-0"})
    assert result.center is not None
    assert result.center.name == "Servicecenter"
    assert result.center.tenants["a"].numbers == ("+492812030",)


def test_yaml_1_1_surprises_do_not_happen(write: Callable[..., Path]) -> None:
    # Unquoted, YAML 1.1 reads 08:00 as the number 480 and 'no' as false; lotse keeps them as text.
    path = write(
        MINIMAL.replace("start: {topic: t}", "start: {topic: t}, hours: {mon: 08:00-12:00, tue: closed}").replace("name: A", "name: no")
    )
    result = load(path)
    assert result.center is not None
    assert str(result.center.tenants["a"].schedule.weekly[0][0]) == "08:00-12:00"
    assert result.center.tenants["a"].schedule.weekly[1] == ()
    assert result.center.tenants["a"].name == "no"


def test_missing_path_and_empty_folder(tmp_path: Path) -> None:
    assert "does not exist" in str(load(tmp_path / "nope.yaml").errors[0])
    assert "holds no .yaml" in str(load(tmp_path).errors[0])


def test_warnings_do_not_block(write: Callable[..., Path]) -> None:
    path = write(
        MINIMAL.replace('numbers: ["0281 1"], ', "").replace(
            'fallback_queue: q, hours: {mon-fri: "08:00-16:00"}', "fallback_queue: q, hours: {}"
        )
    )
    result = load(path)
    assert result.center is not None
    messages = sorted(w.message for w in result.warnings)
    assert "tenant 'a' has no numbers and no 115 prefix" in messages
    assert "tenant 'a' has no open hour" in messages


def test_prompt_without_text_and_file_is_warned_about(write: Callable[..., Path], tmp_path: Path) -> None:
    path = write(MINIMAL.replace("start: {topic: t}", "start: {topic: t}, greeting: {file: ansage/begruessung}"))
    (tmp_path / "prompts").mkdir()
    result = load(path)
    assert [w.message for w in result.warnings] == [f"prompt file 'ansage/begruessung' is not in {tmp_path / 'prompts'} and has no text"]
    (tmp_path / "prompts" / "ansage").mkdir()
    (tmp_path / "prompts" / "ansage" / "begruessung.wav").write_bytes(b"RIFF")
    assert load(path).warnings == ()


def test_problems_are_sorted_by_place(write: Callable[..., Path]) -> None:
    path = write(MINIMAL.replace("queue: q}}\ntenants", "queue: qq}}\ntenants").replace("state: NW", "state: XX"))
    lines = [p.location.line for p in load(path).problems if p.location and p.severity is Severity.ERROR]
    assert lines == sorted(lines) and len(lines) == 2


def test_schema_file_is_up_to_date() -> None:
    committed = json.loads((ROOT / "config" / "schema.json").read_text(encoding="utf-8"))
    assert committed == json_schema(), "run: lotse schema --out config/schema.json"


def test_an_alias_bomb_is_refused_at_its_place(write: Callable[..., Path]) -> None:
    result = load(write(MINIMAL + BOMB))
    assert result.center is None
    assert any("YAML aliases expand to more than 10000 values (write the values out)" in str(p) for p in result.errors)


def test_characters_speech_synthesis_cannot_say_are_warned_about(write: Callable[..., Path]) -> None:
    config = MINIMAL.replace("start: {topic: t}}", 'start: {topic: t}, greeting: "Willkommen ☎ bei A <b>"}')
    result = load(write(config))
    assert result.center is not None
    (warning,) = [p for p in result.warnings if "speech synthesis" in p.message]
    assert warning.message == "the text has characters speech synthesis cannot say: '<' '>' '☎'"
    assert warning.path == ("tenants", "a", "greeting")
