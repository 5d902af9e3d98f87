"""Settings: the environment is read once, by runtime.settings; one rule for the AMI secret; bad values named."""

from __future__ import annotations

import ast
import io
import subprocess
from pathlib import Path

import pytest

from lotse.cli import main
from runtime.settings import ENVIRONMENT, Environment, SettingsError
from tests.conftest import EXAMPLE, ROOT

PRODUCT = ("lotse", "agi_scripts", "runtime", "web", "promises", "metrics", "ivr", "render", "outcomes", "pbx", "stores", "routing")
# routing.yamlsource substitutes ${NAME} in the YAML from the mapping its caller passes (load(path, env)); without
# one, from the process's environment, as the YAML's own ${NAME:-default} syntax promises.
READS_ENVIRONMENT = {"runtime/settings.py", "routing/yamlsource.py"}


def _environment_reads(path: Path) -> list[int]:
    """Lines that read the environment, except handing it to Environment.read (what the entry points do, once)."""
    tree = ast.parse(path.read_text(), str(path))
    handed = {
        id(inner)
        for node in ast.walk(tree)
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "read"
        if isinstance(node.func.value, ast.Name) and node.func.value.id == "Environment"
        for arg in node.args
        for inner in ast.walk(arg)
    }
    return [
        node.lineno
        for node in ast.walk(tree)
        if isinstance(node, ast.Attribute) and node.attr in ("environ", "getenv", "environb") and id(node) not in handed
    ]


def test_no_product_module_reads_the_environment_but_the_settings() -> None:
    listed = subprocess.run(["git", "ls-files", "*.py"], cwd=ROOT, capture_output=True, text=True, check=True).stdout.split()
    found = [
        f"{name}:{line}"
        for name in listed
        if name.split("/")[0] in PRODUCT and name not in READS_ENVIRONMENT and "/migrations/" not in name
        for line in _environment_reads(ROOT / name)
    ]
    assert not found, "read the environment in runtime/settings.py only:\n" + "\n".join(found)


def test_the_environment_is_read_into_one_object() -> None:
    env = Environment.read({"LOTSE_AMI_SECRET": "s", "LOTSE_AGI_TIMEOUT": "2.5", "USER": "sabine", "LOTSE_CONFIG": "/c"})
    assert (env.ami_secret, env.classic_reply_timeout, env.user, env.classic_config) == ("s", 2.5, "sabine", "/c")
    assert Environment.read({}).user == "admin" and Environment.read({}).classic_config == "/etc/lotse/config"
    assert set(ENVIRONMENT) >= {"LOTSE_AMI_SECRET", "LOTSE_WEB_PASSWORD", "LOTSE_CONFIG", "LOTSE_PROMPTS", "LOTSE_AGI_TIMEOUT"}


@pytest.mark.parametrize(
    ("environ", "message"),
    [
        ({"LOTSE_AGI_TIMEOUT": "zwei"}, "LOTSE_AGI_TIMEOUT='zwei' is not a number of seconds"),
        ({"LOTSE_AGI_TIMEOUT": "0"}, "LOTSE_AGI_TIMEOUT='0' must be more than 0 seconds"),
        ({"LOTSE_PRETEND_TIME": "23.11.2026 10:00"}, "LOTSE_PRETEND_TIME='23.11.2026 10:00' is not a local time"),
    ],
)
def test_a_bad_value_names_the_variable(environ: dict[str, str], message: str) -> None:
    with pytest.raises(SettingsError, match=message):
        Environment.read(environ)


@pytest.mark.parametrize(
    ("argv", "process"),
    [
        (["metrics", "--config", str(EXAMPLE)], "lotse metrics"),
        (["promises", "--config", str(EXAMPLE), "--spool", "/nonexistent/spool"], "lotse promises"),
        (["web", "--config", str(EXAMPLE), "--ami", "127.0.0.1:5038"], "lotse web --ami"),
    ],
)
def test_every_process_that_logs_in_to_the_ami_needs_the_secret(
    argv: list[str], process: str, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    agents = ["--agents", str(ROOT / "asterisk/agents.example.yaml"), "--users", str(tmp_path / "users.yaml")]
    with pytest.raises(SystemExit) as stop:
        main([*argv, *(agents if argv[0] == "web" else [])], io.StringIO(), environ={})
    assert stop.value.code == 2
    assert f"{process} logs in to Asterisk's AMI: set LOTSE_AMI_SECRET" in capsys.readouterr().err
