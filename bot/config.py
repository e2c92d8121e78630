"""Settings: one TOML file, overridden by ``REDLINE_<SECTION>_<KEY>`` environment variables.

Everything is read once at start-up into frozen dataclasses, so no module reads the
environment at call time and tests can build a ``Settings`` by hand.
"""

from __future__ import annotations

import os
import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any, get_type_hints

from bot.messages.limits import DEFAULT_BUDGET, MAX_LENGTH


class ConfigError(Exception):
    """A setting is missing or malformed; the message is shown to the user as one line."""


@dataclass(frozen=True)
class TelegramSettings:
    token: str = ""
    base_url: str = "https://api.telegram.org/bot"
    base_file_url: str = "https://api.telegram.org/file/bot"
    # Webhook mode when set (public https URL Telegram should call); long polling otherwise.
    webhook_url: str = ""
    webhook_listen: str = "0.0.0.0"
    webhook_port: int = 8443
    webhook_secret: str = ""
    # Seconds a getUpdates request is held open by Telegram (long polling).
    poll_timeout: int = 10
    # In groups and supergroups only administrators may /track, /untrack and change settings.
    group_admins_only: bool = True
    # Visible characters an edit announcement may take (one phone screen); a bigger edit is
    # summarised, its most significant changes shown as excerpts, the rest left to /diff.
    max_announcement_chars: int = DEFAULT_BUDGET
    # Chats sent to at once (one message at a time per chat, so each chat keeps its order).
    send_concurrency: int = 8
    # Seconds a sender owns a message it claimed; renewed while it is in flight. A process that
    # dies loses its messages to the other senders (or its own restart) when this runs out.
    send_lease: float = 30.0
    # Edits of one article this close together update the last announcement instead of
    # posting another (while it is still the chat's newest message). 0 turns it off.
    coalesce_minutes: float = 10.0
    # Who may use the bot: user ids, and chat ids (a group or channel lets all its members in).
    # Both empty: everyone. Anyone else gets one polite line and costs nothing more.
    allowed_users: tuple[int, ...] = ()
    allowed_chats: tuple[int, ...] = ()
    # Attempts to reach Telegram at start-up (getMe) before giving up, with back-off between
    # them (1 s, doubling, at most 30 s): a network blip at boot must not leave the bot dead.
    startup_attempts: int = 10


@dataclass(frozen=True)
class DatabaseSettings:
    url: str = "sqlite:///redline.db"
    # Sent and failed announcements are deleted this many days after they were queued.
    keep_sent_days: int = 30
    # An article no chat has tracked for this many days is deleted with its versions.
    keep_untracked_days: int = 90
    # Seconds between pruning runs (small batches, off the checks' path).
    prune_interval: float = 3600.0


@dataclass(frozen=True)
class MonitorSettings:
    interval: int = 300
    min_interval: int = 60
    max_interval: int = 21600
    stop_after_days: int = 30
    allow_private_addresses: bool = False
    timeout: int = 20
    max_bytes: int = 5_000_000
    concurrency: int = 16
    # Fetches in flight to one site at most, so a chat tracking 200 articles from one site
    # never sends it `concurrency` requests at once.
    per_site_limit: int = 2
    # Seconds between looks for pending announcements, and the longest an idle monitor sleeps
    # before looking for articles another process added (checks run when due, not on a tick).
    tick: float = 5.0
    # Ports other than 80/443 that articles may be fetched from.
    allowed_ports: tuple[int, ...] = ()
    max_redirects: int = 5
    # Consecutive failed checks (5xx, timeouts) before the chats are told.
    failures_before_notice: int = 4
    # Checks in a row a sudden loss of most of the text must persist before it is announced.
    withdrawal_checks: int = 3
    # Seconds between fetches of one followed feed (/follow); a failing feed backs off from
    # here, doubling, to max_interval.
    follow_interval: int = 600
    user_agent: str = "Mozilla/5.0 (compatible; RedlineBot/0.1; +https://github.com/redline)"


