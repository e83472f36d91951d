"""What the task feature says: offers, cards, and the lines several of its messages share.

Phones and house numbers are masked wherever the reader may not have taken the task yet
(docs/tasks.md, privacy on offer cards); only `task_card(..., contact=True)` shows them.
"""

from __future__ import annotations

from datetime import datetime, tzinfo

from handlers.core.messages import Button
from handlers.core.places import village_core
from handlers.core.texts import mask_private, ref
from handlers.language.emergency import KINDS
from storage.models import OrgUnit, Person, Task, TaskStatus, Team

OTHER = "其他"
# How each level's admin is called when a villager is told who has their task.
TITLES = {"point": "站长", "station": "站长", "institute": "所长", "center": "中心管理员"}
# What each kind of emergency is called on cards, and what to do before help arrives.
EMERGENCY_NAMES = {"medical": "急救", "fire": "火情", "gas": "燃气泄漏", "flood": "漏水水淹", "police": "报警"}
EMERGENCY_ADVICE = {
    "medical": "别随意搬动伤者，保持呼吸通畅。",
    "fire": "先把人撤到屋外，别回去拿东西。",
    "gas": "先关气阀、开窗，别开灯、别打电话，到屋外再打。",
    "flood": "先关总水阀、拉下电闸。",
    "police": "先顾好自己的安全。",
}


def accept_button(task_id: int) -> list[Button]:
    """The one-tap accept button sent with a new task."""
    return [Button("接单", f"接单 {ref(task_id)}")]


def emergency_kinds(task: Task) -> list[str]:
    """An emergency task's kinds, most pressing first (none for an ordinary request)."""
    return [k for k in (task.emergency or "").split(",") if k in KINDS]


