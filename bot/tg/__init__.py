"""python-telegram-bot only: handlers (parse, call one service, reply), membership, access, the
sender."""
