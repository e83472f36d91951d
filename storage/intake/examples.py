"""Labelled requests (点单样本): written when a category is confirmed or corrected, read to train.

`record_example` is what the intake calls, in its own transaction, each time a person settles a
request's category; the trainer reads the newest examples back as (text, category) pairs.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, select

from storage.db import Session
from storage.models.intake import IntakeExample

__all__ = ["MAX_TEXT", "SOURCES", "example_count", "newest_example_id", "record_example", "training_examples"]

SOURCES = ("confirmed", "chosen", "corrected", "imported")
MAX_TEXT = 1000  # docs/roles.md: a request is at most 1,000 characters


async def record_example(
    session: Session, *, text: str, category: str, source: str, now: datetime, guessed: str | None = None
) -> int | None:
    """Store one labelled request (in the caller's transaction); None for a blank text. Returns its id."""
    if source not in SOURCES:
        raise ValueError(f"unknown example source {source!r} (one of {', '.join(SOURCES)})")
    text = text.strip()[:MAX_TEXT]
    if not text:
        return None
    row = IntakeExample(text=text, category=category, source=source, guessed=guessed, created_at=now)
    session.add(row)
    await session.flush()
    return int(row.id)


async def training_examples(session: Session, limit: int = 50_000) -> list[tuple[str, str]]:
    """The newest `limit` examples as (text, category), oldest first."""
    rows = await session.execute(
        select(IntakeExample.text, IntakeExample.category).order_by(IntakeExample.id.desc()).limit(limit))
    return [(t, c) for t, c in reversed(rows.all())]


async def newest_example_id(session: Session) -> int | None:
    """The id of the newest example, None when there is none."""
    return await session.scalar(select(func.max(IntakeExample.id)))


async def example_count(session: Session) -> dict[str, int]:
    """How many examples there are, per source, and how many of them the parser had guessed right."""
    rows = await session.execute(
        select(IntakeExample.source, func.count(), func.count().filter(IntakeExample.guessed == IntakeExample.category))
        .group_by(IntakeExample.source))
    out: dict[str, int] = {"total": 0, "guessed_right": 0}
    for source, n, right in rows:
        out[source] = int(n)
        out["total"] += int(n)
        out["guessed_right"] += int(right)
    return out