@dataclass(frozen=True)
class LimitsSettings:
    # Commands one chat may send per minute before it is asked to slow down.
    commands_per_minute: int = 20
    # Articles one chat may track.
    max_articles_per_chat: int = 200
    # Articles one person may track across every chat (0: no cap), so one user cannot make the
    # bot fetch max_articles_per_chat URLs in each of many chats.
    max_articles_per_user: int = 400
    # Feeds and pages one chat may follow, and the most days a follow may keep an article.
    max_follows_per_chat: int = 10
    follow_max_days: int = 30
    max_message_chars: int = 2000
    max_url_chars: int = 2000
    # Bytes of one file sent (/export): Telegram takes at most 50 MB from a bot; a local Bot
    # API server takes up to 2000 MB.
    max_upload_bytes: int = 50_000_000


@dataclass(frozen=True)
class MetricsSettings:
    # host:port to serve Prometheus metrics on (e.g. "127.0.0.1:9464"); empty: not served.
    listen: str = ""
    # Seconds between writes of each process's check counts (redline stats, metrics).
    flush_interval: float = 60.0


@dataclass(frozen=True)
class WebSettings:
    # host:port to serve articles' history pages and feeds on (e.g. "127.0.0.1:8080"); empty: off.
    listen: str = ""
    # The address readers reach those pages at (e.g. "https://redline.example.org", a reverse
    # proxy in front of ``listen``). Telegram replies link to pages only when it is set.
    public_url: str = ""
    # true: every article's page and feed are public; false: every URL carries a chat's token.
    public_articles: bool = False
    # Seconds a page is served from memory; a version this process stores refreshes it at once,
    # one another process stores (``redline worker``) within this time.
    cache_seconds: float = 60.0


@dataclass(frozen=True)
class LoggingSettings:
    level: str = "INFO"


@dataclass(frozen=True)
class Settings:
    telegram: TelegramSettings = field(default_factory=TelegramSettings)
    database: DatabaseSettings = field(default_factory=DatabaseSettings)
    monitor: MonitorSettings = field(default_factory=MonitorSettings)
    limits: LimitsSettings = field(default_factory=LimitsSettings)
    metrics: MetricsSettings = field(default_factory=MetricsSettings)
    web: WebSettings = field(default_factory=WebSettings)
    logging: LoggingSettings = field(default_factory=LoggingSettings)


_SECTIONS: dict[str, type] = {f.name: f.default_factory().__class__ for f in fields(Settings)}  # type: ignore[misc]


def _coerce(value: Any, kind: Any, where: str) -> Any:
    """Turn a TOML value or an environment string into the field's type."""
    text = isinstance(value, str)
    try:
        if kind is bool:
            if isinstance(value, bool):
                return value
            if text and value.strip().lower() in {"1", "true", "yes", "on"}:
                return True
            if text and value.strip().lower() in {"0", "false", "no", "off", ""}:
                return False
            raise ValueError(value)
        if kind is int:
            if isinstance(value, bool):
                raise ValueError(value)
            return int(value)
        if kind is float:
            return float(value)
        if kind is str:
            if not text:
                raise ValueError(value)
            return value
        if kind == tuple[int, ...]:
            if text:
                value = [v for v in value.replace(",", " ").split() if v]
            return tuple(int(v) for v in value)
    except (TypeError, ValueError):
        raise ConfigError(f"{where}: {value!r} is not a valid {getattr(kind, '__name__', kind)}") from None
    raise ConfigError(f"{where}: unsupported type")


def _section(cls: type, values: Mapping[str, Any], section: str, env: Mapping[str, str]) -> Any:
    hints = get_type_hints(cls)
    unknown = set(values) - set(hints)
    if unknown:
        raise ConfigError(f"[{section}]: unknown key {sorted(unknown)[0]!r}")
    kwargs: dict[str, Any] = {}
    for name, kind in hints.items():
        env_name = f"REDLINE_{section.upper()}_{name.upper()}"
        if env_name in env:
            kwargs[name] = _coerce(env[env_name], kind, env_name)
        elif name in values:
            kwargs[name] = _coerce(values[name], kind, f"[{section}] {name}")
    return cls(**kwargs)


