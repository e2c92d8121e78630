"""Alembic revisions of Redline's schema; run through ``bot.storage.schema``, never by hand-made DDL."""
