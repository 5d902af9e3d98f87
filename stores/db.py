"""The SQL database every lotse process shares: its URL, and the schema brought up to date by alembic.

SQLite by default, PostgreSQL by URL. The call records (metrics.store), the promises (promises.store) and the
dispositions (metrics.dispositions) are tables of this one database; stores/migrations holds their migrations.
"""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

MIGRATIONS = Path(__file__).parent / "migrations"


class StoreError(Exception):
    """The call records cannot be opened; the message names the database and why."""


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


def migrate(url: str) -> None:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    command.upgrade(config, "head")