def load_settings(path: str | Path | None = None, env: Mapping[str, str] | None = None) -> Settings:
    """Read the TOML file (if any) and apply environment overrides."""
    env = os.environ if env is None else env
    data: dict[str, Any] = {}
    if path is not None:
        try:
            with open(path, "rb") as fh:
                data = tomllib.load(fh)
        except OSError as exc:
            raise ConfigError(f"cannot read config {path}: {exc.strerror or exc}") from None
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError(f"config {path} is not valid TOML: {exc}") from None
    unknown = set(data) - set(_SECTIONS)
    if unknown:
        raise ConfigError(f"config: unknown section [{sorted(unknown)[0]}]")
    parts = {}
    for section, cls in _SECTIONS.items():
        values = data.get(section, {})
        if not isinstance(values, dict):
            raise ConfigError(f"config: [{section}] must be a table")
        parts[section] = _section(cls, values, section, env)
    settings = Settings(**parts)
    if not 300 <= settings.telegram.max_announcement_chars <= MAX_LENGTH:
        raise ConfigError(f"telegram: max_announcement_chars must be between 300 and {MAX_LENGTH}")
    m = settings.monitor
    if not 0 < m.min_interval <= m.interval <= m.max_interval:
        raise ConfigError("monitor: need 0 < min_interval <= interval <= max_interval")
    if m.concurrency < 1 or m.per_site_limit < 1 or m.max_bytes < 1 or m.timeout <= 0:
        raise ConfigError("monitor: concurrency, per_site_limit, max_bytes and timeout must be positive")
    d = settings.database
    if d.keep_sent_days < 1 or d.keep_untracked_days < 1 or d.prune_interval <= 0:
        raise ConfigError("database: keep_sent_days, keep_untracked_days and prune_interval must be positive")
    if settings.metrics.flush_interval <= 0:
        raise ConfigError("metrics: flush_interval must be positive")
    t = settings.telegram
    if t.send_concurrency < 1 or t.send_lease <= 0 or t.coalesce_minutes < 0:
        raise ConfigError("telegram: send_concurrency and send_lease must be positive, coalesce_minutes >= 0")
    if t.startup_attempts < 1:
        raise ConfigError("telegram: startup_attempts must be at least 1")
    if settings.limits.max_articles_per_user < 0:
        raise ConfigError("limits: max_articles_per_user must be 0 (no cap) or more")
    if t.webhook_url and not _WEBHOOK_SECRET.fullmatch(t.webhook_secret):
        # Without it anyone who finds the URL can post updates as if they came from Telegram.
        raise ConfigError(
            "telegram: webhook_secret must be set when webhook_url is (1 to 256 of A-Z a-z 0-9 _ -)"
        )
    w = settings.web
    if w.listen and split_listen(w.listen) is None:
        raise ConfigError(f"web: listen must be host:port, like 127.0.0.1:8080, not {w.listen!r}")
    if w.public_url and not re.fullmatch(r"https?://[^/?#\s]+(/[^?#\s]*)?", w.public_url):
        raise ConfigError(
            f"web: public_url must be an http(s) address like https://redline.example.org, "
            f"not {w.public_url!r}"
        )
    if w.cache_seconds < 0:
        raise ConfigError("web: cache_seconds must be 0 or more")
    return replace(settings, web=replace(w, public_url=w.public_url.rstrip("/")))


def split_listen(listen: str) -> tuple[str, int] | None:
    """``host:port`` (``[::1]:8080`` for IPv6; no host: every address; port 0: any free one)
    → (host, port), or None."""
    host, sep, port = listen.rpartition(":")
    if not sep or not port.isdigit() or not 0 <= int(port) < 65536:
        return None
    return host.strip("[]") or "0.0.0.0", int(port)


_WEBHOOK_SECRET = re.compile(r"[A-Za-z0-9_-]{1,256}")  # what Telegram accepts as secret_token


def with_overrides(settings: Settings, **sections: Mapping[str, Any]) -> Settings:
    """A copy of ``settings`` with some keys replaced; used by tests and the CLI."""
    changed = {name: replace(getattr(settings, name), **values) for name, values in sections.items()}
    return replace(settings, **changed)
