"""Where an article is in its life: checked, failing, dormant or gone. Stored by value in
``Article.state``; the policy decides the moves, the messages word them."""

from __future__ import annotations

from enum import StrEnum

__all__ = ["ArticleState"]


class ArticleState(StrEnum):
    ACTIVE = "active"  # checked on schedule
    FAILING = "failing"  # recent checks failed; retried with backoff
    DORMANT = "dormant"  # unchanged for monitor.stop_after_days; no longer fetched
    GONE = "gone"  # 404/410 or refused; no longer fetched
