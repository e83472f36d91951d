"""The `xinfeng` parser is built from the command groups: every command carries the function that runs it."""

from __future__ import annotations

import pytest

from bot.cli import GROUPS, _parser

COMMANDS = [
    ["run"], ["chat"], ["db", "upgrade"], ["import", "net"], ["grant", "139", "admin", "BP"], ["demo"], ["parse"],
    ["jobs", "run", "--now", "2026-12-05T08:00"], ["jobs", "list"], ["tasks", "stuck"], ["schedule", "list"],
    ["schedule", "set", "BP", "每月5日"], ["schedule", "clear", "BP"], ["export", "hours", "--region", "BP"],
    ["stats", "check"], ["dashboard"], ["wechat", "menu"], ["wecom", "group", "KJ"], ["wecom", "customer-groups"],
    ["wecom", "bind-customer-group", "KJ", "群"],
    ["template", "模板"], ["intake", "report"], ["db", "prune", "--dry-run"],
]


@pytest.mark.parametrize("argv", COMMANDS, ids=" ".join)
def test_each_command_parses_to_its_run_function(argv: list[str]) -> None:
    args = _parser().parse_args(argv)
    assert args.command == argv[0] and callable(args.run)
    # The function lives in the group that registered the command.
    assert args.run.__module__ in {g.__name__ for g in GROUPS} | {"bot.cli.export", "bot.cli.runtime",
                                                                     "bot.cli.customer_groups"}


def test_every_listed_command_is_covered_here() -> None:
    sub = next(a for a in _parser()._actions if a.dest == "command")
    assert sorted(sub.choices) == sorted({argv[0] for argv in COMMANDS})
