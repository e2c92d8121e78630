"""Article.canonical_key: the key of the URL an article's page names itself by (its trusted
canonical link, else where it is served), so AMP, mobile and query-string variants are one
article and a publisher's new slug is followed and announced once as "URL changed".

Subscription.watchwords: a chat's plain substrings (bot.core.watchwords); only edits whose
changed words hold one are announced to it.

Chat.digest_minute, Chat.digest_next_at: the daily digest a chat turned on under /digest (the
minute of the day it is sent at, and when the next one is due: the outbox sends it).

Existing rows get NULL: an article's next check that reads its page records the key without an
announcement; a subscription without watchwords is told every edit.

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-07
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("article", recreate="never") as batch:
        batch.add_column(sa.Column("canonical_key", sa.String(), nullable=True))
    with op.batch_alter_table("chat", recreate="never") as batch:
        batch.add_column(sa.Column("digest_minute", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("digest_next_at", sa.DateTime(timezone=True), nullable=True))
        batch.create_index("ix_chat_digest_next_at", ["digest_next_at"])
    with op.batch_alter_table("subscription", recreate="never") as batch:
        batch.add_column(sa.Column("watchwords", sa.JSON(), nullable=True))


def downgrade() -> None:
    # In place (SQLite 3.35+): rebuilding article fails once other tables point at it (see 0003).
    with op.batch_alter_table("subscription", recreate="never") as batch:
        batch.drop_column("watchwords")
    with op.batch_alter_table("chat", recreate="never") as batch:
        batch.drop_index("ix_chat_digest_next_at")
        batch.drop_column("digest_next_at")
        batch.drop_column("digest_minute")
    with op.batch_alter_table("article", recreate="never") as batch:
        batch.drop_column("canonical_key")
