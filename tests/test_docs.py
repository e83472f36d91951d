"""The documentation in docs/ keeps up with the code: commands, roster columns, settings, metrics, paths.

Each check reads what the code registers or declares and looks for it on the page that
documents it, so a new command, column, setting or metric without its line fails here.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from bot.settings import Settings

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"
# Where a path named in the docs may point: this repository's own files and folders.
REPO_PATH = re.compile(r"^(?:bot|handlers|storage|scheduler|deploy|docs|tests)/[\w./@-]*$|"
                       r"^(?:Dockerfile|compose\.yaml|\.env\.example|README\.md|Makefile|pyproject\.toml)$")


def code_spans(page: str) -> list[str]:
    """The text of every `code span` on a Markdown page (table pipes unescaped)."""
    return [s.replace("\\|", "|") for s in re.findall(r"`([^`\n]+)`", (DOCS / page).read_text(encoding="utf-8"))]


def words_in_code(page: str) -> set[str]:
    """Every code span, and every word of one, on a page."""
    words: set[str] = set()
    for span in code_spans(page):
        words.add(span)
        words.update(span.split())
    return words


def test_every_chat_command_is_in_commands_md() -> None:
    from handlers.app import build_dispatcher

    documented = words_in_code("commands.md")
    names = {c.name for r in build_dispatcher().routers for c in r.commands}
    assert names, "no commands registered?"
    assert sorted(names - documented) == []


def test_every_roster_file_and_column_is_in_import_md() -> None:
    from storage.roster.files import FILES, OPTIONAL_COLUMNS, REQUIRED_COLUMNS

    documented = words_in_code("import.md")
    wanted = set(FILES) | {c for cols in REQUIRED_COLUMNS.values() for c in cols}
    wanted |= {c for cols in OPTIONAL_COLUMNS.values() for c in cols}
    assert sorted(wanted - documented) == []


def test_every_setting_the_docs_name_exists() -> None:
    from tests.test_deploy import code_environment_variables

    tests_read = set(re.findall(r"environ\.get\(\s*[\"'](XINFENG_TEST_[A-Z0-9_]+)",
                                (ROOT / "tests" / "conftest.py").read_text(encoding="utf-8")))
    known = {f"XINFENG_{n.upper()}" for n in Settings.model_fields} | code_environment_variables() | tests_read
    named = {m for page in DOCS.glob("*.md") for m in re.findall(r"XINFENG_[A-Z0-9_]*[A-Z0-9]",
                                                                   page.read_text(encoding="utf-8"))}
    assert sorted(named - known) == []


def test_deploy_md_names_every_metric_and_only_real_ones() -> None:
    source = (ROOT / "bot" / "metrics.py").read_text(encoding="utf-8")
    declared = set(re.findall(r'(?:Counter|Gauge|Histogram|MetricFamily)\(\s*"(xinfeng_[a-z_]+)"', source))
    assert len(declared) > 10, "the metrics are declared as Counter(\"name\", …) and the like"
    # Counters are exposed with a _total suffix (the page names them so).
    named = {re.sub(r"_total$", "", m)
             for span in code_spans("deploy.md") for m in re.findall(r"\bxinfeng_[a-z_]+", span)}
    assert (sorted(declared - named), sorted(named - declared)) == ([], [])


@pytest.mark.parametrize("page", sorted(p.name for p in DOCS.glob("*.md")))
def test_docs_refer_only_to_files_in_the_repository(page: str) -> None:
    text = (DOCS / page).read_text(encoding="utf-8")
    assert "PRODUCT.md" not in text and "ARCHITECTURE.md" not in text  # documents kept outside the repository
    for target in re.findall(r"\]\(([^)#\s]+)(?:#[^)]*)?\)", text):
        if not re.match(r"^[a-z]+://", target):
            assert (DOCS / target).exists(), f"{page} links to {target}, which does not exist"
    for span in code_spans(page):
        if REPO_PATH.match(span) and not span.endswith("/…"):
            assert (ROOT / span.rstrip("/")).exists(), f"{page} names {span}, which does not exist"