def task_offer_text(task: Task, station: OrgUnit | None, *, escalated: bool) -> str:
    """The message a team gets for a task: no phone or house number until someone accepts."""
    head = "⬆️ 升级派单" if escalated else "📋 新任务"
    if task.emergency:
        head = "🚨 紧急求助" + ("（升级）" if escalated else "")
        kinds = "、".join(EMERGENCY_NAMES[k] for k in emergency_kinds(task))
        first = f"{head} {ref(task.id)}【{kinds or task.category}】请就近马上去看看"
    else:
        first = f"{head} {ref(task.id)}【{task.category}】{'（急）' if task.urgent else ''}"
    lines = [
        first,
        f"来自：{station.name if station else '未知'}",
        f"内容：{mask_private(task.description, task.phone)}",
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


def withdrawn_card_text(task: Task, station: OrgUnit | None) -> str:
    """A group card for a task an admin gave to another team: no button, and why."""
    return task_offer_text(task, station, escalated=False).rsplit("\n", 1)[0] + "\n🔄 已改派给其他队伍"


def task_card(task: Task, unit: OrgUnit | None, *, contact: bool, tz: tzinfo) -> str:
    """A task as villagers and volunteers read it; phone and address only when `contact`."""
    lines = [
        f"任务 {ref(task.id)}【{task.category}】{'（急）' if task.urgent else ''}",
        f"村/社区：{unit.name if unit else '未知'}",
        f"时间：{_when(task, tz)}",
        f"内容：{task.description if contact else mask_private(task.description, task.phone)}",
    ]
    if task.volunteers_needed > 1:
        lines.append(f"需要人数：{task.volunteers_needed}（已接 {task.accepted_count}）")
    if contact:
        if task.place:
            lines.append(f"地点：{task.place}")
        if task.phone:
            lines.append(f"联系电话：{task.phone}")
    return "\n".join(lines)


def contact_line(orderer: Person | None, resident: Person | None) -> str:
    """Who the service is for and who to call, for a task ordered on someone's behalf (代点单)."""
    if orderer is None:
        return ""
    phone = f"（{orderer.phone}）" if orderer.phone else ""
    who = f"服务对象：{resident.name}；" if resident is not None else ""
    return f"\n{who}联系人：{orderer.name}{phone}（代点单）"


def _when(task: Task, tz: tzinfo) -> str:
    if task.wanted_start is None:
        return "尽快 / 待商定"
    start = task.wanted_start.astimezone(tz)
    hour = start.hour
    part = "上午" if hour < 12 else ("下午" if hour < 18 else "晚上")
    return f"{start.month}月{start.day}日{part}"


_WEEKDAYS = "一二三四五六日"
_NEAR_DAYS = {0: "今天", 1: "明天", 2: "后天"}


def _part(hour: int) -> str:
    """The part of the day an hour falls in, as villagers name it."""
    if hour < 5:
        return "凌晨"
    if hour < 11:
        return "上午"
    if hour < 13:
        return "中午"
    return "下午" if hour < 18 else "晚上"


def _clock(at: datetime) -> str:
    """"8点", "8点半", "3点15" on a twelve-hour dial (the part of the day is said before it)."""
    hour = at.hour % 12 or 12
    if at.minute == 0:
        return f"{hour}点"
    return f"{hour}点半" if at.minute == 30 else f"{hour}点{at.minute:02d}"


def _day(at: datetime, today: datetime) -> str:
    """"11月29日（明天）" near today, "12月5日（周六）" further off."""
    ahead = (at.date() - today.date()).days
    near = _NEAR_DAYS.get(ahead, f"周{_WEEKDAYS[at.weekday()]}")
    return f"{at.month}月{at.day}日（{near}）"


def when_text(when: tuple[datetime, datetime] | None, precision: str | None, now: datetime, tz: tzinfo) -> str:
    """A wanted time as a draft shows it: as exactly as it was said ("11月29日（明天）晚上8点"), never more."""
    if when is None:
        return "尽快 / 待商定"
    start, end, today = when[0].astimezone(tz), when[1].astimezone(tz), now.astimezone(tz)
    if precision == "days":
        return f"{_day(start, today)}到{_day(end, today)}"
    day = _day(start, today)
    if precision == "day":
        return day
    if precision == "clock":
        return f"{day}{_part(start.hour)}{_clock(start)}"
    if precision == "clock_range":
        return f"{day}{_part(start.hour)}{_clock(start)}到{_clock(end)}"
    return f"{day}{_part(start.hour)}"


def spoken_when(start: datetime, precision: str | None, now: datetime, tz: tzinfo) -> str:
    """A time as it is said aloud, for asking about it: "今晚8点", "明天下午3点", "今天上午"."""
    at, today = start.astimezone(tz), now.astimezone(tz)
    ahead = (at.date() - today.date()).days
    day = _NEAR_DAYS.get(ahead, f"{at.month}月{at.day}日")
    if precision not in ("clock", "clock_range"):
        return f"{day}{_part(at.hour)}"
    if at.hour >= 18 and ahead in (0, 1):
        return f"{day[0]}晚{_clock(at)}"
    return f"{day}{_part(at.hour)}{_clock(at)}"


def volunteer_label(volunteer: Person) -> str:
    """How a resident is told who is coming: the name, and the phone only if the volunteer allows."""
    if volunteer.share_phone and volunteer.phone:
        return f"{volunteer.name}（{volunteer.phone}）"
    return volunteer.name


def unit_short(unit: OrgUnit) -> str:
    """A unit as villagers name it: "蓬莱社区", "城关街道", "北票市"."""
    return village_core(unit.name)


def holder(unit: OrgUnit, admins: list[Person]) -> str:
    """An admin who holds a task, in words: "蓬莱社区的站长赵海清"."""
    names = "、".join(a.name for a in admins[:2]) + ("等" if len(admins) > 2 else "")
    return f"{unit_short(unit)}的{TITLES.get(unit.level, '管理员')}{names}"


def team_names(teams: list[Team]) -> str:
    """Teams as a villager reads them: 「A」「B」."""
    return "".join(f"「{t.name}」" for t in teams)


def where_it_went(task: Task, unit: OrgUnit | None, teams: list[Team], admins: list[Person]) -> str:
    """Where a new task went, as the resident (and whoever ordered for them) is told: who has it now."""
    if teams:
        return f"已派给{team_names(teams)}，有志愿者接单后我会马上告诉您。"
    if admins and unit is not None:
        lead = "" if task.category == OTHER else "暂时没有对口的志愿服务队，"
        return f"{lead}已交给{holder(unit, admins)}处理，有进展我会马上告诉您。"
    return "暂时还没有能接手的志愿服务队和管理员，已记下，我们会尽快安排人。"


def climbed_text(task: Task, unit: OrgUnit, teams: list[Team], admins: list[Person]) -> str:
    """What the resident hears when their task moves up a level: it is not forgotten, and who has it now."""
    text = f"您的任务 {ref(task.id)} 还没找到人，已报给{unit_short(unit)}"
    if teams:
        text += f"，请{team_names(teams)}接手"
        if admins:
            text += f"，{TITLES.get(unit.level, '管理员')}{admins[0].name}也知道了"
    elif admins:
        text += f"的{TITLES.get(unit.level, '管理员')}{'、'.join(a.name for a in admins[:2])}"
    return text + "。有进展我会马上告诉您。"


def no_team_note(task: Task) -> str:
    """What a unit's admins are asked when no team near a task serves its category."""
    return f"任务 {ref(task.id)}【{task.category}】在本站及上级都没有对口的队伍，请人工派单：派单 {ref(task.id)} <队伍名>"


def held_note(task: Task, station: OrgUnit | None, nearby: list[Team]) -> str:
    """What the admin who now holds a task is asked: dispatch it by hand, with the teams nearest it."""
    where = station.name if station else "本站"
    lines = [f"📌 任务 {ref(task.id)}【{task.category}】（{where}）由您负责：附近没有对口的队伍自动接单。",
             f"内容：{task.description}",
             f"请人工派单：派单 {ref(task.id)} <队伍名>"]
    if nearby:
        lines.append("附近的队伍：" + "、".join(t.name for t in nearby[:5]))
    return "\n".join(lines)


def safety_line(kinds: list[str], duty: tuple[str, str] | None) -> str:
    """The first thing an emergency hears: which number to call now, what to do, and the duty phone."""
    numbers: dict[str, str] = {}
    for kind in kinds or ["medical"]:
        number, name, _ = KINDS[kind]
        numbers.setdefault(number, name)
    call = " / ".join(f"{n}（{name}）" for n, name in numbers.items())
    lines = [f"⚠️ 请马上拨打 {call}！"]
    advice = "".join(EMERGENCY_ADVICE[k] for k in dict.fromkeys(kinds))
    if advice:
        lines.append(advice)
    if duty is not None:
        lines.append(f"{duty[0]}值班电话：{duty[1]}")
    return "\n".join(lines)


def emergency_admin_note(task: Task, station: OrgUnit | None, resident: Person | None) -> str:
    """What every admin from the station up is told at once about an emergency (contact in full: admins may see it)."""
    kinds = "、".join(EMERGENCY_NAMES[k] for k in emergency_kinds(task))
    who = resident.name if resident else "居民"
    phone = f" {task.phone}" if task.phone else ""
    return (f"🚨 紧急求助 任务 {ref(task.id)}【{kinds}】\n来自：{station.name if station else '未知'} {who}{phone}\n"
            f"内容：{task.description}\n已提醒对方先拨打急救/报警电话。请马上联系处置；"
            f"没人接单时每 10 分钟上报一级。")


def emergency_reply(task: Task, teams: list[Team], told: list[tuple[OrgUnit, list[Person]]]) -> str:
    """The second line an emergency hears: the task exists, who was told, and how to correct or cancel it."""
    parts = []
    if teams:
        parts.append(f"附近的志愿者{team_names(teams)}")
    parts += [holder(unit, admins) for unit, admins in told]
    who = "、".join(parts) if parts else "值班人员"
    return (f"已为您发出紧急求助（任务 {ref(task.id)}），已通知{who}。有人接单我会马上告诉您。\n"
            f"说错了或不需要了，请回复「取消」；想补充情况（在哪、几个人）直接说。")
