"""The database: tables, engine and sessions, Alembic revisions, one repository per concern,
retention, statistics and backup."""
