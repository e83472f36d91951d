"""Group-message tasks to WeCom customer groups: quota, tasks per captain, results, fallback.

Outbox rows addressed to a customer group (platform `wecom_customer`) are not sent by the
relay: no channel takes that platform. The customer-group sender (bot/channels/wecom/group_sender.py)
reads them here, grouped per captain and message, so one task (one tap for the captain) covers
all of a captain's groups. While the captain has not confirmed, the row's status is
"confirming" with the task's msgid as its external id; a confirmed group marks it "sent".

A group's quota (how many group messages WeCom lets it receive per period) is counted here, in
the database, set-based: one statement takes a slot for a whole batch of groups. A group whose
quota is spent, a message that must not wait on a confirmation, or a task unconfirmed at its
deadline goes the other ways: the team's members who were not already sent it get it directly
(`fall_back`), so nobody is missed.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import JSON, Integer, String, Text, exists, func, insert, literal, null, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from storage.messaging.outbox import claim_many, release
from storage.models import (
    CUSTOMER_PLATFORM,
    ChannelIdentity,
    CustomerGroup,
    GroupMessageTarget,
    GroupMessageTask,
    GroupQuotaUse,
    OutboxMessage,
    Person,
    Team,
    TeamMember,
    UTCDateTime,
)
from storage.scheduling.addressing import with_preferred_account
from storage.scheduling.fanout import OUTBOX_COLUMNS
from storage.sql import insert_ignoring, rowcount

CONFIRMING = "confirming"
# These UPDATEs name rows by id: no need for SQLAlchemy to search the session for the objects they touch
# (with thousands of rows loaded, that search made a province's dispatch quadratic).
NO_SYNC = {"synchronize_session": False}


async def owed_rows(session: AsyncSession, *, now: datetime, limit: int = 20000) -> list[OutboxMessage]:
    """Customer-group rows owed and due, oldest first."""
    stmt = (select(OutboxMessage)
            .where(OutboxMessage.platform == CUSTOMER_PLATFORM, OutboxMessage.status == "pending")
            .order_by(OutboxMessage.id).limit(limit))
    return [r for r in (await session.execute(stmt)).scalars() if r.not_before is None or r.not_before <= now]


async def claim_rows(session: AsyncSession, rows: Sequence[OutboxMessage], *, now: datetime) -> list[OutboxMessage]:
    """Take the rows for this sender (a conditional UPDATE: two workers never both take one)."""
    taken = await claim_many(session, [r.id for r in rows], now=now, worker=None)
    return [r for r in rows if r.id in taken]


async def release_rows(session: AsyncSession, rows: Sequence[OutboxMessage]) -> int:
    """Hand rows back untried (WeCom was unreachable): the next round takes them again."""
    return await release(session, [r.id for r in rows], worker=None)


async def close_target(session: AsyncSession, target: GroupMessageTarget, *, status: str) -> bool:
    """Close a waiting group of a task as `status`; False when another worker already did."""
    result = await session.execute(update(GroupMessageTarget)
                                   .where(GroupMessageTarget.id == target.id, GroupMessageTarget.status == "waiting")
                                   .values(status=status), execution_options=NO_SYNC)
    return rowcount(result) == 1


async def groups_by_chat(session: AsyncSession, chat_ids: Sequence[str]) -> dict[str, CustomerGroup]:
    """The known customer groups among these chat ids."""
    found: dict[str, CustomerGroup] = {}
    ids = list(dict.fromkeys(chat_ids))
    for start in range(0, len(ids), 900):  # SQLite's bound-parameter limit
        stmt = select(CustomerGroup).where(CustomerGroup.chat_id.in_(ids[start:start + 900]))
        found.update({g.chat_id: g for g in (await session.execute(stmt)).scalars()})
    return found


async def take_quota(session: AsyncSession, chat_ids: Sequence[str], *, period: str, limit: int) -> set[str]:
    """Take one message of each group's quota for `period`; the groups that still had one.

    Two statements for any number of groups: make sure each group has a counter, then one
    conditional UPDATE (used < limit) — two senders racing for a group's last slot cannot both win.
    """
    taken: set[str] = set()
    ids = list(dict.fromkeys(chat_ids))
    for start in range(0, len(ids), 900):
        part = ids[start:start + 900]
        await session.execute(insert_ignoring(session, GroupQuotaUse).values(
            [{"chat_id": c, "period": period, "used": 0} for c in part]))
        stmt = (update(GroupQuotaUse)
                .where(GroupQuotaUse.period == period, GroupQuotaUse.chat_id.in_(part), GroupQuotaUse.used < limit)
                .values(used=GroupQuotaUse.used + 1).returning(GroupQuotaUse.chat_id))
        taken |= {str(c) for c in (await session.execute(stmt, execution_options=NO_SYNC)).scalars()}
    return taken


async def refund_quota(session: AsyncSession, chat_ids: Sequence[str], *, period: str) -> int:
    """Give back slots taken for groups that never received the message."""
    if not chat_ids:
        return 0
    result = await session.execute(
        update(GroupQuotaUse)
        .where(GroupQuotaUse.period == period, GroupQuotaUse.chat_id.in_(list(chat_ids)), GroupQuotaUse.used > 0)
        .values(used=GroupQuotaUse.used - 1), execution_options=NO_SYNC)
    return rowcount(result)


async def quota_used(session: AsyncSession, chat_id: str, period: str) -> int:
    """Messages a group took in a period."""
    found = await session.get(GroupQuotaUse, (chat_id, period))
    return 0 if found is None else found.used


@dataclass(frozen=True)
class NewTask:
    """A task WeCom created: its msgid, the captain, the text, and its groups' rows with their quota period."""

    msgid: str
    sender: str
    text: str
    ref: str | None
    rows: Sequence[tuple[OutboxMessage, str]]


