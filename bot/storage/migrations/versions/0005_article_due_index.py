"""Article due-queue index (state, next_check_at) and Article.woken_at.

The scheduler asks for "due articles in due order" on every claim; one composite index serves
it (the single-column index on next_check_at left SQLite sorting every active article).
``woken_at`` records when /track woke a dormant article, so it is not put back to sleep by its
old last_changed_at before it has been read.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # In place (no table rebuild): a column and two indexes need none.
    with op.batch_alter_table("article", recreate="never") as batch:
        batch.add_column(sa.Column("woken_at", sa.DateTime(timezone=True), nullable=True))
        batch.drop_index("ix_article_next_check_at")
        batch.create_index("ix_article_due", ["state", "next_check_at"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("article", recreate="never") as batch:
        batch.drop_index("ix_article_due")
        batch.create_index("ix_article_next_check_at", ["next_check_at"], unique=False)
        batch.drop_column("woken_at")
