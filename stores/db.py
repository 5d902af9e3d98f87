"""The SQL database every lotse process shares: its URL, and its schema checked against the migrations.

SQLite by default, PostgreSQL by URL. The call records (metrics.store), the promises (promises.store), the
dispositions (metrics.dispositions) and the web app's sessions and failed log-ins (web.sessions, web.logins) are
tables of this one database; stores/migrations holds their migrations.

Opening a store (``connect``) reads the database's revision once and changes nothing but an empty database,
which it creates at the newest revision (a first start needs no extra step). A database at an older revision
is refused until the admin runs ``lotse db upgrade`` (``upgrade``), after a backup (docs/operations.md); one
at a revision this lotse does not know (a newer lotse's) is refused too.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import create_engine, inspect
from sqlalchemy.engine import Connection, Engine, make_url
from sqlalchemy.exc import ArgumentError, SQLAlchemyError

MIGRATIONS = Path(__file__).parent / "migrations"
TABLES = (  # the migrations make
    "calls",
    "callbacks",
    "tickets",
    "ticket_history",
    "message_deliveries",
    "dispositions",
    "leases",
    "api_tokens",
    "web_sessions",
    "login_failures",
    "mails",
)
UPGRADE_DOC = "docs/operations.md"

State = Literal["current", "empty", "older", "newer", "unversioned"]


class StoreError(Exception):
    """The database cannot be used; the message names the database, why, and what to do."""


@dataclass(frozen=True, slots=True)
class Schema:
    """Where a database's schema stands against the migrations of this lotse."""

    url: str  # as shown in messages: without its password
    revision: str | None  # the database's (its alembic_version); None: it has none
    head: str  # the newest revision this lotse knows, the one it needs
    known: frozenset[str]  # every revision this lotse knows
    tables: tuple[str, ...] = ()  # lotse's tables found in a database without a revision

    @property
    def state(self) -> State:
        if self.revision == self.head:
            return "current"
        if self.revision is None:
            return "unversioned" if self.tables else "empty"
        return "older" if self.revision in self.known else "newer"

    def advice(self) -> str:
        """What the admin does about it ('' when the database is current)."""
        return {
            "current": "",
            "empty": f"lotse creates its tables at {self.head} when it first opens it, or run 'lotse db upgrade --db {self.url}'",
            "older": f"run 'lotse db upgrade --db {self.url}' (back it up first: {UPGRADE_DOC})",
            "newer": "upgrade lotse, or restore the database of this version",
            "unversioned": "it was not made by lotse's migrations; restore a backup of lotse's database, or give an empty one",
        }[self.state]

    def problem(self) -> str:
        """Why this lotse refuses the database ('' when it can use it: current, or empty and to be created)."""
        reason = {
            "current": "",
            "empty": "",
            "older": f"has schema {self.revision}, this lotse needs {self.head}",
            "newer": f"has schema {self.revision}, newer than this lotse knows ({self.head})",
            "unversioned": f"has lotse's tables ({', '.join(self.tables)}) but no schema revision (no alembic_version)",
        }[self.state]
        return f"database {self.url} {reason}: {self.advice()}" if reason else ""


def database_url(text: str) -> str:
    """A SQLAlchemy URL from --db: a URL as given, or a plain file path as SQLite; raises StoreError naming what is wrong."""
    if "://" not in text:
        return f"sqlite:///{Path(text).expanduser().resolve()}"
    try:
        make_url(text)
    except ArgumentError:
        raise StoreError(f"'{text}' is neither a file path nor a database URL such as postgresql+psycopg://user@host/db") from None
    return text


def shown(url: str) -> str:
    """The URL for messages, without its password."""
    return make_url(url).render_as_string(hide_password=True)


def sqlite_file(url: str) -> Path | None:
    """The file of a SQLite URL (None for other databases and in-memory SQLite)."""
    parsed = make_url(url)
    if not parsed.drivername.startswith("sqlite") or parsed.database in (None, "", ":memory:"):
        return None
    return Path(parsed.database)


def connect(url: str) -> Engine:
    """The engine of a store, its schema checked: an empty database is created at the newest revision.

    Raises StoreError when the schema is not the one this lotse needs (the message says what to run), and
    SQLAlchemyError when the database cannot be reached (the callers decide whether to wait for it).
    """
    engine = create_engine(url)
    try:
        with engine.connect() as connection:
            schema = schema_of(connection, url)
        if schema.state == "empty":
            _migrate(url)
        elif schema.state != "current":
            raise StoreError(schema.problem())
    except (StoreError, SQLAlchemyError):
        engine.dispose()
        raise
    return engine


def read_schema(url: str) -> Schema:
    """Where the database at ``url`` stands (``lotse db status``); a StoreError when it cannot be read. Creates nothing."""
    file = sqlite_file(url)
    if file is not None and not file.is_file():
        raise StoreError(f"no database at {file}: the file does not exist")
    return _read(url)


def upgrade(url: str) -> Schema:
    """Run the migrations up to this lotse's revision (``lotse db upgrade``); returns where the database stood before.

    A missing SQLite file is created. Raises StoreError when the database is newer than this lotse, has lotse's
    tables but no revision, or cannot be reached or changed.
    """
    file = sqlite_file(url)
    if file is not None and not file.parent.is_dir():
        raise StoreError(f"no database at {file}: the folder {file.parent} does not exist")
    before = _read(url)
    if before.state in ("newer", "unversioned"):
        raise StoreError(before.problem())
    if before.state != "current":
        try:
            _migrate(url)
        except SQLAlchemyError as exc:
            raise StoreError(f"cannot upgrade the database at {shown(url)}: {str(exc).splitlines()[0]}") from None
    return before


def _read(url: str) -> Schema:
    engine = create_engine(url)
    try:
        with engine.connect() as connection:
            return schema_of(connection, url)
    except SQLAlchemyError as exc:
        raise StoreError(f"cannot open the database at {shown(url)}: {str(exc).splitlines()[0]}") from None
    finally:
        engine.dispose()


def schema_of(connection: Connection, url: str) -> Schema:
    """The database's revision (one read of alembic_version) against this lotse's migrations."""
    script = ScriptDirectory(str(MIGRATIONS))
    head = script.get_current_head()
    assert head is not None, "stores/migrations has no revision"
    revision = MigrationContext.configure(connection).get_current_revision()
    found: tuple[str, ...] = ()
    if revision is None:  # empty, or lotse's tables without their revision: one look at the table names
        names = set(inspect(connection).get_table_names())
        found = tuple(t for t in TABLES if t in names)
    return Schema(shown(url), revision, head, frozenset(s.revision for s in script.walk_revisions()), found)


def alembic_config(url: str) -> Config:
    """Alembic's configuration for lotse's migrations on ``url`` (for command.upgrade and the like)."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


def _migrate(url: str) -> None:
    command.upgrade(alembic_config(url), "head")
