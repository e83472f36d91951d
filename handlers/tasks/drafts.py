"""A draft order (点单草稿): how a villager's message was read, kept in the conversation until confirmed.

The draft is JSON in conversation state (`Draft.to_state`), so whichever worker takes the next
message can go on with it. It holds what the parser found — the category and whether it was
sure, the wanted time and whether that was already over, phone, place, house address, people
needed — and what is still to be asked: the category when the guess is weak (`unsure`), or a
time that has passed (`past`). A correction ("不对 是礼拜天上午", "要两个人") amends the field it
names (`amend`). Every field is bounded here (docs/roles.md: a request is at most 1,000
characters; place and phone fit their columns), so nothing longer reaches the task.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, fields
from datetime import datetime, tzinfo
from typing import Any

from handlers.core.messages import Button
from handlers.language.lexicon import CATEGORIES, OTHER
from handlers.language.request_parser import MAX_TEXT, ParsedRequest
from handlers.tasks.ordering import MAX_PEOPLE, PHONE_MAX, PLACE_MAX, Order, clip
from handlers.tasks.texts import spoken_when, when_text

CANCEL_BUTTON = Button("取消", "取消")
CONFIRM_BUTTONS = [Button("确认", "确认"), CANCEL_BUTTON]
TIME_BUTTONS = [Button("是", "是"), Button("不是", "不是")]
# A category offered first must be at least this likely (and at most three are).
LIKELY = 0.05
VOICE = "语音需求"
MORE = "更多类别"  # what 「其他…」 sends: show every category


@dataclass
class Draft:
    """One request being drafted: its fields as read, and what is still to be asked."""

    resident_id: int
    category: str
    description: str
    unit_name: str = ""
    guessed: str | None = None  # the parser's category, kept to learn from
    likely: list[str] = field(default_factory=list)  # the categories offered first, likeliest first
    unsure: bool = False  # the category is to be asked, not guessed
    expanded: bool = False  # every category is offered, not only the likeliest
    chosen: bool = False  # the villager picked the category (and it was learned from then)
    when: list[str] | None = None  # ISO start and end
    precision: str | None = None
    past: bool = False  # the time was over when said: `when_next` is proposed instead
    when_next: list[str] | None = None
    phone: str | None = None
    place: str | None = None
    address: str | None = None
    people: int = 1
    urgent: bool = False
    media: list[dict[str, str]] = field(default_factory=list)
    for_name: str | None = None  # ordered for someone else (代点单): their name
    new_resident: list[Any] | None = None  # [name, village id]: an elder not on the roster yet
    voice: bool = False  # a voice message nobody could read: the description is a placeholder
    ask: str | None = None  # what the bot asked last: "category", "time", "need", or None (确认)

    @classmethod
    def from_state(cls, data: dict[str, Any]) -> Draft:
        """The draft kept in conversation state (older drafts lack the newer fields: defaults)."""
        known = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in data.items() if k in known})

    def to_state(self) -> dict[str, Any]:
        """The draft as JSON for conversation state."""
        return asdict(self)

    @property
    def window(self) -> tuple[datetime, datetime] | None:
        """The wanted time as aware datetimes."""
        return _window(self.when)

    @property
    def choices(self) -> list[str]:
        """The category buttons: the likeliest first, then the rest, then 其他."""
        return self.likely + [c for c in CATEGORIES if c not in self.likely and c != OTHER] + [OTHER]

    @property
    def learnable(self) -> bool:
        """Whether the description is the villager's words (a voice placeholder or a photo teaches nothing)."""
        return not self.voice and bool(self.description.strip())

    def settle_category(self, category: str, *, chosen: bool) -> None:
        """Take `category` as the request's, asked no more."""
        self.category, self.unsure, self.chosen = category, False, chosen

    def read_need(self, parsed: ParsedRequest) -> None:
        """Take the category (and whether to ask it) from a reading of the need."""
        self.category, self.guessed, self.likely = parsed.category, parsed.category, likely_of(parsed)
        self.unsure, self.chosen = parsed.unsure, False


