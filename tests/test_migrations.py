"""Schema migrations: a database made by any earlier Redline keeps every row and keeps working,
on SQLite and on a real PostgreSQL server; no model change ships without its revision."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.operations import Operations
from alembic.runtime.migration import MigrationContext
from sqlalchemy import MetaData, Table, func, inspect, select
from sqlalchemy.engine import Connection, Engine
from sqlmodel import SQLModel

from bot.config import DatabaseSettings
from bot.core.extract import extract
from bot.storage.engine import DatabaseError, make_engine
from bot.storage.models import utcnow
from bot.storage.schema import (
    alembic_config,
    database_revision,
    head_revision,
    in_schema_transaction,
    upgrade_schema,
)
from tests.conftest import RunningBots, e2e_settings
from tests.fakes.telegram_api import FakeTelegram
from tests.fakes.web import ArticleServer
from tests.pages import PUTIN_V1, article_html, putin_v2
from tests.test_cli import redline

ALICE = 1001
PENDING_TEXT = "📌 An announcement queued before the upgrade"


def make_legacy_database(engine: Engine, revision: str) -> None:
    """The schema ``create_all`` made at ``revision``'s commit, before Redline used Alembic."""
    with engine.begin() as conn:
        config = alembic_config()
        config.attributes["connection"] = conn
        command.upgrade(config, revision)
        conn.exec_driver_sql("DROP TABLE alembic_version")


def insert_rows(engine: Engine, url: str) -> None:
    """One chat tracking one article (version 1 of the real page, due now), and an
    announcement still waiting in the outbox — written with the old schema's columns only."""
    snapshot = extract(article_html(), url)
    now = utcnow()
    with engine.begin() as conn:
        tables = MetaData()
        table = {name: Table(name, tables, autoload_with=conn) for name in inspect(conn).get_table_names()}
        conn.execute(
            table["chat"].insert(),
            {
                "id": ALICE,
                "type": "private",
                "title": "",
                "sensitivity": "substantive",
                "blocked": False,
                "created_at": now,
            },
        )
        article_id = conn.execute(
            table["article"].insert().returning(table["article"].c.id),
            {
                "url": url,
                "url_key": url.split("://", 1)[1],
                "site": "127.0.0.1",
                "title": snapshot.title,
                "state": "active",
                "interval": 1,
                "next_check_at": now - timedelta(minutes=1),
                "last_checked_at": now - timedelta(minutes=5),
                "last_changed_at": now - timedelta(minutes=5),
                "failures": 0,
                "failure_reason": "",
                "shrink_count": 0,
                "created_at": now - timedelta(minutes=5),
            },
        ).scalar_one()
        version_id = conn.execute(
            table["version"].insert().returning(table["version"].c.id),
            {
                "article_id": article_id,
                "number": 1,
                "title": snapshot.title,
                "content": snapshot.to_dict(),
                "content_hash": snapshot.content_hash,
                "summary": "first version",
                "created_at": now - timedelta(minutes=5),
            },
        ).scalar_one()
        conn.execute(
            table["subscription"].insert(),
            {
                "chat_id": ALICE,
                "article_id": article_id,
                "number": 1,
                "created_at": now - timedelta(minutes=5),
            },
        )
        conn.execute(
            table["delivery"].insert(),
            {
                "chat_id": ALICE,
                "article_id": article_id,
                "version_id": version_id,
                "kind": "edit",
                "text": PENDING_TEXT,
                "plain": PENDING_TEXT,
                "status": "pending",
                "attempts": 0,
                "not_before": now - timedelta(minutes=1),
                "error": "",
                "created_at": now - timedelta(minutes=1),
            },
        )


def row_counts(engine: Engine) -> dict[str, int]:
    with engine.connect() as conn:
        tables = MetaData()
        return {
            name: conn.execute(
                select(func.count()).select_from(Table(name, tables, autoload_with=conn))
            ).scalar_one()
            for name in ("chat", "article", "version", "subscription", "delivery")
        }


def test_models_match_the_latest_revision(database_url: str) -> None:
    """Fails when bot/storage/models.py changed without a revision in bot/storage/migrations/versions."""
    engine = make_engine(database_url)
    try:
        upgrade_schema(engine)
        with engine.connect() as conn:
            differences = compare_metadata(MigrationContext.configure(conn), SQLModel.metadata)
        assert differences == [], f"models and the latest revision differ; add a revision: {differences}"
    finally:
        engine.dispose()


@pytest.mark.parametrize("legacy", ["0001", "0002"])
def test_database_made_before_migrations_is_stamped_not_recreated(database_url: str, legacy: str) -> None:
    engine = make_engine(database_url)
    try:
        make_legacy_database(engine, legacy)
        insert_rows(engine, "http://127.0.0.1:9/p")
        before = row_counts(engine)
        done = upgrade_schema(engine)
        assert (done.before, done.after, done.stamped) == (legacy, head_revision(), True)
        assert row_counts(engine) == before
        assert upgrade_schema(engine).before == head_revision()  # a second start changes nothing
    finally:
        engine.dispose()


