"""Every text column is bounded where it is declared (storage.models.bounds), on SQLite and PostgreSQL.

A 251-character place once passed the draft and then failed `确认` on varchar(200) for ever after;
NUL bytes made PostgreSQL's write fail. Whatever a writer forgets, the column type cuts and cleans.
"""

from __future__ import annotations

from sqlalchemy import select, update

from storage.models import OrgUnit, Person, Task
from storage.models.bounds import TEXT_LIMIT, BoundedText, bounded_text, clean_text
from storage.tasks.transitions import create_task


def test_every_text_column_is_guarded() -> None:
    from sqlalchemy import Enum, String

    from storage.models import metadata

    unguarded = [f"{t.name}.{c.name}" for t in metadata.sorted_tables for c in t.columns
                 if isinstance(c.type, String) and not isinstance(c.type, (Enum, BoundedText))]
    assert unguarded == []
    assert Task.__table__.c.place.type.limit == 200 and Task.__table__.c.description.type.limit == TEXT_LIMIT


def test_cleaning() -> None:
    assert clean_text("a\x00b") == "ab" and clean_text("x\ud800y") == "x\ufffdy"
    assert bounded_text("杨" * 251, 200) == "杨" * 200


async def test_a_long_place_and_nul_bytes_are_stored_cut_and_clean(session, clock) -> None:
    unit = OrgUnit(code="S", name="杨家村新时代文明实践站", level="station", path="/")
    person = Person(name="王\x00大娘", created_at=clock.now())
    session.add_all([unit, person])
    await session.flush()
    task = await create_task(session=session, resident_id=person.id, created_by_id=person.id, org_unit_id=unit.id,
                             category="助老助残", description="想理发\x00" + "发" * 20_000, now=clock.now(),
                             place="杨" * 251, phone="139\x000000" + "1" * 40)
    task_id, person_id = task.id, person.id
    await session.commit()
    await session.execute(update(Task).where(Task.id == task_id).values(comment="好\x00" * 10))
    await session.commit()
    session.expire_all()
    stored = await session.get(Task, task_id)
    assert stored.place == "杨" * 200 and len(stored.description) == TEXT_LIMIT and "\x00" not in stored.description
    assert stored.comment == "好" * 10 and len(stored.phone) <= 32
    assert (await session.get(Person, person_id)).name == "王大娘"
    # Compared values are cleaned the same way, and a 100 KB one finds nothing rather than failing.
    assert (await session.execute(select(Person.id).where(Person.name == "王\x00大娘"))).scalar_one() == person_id
    assert (await session.execute(select(Person.id).where(Person.name == "王" * 100_000))).first() is None
    for long in ("杨" * 30_000, "杨" * 200 + "_", "杨" * 199 + "%x"):
        assert (await session.execute(select(Task.id).where(Task.place.contains(long, autoescape=True)))).first() is None