def _iso(window: tuple[datetime, datetime] | None) -> list[str] | None:
    return [window[0].isoformat(), window[1].isoformat()] if window else None


def _window(iso: list[str] | None) -> tuple[datetime, datetime] | None:
    return (datetime.fromisoformat(iso[0]), datetime.fromisoformat(iso[1])) if iso else None


def likely_of(parsed: ParsedRequest) -> list[str]:
    """The two or three likeliest categories other than 其他, to offer first."""
    return [c for c, p in parsed.ranked if c != OTHER and p >= LIKELY][:3]


def draft_from(parsed: ParsedRequest, *, resident_id: int, description: str, unit_name: str,
               media: list[dict[str, str]], for_name: str | None = None,
               new_resident: list[Any] | None = None) -> Draft:
    """A draft from a reading of the request (`description`: the text as the villager typed it)."""
    draft = Draft(resident_id=resident_id, category=parsed.category, description=clip(description, MAX_TEXT) or "",
                  unit_name=unit_name, phone=clip(parsed.phone, PHONE_MAX), place=clip(parsed.place, PLACE_MAX),
                  address=clip(parsed.address, PLACE_MAX), people=_people(parsed.people), urgent=parsed.urgent,
                  media=media, for_name=for_name, new_resident=new_resident)
    draft.read_need(parsed)
    _set_when(draft, parsed.when, parsed.when_precision, parsed)
    return draft


def _people(n: int) -> int:
    return min(max(int(n), 1), MAX_PEOPLE)


def _set_when(draft: Draft, when: tuple[datetime, datetime] | list[str] | None, precision: str | None,
              parsed: ParsedRequest) -> None:
    """Set the wanted time; one already over is kept, with the same time tomorrow to propose (never moved silently)."""
    draft.when = list(when) if isinstance(when, list) else _iso(when)
    draft.precision = precision if draft.when else None
    draft.past = bool(draft.when and parsed.when_past and parsed.when_next)
    draft.when_next = _iso(parsed.when_next) if draft.past else None
    if draft.when and parsed.when_past and not draft.past:
        draft.when, draft.precision = None, None  # over, and nothing to propose: to be agreed


def amend(draft: Draft, parsed: ParsedRequest) -> list[str]:
    """Apply a correction to the fields it names; the names of what changed, as the villager reads them."""
    found = parsed.corrections
    changed: list[str] = []
    if "when" in found:
        _set_when(draft, found["when"], found.get("when_precision"), parsed)
        changed.append("时间")
    if "phone" in found:
        draft.phone = clip(str(found["phone"]), PHONE_MAX)
        changed.append("电话")
    if "place" in found:
        draft.place = clip(str(found["place"]), PLACE_MAX)
        changed.append("地点")
    if "address" in found:
        draft.address = clip(str(found["address"]), PLACE_MAX)
        changed.append("地址")
    if "people" in found:
        draft.people = _people(found["people"])
        changed.append("人数")
    if "what" in found:
        draft.description = clip(f"{draft.description}（更正：{found['what']}）", MAX_TEXT) or ""
        changed.append("内容")
    return changed


def fill_from(draft: Draft, earlier: Draft) -> None:
    """Keep what an earlier message already said (a time, a phone…) where the need itself says nothing."""
    for name in ("phone", "place", "address"):
        if getattr(draft, name) is None:
            setattr(draft, name, getattr(earlier, name))
    if draft.when is None and earlier.when is not None:
        draft.when, draft.precision = earlier.when, earlier.precision
        draft.past, draft.when_next = earlier.past, earlier.when_next
    if draft.people == 1:
        draft.people = earlier.people


