"""``lotse db upgrade`` and ``lotse db status`` through lotse.cli.main, on SQLite and the real PostgreSQL: the
migrations run when the admin says so, what was written at the older revision is kept, and the exit code says
whether an upgrade is needed."""

from __future__ import annotations

import io
from pathlib import Path

from sqlalchemy import create_engine

from lotse.cli import main
from metrics.store import Store
from promises.store import Promises, Request
from stores.db import shown
from tests.test_db import HEAD, at_revision, newer_message, set_revision
from tests.test_store import captured


def db(*args: str) -> tuple[int, str]:
    out = io.StringIO()
    code = main(["db", *args], out, environ={})
    return code, out.getvalue()


def status_lines(url: str, revision: str, state: str) -> str:
    return f"database:   {shown(url)}\nschema:     {revision}\nthis lotse: {HEAD}\nstatus:     {state}\n"


def test_upgrade_from_an_older_revision_keeps_what_was_written_there(empty_db: str) -> None:
    at_revision(empty_db, "0004")
    engine = create_engine(empty_db)  # written as the lotse of 0004 did, without a schema check
    record = captured()[0]
    Store(engine).write([record])
    request = Request("t.1", "ticket", 1000.0, "minden", "own", "ausweis", "", "bauamt", "in_hours", "+495711234", 1000.0)
    ticket = Promises(engine).add_ticket(request, 5000.0, 1000.0)
    engine.dispose()
    upgrade_hint = f"run 'lotse db upgrade --db {shown(empty_db)}' (back it up first: docs/operations.md)"
    assert db("status", "--db", empty_db) == (1, status_lines(empty_db, "0004", f"upgrade needed: {upgrade_hint}"))

    assert db("upgrade", "--db", empty_db) == (0, f"database {shown(empty_db)} upgraded from 0004 to {HEAD}\n")
    assert db("status", "--db", empty_db) == (0, status_lines(empty_db, HEAD, "current"))
    assert db("upgrade", "--db", empty_db) == (0, f"database {shown(empty_db)} already at {HEAD}\n")
    store = Store.open(empty_db)
    try:
        assert list(store.between(0, 2e10)) == [record]
        assert Promises(store.engine).ticket(ticket or 0).request == "t.1"
    finally:
        store.close()


def test_upgrade_creates_an_empty_database_and_status_names_one(empty_db: str, tmp_path: Path) -> None:
    assert db("upgrade", "--db", empty_db) == (0, f"database {shown(empty_db)} created at {HEAD}\n")
    assert db("status", "--db", empty_db) == (0, status_lines(empty_db, HEAD, "current"))
    blank = tmp_path / "blank.db"
    blank.touch()  # an empty SQLite file, e.g. made by hand before the first start
    url = f"sqlite:///{blank}"
    advice = f"lotse creates its tables at {HEAD} when it first opens it, or run 'lotse db upgrade --db {url}'"
    assert db("status", "--db", str(blank)) == (1, status_lines(url, "none", f"empty: {advice}"))


def test_a_newer_schema_is_neither_upgraded_nor_current(empty_db: str) -> None:
    Store.open(empty_db).close()
    set_revision(empty_db, "9999")
    assert db("upgrade", "--db", empty_db) == (1, newer_message(empty_db, "9999") + "\n")
    state = "newer than this lotse: upgrade lotse, or restore the database of this version"
    assert db("status", "--db", empty_db) == (1, status_lines(empty_db, "9999", state))


def test_status_never_creates_a_database_and_upgrade_needs_its_folder(tmp_path: Path) -> None:
    missing = tmp_path / "calls.db"
    assert db("status", "--db", str(missing)) == (1, f"no database at {missing}: the file does not exist\n")
    assert not missing.exists()
    elsewhere = tmp_path / "nowhere" / "calls.db"
    assert db("upgrade", "--db", str(elsewhere)) == (1, f"no database at {elsewhere}: the folder {elsewhere.parent} does not exist\n")


def test_an_unreachable_database_is_named_without_its_password() -> None:
    url = "postgresql+psycopg://lotse:geheim@127.0.0.1:1/x"  # nothing listens there
    for action in ("status", "upgrade"):
        code, text = db(action, "--db", url)
        assert code == 1 and text.startswith("cannot open the database at postgresql+psycopg://lotse:***@127.0.0.1:1/x: ")
        assert "geheim" not in text


def test_without_db_it_takes_the_database_of_the_settings_file(tmp_path: Path) -> None:
    settings = tmp_path / "lotse.yaml"
    settings.write_text(f"database:\n  url: sqlite:///{tmp_path / 'center.db'}\n", encoding="utf-8")
    out = io.StringIO()
    assert main(["--settings", str(settings), "db", "upgrade"], out, environ={}) == 0
    assert out.getvalue() == f"database sqlite:///{tmp_path / 'center.db'} created at {HEAD}\n"
