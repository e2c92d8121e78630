"""Follows (/follow): feeds fetched once for every chat that follows them, the items each
listed, and subscriptions a follow brought (released at ``expires_at``).

Existing subscriptions get NULL: every one of them is a chat's own /track.

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-07
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "feed",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("url", sa.String(), nullable=False),
        sa.Column("kind", sa.String(), nullable=False),
        sa.Column("title", sa.String(), nullable=False),
        sa.Column("etag", sa.String(), nullable=True),
        sa.Column("last_modified", sa.String(), nullable=True),
        sa.Column("next_fetch_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("failures", sa.Integer(), nullable=False),
        sa.Column("failure_reason", sa.String(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("url"),
    )
    op.create_index("ix_feed_next_fetch_at", "feed", ["next_fetch_at"], unique=False)
    op.create_table(
        "feed_item",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("feed_id", sa.Integer(), nullable=False),
        sa.Column("url", sa.String(), nullable=False),
        sa.Column("title", sa.String(), nullable=False),
        sa.Column("first_seen_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["feed_id"], ["feed.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("feed_id", "url"),
    )
    op.create_index("ix_feed_item_feed_id", "feed_item", ["feed_id"], unique=False)
    op.create_table(
        "follow",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("chat_id", sa.BigInteger(), nullable=False),
        sa.Column("feed_id", sa.Integer(), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("days", sa.Integer(), nullable=False),
        sa.Column("thread_id", sa.BigInteger(), nullable=True),
        sa.Column("user_id", sa.BigInteger(), nullable=True),
        sa.Column("told_failing", sa.Boolean(), nullable=False),
        sa.Column("told_full", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["feed_id"], ["feed.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("chat_id", "number"),
        sa.UniqueConstraint("chat_id", "feed_id"),
    )
    op.create_index("ix_follow_chat_id", "follow", ["chat_id"], unique=False)
    op.create_index("ix_follow_feed_id", "follow", ["feed_id"], unique=False)
    # In place, no foreign key: SQLite would rebuild the table (and `migrate --sql` cannot).
    with op.batch_alter_table("subscription", recreate="never") as batch:
        batch.add_column(sa.Column("follow_id", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("expires_at", sa.DateTime(timezone=True), nullable=True))
        batch.create_index("ix_subscription_follow_id", ["follow_id"], unique=False)
        batch.create_index("ix_subscription_expires_at", ["expires_at"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("subscription", recreate="never") as batch:
        batch.drop_index("ix_subscription_expires_at")
        batch.drop_index("ix_subscription_follow_id")
        batch.drop_column("expires_at")
        batch.drop_column("follow_id")
    op.drop_index("ix_follow_feed_id", table_name="follow")
    op.drop_index("ix_follow_chat_id", table_name="follow")
    op.drop_table("follow")
    op.drop_index("ix_feed_item_feed_id", table_name="feed_item")
    op.drop_table("feed_item")
    op.drop_index("ix_feed_next_fetch_at", table_name="feed")
    op.drop_table("feed")
