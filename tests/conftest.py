from __future__ import annotations

import contextlib
import os
import uuid
from collections.abc import Callable, Iterator
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import create_engine, text

from routing.loader import load_or_raise
from routing.model import Center

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = ROOT / "config"
BERLIN = ZoneInfo("Europe/Berlin")
POSTGRES = os.environ.get("LOTSE_TEST_POSTGRES", "postgresql+psycopg://postgres@127.0.0.1:5432/test")

MINIMAL = """\
center: {name: Test, state: NW, fallback_queue: q, hours: {mon-fri: "08:00-16:00"}}
queues: {q: {}}
topics: {t: {name: Thema, queue: q}}
tenants:
  a: {name: A, numbers: ["0281 1"], start: {topic: t}}
"""

# Eight levels of YAML aliases: 10^8 values when expanded.
BOMB = """\
a: &a ["x", "x", "x", "x", "x", "x", "x", "x", "x", "x"]
b: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a, *a]
c: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b, *b]
d: &d [*c, *c, *c, *c, *c, *c, *c, *c, *c, *c]
e: &e [*d, *d, *d, *d, *d, *d, *d, *d, *d, *d]
f: &f [*e, *e, *e, *e, *e, *e, *e, *e, *e, *e]
g: &g [*f, *f, *f, *f, *f, *f, *f, *f, *f, *f]
h: [*g, *g, *g, *g, *g, *g, *g, *g, *g, *g]
"""


TIERS = {  # marker -> what the tests need besides Python (docs/architecture.md, "Tests")
    "lab": "the real Asterisk of the lab (asterisk/lab), as root",
    "browser": "Debian's chromium and chromedriver, axe-core (scripts/browser)",
    "services": "PostgreSQL and Redis on 127.0.0.1, promtool (scripts/services)",
    "install": "pip with PyPI or its cache: builds the wheel and installs it into a fresh venv (tests/test_install.py)",
}


def pytest_configure(config: pytest.Config) -> None:
    for name, needs in TIERS.items():
        config.addinivalue_line("markers", f"{name}: needs {needs}")


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """tests/integration is the lab tier and test_browser the browser tier, by place; services are marked in the tests."""
    for item in items:
        parts = item.path.relative_to(ROOT).parts
        if parts[:2] == ("tests", "integration"):
            item.add_marker(pytest.mark.lab)
        elif item.path.name == "test_browser.py":
            item.add_marker(pytest.mark.browser)


def at(text: str) -> datetime:
    """A Berlin wall-clock time, 'YYYY-MM-DD HH:MM'."""
    return datetime.strptime(text, "%Y-%m-%d %H:%M").replace(tzinfo=BERLIN)


@pytest.fixture(scope="session")
def example() -> Center:
    return load_or_raise(EXAMPLE)


@contextlib.contextmanager
def postgres_schema() -> Iterator[str]:
    """The URL of a throwaway schema of the real PostgreSQL, dropped at the end: no test sees another's rows, nor the
    schema revision another branch's tests left in the shared database."""
    schema = f"lotse_test_{uuid.uuid4().hex[:8]}"
    admin = create_engine(POSTGRES)
    with admin.begin() as conn:
        conn.execute(text(f"CREATE SCHEMA {schema}"))
    try:
        yield f"{POSTGRES}?options=-csearch_path%3D{schema}"
    finally:
        with admin.begin() as conn:
            conn.execute(text(f"DROP SCHEMA {schema} CASCADE"))
        admin.dispose()


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.services)])
def empty_db(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """The URL of an empty database: a SQLite file (not made yet) in tmp_path, or a throwaway schema of the real PostgreSQL.

    Whatever a test opens on it, it closes before the end (a PostgreSQL schema is dropped then).
    """
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'calls.db'}"
        return
    with postgres_schema() as url:
        yield url


@pytest.fixture
def postgres_db() -> Iterator[str]:
    """An empty throwaway schema of the real PostgreSQL (for tests marked services)."""
    with postgres_schema() as url:
        yield url


@pytest.fixture
def write(tmp_path: Path) -> Callable[[str, str], Path]:
    """Write a YAML file below tmp_path and return its path."""

    def _write(text: str, name: str = "config.yaml") -> Path:
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
        return path

    return _write
