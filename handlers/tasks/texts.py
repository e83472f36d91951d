"""What the task feature says: offers, cards, and the lines several of its messages share.

Phones and house numbers are masked wherever the reader may not have taken the task yet
(PRODUCT.md §3, privacy on offer cards); only `task_card(..., contact=True)` shows them.
"""

from __future__ import annotations

from datetime import tzinfo

from handlers.core.messages import Button
from handlers.core.texts import mask_phones_in, ref
from storage.models import OrgUnit, Person, Task, TaskStatus, Team


def accept_button(task_id: int) -> list[Button]:
    """The one-tap accept button sent with a new task."""
    return [Button("接单", f"接单 {ref(task_id)}")]


def task_offer_text(task: Task, station: OrgUnit | None, *, escalated: bool) -> str:
    """The message a team gets for a task: no phone or address until someone accepts."""
    head = "⬆️ 升级派单" if escalated else "📋 新任务"
    lines = [
        f"{head} {ref(task.id)}【{task.category}】{'（急）' if task.urgent else ''}",
        f"来自：{station.name if station else '未知'}",
        f"内容：{mask_phones_in(task.description, task.phone)}",
    ]
    if task.volunteers_needed > 1:
        lines.append(f"需要 {task.volunteers_needed} 人")
    lines.append(f"点「接单」或回复：接单 {ref(task.id)}")
    return "\n".join(lines)


def card_text(task: Task, station: OrgUnit | None, names: list[str]) -> tuple[str, bool]:
    """A group card for the task as it stands (`names`: who holds it), and whether it still offers 「接单」."""
    text = task_offer_text(task, station, escalated=False) if station else ""
    offer_line = text.rsplit("\n", 1)
    if task.status == TaskStatus.cancelled.value:
        return offer_line[0] + "\n❌ 任务已取消", False
    if task.status == TaskStatus.dispatched.value and task.accepted_count < task.volunteers_needed:
        if names:
            missing = task.volunteers_needed - task.accepted_count
            return f"{offer_line[0]}\n✅ 已接单：{'、'.join(names)}（还差 {missing} 人）\n{offer_line[-1]}", True
        return text, True
    taken = "、".join(names) or "志愿者"
    return f"{offer_line[0]}\n✅ 已由 {taken} 接单", False


def task_card(task: Task, unit: OrgUnit | None, *, contact: bool, tz: tzinfo) -> str:
    """A task as villagers and volunteers read it; phone and address only when `contact`."""
    lines = [
        f"任务 {ref(task.id)}【{task.category}】{'（急）' if task.urgent else ''}",
        f"村/社区：{unit.name if unit else '未知'}",
        f"时间：{_when(task, tz)}",
        f"内容：{task.description if contact else mask_phones_in(task.description, task.phone)}",
    ]
    if task.volunteers_needed > 1:
        lines.append(f"需要人数：{task.volunteers_needed}（已接 {task.accepted_count}）")
    if contact:
        if task.place:
            lines.append(f"地点：{task.place}")
        if task.phone:
            lines.append(f"联系电话：{task.phone}")
    return "\n".join(lines)


def _when(task: Task, tz: tzinfo) -> str:
    if task.wanted_start is None:
        return "尽快 / 待商定"
    start = task.wanted_start.astimezone(tz)
    hour = start.hour
    part = "上午" if hour < 12 else ("下午" if hour < 18 else "晚上")
    return f"{start.month}月{start.day}日{part}"


def volunteer_label(volunteer: Person) -> str:
    """How a resident is told who is coming: the name, and the phone only if the volunteer allows."""
    if volunteer.share_phone and volunteer.phone:
        return f"{volunteer.name}（{volunteer.phone}）"
    return volunteer.name


def where_it_went(team: Team | None) -> str:
    """Where a new task went, as the resident (and whoever ordered for them) is told."""
    if team is not None:
        return f"已派给「{team.name}」，有志愿者接单后我会马上告诉您。"
    return "暂时没有对口的志愿服务队，已请管理员人工派单。"


def no_team_note(task: Task) -> str:
    """What a unit's admins are asked when no team near a task serves its category."""
    return f"任务 {ref(task.id)}【{task.category}】在本站及上级都没有对口的队伍，请人工派单：派单 {ref(task.id)} <队伍名>"
