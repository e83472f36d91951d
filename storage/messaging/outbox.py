"""The outbox: messages owed, written with the change that causes them, delivered by a relay.

Writing: `enqueue_*`, in the transaction of the change. Delivering: the worker that handled a
message claims the rows it wrote in that same transaction (`take_direct`, when nothing earlier
to the chat is unsent) and sends them right after the commit; the relay takes the rest when
due (`pending`, `claim_many`). A claimed row carries its worker's id: a live worker's rows are
never taken, a dead one's go back (`reclaim_from`). What a channel reported is recorded by
`mark_delivered` (a batch of deliveries in one statement) or `apply_outcome` — the one place
that decides what any other outcome means. Replies that went out inside the platform's answer
to the user are recorded by `deliver_inline`.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from functools import lru_cache
from typing import Any

from sqlalchemy import and_, bindparam, case, delete, func, or_, select, tuple_, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased
from sqlalchemy.sql.sqltypes import TupleType

from storage.messaging.outcomes import (
    ChatMoved,
    Delivered,
    DeliveryOutcome,
    Postponed,
    RecipientGone,
    TemporaryFailure,
    Throttled,
)
from storage.messaging.reach import mark_unreachable, reachable_group, readdress_chat
from storage.messaging.wechat import save_choices
from storage.models import ChannelIdentity, OutboxMessage, Person, TeamGroup, TeamMember
from storage.sql import rowcount

# Failed attempts before a message is kept as undeliverable.
MAX_ATTEMPTS = 8
# The wait after a failed attempt: 5 s, doubling, at most 15 minutes (about 10 minutes in all).
BACKOFF_SECONDS = 5.0
BACKOFF_CAP_SECONDS = 900.0



async def preferred_identity(session: AsyncSession, person_id: int) -> ChannelIdentity | None:
    """The chat account a person used most recently and can still be reached on."""
    stmt = (
        select(ChannelIdentity)
        .where(ChannelIdentity.person_id == person_id, ChannelIdentity.reachable.is_(True))
        .order_by(ChannelIdentity.last_seen_at.desc().nulls_last(), ChannelIdentity.id.desc())
        .limit(1)
    )
    return (await session.execute(stmt)).scalar_one_or_none()


async def enqueue_to_person(
    session: AsyncSession,
    *,
    person: Person,
    text: str,
    now: datetime,
    buttons: list[dict[str, str]] | None = None,
    kind: str = "notice",
    ref: str | None = None,
    platform: str | None = None,
    address: str | None = None,
) -> OutboxMessage:
    """Owe a person a message; addressed to their preferred chat account unless given."""
    if platform is None:
        ident = await preferred_identity(session, person.id)
        if ident is not None:
            platform, address = ident.platform, ident.external_id
    row = OutboxMessage(
        person_id=person.id,
        platform=platform,
        address=address,
        recipient_label=person.name,
        text=text,
        buttons=buttons or [],
        kind=kind,
        ref=ref,
        created_at=now,
    )
    session.add(row)
    return row


def enqueue_reply(
    session: AsyncSession, *, person_id: int | None, platform: str, address: str, label: str, text: str,
    buttons: list[dict[str, str]], ref: str | None, now: datetime,
) -> OutboxMessage:
    """Owe an answer in the chat a message came from (a private chat's person, or a group)."""
    row = OutboxMessage(person_id=person_id, platform=platform, address=address, recipient_label=label, text=text,
                        buttons=buttons, kind="reply", ref=ref, created_at=now)
    session.add(row)
    return row


def enqueue_to_group(
    session: AsyncSession,
    *,
    group: TeamGroup,
    label: str,
    text: str,
    now: datetime,
    buttons: list[dict[str, str]] | None = None,
    kind: str = "notice",
    ref: str | None = None,
) -> OutboxMessage:
    """Owe a team's group chat a message."""
    row = OutboxMessage(
        team_id=group.team_id,
        platform=group.platform,
        address=group.chat_id,
        recipient_label=label,
        text=text,
        buttons=buttons or [],
        kind=kind,
        ref=ref,
        created_at=now,
    )
    session.add(row)
    return row


async def team_groups(session: AsyncSession, team_id: int) -> list[TeamGroup]:
    """The group chats bound to a team that the bot can still post in."""
    stmt = select(TeamGroup).where(TeamGroup.team_id == team_id, reachable_group()).order_by(TeamGroup.id)
    return list((await session.execute(stmt)).scalars().all())


async def opted_in_members(session: AsyncSession, team_id: int) -> list[Person]:
    """A team's members who take direct messages (not 免打扰), by id."""
    stmt = (select(Person).join(TeamMember, TeamMember.person_id == Person.id)
            .where(TeamMember.team_id == team_id, Person.dm_opt_in.is_(True)).order_by(Person.id))
    return list((await session.execute(stmt)).scalars().all())


def enqueue_edit(
    session: AsyncSession, *, destination: tuple[int, str, str, str], text: str, now: datetime,
    buttons: list[dict[str, str]] | None = None, ref: str,
) -> OutboxMessage:
    """Owe a group chat an edit of what it was sent about `ref` (see `group_destinations`)."""
    team_id, platform, address, label = destination
    row = OutboxMessage(team_id=team_id, platform=platform, address=address, recipient_label=label,
                        text=text, buttons=buttons or [], kind="edit", ref=ref, created_at=now)
    session.add(row)
    return row


async def pending(
    session: AsyncSession, *, platforms: list[str] | None, include_unaddressed: bool, now: datetime, limit: int = 200
) -> list[OutboxMessage]:
    """Messages owed and due at `now` on the given platforms, oldest first.

    A row waiting for its `not_before`, or being sent right now (by any worker), holds back the
    later rows to the same chat, so a chat's messages arrive in order.
    """
    earlier = aliased(OutboxMessage)
    held_back = (
        select(earlier.id)
        .where(earlier.platform == OutboxMessage.platform, earlier.address == OutboxMessage.address,
               earlier.id < OutboxMessage.id,
               or_(earlier.status == "sending", (earlier.status == "pending") & (earlier.not_before > now)))
        .exists()
    )
    stmt = select(OutboxMessage).where(
        OutboxMessage.status == "pending",
        or_(OutboxMessage.not_before.is_(None), OutboxMessage.not_before <= now),
        ~held_back,
    )
    conds = []
    if platforms is not None:
        conds.append(OutboxMessage.platform.in_(platforms))
    if include_unaddressed:
        conds.append(OutboxMessage.platform.is_(None))
    if platforms is not None or include_unaddressed:
        stmt = stmt.where(or_(*conds))
    stmt = stmt.order_by(OutboxMessage.id).limit(limit)
    return list((await session.execute(stmt)).scalars().all())


async def claim(session: AsyncSession, row_id: int, *, now: datetime, worker: int | None = None) -> bool:
    """Take one pending message for delivery; False if another relay took it first."""
    result = await session.execute(
        update(OutboxMessage)
        .where(OutboxMessage.id == row_id, OutboxMessage.status == "pending")
        .values(status="sending", sent_at=now, claimed_by=worker)
    )
    return rowcount(result) == 1


async def claim_many(session: AsyncSession, row_ids: Sequence[int], *, now: datetime,
                     worker: int | None) -> set[int]:
    """Take pending messages for delivery by `worker`, in one statement; the ids taken."""
    if not row_ids:
        return set()
    stmt = (update(OutboxMessage)
            .where(OutboxMessage.id.in_(list(row_ids)), OutboxMessage.status == "pending")
            .values(status="sending", sent_at=now, claimed_by=worker)
            .returning(OutboxMessage.id))
    return {int(i) for i in (await session.execute(stmt)).scalars()}


@lru_cache(maxsize=4)
def _busy_chats(for_worker: bool, without_own: bool) -> Any:
    """`take_direct`'s query, built once (it runs for every message handled): chats with unsent rows."""
    chats = bindparam("chats", expanding=True, type_=TupleType(OutboxMessage.platform.type,
                                                                OutboxMessage.address.type))
    stmt = (select(OutboxMessage.platform, OutboxMessage.address)
            .where(tuple_(OutboxMessage.platform, OutboxMessage.address).in_(chats),
                   OutboxMessage.status.in_(["pending", "sending"]))
            .distinct())
    if for_worker:  # this worker's own rows in flight keep the chat open to it
        stmt = stmt.where(or_(OutboxMessage.status == "pending", OutboxMessage.claimed_by.is_(None),
                              OutboxMessage.claimed_by != bindparam("worker")))
    if without_own:
        stmt = stmt.where(OutboxMessage.id.notin_(bindparam("own", expanding=True)))
    return stmt


async def take_direct(
    session: AsyncSession, rows: Sequence[OutboxMessage], *, worker: int | None, platforms: frozenset[str],
    now: datetime,
) -> list[OutboxMessage]:
    """Claim, before they are written, the rows of this transaction that its worker will send after the commit.

    A row is taken when its platform is one the worker sends on and nothing earlier to its chat
    is unsent — except rows this worker is sending already, which keep their place in its lane —
    so a chat's messages still leave in order. The others stay pending for the relay. One query.
    """
    candidates = [r for r in rows if r.status in (None, "pending") and r.platform in platforms
                  and r.address is not None and r.not_before is None]
    if not candidates:
        return []
    chats = list(dict.fromkeys((r.platform, r.address) for r in candidates))
    # Rows of this transaction already written (a handler queried after replying) are not "earlier".
    own = [r.id for r in rows if r.id is not None]
    params: dict[str, object] = {"chats": chats}
    if worker is not None:
        params["worker"] = worker
    if own:
        params["own"] = own
    with session.no_autoflush:  # the new rows must not be written (as pending) by this query
        busy = {(p, a) for p, a in (await session.execute(_busy_chats(worker is not None, bool(own)), params)).all()}
    taken: list[OutboxMessage] = []
    for row in candidates:
        if (row.platform, row.address) in busy:
            continue
        row.status, row.claimed_by, row.sent_at = "sending", worker, now
        taken.append(row)
    return taken


async def reclaim_stale(session: AsyncSession, *, older_than: datetime) -> int:
    """Put back messages a relay without a worker id claimed but never finished (at-least-once delivery)."""
    result = await session.execute(
        update(OutboxMessage)
        .where(OutboxMessage.status == "sending", OutboxMessage.claimed_by.is_(None),
               OutboxMessage.sent_at < older_than)
        .values(status="pending")
    )
    return rowcount(result)


async def claimed_by(session: AsyncSession, worker_id: int) -> list[OutboxMessage]:
    """The rows a worker is sending (taken over when it died)."""
    stmt = (select(OutboxMessage).where(OutboxMessage.status == "sending", OutboxMessage.claimed_by == worker_id)
            .order_by(OutboxMessage.id))
    return list((await session.execute(stmt)).scalars())


async def release(session: AsyncSession, row_ids: Sequence[int], *, worker: int | None) -> int:
    """Hand claimed rows back to the relay untried (their chat stopped, the worker stopping, a dead worker's)."""
    if not row_ids:
        return 0
    result = await session.execute(
        update(OutboxMessage)
        .where(OutboxMessage.id.in_(list(row_ids)), OutboxMessage.status == "sending",
               _claimed(worker))
        .values(status="pending", sent_at=None, claimed_by=None)
    )
    return rowcount(result)


def _claimed(worker: int | None) -> object:
    return OutboxMessage.claimed_by.is_(None) if worker is None else OutboxMessage.claimed_by == worker


async def mark_delivered(
    session: AsyncSession, delivered: Sequence[tuple[int, str | None]], *, now: datetime, worker: int | None,
) -> int:
    """Record a batch of deliveries (row id, the platform's message id) in one statement; rows changed."""
    if not delivered:
        return 0
    ids = [row_id for row_id, _ in delivered]
    external = {row_id: ext for row_id, ext in delivered if ext is not None}
    values: dict[str, object] = {"status": "sent", "sent_at": now, "not_before": None, "claimed_by": None}
    if external:
        # Padded to a power of two with ids no row has (ids start at 1): SQLAlchemy compiles and
        # caches one statement per shape, and a CASE of n WHENs keeps O(n) memory, so a shape per
        # batch size (1, 2, … a few hundred) held hundreds of MiB in the engine's statement cache
        # (bench/memory.py). The padding is never applied: the WHERE keeps to `ids`.
        padding = (1 << (len(external) - 1).bit_length()) - len(external)
        external.update({-k: "" for k in range(1, padding + 1)})
        values["external_message_id"] = case(external, value=OutboxMessage.id,
                                              else_=OutboxMessage.external_message_id)
    # Also a row given back meanwhile and not yet taken again — its worker was taken for dead
    # during a stall, but it did deliver it: recorded now, the row is not sent a second time.
    result = await session.execute(
        update(OutboxMessage)
        .where(OutboxMessage.id.in_(ids),
               or_(and_(OutboxMessage.status == "sending", _claimed(worker)),
                   and_(OutboxMessage.status == "pending", OutboxMessage.claimed_by.is_(None))))
        .values(**values)
    )
    return rowcount(result)


def retry_delay(attempts: int) -> timedelta:
    """The wait after failed attempt number `attempts` (exponential, capped)."""
    return timedelta(seconds=min(BACKOFF_CAP_SECONDS, BACKOFF_SECONDS * 2 ** max(0, attempts - 1)))


async def apply_outcome(
    session: AsyncSession, row: OutboxMessage, outcome: DeliveryOutcome, *, now: datetime,
    max_attempts: int = MAX_ATTEMPTS, worker: int | None | object = ...,
) -> str:
    """Record what became of a claimed message, and what it says about its chat; returns the row's status.

    - delivered: sent, with the platform's id (and the numbered choices it showed);
    - recipient gone: undeliverable, with every message still owed to that chat, and the chat
      account or group marked unreachable;
    - throttled: back to pending until the retry-after has passed, no attempt counted;
    - postponed (our infrastructure was away): the same, no attempt counted;
    - chat moved: the group binding and every message owed to the old address follow the new
      one, this row included, no attempt counted;
    - temporary failure: an attempt counted, pending again after a backoff, undeliverable after
      `max_attempts`;
    - refused: undeliverable (the request can never succeed), the recipient left alone.

    With `worker`, only a row that worker still holds is changed (a row taken over meanwhile is
    the new holder's to record).
    """
    mine = [OutboxMessage.id == row.id, OutboxMessage.status == "sending"]
    if worker is not ...:
        mine.append(_claimed(worker))  # type: ignore[arg-type]
    free = {"claimed_by": None}
    if isinstance(outcome, Delivered):
        await session.execute(update(OutboxMessage).where(*mine).values(
            status="sent", sent_at=now, not_before=None, external_message_id=outcome.external_id, **free))
        if outcome.numbered and row.platform and row.address:
            await save_choices(session, platform=row.platform, chat_id=row.address,
                               choices=list(outcome.numbered), now=now)
        return "sent"
    if isinstance(outcome, (Throttled, Postponed)):
        await session.execute(update(OutboxMessage).where(*mine).values(
            status="pending", sent_at=None, error=outcome.reason,
            not_before=now + timedelta(seconds=max(0.0, outcome.retry_after)), **free))
        return "pending"
    if isinstance(outcome, ChatMoved):
        if row.platform and row.address:
            await readdress_chat(session, platform=row.platform, old=row.address, new=outcome.new_address)
        await session.execute(update(OutboxMessage).where(*mine).values(
            status="pending", sent_at=None, error=outcome.reason, address=outcome.new_address, **free))
        return "pending"
    if isinstance(outcome, TemporaryFailure):
        attempts = row.attempts + 1
        final = attempts >= max_attempts
        await session.execute(update(OutboxMessage).where(*mine).values(
            status="undeliverable" if final else "pending", attempts=OutboxMessage.attempts + 1,
            error=outcome.reason, sent_at=None, not_before=None if final else now + retry_delay(attempts), **free))
        return "undeliverable" if final else "pending"
    # RecipientGone and Refused: kept as undeliverable, never dropped.
    await session.execute(update(OutboxMessage).where(*mine).values(
        status="undeliverable", attempts=OutboxMessage.attempts + 1, error=outcome.reason, **free))
    if isinstance(outcome, RecipientGone) and row.platform and row.address:
        await mark_unreachable(session, platform=row.platform, address=row.address, reason=outcome.reason, now=now)
    return "undeliverable"


async def deliver_inline(
    session: AsyncSession, row_ids: Sequence[int], *, external_id: str, now: datetime, numbered: bool = False,
    held: Sequence[int] = (),
) -> list[OutboxMessage]:
    """Claim owed messages that went out inside the platform's answer to the user, and mark them sent.

    The one path for replies delivered without the relay: a Telegram button press answered
    with an alert, a WeChat callback's passive reply. Rows the relay took first are skipped
    (they go out as messages); `held` are rows the answering worker claimed when they were
    written and has not handed to its sender yet — those are this answer's to give. The ones
    claimed are returned in the order given. With `numbered`, their buttons were shown as one
    run of numbered choices in their chat.
    """
    if not row_ids:
        return []
    rows = {r.id: r for r in (await session.execute(
        select(OutboxMessage).where(OutboxMessage.id.in_(list(row_ids))))).scalars()}
    mine = set(held)
    claimed: list[OutboxMessage] = []
    for row_id in row_ids:
        result = await session.execute(
            update(OutboxMessage)
            .where(OutboxMessage.id == row_id, OutboxMessage.status == ("sending" if row_id in mine else "pending"))
            .values(status="sent", sent_at=now, not_before=None, external_message_id=external_id, claimed_by=None))
        if rowcount(result) == 1 and row_id in rows:
            claimed.append(rows[row_id])
    choices = [str(b["data"]) for r in claimed for b in r.buttons or []]
    if numbered and choices and claimed[0].platform and claimed[0].address:
        await save_choices(session, platform=claimed[0].platform, chat_id=claimed[0].address, choices=choices,
                           now=now)
    return claimed


async def deliver_written_inline(
    session: AsyncSession, rows: Sequence[OutboxMessage], *, external_id: str, now: datetime, numbered: bool = False,
) -> list[OutboxMessage]:
    """`deliver_inline` for rows this very transaction wrote (a passive reply recorded with its handling)."""
    await session.flush()  # they are claimed by id
    return await deliver_inline(session, [r.id for r in rows], external_id=external_id, now=now, numbered=numbered)


async def undo_inline(session: AsyncSession, row_ids: Sequence[int], *, external_id: str,
                      held: Sequence[int] = ()) -> int:
    """Hand rows claimed for an inline answer that never went out back to the relay.

    `held`: rows the answering worker claimed when they were written and will not send itself
    now; those still unsent go back too.
    """
    count = 0
    if row_ids:
        result = await session.execute(
            update(OutboxMessage)
            .where(OutboxMessage.id.in_(list(row_ids)), OutboxMessage.status == "sent",
                   OutboxMessage.external_message_id == external_id)
            .values(status="pending", sent_at=None, external_message_id=None, claimed_by=None)
        )
        count = rowcount(result)
    if held:
        await session.execute(
            update(OutboxMessage).where(OutboxMessage.id.in_(list(held)), OutboxMessage.status == "sending")
            .values(status="pending", sent_at=None, claimed_by=None))
    return count


async def group_destinations(session: AsyncSession, *, ref: str) -> list[tuple[int, str, str, str]]:
    """Team groups already sent a message about `ref`: (team_id, platform, address, label) each once."""
    stmt = (
        select(OutboxMessage.team_id, OutboxMessage.platform, OutboxMessage.address,
               OutboxMessage.recipient_label)
        .where(OutboxMessage.ref == ref, OutboxMessage.kind != "edit", OutboxMessage.team_id.is_not(None),
               OutboxMessage.platform.is_not(None), OutboxMessage.address.is_not(None))
        .order_by(OutboxMessage.id)
    )
    seen: dict[tuple[str, str], tuple[int, str, str, str]] = {}
    for team_id, platform, address, label in (await session.execute(stmt)).all():
        seen.setdefault((platform, address), (team_id, platform, address, label))
    return list(seen.values())


async def sent_message_ids(session: AsyncSession, *, platform: str, address: str, ref: str) -> list[str]:
    """The platform ids of messages about `ref` delivered to one chat (what an edit must change)."""
    stmt = (
        select(OutboxMessage.external_message_id)
        .where(OutboxMessage.ref == ref, OutboxMessage.platform == platform, OutboxMessage.address == address,
               OutboxMessage.kind != "edit", OutboxMessage.status == "sent",
               OutboxMessage.external_message_id.is_not(None))
        .order_by(OutboxMessage.id)
    )
    return [str(x) for x in (await session.execute(stmt)).scalars()]


async def prune_delivered(session: AsyncSession, *, before: datetime, batch: int) -> int:
    """Delete up to `batch` delivered rows sent before `before` (oldest first); how many went.

    Rows about something (`ref`: a task's card, an activity's notice) are kept, as a later edit
    needs their platform ids; undeliverable rows are kept, as the record of what failed.
    """
    oldest = (select(OutboxMessage.id)
              .where(OutboxMessage.status == "sent", OutboxMessage.ref.is_(None), OutboxMessage.sent_at < before)
              .order_by(OutboxMessage.id).limit(batch))
    ids = list((await session.execute(oldest)).scalars())
    if not ids:
        return 0
    await session.execute(delete(OutboxMessage).where(OutboxMessage.id.in_(ids)))
    return len(ids)


async def count_prunable(session: AsyncSession, *, before: datetime) -> int:
    """How many rows `prune_delivered` would delete."""
    stmt = select(func.count(OutboxMessage.id)).where(
        OutboxMessage.status == "sent", OutboxMessage.ref.is_(None), OutboxMessage.sent_at < before)
    return int((await session.execute(stmt)).scalar_one())
