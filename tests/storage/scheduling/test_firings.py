"""A firing's bookkeeping, several audiences fanned out at once, and a unit's own rule."""

from __future__ import annotations

from sqlalchemy import select

from storage.models import OutboxMessage, Person
from storage.models.scheduling import ScheduleFiring
from storage.scheduling.fanout import fan_out_audiences, people_select
from storage.scheduling.firings import (
    fired_scopes,
    open_firing,
    record_recipients,
    set_firing_texts,
)
from storage.scheduling.recurrence import Recurrence
from storage.scheduling.rules import MORAL_DAY, own_rule, set_rule


def _named(*names: str):
    return select(Person.id).where(Person.name.in_(names))


async def test_several_audiences_each_reach_their_firing_once(chat, clock) -> None:
    now = clock.now()
    async with chat.sessions() as s:
        first = await open_firing(s, job="r", period="1@x:24h", scope="all", due_at=now, now=now)
        second = await open_firing(s, job="r", period="2@x:24h", scope="all", due_at=now, now=now)
        await set_firing_texts(s, {first: "一号活动", second: "二号活动"})
        audiences = [people_select(_named("王大娘", "李大爷"), first), people_select(_named("王大娘"), second)]
        assert await fan_out_audiences(s, job="r", firing_ids=[first, second], audiences=audiences, kind="r",
                                       now=now, opted_in_only=False, skip_reached_by_group=False) == 3
        # Another scope of the same job and period reaches only whom the sent-log has not seen for that period.
        third = await open_firing(s, job="r", period="1@x:24h", scope="unit:1", due_at=now, now=now, text="一号活动")
        again = [people_select(_named("王大娘", "李大爷", "张文艺"), third)]
        assert await fan_out_audiences(s, job="r", firing_ids=[third], audiences=again, kind="r", now=now,
                                       opted_in_only=False, skip_reached_by_group=False) == 1
        assert await record_recipients(s, "r", [first, second]) == {first: (0, 2), second: (0, 1)}
        await s.commit()
        rows = (await s.execute(select(OutboxMessage).order_by(OutboxMessage.id))).scalars().all()
        recipients = dict((await s.execute(select(ScheduleFiring.id, ScheduleFiring.recipients))).all())
        assert await fired_scopes(s, "r", ["1@x:24h", "3@x:24h"]) == {("1@x:24h", "all"), ("1@x:24h", "unit:1")}
    assert sorted((r.recipient_label, r.text, r.ref) for r in rows) == [
        ("张文艺", "一号活动", "r:1@x:24h"), ("李大爷", "一号活动", "r:1@x:24h"), ("王大娘", "一号活动", "r:1@x:24h"),
        ("王大娘", "二号活动", "r:2@x:24h")]
    assert recipients == {first: 2, second: 1, third: 0}


async def test_own_rule_is_the_units_own_not_an_inherited_one(chat, clock) -> None:
    async with chat.sessions() as s:
        await set_rule(session=s, unit_id=chat.ids["BP"], job=MORAL_DAY, recurrence=Recurrence(hour=8, day_of_month=5),
                       now=clock.now())
        await s.commit()
        assert (await own_rule(s, chat.ids["BP"], MORAL_DAY)).day_of_month == 5
        assert await own_rule(s, chat.ids["PL"], MORAL_DAY) is None
        assert await own_rule(s, chat.ids["BP"], "other_job") is None
