"""Follow.watchwords (/follow URL words: …), Chat.digest_only (followed articles only in the
daily digest), the outbox's follow notices: Delivery.follow_id, Delivery.article_id nullable
(a feed that fails or a follow the chat's cap leaves out names no article), and what retention
needs to forget a feed's old items safely: Feed.listed_at, FeedItem.last_seen_at.

Existing follows get no watchwords, chats digest-only off, deliveries no follow; feeds and
their items get NULL (kept until the feed's next listing says which it still lists).

On SQLite a column's NOT NULL is changed by copying the table (batch mode); ``delivery`` is
referenced by no other table, so the copy is safe. The copy's shape is given here (the table as
revision 0012 left it) so ``redline migrate --sql`` can print it without reading a database.

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-07
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def _delivery_0012() -> sa.Table:
    """``delivery`` as revisions 0001–0012 made it."""
    return sa.Table(
        "delivery",
        sa.MetaData(),
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("chat_id", sa.BigInteger(), nullable=False),
        sa.Column("article_id", sa.Integer(), nullable=False),
        sa.Column("version_id", sa.Integer(), nullable=True),
        sa.Column("kind", sa.String(), nullable=False),
        sa.Column("text", sa.String(), nullable=False),
        sa.Column("plain", sa.String(), nullable=False),
        sa.Column("status", sa.String(), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("not_before", sa.DateTime(timezone=True), nullable=False),
        sa.Column("error", sa.String(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("claimed_by", sa.String(), nullable=False, server_default=""),
        sa.Column("lease_until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("message_id", sa.BigInteger(), nullable=True),
        sa.Column("buttons", sa.JSON(), nullable=True),
        sa.PrimaryKeyConstraint("id"),
        sa.ForeignKeyConstraint(["article_id"], ["article.id"]),
        sa.ForeignKeyConstraint(["version_id"], ["version.id"]),
        sa.UniqueConstraint("chat_id", "article_id", "version_id", "kind"),
        sa.Index("ix_delivery_article_id", "article_id"),
        sa.Index("ix_delivery_chat_id", "chat_id"),
        sa.Index("ix_delivery_status", "status"),
    )


def upgrade() -> None:
    with op.batch_alter_table("follow", recreate="never") as batch:
        batch.add_column(sa.Column("watchwords", sa.JSON(), nullable=True))
    with op.batch_alter_table("feed", recreate="never") as batch:
        batch.add_column(sa.Column("listed_at", sa.DateTime(timezone=True), nullable=True))
    with op.batch_alter_table("feed_item", recreate="never") as batch:
        batch.add_column(sa.Column("last_seen_at", sa.DateTime(timezone=True), nullable=True))
    with op.batch_alter_table("chat", recreate="never") as batch:
        batch.add_column(sa.Column("digest_only", sa.Boolean(), nullable=False, server_default=sa.false()))
    with op.batch_alter_table("delivery", copy_from=_delivery_0012()) as batch:
        batch.alter_column("article_id", existing_type=sa.Integer(), nullable=True)
        batch.add_column(sa.Column("follow_id", sa.Integer(), nullable=True))
        batch.create_index("ix_delivery_follow_id", ["follow_id"], unique=False)


def downgrade() -> None:
    op.execute("DELETE FROM delivery WHERE article_id IS NULL")  # follow notices name no article
    table = _delivery_0012()
    table.append_column(sa.Column("follow_id", sa.Integer(), nullable=True))
    sa.Index("ix_delivery_follow_id", table.c.follow_id)  # joins the table it names
    with op.batch_alter_table("delivery", copy_from=table) as batch:
        batch.drop_index("ix_delivery_follow_id")
        batch.drop_column("follow_id")
        batch.alter_column("article_id", existing_type=sa.Integer(), nullable=False)
    with op.batch_alter_table("chat", recreate="never") as batch:
        batch.drop_column("digest_only")
    with op.batch_alter_table("feed_item", recreate="never") as batch:
        batch.drop_column("last_seen_at")
    with op.batch_alter_table("feed", recreate="never") as batch:
        batch.drop_column("listed_at")
    with op.batch_alter_table("follow", recreate="never") as batch:
        batch.drop_column("watchwords")