def order_of(draft: Draft) -> Order:
    """The action's input from a confirmed draft; the house address goes with the place (tasks.place)."""
    place = " ".join(p for p in (draft.place, draft.address) if p) or None
    new = draft.new_resident
    return Order(resident_id=draft.resident_id, category=draft.category, description=draft.description,
                 wanted=draft.window, phone=draft.phone, place=place, urgent=draft.urgent, media=draft.media,
                 new_resident=(str(new[0]), int(new[1])) if new else None, volunteers_needed=draft.people)


def draft_text(draft: Draft, now: datetime, tz: tzinfo, *, lead: str = "") -> str:
    """The draft as the villager checks it; an unsure category is asked, not guessed."""
    lines = [lead] if lead else []
    lines.append("请确认您的需求：" if draft.for_name is None else f"请确认为「{draft.for_name}」代点的需求：")
    lines += [
        f"类别：{_category_line(draft)}",
        f"村/社区：{draft.unit_name}",
        f"时间：{when_text(draft.window, draft.precision, now, tz)}",
        f"内容：{draft.description or '（语音/图片）'}",
    ]
    for label, value in (("地址", draft.address), ("地点", draft.place), ("电话", draft.phone)):
        if value:
            lines.append(f"{label}：{value}")
    if draft.people > 1:
        lines.append(f"人数：需要 {draft.people} 人")
    if draft.urgent:
        lines.append("紧急：是")
    if draft.media:
        lines.append(f"附件：{len(draft.media)} 个")
    if draft.new_resident:
        lines.append(f"（{draft.for_name}还没有登记，确认后为她/他建档，联系人是您）")
    if draft.unsure:
        lines.append("您要的是哪类帮助？请点一下对的那一类（或回复它前面的序号）；都不是就选「其他」，由站里的人帮您安排。")
        lines.append(f"点「确认」就按「{draft.category}」提交；不要了请点「取消」。")
    else:
        lines.append("没问题请点「确认」或回复 1；不要了请点「取消」或回复 2。"
                     "要改哪里直接说，例如「改成明天上午」「电话是139…」「要两个人」。")
    return "\n".join(lines)


def _category_line(draft: Draft) -> str:
    if not draft.unsure:
        return draft.category
    if draft.likely:
        return "还没定（看着像" + "或".join(f"「{c}」" for c in draft.likely) + "）"
    return "还没定"


def draft_buttons(draft: Draft) -> list[Button]:
    """确认 and 取消 for a settled draft; while the category is asked, the categories, then 取消.

    Asking, the categories come first so that "1" picks the likeliest kind rather than sending
    an unsure guess on its way (issue 11: "(1) 生活帮扶 (2) 助老助残 … (9) 其他"). The likeliest
    come first and 「其他…」 opens the rest; with nothing likely, or once opened, every category
    is offered, likeliest first, 其他 last. 确认 (send it as guessed: the station sorts it out)
    and 取消 come last.
    """
    if not draft.unsure:
        return list(CONFIRM_BUTTONS)
    if draft.likely and not draft.expanded:
        return [Button(c, c) for c in draft.likely] + [Button("其他…", MORE)] + CONFIRM_BUTTONS
    return [Button(c, c) for c in draft.choices] + CONFIRM_BUTTONS


def time_question(draft: Draft, now: datetime, tz: tzinfo) -> tuple[str, list[Button]]:
    """Say that the time asked for is over, and propose the same time tomorrow."""
    said, proposed = _window(draft.when), _window(draft.when_next)
    assert said is not None and proposed is not None, "only a past time with a proposal is asked about"
    return (f"{spoken_when(said[0], draft.precision, now, tz)}已经过了，"
            f"改成{spoken_when(proposed[0], draft.precision, now, tz)}可以吗？"), TIME_BUTTONS


def pressed(draft: Draft, typed: str) -> str:
    """What a reply to the draft stands for: a button's number becomes the button's text."""
    if typed.isdigit():
        buttons = draft_buttons(draft)
        n = int(typed)
        return buttons[n - 1].data if 0 < n <= len(buttons) else typed
    return typed
