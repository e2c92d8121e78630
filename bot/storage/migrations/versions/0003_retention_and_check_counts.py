"""Retention and the operator's view: article.untracked_since and the check_count table.

``untracked_since`` is set when the last chat untracks an article; retention deletes an article
nobody has tracked for ``database.keep_untracked_days``. Articles no chat tracks when this
revision runs start counting from now. ``check_count`` holds checks per outcome per five
minutes for ``redline stats`` and the Prometheus metrics.

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("article") as batch:
        batch.add_column(sa.Column("untracked_since", sa.DateTime(timezone=True), nullable=True))
        batch.create_index("ix_article_untracked_since", ["untracked_since"], unique=False)
    article = sa.table("article", sa.column("id"), sa.column("untracked_since"))
    subscription = sa.table("subscription", sa.column("article_id"))
    op.execute(
        article.update()
        .where(~sa.exists().where(subscription.c.article_id == article.c.id))
        .values(untracked_since=sa.func.current_timestamp())
    )
    op.create_table(
        "check_count",
        sa.Column("bucket", sa.DateTime(timezone=True), nullable=False),
        sa.Column("outcome", sa.String(), nullable=False),
        sa.Column("count", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("bucket", "outcome"),
    )


def downgrade() -> None:
    op.drop_table("check_count")
    # SQLite 3.35+ drops a column in place. Rebuilding the table instead (batch mode's default)
    # fails at commit once versions and subscriptions point at it: dropping the old table counts
    # foreign-key violations that renaming the new one into place never clears.
    with op.batch_alter_table("article", recreate="never") as batch:
        batch.drop_index("ix_article_untracked_since")
        batch.drop_column("untracked_since")
