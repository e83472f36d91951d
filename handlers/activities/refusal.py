"""A refused action: nothing changed, the refusal is audited, and the reason is the polite reply.

PRODUCT.md §2: every refused action gets a clear reply saying why and is written to the
audit log with its target. Actions return `Refused` instead of changing anything; the
command shows `reason` as it is.
"""

from __future__ import annotations

from dataclasses import dataclass

from handlers.core.act import Act


@dataclass(frozen=True)
class Refused:
    """Why an action was not allowed, in the words the person is told."""

    reason: str


def refuse(act: Act, action: str, reason: str, target_type: str | None = None,
           target_id: int | None = None) -> Refused:
    """Audit the refusal of `action` with its reason and target, and return it."""
    act.audit(action, target_type, target_id, outcome="refused", reason=reason)
    return Refused(reason)
