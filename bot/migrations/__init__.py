"""Alembic revisions of Redline's schema; run through ``bot.schema``, never by hand-made DDL."""
