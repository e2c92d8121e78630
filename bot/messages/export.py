"""An article's whole history as a file: JSON (every version) or CSV (one row per change).

Pure: versions in, bytes out. The /export command and ``redline export`` both call these, so a
researcher gets the same file from the chat and from the command line. The CSV rows come from
the same diff the announcements use, so "edited ¶3" means the same thing everywhere.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Sequence
from datetime import UTC, datetime
from itertools import pairwise
from typing import Any

from bot.core.diff import diff_snapshots
from bot.core.extract import Snapshot
from bot.messages.records import ArticleRecord, VersionRecord

FORMATS = ("json", "csv")
CSV_COLUMNS = ("version", "seen_at", "change", "paragraph", "before", "after")


def iso(moment: datetime) -> str:
    """UTC in ISO 8601 with a ``Z``; the database hands back naive UTC datetimes."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


def history_json(article: ArticleRecord, versions: Sequence[VersionRecord]) -> bytes:
    """Every version with its headline, paragraphs and the time Redline first saw it."""
    document: dict[str, Any] = {
        "url": article.url,
        "site": article.site,
        "headline": article.title,
        "state": article.state,
        "versions": [
            {
                "version": v.number,
                "seen_at": iso(v.created_at),
                "headline": Snapshot.from_dict(v.content).title,
                "paragraphs": list(Snapshot.from_dict(v.content).paragraphs),
                "summary": v.summary,
            }
            for v in sorted(versions, key=lambda v: v.number)
        ],
    }
    return (json.dumps(document, ensure_ascii=False, indent=2) + "\n").encode("utf-8")


def change_rows(versions: Sequence[VersionRecord]) -> list[tuple[int, str, str, int | None, str, str]]:
    """(version, seen_at, change, paragraph, before, after) for every change between
    consecutive versions; paragraph is 1-based in the newer version (the older one for a
    removal), None for the headline."""
    ordered = sorted(versions, key=lambda v: v.number)
    rows = []
    for older, newer in pairwise(ordered):
        changes = diff_snapshots(Snapshot.from_dict(older.content), Snapshot.from_dict(newer.content))
        for c in changes:
            index = c.new_index if c.new_index is not None else c.old_index
            paragraph = None if index is None else index + 1
            rows.append((newer.number, iso(newer.created_at), c.kind, paragraph, c.old, c.new))
    return rows


def changes_csv(versions: Sequence[VersionRecord]) -> bytes:
    """One row per change (header first); UTF-8 with a BOM so spreadsheets read the accents."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(CSV_COLUMNS)
    for version, seen_at, change, paragraph, before, after in change_rows(versions):
        writer.writerow((version, seen_at, change, "" if paragraph is None else paragraph, before, after))
    return out.getvalue().encode("utf-8-sig")


def export_filename(number: int, fmt: str) -> str:
    """The name /export gives the file: the chat's article number and the format."""
    return f"redline-{number}-history.{fmt}"


def export(article: ArticleRecord, versions: Sequence[VersionRecord], fmt: str) -> bytes:
    """The file for ``fmt`` (one of ``FORMATS``)."""
    if fmt == "json":
        return history_json(article, versions)
    if fmt == "csv":
        return changes_csv(versions)
    raise ValueError(f"unknown export format {fmt!r}; expected one of {FORMATS}")
