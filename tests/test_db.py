"""The database's schema (stores/db.py) on SQLite and the real PostgreSQL: an empty database is created at the
newest revision when a store opens it; one at an older or an unknown revision is refused, named, and left as it is,
and every process started on it exits 1 with that message."""

from __future__ import annotations

import io
from collections.abc import Callable
from pathlib import Path

import pytest
from alembic import command
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, create_engine, event, inspect, text

from lotse.cli import main
from metrics.store import Store
from promises.store import Promises
from stores.db import MIGRATIONS, TABLES, StoreError, alembic_config, read_schema, shown
from tests.conftest import EXAMPLE, ROOT
from web.users import Role, set_user

HEAD = ScriptDirectory(str(MIGRATIONS)).get_current_head() or "none"  # the newest revision, 0006 when this was written
OPENERS: list[Callable[[str], object]] = [Store.open, Promises.open]


def at_revision(url: str, revision: str) -> None:
    """The database as an older lotse left it: its migrations run up to ``revision``."""
    command.upgrade(alembic_config(url), revision)


def set_revision(url: str, revision: str) -> None:
    engine = create_engine(url)
    with engine.begin() as conn:
        conn.execute(text("UPDATE alembic_version SET version_num = :revision"), {"revision": revision})
    engine.dispose()


def older_message(url: str, revision: str) -> str:
    return (
        f"database {shown(url)} has schema {revision}, this lotse needs {HEAD}: "
        f"run 'lotse db upgrade --db {shown(url)}' (back it up first: docs/operations.md)"
    )


def newer_message(url: str, revision: str) -> str:
    newer = f"newer than this lotse knows ({HEAD}): upgrade lotse, or restore the database of this version"
    return f"database {shown(url)} has schema {revision}, {newer}"


def test_an_empty_database_is_created_at_the_newest_revision(empty_db: str) -> None:
    Store.open(empty_db).close()
    schema = read_schema(empty_db)
    assert (schema.revision, schema.state) == (HEAD, "current")
    engine = create_engine(empty_db)
    with engine.connect() as conn:
        assert set(inspect(conn).get_table_names()) == {*TABLES, "alembic_version"}  # TABLES names every table of lotse's
    engine.dispose()
    Promises.open(empty_db).close()  # and opened again: nothing to do


def test_opening_a_current_database_reads_its_revision_once_and_changes_nothing(empty_db: str) -> None:
    Store.open(empty_db).close()
    seen: list[str] = []

    def note(conn: object, cursor: object, statement: str, *args: object) -> None:
        seen.append(statement.lstrip().upper())

    event.listen(Engine, "before_cursor_execute", note)
    try:
        Store.open(empty_db).close()
    finally:
        event.remove(Engine, "before_cursor_execute", note)
    assert len([s for s in seen if s.startswith("SELECT") and "ALEMBIC_VERSION" in s]) == 1
    assert not [s for s in seen if s.startswith(("CREATE", "ALTER", "DROP", "INSERT", "UPDATE", "DELETE"))]


@pytest.mark.parametrize("opener", OPENERS, ids=["records", "promises"])
def test_an_older_schema_is_refused_with_the_command_to_run(empty_db: str, opener: Callable[[str], object]) -> None:
    at_revision(empty_db, "0004")
    with pytest.raises(StoreError) as refused:
        opener(empty_db)
    assert str(refused.value) == older_message(empty_db, "0004")
    assert read_schema(empty_db).revision == "0004"  # nothing migrated behind the admin's back


@pytest.mark.parametrize("opener", OPENERS, ids=["records", "promises"])
def test_a_newer_schema_is_refused(empty_db: str, opener: Callable[[str], object]) -> None:
    Store.open(empty_db).close()
    set_revision(empty_db, "9999")  # as a later lotse would leave it
    with pytest.raises(StoreError) as refused:
        opener(empty_db)
    assert str(refused.value) == newer_message(empty_db, "9999")
    assert read_schema(empty_db).state == "newer"


def test_lotses_tables_without_a_revision_are_refused(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'calls.db'}"
    Store.open(url).close()
    engine = create_engine(url)
    with engine.begin() as conn:
        conn.execute(text("DROP TABLE alembic_version"))
    engine.dispose()
    with pytest.raises(StoreError) as refused:
        Store.open(url)
    assert str(refused.value) == (
        f"database {url} has lotse's tables ({', '.join(TABLES)}) but no schema revision (no alembic_version): "
        "it was not made by lotse's migrations; restore a backup of lotse's database, or give an empty one"
    )


def old_database(tmp_path: Path) -> str:
    url = f"sqlite:///{tmp_path / 'old.db'}"
    at_revision(url, "0004")
    return url


def users_file(tmp_path: Path) -> Path:
    path = tmp_path / "users.yaml"
    set_user(path, "vera", Role.VIEWER, "a-long-test-password", "Vera", "")
    return path


LOCAL = ["--listen", "127.0.0.1:0", "--ami", "127.0.0.1:1", "--loop", "asyncio"]  # nothing listens on port 1
AGENTS = str(ROOT / "asterisk" / "agents.example.yaml")
PROCESSES: dict[str, Callable[[Path], list[str]]] = {  # each started with --db on a database at 0004
    "metrics": lambda tmp: ["metrics", "--config", str(EXAMPLE), "--spool", str(tmp / "records.spool"), *LOCAL],
    "promises": lambda tmp: ["promises", "--config", str(EXAMPLE), "--spool", str(tmp / "spool"), *LOCAL],
    "web": lambda tmp: ["web", "--config", str(EXAMPLE), "--agents", AGENTS, "--users", str(users_file(tmp)), "--listen", "127.0.0.1:0"],
    "tickets": lambda tmp: ["tickets", "list", "--config", str(EXAMPLE)],
    "report": lambda tmp: ["report", "--config", str(EXAMPLE), "--from", "2026-11-01", "--to", "2026-11-02"],
    "purge": lambda tmp: ["purge", "--days", "30"],
}


@pytest.mark.parametrize("process", PROCESSES)
def test_a_process_started_on_an_older_database_exits_1_with_the_message(
    process: str, tmp_path: Path, capsys: pytest.CaptureFixture[str], caplog: pytest.LogCaptureFixture
) -> None:
    url = old_database(tmp_path)
    out = io.StringIO()
    code = main([*PROCESSES[process](tmp_path), "--db", url], out, environ={"LOTSE_AMI_SECRET": "s3cret"})
    assert (code, out.getvalue()) == (1, older_message(url, "0004") + "\n")
    assert "Traceback" not in capsys.readouterr().err and not [r for r in caplog.records if r.exc_info]
    assert read_schema(url).revision == "0004"