async def open_tasks(session: AsyncSession, tasks: Sequence[NewTask], *, now: datetime, remind_at: datetime,
                     deadline: datetime) -> int:
    """Record the tasks WeCom created and their groups; their outbox rows wait for the captain.

    Set-based — a few statements for a province's thousands of tasks: the tasks (ids returned),
    their groups, and the rows' status with each one's msgid (a CASE on the row id).
    """
    if not tasks:
        return 0
    ids: dict[str, int] = {}
    for part in _chunks(list(tasks), 500):
        stmt = insert(GroupMessageTask).returning(GroupMessageTask.id, GroupMessageTask.msgid)
        values = [{"msgid": t.msgid, "sender": t.sender, "text": t.text, "ref": t.ref, "status": "waiting",
                   "created_at": now, "remind_at": remind_at, "deadline": deadline} for t in part]
        ids.update({str(m): int(i) for i, m in (await session.execute(stmt.values(values))).all()})
    targets = [{"task_id": ids[t.msgid], "outbox_id": row.id, "chat_id": row.address or "", "team_id": row.team_id,
                "period": period, "status": "waiting"} for t in tasks for row, period in t.rows]
    for part in _chunks(targets, 500):
        await session.execute(insert(GroupMessageTarget).values(part))
    # Each row's msgid through its target (unique on outbox_id): one indexed lookup per row.
    msgid = (select(GroupMessageTask.msgid).join(GroupMessageTarget, GroupMessageTarget.task_id == GroupMessageTask.id)
             .where(GroupMessageTarget.outbox_id == OutboxMessage.id).scalar_subquery())
    for part in _chunks([row.id for t in tasks for row, _ in t.rows], 900):
        await session.execute(update(OutboxMessage).where(OutboxMessage.id.in_(part))
                              .values(status=CONFIRMING, sent_at=now, external_message_id=msgid),
                              execution_options=NO_SYNC)
    return len(tasks)


def _chunks(items: list, size: int) -> list[list]:
    return [items[n:n + size] for n in range(0, len(items), size)]


async def waiting_counts(session: AsyncSession, senders: Sequence[str]) -> dict[str, int]:
    """How many tasks wait for each of these captains' confirmation."""
    found: dict[str, int] = {}
    for part in _chunks(list(dict.fromkeys(senders)), 900):
        stmt = (select(GroupMessageTask.sender, func.count(GroupMessageTask.id))
                .where(GroupMessageTask.sender.in_(part), GroupMessageTask.status == "waiting")
                .group_by(GroupMessageTask.sender))
        found.update({str(who): int(n) for who, n in (await session.execute(stmt)).all()})
    return found


async def captains_on_wecom(session: AsyncSession, userids: Sequence[str]) -> dict[str, tuple[int, str]]:
    """(person id, name) of the people whose WeCom accounts these are (captains to be told)."""
    found: dict[str, tuple[int, str]] = {}
    for part in _chunks(list(dict.fromkeys(userids)), 900):
        stmt = (select(ChannelIdentity.external_id, Person.id, Person.name)
                .join(Person, Person.id == ChannelIdentity.person_id)
                .where(ChannelIdentity.platform == "wecom", ChannelIdentity.external_id.in_(part)))
        found.update({str(u): (int(pid), str(name)) for u, pid, name in (await session.execute(stmt)).all()})
    return found


async def owe_captain_notices(session: AsyncSession, notices: Sequence[tuple[int, str, str, str]], *,
                              now: datetime) -> int:
    """Outbox rows (person id, name, WeCom userid, text) to captains in the WeCom app, in one INSERT per 500."""
    rows = [{"person_id": pid, "platform": "wecom", "address": userid, "recipient_label": name, "text": text,
             "buttons": [], "kind": "notice", "status": "pending", "attempts": 0, "created_at": now}
            for pid, name, userid, text in notices]
    for part in _chunks(rows, 500):
        await session.execute(insert(OutboxMessage).values(part))
    return len(rows)


