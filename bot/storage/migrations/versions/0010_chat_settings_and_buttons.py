"""Chat.quiet and Chat.timezone (/settings), Delivery.buttons (the inline buttons under an
announcement, stored with its text so a restart or a coalesced edit keeps them).

Existing chats get sound on and UTC; queued announcements get no buttons.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-07
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("chat", recreate="never") as batch:
        batch.add_column(sa.Column("quiet", sa.Boolean(), nullable=False, server_default=sa.false()))
        batch.add_column(sa.Column("timezone", sa.String(), nullable=False, server_default="UTC"))
    with op.batch_alter_table("delivery", recreate="never") as batch:
        batch.add_column(sa.Column("buttons", sa.JSON(), nullable=True))


def downgrade() -> None:
    # In place (SQLite 3.35+), as 0006: rebuilding a table others point at fails.
    with op.batch_alter_table("delivery", recreate="never") as batch:
        batch.drop_column("buttons")
    with op.batch_alter_table("chat", recreate="never") as batch:
        batch.drop_column("timezone")
        batch.drop_column("quiet")
