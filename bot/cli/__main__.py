"""`python -m bot.cli`: the `xinfeng` command without the console script."""

from bot.cli import main

raise SystemExit(main())
