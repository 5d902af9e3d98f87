"""The settings file: every process's flags from one file, flags over it, located errors, secrets apart and masked."""

from __future__ import annotations

import io
import json
import re
import shutil
import time
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from lotse.cli import main
from metrics.store import Store
from routing.loader import load_or_raise
from runtime.settings_file import KEYS, SettingsFile
from tests.conftest import EXAMPLE, ROOT
from tests.test_cli import on_the_test_clock
from tests.test_store import captured

SETTINGS = f"""\
config: {EXAMPLE}
database:
  url: ${{LOTSE_TEST_DB}}
metrics:
  listen: 127.0.0.1:9600
  retention_days: 90
serve:
  port: 4600
  allow: [10.0.0.0/8, 192.168.1.5]
web:
  https_only: yes
secrets: secrets.yaml
"""


def run(*argv: str, environ: dict[str, str] | None = None) -> tuple[int, str]:
    out = io.StringIO()
    code = main(list(argv), out, environ=environ or {})
    return code, out.getvalue()


@pytest.fixture
def center(tmp_path: Path) -> Path:
    """A settings file in tmp_path with a 0600 secrets file beside it (a relative path in the file)."""
    (tmp_path / "lotse.yaml").write_text(SETTINGS, encoding="utf-8")
    secrets = tmp_path / "secrets.yaml"
    secrets.write_text("ami_secret: s3cret-ami-2026\n", encoding="utf-8")
    secrets.chmod(0o600)
    return tmp_path / "lotse.yaml"


def rows(text: str) -> dict[str, tuple[str, str]]:
    """lotse settings' table: key -> (value, source); its columns are apart by two or more spaces."""
    found = {}
    for line in text.splitlines()[1:]:
        if not line.startswith("warning:"):
            key, value, source = re.split(r"\s{2,}", line, maxsplit=2)
            found[key] = (value, source)
    return found


def test_each_value_says_where_it_came_from_and_a_flag_wins(center: Path, tmp_path: Path) -> None:
    env = {"LOTSE_TEST_DB": "postgresql+psycopg://lotse:geheim@db.example/lotse"}
    code, text = run("--settings", str(center), "settings", "metrics", "--listen", "127.0.0.1:9700", environ=env)
    assert code == 0 and text.splitlines()[0] == f"settings file: {center}"
    table = rows(text)
    assert table["metrics.listen"] == ("127.0.0.1:9700", "flag --listen")
    assert table["metrics.retention_days"] == ("90", f"file {center}:6:19")
    assert table["database.url"] == ("postgresql+psycopg://lotse:***@db.example/lotse", f"file {center}:3:8")  # ${NAME}, password hidden
    assert table["ami.address"] == ("127.0.0.1:5038", "default")
    assert table["ami_secret"] == ("********", f"secrets file {tmp_path / 'secrets.yaml'}")  # relative to the settings file
    assert "s3cret" not in text and "geheim" not in text
    assert "serve.port" not in table  # only what lotse metrics uses


def test_without_a_command_every_key_is_listed(center: Path) -> None:
    code, text = run("--settings", str(center), "settings", environ={"LOTSE_TEST_DB": "x.db"})
    table = rows(text)
    assert code == 0 and set(table) == {*KEYS, "ami_secret"}
    assert table["serve.allow"] == ("10.0.0.0/8, 192.168.1.5", f"file {center}:9:10")
    assert table["web.https_only"] == ("true", f"file {center}:11:15")


def test_the_environment_names_the_file_and_its_secret_wins(center: Path) -> None:
    env = {"LOTSE_SETTINGS": str(center), "LOTSE_TEST_DB": "x.db", "LOTSE_AMI_SECRET": "from-the-environment"}
    table = rows(run("settings", environ=env)[1])
    assert table["config"] == (str(EXAMPLE), f"file {center}:1:9")
    assert table["ami_secret"] == ("********", "environment LOTSE_AMI_SECRET")


def test_a_secrets_file_others_can_read_is_warned_about(center: Path, tmp_path: Path) -> None:
    (tmp_path / "secrets.yaml").chmod(0o644)
    text = run("--settings", str(center), "settings", environ={"LOTSE_TEST_DB": "x.db"})[1]
    assert f"warning: {tmp_path / 'secrets.yaml'}: readable by others than its owner (mode 0644): chmod 600" in text