async def waiting_tasks(session: AsyncSession, *, limit: int = 1000) -> list[GroupMessageTask]:
    """Tasks not yet confirmed nor given up, oldest first."""
    stmt = select(GroupMessageTask).where(GroupMessageTask.status == "waiting").order_by(GroupMessageTask.id)
    return list((await session.execute(stmt.limit(limit))).scalars())


async def targets_of(session: AsyncSession, task_id: int) -> list[GroupMessageTarget]:
    """A task's groups."""
    stmt = select(GroupMessageTarget).where(GroupMessageTarget.task_id == task_id).order_by(GroupMessageTarget.id)
    return list((await session.execute(stmt)).scalars())


async def mark_target_sent(session: AsyncSession, target: GroupMessageTarget, *, at: datetime) -> bool:
    """A group received the task's message: the target and its outbox row are sent (once)."""
    result = await session.execute(update(GroupMessageTarget)
                                   .where(GroupMessageTarget.id == target.id, GroupMessageTarget.status == "waiting")
                                   .values(status="sent", sent_at=at), execution_options=NO_SYNC)
    if rowcount(result) != 1:
        return False
    await session.execute(update(OutboxMessage).where(OutboxMessage.id == target.outbox_id)
                          .values(status="sent", sent_at=at, error=None), execution_options=NO_SYNC)
    return True


async def finish_task(session: AsyncSession, task: GroupMessageTask, *, status: str, now: datetime) -> bool:
    """Close a waiting task as sent or fallen_back (a conditional UPDATE: one closer wins)."""
    result = await session.execute(update(GroupMessageTask)
                                   .where(GroupMessageTask.id == task.id, GroupMessageTask.status == "waiting")
                                   .values(status=status, finished_at=now), execution_options=NO_SYNC)
    return rowcount(result) == 1


async def mark_reminded(session: AsyncSession, task: GroupMessageTask, *, now: datetime) -> bool:
    """Record the one reminder; False when another worker already sent it."""
    result = await session.execute(update(GroupMessageTask)
                                   .where(GroupMessageTask.id == task.id, GroupMessageTask.reminded_at.is_(None))
                                   .values(reminded_at=now), execution_options=NO_SYNC)
    return rowcount(result) == 1


async def fall_back(session: AsyncSession, row: OutboxMessage, *, reason: str, now: datetime,
                    owner: str | None = None) -> int:
    """The group will not get `row`: its team's members get it directly instead; how many.

    Members already sent a message with the same ref (an opted-in member of a broadcast) are
    not told twice. The group row is kept as undeliverable with the reason.
    """
    await session.execute(update(OutboxMessage).where(OutboxMessage.id == row.id)
                          .values(status="undeliverable", error=reason, claimed_by=None), execution_options=NO_SYNC)
    await session.execute(update(GroupMessageTarget).where(GroupMessageTarget.outbox_id == row.id,
                                                           GroupMessageTarget.status == "waiting")
                          .values(status="fallback"), execution_options=NO_SYNC)
    if row.team_id is None:
        return 0
    members = (select(Person.id, null(), Person.name, literal(row.text, Text()), literal([], JSON()),
                      literal(row.kind, String()), literal(row.ref, String()), literal("pending", String()),
                      literal(0, Integer()), literal(now, UTCDateTime()))
               .select_from(Person).join(TeamMember, TeamMember.person_id == Person.id)
               .where(TeamMember.team_id == row.team_id))
    if row.ref is not None:
        told = aliased(OutboxMessage)
        members = members.where(~exists().where(told.ref == row.ref, told.person_id == Person.id))
    if owner is not None:  # the captain who owns the group knows what they did not send
        captain = select(ChannelIdentity.person_id).where(ChannelIdentity.platform == "wecom",
                                                          ChannelIdentity.external_id == owner)
        members = members.where(Person.id.not_in(captain))
    # One INSERT … SELECT, each member addressed in SQL to their preferred account (as the fan-out does).
    stmt = insert(OutboxMessage).from_select(OUTBOX_COLUMNS, with_preferred_account(session, members, at=2))
    return rowcount(await session.execute(stmt))


async def invite_codes(session: AsyncSession, team_ids: Sequence[int]) -> dict[int, str]:
    """Each team's invite code: its Official Account QR scene `join_<code>` lets a villager in the group join."""
    if not team_ids:
        return {}
    stmt = select(Team.id, Team.invite_code).where(Team.id.in_(list(set(team_ids))), Team.invite_code.is_not(None))
    return {int(i): str(c) for i, c in (await session.execute(stmt)).all()}
