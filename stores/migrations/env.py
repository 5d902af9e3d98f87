"""Alembic environment for lotse's database (run by stores.db: lotse db upgrade, or a store opened on an empty database).

The migrations are written by hand (versions/); no metadata is compared, so this package needs none of the
tables' modules above it.
"""

from __future__ import annotations

from alembic import context
from sqlalchemy import create_engine

url = context.config.get_main_option("sqlalchemy.url")
assert url is not None
engine = create_engine(url)
with engine.connect() as connection:
    context.configure(connection=connection, target_metadata=None)
    with context.begin_transaction():
        context.run_migrations()
engine.dispose()
