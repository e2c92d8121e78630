"""Pure core: Snapshot, extraction, fingerprint, text forms, diff, significance, edit events,
policy. No I/O, no clock, no python-telegram-bot, no SQL, no configuration: data in, data out."""
