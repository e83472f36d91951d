"""What a scheduled job sends once its firings are open: one text per firing, or one text per person.

Both write in the transaction that opened the firings, and claim every target in the
sent-log before enqueueing it, so a target is reached at most once per (job, period):

- `Broadcast` — one text per firing (a region's moral day, an activity's reminder), fanned out
  in SQL (`INSERT … SELECT`): first to the team groups of the covered units if asked, then to
  an audience of people; nobody is loaded into Python, whatever the audience's size.
- `Personal` — each recipient's own text (a captain's digest lists their teams), composed from
  figures read once for the whole network and written in one bulk insert.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Protocol

from scheduler.job import JobRun, Occurrence
from storage.db import Session
from storage.scheduling.fanout import (
    Audience, PersonIds, claim_people, claim_region_groups, claimed_people, enqueue_claimed, enqueue_each,
    fan_out_audiences, people_select, prepare_bulk,
)
from storage.scheduling.firings import cover_units, record_recipients, set_firing_texts, set_recipients

Opened = Mapping[int, Occurrence]  # firing id → what it is for, in the order owed


class Delivery(Protocol):
    """Sends what a job's open firings owe; returns how many messages it enqueued, and notes for the operator."""

    async def deliver(self, session: Session, job: str, opened: Opened, run: JobRun) -> tuple[int, list[str]]: ...


@dataclass(frozen=True)
class Broadcast:
    """One text per firing, to everyone in its audience (and first to its groups), set-based."""

    # The text of each firing: firing id → text (it may read, e.g. the day's activities).
    texts: Callable[[Session, Opened, JobRun], Awaitable[dict[int, str]]]
    # Who gets each firing: audiences of (person_id, firing_id) rows, one for all firings or one each.
    audiences: Callable[[Opened], Sequence[Audience]]
    # A line per firing for `xinfeng jobs run`: (occurrence, groups reached, people reached); None: say nothing.
    note: Callable[[Occurrence, int, int], str | None]
    # Send to the bound groups of the covered units' teams first, and skip the people they reach.
    groups_first: bool = False
    # Only people who accept broadcast messages (not for reminders of their own commitments).
    opted_in_only: bool = False

    async def deliver(self, session: Session, job: str, opened: Opened, run: JobRun) -> tuple[int, list[str]]:
        """Cover, write the texts, claim and enqueue groups then people, and count who was reached."""
        ids = list(opened)
        await prepare_bulk(session)
        await cover_units(session, [(fid, unit) for fid, occ in opened.items() for unit in occ.units])
        await set_firing_texts(session, await self.texts(session, opened, run))
        count = 0
        if self.groups_first:
            # Groups first, in the sent-log and in the outbox (the relay sends oldest first).
            await claim_region_groups(session, job=job, firing_ids=ids, now=run.now)
            count += await enqueue_claimed(session, job=job, firing_ids=ids, kind=job, now=run.now, targets=("group",))
        count += await fan_out_audiences(session, job=job, firing_ids=ids, audiences=self.audiences(opened), kind=job,
                                         now=run.now, opted_in_only=self.opted_in_only,
                                         skip_reached_by_group=self.groups_first)
        reached = await record_recipients(session, job, ids)
        notes = [self.note(occ, *reached.get(fid, (0, 0))) for fid, occ in opened.items()]
        return count, [n for n in notes if n is not None]


@dataclass(frozen=True)
class Mailing:
    """Who gets an occurrence's message, and each one's text."""

    audience: PersonIds
    text_for: Callable[[int], str]


@dataclass(frozen=True)
class Personal:
    """A text of its own for each recipient, whatever their broadcast setting (duties and reports)."""

    # Reads the figures once and returns the audience with each person's text.
    compose: Callable[[Session, Occurrence, JobRun], Awaitable[Mailing]]
    # A line for `xinfeng jobs run` from how many were sent; None: say nothing.
    note: Callable[[int], str | None]

    async def deliver(self, session: Session, job: str, opened: Opened, run: JobRun) -> tuple[int, list[str]]:
        """Claim each firing's audience, write each claimed person's text, and record how many."""
        count = 0
        for fid, occ in opened.items():
            mailing = await self.compose(session, occ, run)
            await claim_people(session, job=job, audience=people_select(mailing.audience, fid), now=run.now,
                               opted_in_only=False, skip_reached_by_group=False)
            rows = [(pid, name, platform, address, mailing.text_for(pid))
                    for pid, name, platform, address in await claimed_people(session, job, fid)]
            sent = await enqueue_each(session, rows=rows, kind=job, ref=f"{job}:{occ.period}", now=run.now)
            await set_recipients(session, fid, sent)
            count += sent
        note = self.note(count)
        return count, [] if note is None else [note]
