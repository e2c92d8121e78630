"""Chat.web_token: the secret in a chat's web addresses (history pages, its Atom feed).

Every existing chat gets its own random token here (hex here, URL-safe base64 from
models.new_web_token: both are URL-safe), so links work for chats made before the
upgrade as for new ones.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-07
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("chat", recreate="never") as batch:
        batch.add_column(sa.Column("web_token", sa.String(), nullable=True))
    # In SQL, so `redline migrate --sql` prints it for a DBA: each database's own strong random
    # source (SQLite's randomblob, PostgreSQL 13+'s gen_random_uuid), 192 bits or more per chat.
    if op.get_context().dialect.name == "postgresql":
        token = "replace(gen_random_uuid()::text || gen_random_uuid()::text, '-', '')"
    else:
        token = "lower(hex(randomblob(24)))"
    op.execute(f"UPDATE chat SET web_token = {token} WHERE web_token IS NULL")
    op.create_index("ix_chat_web_token", "chat", ["web_token"], unique=True)


def downgrade() -> None:
    op.drop_index("ix_chat_web_token", table_name="chat")
    with op.batch_alter_table("chat", recreate="never") as batch:
        batch.drop_column("web_token")
