"""Alembic environment: online on the connection ``bot.storage.schema`` hands over, offline for ``--sql``.

Batch mode everywhere, so a revision written once runs on SQLite (which cannot ALTER most things
in place) and on PostgreSQL alike.
"""

from __future__ import annotations

from alembic import context
from sqlmodel import SQLModel

from bot.storage import models  # noqa: F401  (registers the tables on SQLModel.metadata)

config = context.config
options = {"target_metadata": SQLModel.metadata, "render_as_batch": True, "compare_type": True}

if context.is_offline_mode():
    context.configure(
        url=config.get_main_option("sqlalchemy.url"),
        literal_binds=True,
        dialect_opts={"paramstyle": "named"},
        **options,
    )
    with context.begin_transaction():
        context.run_migrations()
else:
    connection = config.attributes["connection"]
    context.configure(connection=connection, **options)
    with context.begin_transaction():
        context.run_migrations()