async def test_bot_upgrades_an_old_database_at_start_and_keeps_working_on_it(
    database_url: str, telegram: FakeTelegram, articles: ArticleServer, bots: RunningBots, tmp_path: Path
) -> None:
    """A database from the first release with an article, its version, a subscription and a
    pending announcement: after the upgrade the announcement is sent, /list shows the article,
    and the next edit is announced."""
    articles.set_page("/p", article_html())
    url = articles.url("/p")
    engine = make_engine(database_url)
    make_legacy_database(engine, "0001")
    insert_rows(engine, url)
    before = row_counts(engine)

    telegram.add_chat(ALICE)  # Alice talked to the bot before the upgrade
    settings = e2e_settings(telegram, tmp_path / "unused.db")
    await bots.start(replace(settings, database=DatabaseSettings(url=database_url)))
    try:
        assert database_revision(engine) == head_revision()
        await telegram.wait_for(ALICE, contains=PENDING_TEXT, timeout=30)
        listing = await telegram.ask(ALICE, "/list", timeout=30)
        assert PUTIN_V1 in listing.text, listing.text
        articles.set_page("/p", putin_v2())
        await telegram.wait_for(ALICE, contains="<b>cancels</b>", timeout=30)
        after = row_counts(engine)
        assert after["chat"] == before["chat"] and after["subscription"] == before["subscription"]
        assert after["article"] == before["article"]
        assert after["version"] == before["version"] + 1
    finally:
        engine.dispose()


def test_migrate_command_upgrades_then_prints_sql_for_a_dba(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'old.db'}"
    engine = make_engine(url)
    make_legacy_database(engine, "0001")
    engine.dispose()
    env = {"REDLINE_DATABASE_URL": url}

    sql = redline("migrate", "--sql", env=env, cwd=tmp_path)
    assert sql.returncode == 0, sql.stderr
    assert "ALTER TABLE article ADD COLUMN ab_titles JSON;" in sql.stdout
    assert "CREATE TABLE article" not in sql.stdout  # only what this database lacks

    first = redline("migrate", env=env, cwd=tmp_path)
    assert first.returncode == 0, first.stderr
    assert first.stdout == (
        f"{url}: upgraded from 0001 to {head_revision()} (recognised a database made before migrations as 0001)\n"
    )
    again = redline("migrate", env=env, cwd=tmp_path)
    assert again.stdout == f"{url}: already at the latest revision {head_revision()}\n"
    done = redline("migrate", "--sql", env=env, cwd=tmp_path)
    assert done.stdout == f"-- the database is at the latest revision ({head_revision()}): nothing to run\n"

    everything = redline("migrate", "--sql", "--from", "base", env=env, cwd=tmp_path)
    assert "CREATE TABLE article" in everything.stdout and "ab_titles" in everything.stdout


def test_migrate_reports_an_unreachable_database_in_one_line(tmp_path: Path) -> None:
    result = redline(
        "migrate", env={"REDLINE_DATABASE_URL": "postgresql+psycopg://u:secret@127.0.0.1:9/x"}, cwd=tmp_path
    )
    assert result.returncode == 2
    assert result.stderr.startswith(
        "redline: error: cannot open the database postgresql+psycopg://u:***@127.0.0.1:9/x"
    )
    assert "secret" not in result.stderr and "Traceback" not in result.stderr


def test_a_revision_that_rebuilds_a_referenced_table_keeps_every_row(database_url: str) -> None:
    """Batch mode copies, drops and renames a table on SQLite; with versions, subscriptions and
    deliveries pointing at ``article`` that must neither fail nor lose a row (as a future
    revision changing an article column would)."""
    engine = make_engine(database_url)
    try:
        make_legacy_database(engine, "0001")
        insert_rows(engine, "http://127.0.0.1:9/p")
        upgrade_schema(engine)
        before = row_counts(engine)

        def rebuild(conn: Connection) -> None:
            # On SQLite force the copy-drop-rename; PostgreSQL alters in place as batch mode does.
            recreate = "always" if conn.dialect.name == "sqlite" else "auto"
            with Operations(MigrationContext.configure(conn)).batch_alter_table(
                "article", recreate=recreate
            ) as batch:
                batch.alter_column("failure_reason", existing_type=sa.String(), nullable=False)

        in_schema_transaction(engine, rebuild)
        assert row_counts(engine) == before
        with engine.connect() as conn:
            if conn.dialect.name == "sqlite":
                assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar_one() == 1
                assert conn.exec_driver_sql("PRAGMA foreign_key_check").fetchall() == []
    finally:
        engine.dispose()


def test_a_schema_change_that_breaks_foreign_keys_is_refused_whole(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'r.db'}")
    try:
        upgrade_schema(engine)
        insert_rows(engine, "http://127.0.0.1:9/p")
        before = row_counts(engine)

        def orphan(conn: Connection) -> None:
            conn.exec_driver_sql("DELETE FROM article")

        with pytest.raises(DatabaseError, match=r"^the schema change would break foreign keys"):
            in_schema_transaction(engine, orphan)
        assert row_counts(engine) == before
    finally:
        engine.dispose()
