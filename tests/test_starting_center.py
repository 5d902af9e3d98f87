"""``lotse init DIR`` in-process: the files it writes and their modes, the refusal to overwrite, --force."""

from __future__ import annotations

import io
from pathlib import Path

import pytest

from lotse.cli import main
from lotse.init_command import example_center
from render.agents import load_agents
from routing.loader import load_or_raise
from runtime.starting_center import StartingCenterError, plan
from tests.conftest import EXAMPLE


def init(*args: str) -> tuple[int, str]:
    out = io.StringIO()
    code = main(["init", *args], out)
    return code, out.getvalue()


def refused(args: list[str], capsys: pytest.CaptureFixture[str]) -> str:
    """The usage error of a refused lotse init (exit code 2)."""
    with pytest.raises(SystemExit) as exit_info:
        main(["init", *args], io.StringIO())
    assert exit_info.value.code == 2
    return capsys.readouterr().err


def mode(path: Path) -> int:
    return path.stat().st_mode & 0o777


def example_names() -> list[str]:
    return sorted(str(p.relative_to(EXAMPLE)) for p in EXAMPLE.rglob("*") if p.suffix in (".yaml", ".json"))


def test_init_writes_the_example_config_a_private_secrets_file_and_a_readme(tmp_path: Path) -> None:
    center = tmp_path / "etc-lotse"
    code, text = init(str(center))
    assert code == 0
    written = sorted(str(p.relative_to(center)) for p in center.rglob("*") if p.is_file())
    assert written == sorted(["README.txt", "lotse.yaml", "secrets.yaml", *(f"config/{name}" for name in example_names())])
    for name in example_names():
        assert (center / "config" / name).read_bytes() == (EXAMPLE / name).read_bytes()
        assert mode(center / "config" / name) == 0o644
    assert mode(center / "secrets.yaml") == 0o600
    assert mode(center / "README.txt") == 0o644
    assert f"wrote {center / 'secrets.yaml'}" in text
    assert text.endswith(f"next steps: {center / 'README.txt'}\n")


def test_the_settings_file_written_is_read_with_its_paths_in_the_center(tmp_path: Path) -> None:
    init(str(tmp_path))
    out = io.StringIO()
    assert main(["--settings", str(tmp_path / "lotse.yaml"), "settings"], out) == 0
    lines = {line.split()[0]: line.split()[1] for line in out.getvalue().splitlines()[1:] if not line.startswith("warning")}
    assert lines["config"] == str(tmp_path / "config") and lines["secrets"] == str(tmp_path / "secrets.yaml")
    assert mode(tmp_path / "lotse.yaml") == 0o644 and "warning" not in out.getvalue()  # the secrets file is private


def test_the_config_written_is_valid_and_keeps_its_routing_cases(tmp_path: Path) -> None:
    init(str(tmp_path))
    out = io.StringIO()
    assert main(["validate", "--quiet", str(tmp_path / "config")], out) == 0
    assert f"{tmp_path / 'config'}: valid: 0 error(s)" in out.getvalue()
    config = tmp_path / "config"
    assert main(["simulate", "--config", str(config), "--cases", str(config / "routing-cases.yaml")], io.StringIO()) == 0


def test_the_secrets_file_is_read_by_asterisk_render_as_empty(tmp_path: Path) -> None:
    init(str(tmp_path))
    agents = tmp_path / "agents.yaml"
    agents.write_text("agents: {anna: {name: Anna, groups: [team-buergerservice], password: a-long-password-1}}\n", encoding="utf-8")
    loaded = load_agents(agents, tmp_path / "secrets.yaml", load_or_raise(tmp_path / "config"))
    assert loaded.ami_secret is None
    assert loaded.by_id("anna") is not None
    secrets = (tmp_path / "secrets.yaml").read_text(encoding="utf-8")
    assert "passwords:" in secrets and "ami_secret:" in secrets and "lotse asterisk render --secrets" in secrets


def test_the_readme_names_each_file_and_the_next_commands(tmp_path: Path) -> None:
    init(str(tmp_path))
    readme = (tmp_path / "README.txt").read_text(encoding="utf-8")
    for name in ("config/ ", "config/routing-cases.yaml", "config/schema.json", "secrets.yaml", "README.txt"):
        assert name in readme
    assert f"lotse validate {tmp_path}/config" in readme
    assert f"--secrets {tmp_path}/secrets.yaml" in readme


def test_init_refuses_to_overwrite_and_names_every_file_there(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    init(str(tmp_path))
    center = tmp_path / "config" / "center.yaml"
    center.write_text("# the admin's own\n", encoding="utf-8")
    message = refused([str(tmp_path)], capsys)
    assert "12 file(s) are there already: " in message
    assert str(center) in message and str(tmp_path / "secrets.yaml") in message and str(tmp_path / "README.txt") in message
    assert "--force overwrites them" in message
    assert center.read_text(encoding="utf-8") == "# the admin's own\n"


def test_one_file_there_stops_all_and_only_it_is_named(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "secrets.yaml").write_text("ami_secret: the-real-one\n", encoding="utf-8")
    message = refused([str(tmp_path)], capsys)
    assert f"1 file(s) are there already: {tmp_path / 'secrets.yaml'};" in message
    assert sorted(p.name for p in tmp_path.iterdir()) == ["secrets.yaml"]
    assert (tmp_path / "secrets.yaml").read_text(encoding="utf-8") == "ami_secret: the-real-one\n"


def test_force_overwrites_and_makes_the_secrets_file_private_again(tmp_path: Path) -> None:
    init(str(tmp_path))
    (tmp_path / "config" / "center.yaml").write_text("# the admin's own\n", encoding="utf-8")
    (tmp_path / "secrets.yaml").chmod(0o644)
    code, text = init("--force", str(tmp_path))
    assert code == 0 and f"wrote {tmp_path / 'config' / 'center.yaml'}" in text
    assert (tmp_path / "config" / "center.yaml").read_bytes() == (EXAMPLE / "center.yaml").read_bytes()
    assert mode(tmp_path / "secrets.yaml") == 0o600


def test_a_relative_dir_is_written_below_the_working_folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    code, _ = init("center")
    assert code == 0
    assert f"lotse validate {tmp_path}/center/config" in (tmp_path / "center" / "README.txt").read_text(encoding="utf-8")


def test_dir_that_is_a_file_is_a_usage_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "etc").write_text("", encoding="utf-8")
    assert "argument DIR: " in refused([str(tmp_path / "etc")], capsys)


def test_a_checkout_reads_the_example_from_config(tmp_path: Path) -> None:
    assert example_center() == EXAMPLE  # pip install -e: no lotse/example, the top-level config/ itself
    with pytest.raises(StartingCenterError, match="no example config in"):
        plan(tmp_path, tmp_path / "center")
