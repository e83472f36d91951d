"""The per-group quota of WeCom group messages, counted in the database (both backends)."""

from __future__ import annotations

from storage.messaging.group_tasks import quota_used, refund_quota, take_quota


async def test_quota_is_taken_set_based_up_to_the_limit_and_given_back(session) -> None:
    assert await take_quota(session, ["a", "b"], period="2026-12-01", limit=2) == {"a", "b"}
    assert await take_quota(session, ["a"], period="2026-12-01", limit=2) == {"a"}
    assert await take_quota(session, ["a", "b", "c"], period="2026-12-01", limit=2) == {"b", "c"}  # a is spent
    assert await take_quota(session, ["a"], period="2026-12-02", limit=2) == {"a"}  # a new period
    assert await refund_quota(session, ["a"], period="2026-12-01") == 1
    assert await take_quota(session, ["a"], period="2026-12-01", limit=2) == {"a"}
    await session.commit()
    assert [await quota_used(session, c, "2026-12-01") for c in "abcd"] == [2, 2, 1, 0]
