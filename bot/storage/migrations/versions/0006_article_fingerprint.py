"""Article.fingerprint: bot.core.fingerprint of the page last extracted, so a page whose bytes
change on every fetch is not extracted again while what extraction reads stays the same.

Existing rows get NULL: their next check extracts once and stores it.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("article", recreate="never") as batch:
        batch.add_column(sa.Column("fingerprint", sa.String(), nullable=True))


def downgrade() -> None:
    # In place (SQLite 3.35+): rebuilding article fails once other tables point at it (see 0003).
    with op.batch_alter_table("article", recreate="never") as batch:
        batch.drop_column("fingerprint")
