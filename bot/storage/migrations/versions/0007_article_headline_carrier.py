"""Article.headline_carrier: which element of the page carries the article's display headline
(``h1``, ``h2.headline``, ``meta`` …), decided once when the article is tracked and followed on
every check (bot.core.extract), so a rewritten ``<h1>`` is never outvoted by the metadata.

Existing rows get NULL: their next check decides it and records it without an announcement.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-07
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("article", recreate="never") as batch:
        batch.add_column(sa.Column("headline_carrier", sa.String(), nullable=True))


def downgrade() -> None:
    # In place (SQLite 3.35+): rebuilding article fails once other tables point at it (see 0003).
    with op.batch_alter_table("article", recreate="never") as batch:
        batch.drop_column("headline_carrier")
