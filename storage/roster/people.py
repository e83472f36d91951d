"""Writing the people files: volunteers in batches of Core statements, residents row by row.

A province's volunteers (1.2 million) are written in batches: per batch one lookup of the
phones already known, one multi-row INSERT for the new people (their ids come back with
RETURNING), one executemany UPDATE for those whose roster fields changed, and the same for
their team memberships. No ORM objects are made, so memory stays flat however long the file.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from datetime import datetime
from itertools import islice
from typing import Any

from sqlalchemy import bindparam, insert, select, update

from storage.models import OrgUnit, Person, Team, TeamMember
from storage.programmes.points import open_accounts
from storage.roster.files import delimited
from storage.roster.lookups import FileCounts, by_code, chunks, people_by_phone
from storage.roster.progress import NO_PROGRESS, Progress
from storage.roster.records import ResidentRecord, VolunteerRecord

BATCH = 2000  # rows per round trip; also keeps each IN (...) under every backend's parameter limit
_people = Person.__table__
_members = TeamMember.__table__


def batched(items: Iterable[Any], size: int) -> Iterator[list[Any]]:
    """Lists of at most `size` items."""
    it = iter(items)
    while chunk := list(islice(it, size)):
        yield chunk


async def code_ids(session: Any, model: type[OrgUnit] | type[Team]) -> dict[str, int]:
    """Every unit's (or team's) id by code: the network is small beside its people."""
    return {code: id_ for code, id_ in await session.execute(select(model.code, model.id))}


async def write_volunteers(session: Any, records: Iterable[VolunteerRecord], now: datetime,
                           progress: Progress = NO_PROGRESS, total: int | None = None,
                           label: str = "志愿者", columns: frozenset[str] | None = None) -> FileCounts:
    """Create or update volunteers by phone, and add their team memberships (never removed).

    A known volunteer keeps their skills and party membership when the sheet has no such
    column (`columns`: the keys the sheet's header names; None: all of them).
    """
    units, teams = await code_ids(session, OrgUnit), await code_ids(session, Team)
    keep = frozenset() if columns is None else frozenset({"skills", "party_member"} - columns)
    counts = FileCounts()
    progress.start(f"写入 {label}", total)
    done = 0
    for batch in batched(records, BATCH):
        await _volunteer_batch(session, batch, units, teams, now, counts, keep)
        done += len(batch)
        progress.update(done)
    progress.finish()
    return counts


async def _volunteer_batch(session: Any, batch: list[VolunteerRecord], units: dict[str, int],
                           teams: dict[str, int], now: datetime, counts: FileCounts, keep: frozenset[str]) -> None:
    p = _people.c
    found = await session.execute(
        select(p.id, p.phone, p.name, p.org_unit_id, p.is_volunteer, p.is_resident, p.party_member, p.skills)
        .where(p.phone.in_([r.phone for r in batch])))
    existing = {row.phone: row for row in found}
    ids = {phone: row.id for phone, row in existing.items()}
    new: list[dict[str, Any]] = []
    changed: list[dict[str, Any]] = []
    updated: set[str] = set()
    for rec in batch:
        unit_id, skills = units[rec.org_code], delimited(rec.skills)
        old = existing.get(rec.phone)
        if old is None:
            new.append({"name": rec.name, "phone": rec.phone, "org_unit_id": unit_id, "is_volunteer": True,
                        "is_resident": False, "party_member": rec.party_member, "skills": skills,
                        "dm_opt_in": True, "share_phone": False, "created_at": now})
            continue
        # A resident's unit is their village, where their requests start: the roster unit of
        # a volunteer who is also a resident must not move it (nor flip it on every import).
        org = old.org_unit_id if old.is_resident and old.org_unit_id is not None else unit_id
        party = old.party_member if "party_member" in keep else rec.party_member
        skills = old.skills if "skills" in keep else skills
        after = (rec.name, org, True, party, skills)
        if after != (old.name, old.org_unit_id, old.is_volunteer, old.party_member, old.skills):
            changed.append({"pid": old.id, "v_name": rec.name, "v_org": org, "v_party": party, "v_skills": skills})
            updated.add(rec.phone)
    if new:
        inserted = await session.execute(insert(_people).returning(p.id, p.phone), new)
        ids.update({phone: id_ for id_, phone in inserted})
    if changed:
        await session.execute(
            update(_people).where(p.id == bindparam("pid")).values(
                name=bindparam("v_name"), org_unit_id=bindparam("v_org"), is_volunteer=True,
                party_member=bindparam("v_party"), skills=bindparam("v_skills")),
            changed)
    joined = await _add_memberships(session, [(ids[r.phone], teams[t]) for r in batch for t in r.team_codes],
                                    [ids[phone] for phone in existing])
    # Newly volunteers: their points accounts now, so their first 「我的」 only reads.
    await open_accounts(session, [ids[r.phone] for r in batch
                                  if r.phone not in existing or not existing[r.phone].is_volunteer], now)
    for rec in batch:
        if rec.phone not in existing:
            counts.created += 1
        elif rec.phone in updated or ids[rec.phone] in joined:
            counts.updated += 1  # a new membership is an update of the person
        else:
            counts.unchanged += 1


async def _add_memberships(session: Any, pairs: list[tuple[int, int]], old_people: list[int]) -> set[int]:
    # Memberships are only added: a volunteer left off a team's list may have joined by invite.
    # Only people who existed before this batch can already have memberships.
    m = _members.c
    have: set[tuple[int, int]] = set()
    if old_people:
        have.update(tuple(r) for r in await session.execute(
            select(m.person_id, m.team_id).where(m.person_id.in_(old_people))))
    add = [pair for pair in dict.fromkeys(pairs) if pair not in have]
    if add:
        await session.execute(insert(_members), [{"person_id": pid, "team_id": tid} for pid, tid in add])
    return {pid for pid, _ in add}


async def write_residents(session: Any, records: list[ResidentRecord], now: datetime,
                          progress: Progress = NO_PROGRESS, total: int | None = None,
                          label: str = "居民") -> FileCounts:
    """Create or update residents: by phone, or without one by name and village."""
    people = await people_by_phone(session, [r.phone for r in records if r.phone])
    units = await by_code(session, OrgUnit, {r.org_code for r in records})
    # Without a phone, a resident is known by name and village (a phone-less person only).
    unphoned: dict[tuple[str, int], Person] = {}
    for chunk in chunks(sorted({u.id for u in units.values()})):
        stmt = (select(Person).where(Person.phone.is_(None), Person.org_unit_id.in_(chunk))
                .order_by(Person.id.desc()))
        for found in (await session.execute(stmt)).scalars():
            unphoned[(found.name, found.org_unit_id or 0)] = found  # newest first: the oldest wins
    counts = FileCounts()
    progress.start(f"写入 {label}", total)
    for done, rec in enumerate(records, start=1):
        unit_id = units[rec.org_code].id
        person = people.get(rec.phone) if rec.phone else unphoned.get((rec.name, unit_id))
        before = None if person is None else (person.name, person.org_unit_id, person.is_resident)
        if person is None:
            person = Person(name=rec.name, phone=rec.phone, created_at=now)
            session.add(person)
            if not rec.phone:
                unphoned[(rec.name, unit_id)] = person
        person.name, person.org_unit_id, person.is_resident = rec.name, unit_id, True
        counts.tally(before, (person.name, person.org_unit_id, person.is_resident))
        if done % BATCH == 0:
            await session.flush()
            progress.update(done)
    await session.flush()
    progress.finish()
    return counts
