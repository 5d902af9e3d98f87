"""lotse installed as a wheel (the install tier, about a minute): built from the files git has, installed into a fresh
venv, and run from a folder outside the source tree with no PYTHONPATH, so that nothing can come from the checkout.

pip takes lotse's dependencies from PyPI or its cache.
"""

from __future__ import annotations

import ast
import json
import os
import shutil
import sqlite3
import subprocess
import sys
import zipfile
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.conftest import ROOT

pytestmark = pytest.mark.install


@dataclass(frozen=True)
class Installed:
    wheel: Path
    venv: Path
    outside: Path  # the working folder of every command: neither the source tree nor below it

    def run(self, command: str, *args: str) -> str:
        """A command of the venv, its output; fails the test with the output when it fails."""
        env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYTHONHOME", "VIRTUAL_ENV")}
        argv = [str(self.venv / "bin" / command), *args]
        done = subprocess.run(argv, cwd=self.outside, env=env, capture_output=True, text=True, check=False)
        assert done.returncode == 0, f"{command} {' '.join(args)}: exit {done.returncode}\n{done.stdout}\n{done.stderr}"
        return done.stdout


def packages() -> tuple[str, ...]:
    """setup.py's PACKAGES: the product packages the wheel carries."""
    tree = ast.parse((ROOT / "setup.py").read_text(encoding="utf-8"))
    for node in tree.body:
        if isinstance(node, ast.Assign) and any(isinstance(t, ast.Name) and t.id == "PACKAGES" for t in node.targets):
            names: tuple[str, ...] = ast.literal_eval(node.value)
            return names
    raise AssertionError("setup.py has no PACKAGES")


def source_files() -> list[str]:
    """The files of the working tree that git has or would add (tracked, or untracked and not ignored)."""
    listed = subprocess.run(
        ["git", "ls-files", "--cached", "--others", "--exclude-standard"], cwd=ROOT, capture_output=True, text=True, check=True
    ).stdout.splitlines()
    return [name for name in listed if (ROOT / name).is_file()]


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Installed:
    base = tmp_path_factory.mktemp("install")
    source = base / "source"  # a copy: a build in the checkout would leave build/ there and reuse what it holds
    for name in source_files():
        (source / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(ROOT / name, source / name)
    subprocess.run([sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "-w", str(base / "dist"), str(source)], check=True)
    (wheel,) = (base / "dist").glob("lotse-*.whl")
    installed = Installed(wheel, base / "venv", base / "outside")
    installed.outside.mkdir()
    subprocess.run([sys.executable, "-m", "venv", str(installed.venv)], check=True)
    installed.run("python", "-m", "pip", "install", "-q", str(wheel))
    return installed


def test_the_wheel_holds_every_file_of_the_packages_and_the_example(installed: Installed) -> None:
    names = set(zipfile.ZipFile(installed.wheel).namelist())
    wanted = {name for name in source_files() if name.split("/")[0] in packages()}
    wanted |= {"lotse/example/" + name.removeprefix("config/") for name in source_files() if name.startswith("config/")}
    assert sorted(wanted - names) == []
    top = {name.split("/")[0] for name in names if ".dist-info/" not in name}
    assert top == set(packages())  # no tests, bench, asterisk or docs


def test_the_installed_lotse_runs_from_the_venv(installed: Installed) -> None:
    script = (
        "import json, lotse, stores.db, web.app, web.pages.page as page;"
        "print(json.dumps([lotse.__file__, str(stores.db.MIGRATIONS), str(web.app.STATIC),"
        " page.page_templates().get_template('base.html').filename]))"
    )
    paths = [Path(p) for p in json.loads(installed.run("python", "-c", script))]
    assert all(p.is_relative_to(installed.venv) for p in paths), paths
    assert (paths[1] / "script.py.mako").is_file() and (paths[1] / "env.py").is_file()
    assert (paths[2] / "app.css").is_file()
    assert (installed.venv / "bin" / "lotse-agi").is_file()


def test_init_writes_the_shipped_example_and_it_validates(installed: Installed) -> None:
    center = installed.outside / "etc-lotse"
    installed.run("lotse", "init", str(center))
    assert (center / "secrets.yaml").stat().st_mode & 0o777 == 0o600
    assert (center / "config" / "center.yaml").read_bytes() == (ROOT / "config" / "center.yaml").read_bytes()
    assert f"{center / 'config'}: valid: 0 error(s)" in installed.run("lotse", "validate", str(center / "config"))
    config = center / "config"
    assert ", 0 failed" in installed.run("lotse", "simulate", "--config", str(config), "--cases", str(config / "routing-cases.yaml"))


def test_a_fresh_store_is_migrated_from_the_installed_migrations(installed: Installed) -> None:
    database = installed.outside / "calls.db"
    installed.run("python", "-c", f"from metrics.store import Store; Store.open('sqlite:///{database}').close()")
    with sqlite3.connect(database) as db:
        tables = {row[0] for row in db.execute("select name from sqlite_master where type = 'table'")}
        (version,) = db.execute("select version_num from alembic_version").fetchone()
    assert {"alembic_version", "calls"} <= tables
    assert version == max(p.name.split("_")[0] for p in (ROOT / "stores" / "migrations" / "versions").glob("0*.py"))
