"""Use cases with no Telegram in them: track a URL, one check, the scheduler, the parse thread."""
