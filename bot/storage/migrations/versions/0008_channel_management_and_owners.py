"""Chat.managing: the channel a private chat's user manages from there (/channel), and
Subscription.user_id: who tracked an article (the per-user cap, `redline chats`).

Existing rows get NULL: no chat manages a channel, and older subscriptions have no known owner
(they count against nobody's cap).

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-07
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # In place (SQLite 3.35+ adds columns without a rebuild; see 0003 and 0006).
    with op.batch_alter_table("chat", recreate="never") as batch:
        batch.add_column(sa.Column("managing", sa.BigInteger(), nullable=True))
    with op.batch_alter_table("subscription", recreate="never") as batch:
        batch.add_column(sa.Column("user_id", sa.BigInteger(), nullable=True))
        batch.create_index("ix_subscription_user_id", ["user_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("subscription", recreate="never") as batch:
        batch.drop_index("ix_subscription_user_id")
        batch.drop_column("user_id")
    with op.batch_alter_table("chat", recreate="never") as batch:
        batch.drop_column("managing")
