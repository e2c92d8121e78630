"""Settings: TOML, environment overrides, and one-line errors."""

from __future__ import annotations

import tomllib
from dataclasses import fields
from pathlib import Path

import pytest

from bot.config import ConfigError, Settings, load_settings

ROOT = Path(__file__).resolve().parent.parent


def test_example_config_documents_every_key() -> None:
    example = tomllib.loads((ROOT / "config.example.toml").read_text())
    settings = Settings()
    for section in fields(settings):
        keys = {f.name for f in fields(getattr(settings, section.name))}
        assert set(example[section.name]) == keys, section.name
    # And the example loads as it is, giving the defaults.
    assert load_settings(ROOT / "config.example.toml", env={}) == settings


def test_design_names_and_defaults() -> None:
    s = load_settings(None, env={})
    assert s.telegram.base_url == "https://api.telegram.org/bot"
    assert s.database.url == "sqlite:///redline.db"
    m = s.monitor
    assert (m.interval, m.min_interval, m.max_interval, m.stop_after_days) == (300, 60, 21600, 30)
    assert (m.allow_private_addresses, m.timeout, m.max_bytes, m.concurrency) == (False, 20, 5000000, 16)
    assert m.per_site_limit == 2
    assert (s.web.listen, s.web.public_url, s.web.public_articles) == ("", "", False)  # off, private


@pytest.mark.parametrize(
    ("env", "check"),
    [
        ({"REDLINE_TELEGRAM_TOKEN": "1:abc"}, lambda s: s.telegram.token == "1:abc"),
        ({"REDLINE_DATABASE_URL": "sqlite:///x.db"}, lambda s: s.database.url == "sqlite:///x.db"),
        ({"REDLINE_MONITOR_INTERVAL": "120"}, lambda s: s.monitor.interval == 120),
        ({"REDLINE_MONITOR_ALLOW_PRIVATE_ADDRESSES": "true"}, lambda s: s.monitor.allow_private_addresses),
        ({"REDLINE_MONITOR_ALLOWED_PORTS": "8080, 8443"}, lambda s: s.monitor.allowed_ports == (8080, 8443)),
        ({"REDLINE_MONITOR_TICK": "0.5"}, lambda s: s.monitor.tick == 0.5),
        ({"REDLINE_MONITOR_PER_SITE_LIMIT": "4"}, lambda s: s.monitor.per_site_limit == 4),
        ({"REDLINE_LIMITS_COMMANDS_PER_MINUTE": "3"}, lambda s: s.limits.commands_per_minute == 3),
        ({"REDLINE_LOGGING_LEVEL": "DEBUG"}, lambda s: s.logging.level == "DEBUG"),
        (
            {"REDLINE_TELEGRAM_MAX_ANNOUNCEMENT_CHARS": "600"},
            lambda s: s.telegram.max_announcement_chars == 600,
        ),
        ({"REDLINE_DATABASE_KEEP_SENT_DAYS": "7"}, lambda s: s.database.keep_sent_days == 7),
        ({"REDLINE_METRICS_LISTEN": "127.0.0.1:9464"}, lambda s: s.metrics.listen == "127.0.0.1:9464"),
        ({"REDLINE_WEB_LISTEN": "127.0.0.1:8080"}, lambda s: s.web.listen == "127.0.0.1:8080"),
        (
            {"REDLINE_WEB_PUBLIC_URL": "https://redline.example.org/"},
            lambda s: s.web.public_url == "https://redline.example.org",
        ),
        ({"REDLINE_WEB_PUBLIC_ARTICLES": "yes"}, lambda s: s.web.public_articles is True),
        ({"REDLINE_WEB_CACHE_SECONDS": "5"}, lambda s: s.web.cache_seconds == 5.0),
    ],
)
def test_environment_overrides(env: dict[str, str], check) -> None:  # type: ignore[no-untyped-def]
    assert check(load_settings(None, env=env))


def test_environment_beats_file(tmp_path: Path) -> None:
    path = tmp_path / "c.toml"
    path.write_text('[telegram]\ntoken = "from-file"\n[monitor]\ninterval = 600\n')
    s = load_settings(path, env={"REDLINE_TELEGRAM_TOKEN": "from-env"})
    assert s.telegram.token == "from-env" and s.monitor.interval == 600


@pytest.mark.parametrize(
    ("text", "env", "message"),
    [
        ("[monitor]\ninterval = 'often'\n", {}, "[monitor] interval: 'often' is not a valid int"),
        ("[monitor]\nbogus = 1\n", {}, "[monitor]: unknown key 'bogus'"),
        ("[nope]\n", {}, "config: unknown section [nope]"),
        (
            "",
            {"REDLINE_MONITOR_CONCURRENCY": "many"},
            "REDLINE_MONITOR_CONCURRENCY: 'many' is not a valid int",
        ),
        ("[monitor]\nmin_interval = 900\n", {}, "monitor: need 0 < min_interval <= interval <= max_interval"),
        (
            "[telegram]\nmax_announcement_chars = 5000\n",
            {},
            "telegram: max_announcement_chars must be between 300 and 4096",
        ),
        (
            "",
            {"REDLINE_TELEGRAM_MAX_ANNOUNCEMENT_CHARS": "100"},
            "telegram: max_announcement_chars must be between 300 and 4096",
        ),
        (
            "[database]\nkeep_untracked_days = 0\n",
            {},
            "database: keep_sent_days, keep_untracked_days and prune_interval must be positive",
        ),
        ("[metrics]\nflush_interval = 0\n", {}, "metrics: flush_interval must be positive"),
        ("[web]\nlisten = '8080'\n", {}, "web: listen must be host:port, like 127.0.0.1:8080, not '8080'"),
        (
            "",
            {"REDLINE_WEB_PUBLIC_URL": "redline.example.org"},
            "web: public_url must be an http(s) address like https://redline.example.org, not 'redline.example.org'",
        ),
        ("[web]\npublic_articles = 'maybe'\n", {}, "[web] public_articles: 'maybe' is not a valid bool"),
        (
            "[telegram]\nwebhook_url = 'https://bot.example/hook'\n",
            {},
            "telegram: webhook_secret must be set when webhook_url is (1 to 256 of A-Z a-z 0-9 _ -)",
        ),
        (
            "[telegram]\nwebhook_url = 'https://bot.example/hook'\nwebhook_secret = 'has space'\n",
            {},
            "telegram: webhook_secret must be set when webhook_url is (1 to 256 of A-Z a-z 0-9 _ -)",
        ),
        (
            "[monitor]\nper_site_limit = 0\n",
            {},
            "monitor: concurrency, per_site_limit, max_bytes and timeout must be positive",
        ),
    ],
)
def test_bad_config_is_one_line(tmp_path: Path, text: str, env: dict[str, str], message: str) -> None:
    path = tmp_path / "c.toml"
    path.write_text(text)
    with pytest.raises(ConfigError) as info:
        load_settings(path, env=env)
    assert str(info.value) == message


def test_unreadable_and_invalid_files(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"^cannot read config .*missing.toml: No such file or directory$"):
        load_settings(tmp_path / "missing.toml", env={})
    bad = tmp_path / "bad.toml"
    bad.write_text("[telegram\n")
    with pytest.raises(ConfigError, match=r"is not valid TOML"):
        load_settings(bad, env={})
