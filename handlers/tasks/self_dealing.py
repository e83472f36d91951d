"""Nobody serves their own order (docs/roles.md, issue 12): the checks accept, rate and complete share.

A volunteer once ordered help for herself, accepted it, reported 24 hours, rated it five stars
and spent the points. So: a volunteer cannot accept a task they ordered, or one ordered for
their household — the same phone, or the same address when both are known; a rating from the
account of a volunteer who served the task is refused; and the hours one volunteer claims for
one day, tasks and activities together, stay under the daily cap unless a captain or an admin
says otherwise (`handlers.tasks.overtime`).
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from handlers.core.act import Act
from handlers.core.texts import hours_text, ref
from storage.models import Task
from storage.tasks.households import address_key, own_places, phone_key, phones_of_task
from storage.tasks.hours import hours_on_day
from storage.tasks.transitions import is_assigned


async def household_refusal(act: Act, task: Task) -> str | None:
    """Why the actor may not accept a task of their own household, or None when it is not theirs."""
    actor = act.actor
    if actor is None:
        return None
    mine = phone_key(actor.phone)
    if mine and mine in await phones_of_task(act.session, task):
        return f"任务 {ref(task.id)} 是您家里人点的单（同一个电话），不能自己接，请等其他志愿者接单。"
    place = address_key(task.place)
    if place and place in await own_places(act.session, actor.id, excluding_task_id=task.id):
        return f"任务 {ref(task.id)} 的地址就是您家的地址，不能自己接，请等其他志愿者接单。"
    return None


async def served_it(act: Act, task: Task) -> bool:
    """Whether the actor is a volunteer who served the task (and so may not rate it)."""
    return act.actor is not None and await is_assigned(session=act.session, task_id=task.id,
                                                       volunteer_id=act.actor.id)


@dataclass(frozen=True)
class OverCap:
    """Hours that would take a volunteer past the daily cap: already claimed that day, and the cap."""

    claimed: Decimal
    cap: Decimal

    @property
    def left(self) -> Decimal:
        """What may still be claimed that day without a captain's word."""
        return max(Decimal(0), self.cap - self.claimed)

    def text(self, task: Task) -> str:
        """The volunteer's polite answer."""
        return (f"每位志愿者一天最多记 {hours_text(self.cap)} 小时志愿时长，您今天已报 {hours_text(self.claimed)} 小时，"
                f"任务 {ref(task.id)} 最多还能报 {hours_text(self.left)} 小时。"
                "如果确实服务了这么久，我已请队长核准，核准后就算完成。")


async def over_daily_cap(act: Act, task: Task, volunteer_id: int, hours: Decimal) -> OverCap | None:
    """Whether reporting `hours` for a task today takes the volunteer past the daily cap."""
    cap = act.daily_cap
    claimed = await hours_on_day(act.session, volunteer_id=volunteer_id, at=act.now, tz=act.tz,
                                 excluding_task_id=task.id)
    return OverCap(claimed, cap) if claimed + hours > cap else None
