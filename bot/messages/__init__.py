"""Pure: every text a person reads (announcements, replies, notices, documents, exports) and
Telegram's message limits, measured in one place."""
