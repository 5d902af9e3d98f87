"""The database's schema (stores/db.py) on SQLite and the real PostgreSQL: an empty database is created at the
newest revision when a store opens it; one at an older or an unknown revision is refused, named, and left as it is."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from alembic import command
from alembic.script import ScriptDirectory
from sqlalchemy import create_engine, inspect, text

from metrics.store import Store
from promises.store import Promises
from stores.db import MIGRATIONS, TABLES, StoreError, alembic_config, read_schema, shown

HEAD = ScriptDirectory(str(MIGRATIONS)).get_current_head()
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