def test_a_real_command_runs_on_the_files_values(tmp_path: Path) -> None:
    """lotse report with neither --config nor --db: both come from the file (seven lab calls in its database)."""
    db = tmp_path / "calls.db"
    calls = on_the_test_clock(captured(), time.time())
    store = Store.open(f"sqlite:///{db}")
    store.write(calls)
    store.close()
    (tmp_path / "lotse.yaml").write_text(f"config: {EXAMPLE}\ndatabase:\n  url: {db}\n", encoding="utf-8")
    tz = load_or_raise(EXAMPLE).tz
    first, last = (datetime.fromtimestamp(f(r.arrived for r in calls), tz).date() for f in (min, max))
    span = ("--from", first.isoformat(), "--to", (last + timedelta(days=1)).isoformat())
    code, text = run("--settings", str(tmp_path / "lotse.yaml"), "report", *span, "--by", "", "--format", "json")
    assert code == 0 and json.loads(text)[0]["calls"] == 7


BAD = """\
config: /etc/lotse/config
databse:
  url: x
metrics:
  listen: localhost
  retention_days: ninety
  lisen: 1
serve:
  port:
loop: fast
web: 5
"""


def test_every_mistake_is_named_with_its_place_and_nothing_runs(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bad = tmp_path / "lotse.yaml"
    bad.write_text(BAD, encoding="utf-8")
    code, text = run("--settings", str(bad), "metrics")
    assert code == 2 and text == ""
    assert capsys.readouterr().err.splitlines() == [
        "lotse: 7 error(s) in the settings file:",
        f"{bad}:2:1: error: databse: unknown setting 'databse' (did you mean 'database'?)",
        f"{bad}:5:11: error: metrics.listen: 'localhost' must be HOST:PORT, e.g. 127.0.0.1:9570",
        f"{bad}:6:19: error: metrics.retention_days: 'ninety' is not a whole number",
        f"{bad}:7:3: error: metrics.lisen: unknown setting 'metrics.lisen' (did you mean 'metrics.listen'?)",
        f"{bad}:9:8: error: serve.port: has no value: give one, or remove the line for the default",
        f"{bad}:10:7: error: loop: 'fast' is not one of uvloop, asyncio",
        f"{bad}:11:6: error: web: expected a mapping of keys under 'web:'",
    ]


def test_a_missing_settings_file_and_a_missing_required_value_are_named(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert run("--settings", str(tmp_path / "nope.yaml"), "serve")[0] == 2
    assert f"{tmp_path / 'nope.yaml'}:1:1: error: cannot read" in capsys.readouterr().err
    with pytest.raises(SystemExit) as stop:
        run("serve")
    assert stop.value.code == 2
    assert "lotse serve: error: the argument --config is required (or 'config' in the settings file)" in capsys.readouterr().err
    assert rows(run("settings", "serve")[1])["config"] == ("(none)", "missing: --config or 'config' in the settings file")


def test_the_schema_lists_every_key_with_its_type() -> None:
    code, text = run("settings", "--schema")
    schema = json.loads(text)
    assert code == 0 and schema["additionalProperties"] is False
    properties = schema["properties"]
    assert properties["serve"]["properties"]["port"] == {"type": "integer", "description": KEYS["serve.port"].help, "default": 4573}
    assert properties["loop"]["enum"] == ["uvloop", "asyncio"] and properties["web"]["properties"]["https_only"]["type"] == "boolean"
    listed = {f"{s}.{k}" for s, body in properties.items() if "properties" in body for k in body["properties"]}
    assert listed | {s for s, body in properties.items() if "properties" not in body} == set(KEYS)


def test_the_example_settings_file_is_valid_and_names_every_key(tmp_path: Path) -> None:
    example = tmp_path / "lotse.yaml"
    shutil.copy(ROOT / "runtime/lotse.example.yaml", example)
    (tmp_path / "secrets.yaml").write_text("", encoding="utf-8")  # as lotse init leaves it
    read = SettingsFile.read(example, {})
    assert read.values["database.url"].value == "sqlite:////var/lib/lotse/lotse.db"
    assert read.values["config"].value == tmp_path / "config"  # relative to the file: /etc/lotse/config once installed
    text = example.read_text(encoding="utf-8")
    written = {line.strip().lstrip("# ").split(":")[0] for line in text.splitlines() if ":" in line}
    sections = {name.split(".")[0] for name in KEYS}
    assert {name.rsplit(".", 1)[-1] for name in KEYS} <= written and sections <= written


def test_docs_list_every_key() -> None:
    text = (ROOT / "docs/settings.md").read_text(encoding="utf-8")
    assert [name for name in KEYS if f"| `{name}` |" not in text] == []
