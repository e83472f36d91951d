"""The audit log: one row per transition and per refusal, written in the same transaction."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import AuditEntry


def record(
    session: AsyncSession,
    *,
    at: datetime,
    actor_id: int | None,
    action: str,
    target_type: str | None = None,
    target_id: int | None = None,
    outcome: str = "ok",
    **detail: Any,
) -> AuditEntry:
    """Add an audit row to the session (committed with the change it records)."""
    entry = AuditEntry(
        at=at,
        actor_id=actor_id,
        action=action,
        target_type=target_type,
        target_id=target_id,
        outcome=outcome,
        detail={k: v for k, v in detail.items() if v is not None},
    )
    session.add(entry)
    return entry
