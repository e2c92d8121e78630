"""``python -m bot``: the same command line as the ``redline`` console script."""

from bot.ops.cli import main

raise SystemExit(main())
