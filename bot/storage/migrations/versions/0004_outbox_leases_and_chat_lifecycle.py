"""Outbox leases (claimant and lease on a delivery, and the message that carries it), paused
chats and the newest message seen in a chat, the forum topic of a subscription.

A row left 'sending' by an older Redline has no lease: the sender treats that as expired and
takes it back (at most that message repeated, as before).

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("chat") as batch:
        batch.add_column(sa.Column("paused_at", sa.DateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column("last_message_id", sa.BigInteger(), nullable=True))
    with op.batch_alter_table("subscription") as batch:
        batch.add_column(sa.Column("thread_id", sa.BigInteger(), nullable=True))
    with op.batch_alter_table("delivery") as batch:
        batch.add_column(sa.Column("claimed_by", sa.String(), nullable=False, server_default=""))
        batch.add_column(sa.Column("lease_until", sa.DateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column("message_id", sa.BigInteger(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("delivery") as batch:
        batch.drop_column("message_id")
        batch.drop_column("lease_until")
        batch.drop_column("claimed_by")
    with op.batch_alter_table("subscription") as batch:
        batch.drop_column("thread_id")
    with op.batch_alter_table("chat") as batch:
        batch.drop_column("last_message_id")
        batch.drop_column("paused_at")
