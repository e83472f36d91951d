"""Sending to WeCom customer groups: one group-message task per captain, polled, reminded, fallen back.

No channel sends platform `wecom_customer` rows, so the relay leaves them; this sender takes them
each round (`run_once`, every minute beside the relay):

1. **dispatch** — rows that must not wait on a captain (anything but a broadcast, a new activity,
   a wish to claim or the moral-day message: task offers, urgent and emergency notices) and rows
   to groups whose quota is spent go the other ways at once; the rest are grouped per captain
   and message, and each group becomes ONE task for its captain (one tap sends it everywhere).
   The captain is told in the WeCom app what waits: 「有 1 条群发待确认：…，发送到 …」.
2. **poll** — each waiting task's result per group is recorded (the outbox row becomes sent);
   after `remind_after` one reminder; at the deadline the task is withdrawn and its unsent
   groups' members are told directly (Official Account, Telegram …) — nobody is missed.
3. **refresh** — once a day, the groups' names, owners and member counts.

Every group message ends with how to answer, since villagers cannot talk to the app in the group.
"""

from __future__ import annotations

import asyncio
import calendar
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from bot.channels.wecom.customer_groups import (
    QUOTA_SPENT_STATUS,
    SEND_SENT,
    SEND_WAITING,
    CustomerGroupsApi,
    TaskCreated,
)
from storage.clock import Clock
from storage.db import load
from storage.messaging import group_tasks as store
from storage.models import GroupMessageTask, OutboxMessage
from storage.people.customer_groups import remember_groups

log = logging.getLogger(__name__)

# What a captain is asked to confirm: messages that can wait a while for one tap.
CONFIRMABLE = ("broadcast:", "activity:", "wish:", "moral_day:")
# Concurrent task creations (each one HTTP call to WeCom).
PARALLEL = 16
# WeCom keeps temporary media three days; a QR image is uploaded again a little before.
MEDIA_TTL = timedelta(days=2, hours=20)
SceneQr = Callable[[str], Awaitable[bytes | None]]


def quota_period(rule: str, local: datetime) -> tuple[str, int]:
    """The quota period a local instant falls in and its limit: WeCom's default, one a day, or seven a week."""
    if rule == "day":
        return local.strftime("%Y-%m-%d"), 1
    if rule == "week":
        year, week, _ = local.isocalendar()
        return f"{year}-W{week:02d}", 7
    return local.strftime("%Y-%m"), calendar.monthrange(local.year, local.month)[1]


def answer_hint(ref: str | None, qr: bool = False) -> str:
    """How someone in the group answers: through the Official Account, not the group."""
    kind, _, ident = (ref or "").partition(":")
    example = {"activity": f"报名 #{ident}", "wish": f"认领 #{ident}"}.get(kind)
    how = f"发送「{example}」" if example else "用菜单"
    where = "扫下面的二维码关注本站公众号（也就加入了本队）" if qr else "到本站公众号（扫群公告里的二维码即可关注）"
    return f"\n——\n在群里回复不了哦：请{where}，{how}。"


def title_of(text: str) -> str:
    """A short title for the captain's notice: the message's first line, without the header's emoji."""
    lines = [line.strip() for line in text.strip().splitlines() if line.strip()] or ["消息"]
    # "📢「科技服务队」队长 陈刚：" heads a broadcast: what it says is on the next line.
    first = lines[1] if len(lines) > 1 and lines[0].endswith("：") else lines[0]
    first = first.lstrip("📢🎁🗓️ ").strip()
    return first[:20] + ("…" if len(first) > 20 else "")


@dataclass
class SenderStats:
    """What one round did (for tests, the bench and the log)."""

    tasks: int = 0
    groups: int = 0
    fallen_back: int = 0
    direct: int = 0
    sent: int = 0
    reminded: int = 0
    refused: list[str] = field(default_factory=list)


class CustomerGroupSender:
    """Turns customer-group outbox rows into confirmed group messages, or into direct messages."""

    def __init__(self, sessions: Any, clock: Clock, api: CustomerGroupsApi, *, tz: ZoneInfo, quota: str = "month",
                 remind_after: timedelta = timedelta(hours=2), deadline: timedelta = timedelta(hours=6),
                 scene_qr: SceneQr | None = None) -> None:
        self.sessions = sessions
        self.clock = clock
        self.api = api
        self.tz = tz
        self.quota = quota
        self.remind_after = remind_after
        self.deadline = deadline
        self.last_refresh: datetime | None = None
        # The Official Account's QR code (PNG) for a scene, when the account is configured; the
        # WeCom media_id of each scene's image, uploaded once per `MEDIA_TTL`.
        self.scene_qr = scene_qr
        self._media: dict[str, tuple[str, datetime]] = {}
        self._qr_lock = asyncio.Lock()

    async def run_once(self) -> SenderStats:
        """One round: dispatch what is owed, poll what waits, refresh the groups once a day."""
        stats = SenderStats()
        while await self.dispatch(stats):  # a batch at a time, until nothing is owed
            pass
        await self.poll(stats)
        now = self.clock.now()
        if self.last_refresh is None or now - self.last_refresh >= timedelta(days=1):
            await self.refresh()
        return stats

    async def dispatch(self, stats: SenderStats | None = None) -> int:
        """Owed rows → tasks per captain (or the other ways, at once); how many rows were taken."""
        stats = stats if stats is not None else SenderStats()
        now = self.clock.now()
        period, limit = quota_period(self.quota, now.astimezone(self.tz))
        async with self.sessions() as session:
            rows = await store.claim_rows(session, await store.owed_rows(session, now=now), now=now)
            if not rows:
                return 0
            known = await store.groups_by_chat(session, [r.address or "" for r in rows])
            batches: dict[tuple[str, str, str | None], list[OutboxMessage]] = {}
            notes: list[tuple[str, str]] = []  # (captain's WeCom userid, what they are told)
            for row in rows:
                group = known.get(row.address or "")
                if row.kind == "edit":  # a card's later state: the group never had the card
                    row.status, row.error = "undeliverable", "客户群发出的消息不能修改"
                elif not (row.ref or "").startswith(CONFIRMABLE):
                    stats.direct += await store.fall_back(session, row, reason="不等队长确认：已直接告诉队员", now=now)
                    stats.fallen_back += 1
                elif group is None:
                    stats.direct += await store.fall_back(session, row, reason="不认识这个客户群", now=now)
                    stats.fallen_back += 1
                else:
                    batches.setdefault((row.text, row.ref or "", row.ref), []).append(row)
            plans: list[tuple[str, str, str | None, list[OutboxMessage]]] = []
            taken = await self._take_quota(session, [r for batch in batches.values() for r in batch], period, limit)
            for (text, _, ref), batch in batches.items():
                spent = [r for r in batch if r.id not in taken]
                batch = [r for r in batch if r.id in taken]
                for row in spent:
                    stats.direct += await store.fall_back(session, row, reason=f"客户群本期群发次数已用完（{limit} 条）",
                                                          now=now, owner=known[row.address or ""].owner)
                    stats.fallen_back += 1
                notes += [(known[r.address or ""].owner, f"「{known[r.address or ''].name}」本期的群发次数（{limit} 条）"
                           f"已用完，「{title_of(r.text)}」已改为私信告诉群里的队员。") for r in spent]
                per_owner: dict[str, list[OutboxMessage]] = {}
                for row in batch:
                    per_owner.setdefault(known[row.address or ""].owner, []).append(row)
                plans += [(owner, text, ref, owned) for owner, owned in per_owner.items()]
            gate = asyncio.Semaphore(PARALLEL)

            codes = await store.invite_codes(session, [r.team_id for r in rows if r.team_id is not None])

            async def create(owner: str, text: str, ref: str | None, owned: list[OutboxMessage]) -> Any:
                async with gate:
                    code = codes.get(owned[0].team_id or 0)
                    media = await self._qr_media(f"join_{code}") if code else None
                    return await self.api.create_task(owner, [r.address or "" for r in owned],
                                                      text + answer_hint(ref, media is not None), media)

            answers = await asyncio.gather(*(create(*plan) for plan in plans), return_exceptions=True)
            created: list[store.NewTask] = []
            waiting_names: list[tuple[str, str, list[str]]] = []
            for (owner, text, ref, owned), answer in zip(plans, answers, strict=True):
                if isinstance(answer, BaseException):  # WeCom unreachable: the rows are tried next round
                    await store.refund_quota(session, [r.address or "" for r in owned], period=period)
                    await store.release_rows(session, owned)
                    log.warning("group task for %s not created: %r", owner, answer)
                    continue
                if not isinstance(answer, TaskCreated):
                    await store.refund_quota(session, [r.address or "" for r in owned], period=period)
                    stats.refused.append(f"{owner}: {answer.errcode} {answer.reason}")
                    for row in owned:
                        stats.direct += await store.fall_back(session, row, reason=f"企业微信不接受群发：{answer.reason}",
                                                              now=now, owner=owner)
                        stats.fallen_back += 1
                    continue
                failed = set(answer.failed)
                for row in [r for r in owned if r.address in failed]:
                    stats.direct += await store.fall_back(session, row, reason="企业微信拒收：群发次数已满", now=now,
                                                          owner=owner)
                    stats.fallen_back += 1
                waiting = [r for r in owned if r.address not in failed]
                if not waiting:
                    continue
                created.append(store.NewTask(answer.msgid, owner, text, ref, [(r, period) for r in waiting]))
                waiting_names.append((owner, text, [known[r.address or ""].name for r in waiting]))
                stats.groups += len(waiting)
            stats.tasks += await store.open_tasks(session, created, now=now, remind_at=now + self.remind_after,
                                                  deadline=now + self.deadline)
            counts = await store.waiting_counts(session, [owner for owner, _, _ in waiting_names])
            notes += [(owner, f"有 {counts.get(owner, 1)} 条群发待确认：{title_of(text)}，发送到 {'、'.join(names)}。"
                       "请在企业微信「客户联系 → 群发助手」里确认发送。") for owner, text, names in waiting_names]
            await self._tell(session, notes, now)
            await session.commit()
        return len(rows)

    async def _qr_media(self, scene: str) -> str | None:
        """The WeCom media_id of the Official Account's QR code for `scene` (None without one)."""
        if self.scene_qr is None:
            return None
        async with self._qr_lock:  # tasks created side by side upload a scene's image once
            now = self.clock.now()
            cached = self._media.get(scene)
            if cached is not None and now - cached[1] < MEDIA_TTL:
                return cached[0]
            try:
                png = await self.scene_qr(scene)
                if png is None:
                    return None
                media_id = await self.api.upload_image(f"{scene}.png", png)
            except Exception as exc:  # the QR code is a help, not a condition: the text says how to answer
                log.warning("no QR image for scene %s: %r", scene, exc)
                return None
            self._media[scene] = (media_id, now)
            return media_id

    @staticmethod
    async def _take_quota(session: Any, rows: list[OutboxMessage], period: str, limit: int) -> set[int]:
        """The rows whose group still had quota: one slot per row, a whole layer of groups per statement.

        A group owed two messages this round takes two slots: its first row in the first layer,
        its second in the next.
        """
        layers: list[dict[str, OutboxMessage]] = []
        for row in rows:
            layer = next((lay for lay in layers if row.address not in lay), None)
            if layer is None:
                layer = {}
                layers.append(layer)
            layer[row.address or ""] = row
        taken: set[int] = set()
        for layer in layers:
            got = await store.take_quota(session, list(layer), period=period, limit=limit)
            taken |= {row.id for chat, row in layer.items() if chat in got}
        return taken

    async def poll(self, stats: SenderStats | None = None) -> SenderStats:
        """Record each waiting task's results; remind once; at the deadline, fall back."""
        stats = stats or SenderStats()
        async with self.sessions() as session:
            notes: list[tuple[str, str]] = []
            for task in await store.waiting_tasks(session):
                await self._poll_task(session, task, stats, notes)
            await self._tell(session, notes, self.clock.now())
            await session.commit()
        return stats

    async def _poll_task(self, session: Any, task: GroupMessageTask, stats: SenderStats,
                         notes: list[tuple[str, str]]) -> None:
        now = self.clock.now()
        targets = await store.targets_of(session, task.id)
        results = {r.chat_id: r for r in await self.api.send_results(task.msgid or "", task.sender)}
        for target in [t for t in targets if t.status == "waiting"]:
            result = results.get(target.chat_id)
            if result is None or result.status == SEND_WAITING:
                continue
            if result.status == SEND_SENT:
                at = datetime.fromtimestamp(result.send_time, now.tzinfo) if result.send_time else now
                stats.sent += int(await store.mark_target_sent(session, target, at=at))
                target.status = "sent"
            elif await store.close_target(session, target, status="fallback"):
                row = await load(session, OutboxMessage, target.outbox_id)
                why = "群发次数已满" if result.status == QUOTA_SPENT_STATUS else "没有发出"
                stats.direct += await store.fall_back(session, row, reason=f"企业微信：{why}", now=now,
                                                      owner=task.sender)
                stats.fallen_back += 1
                target.status = "fallback"
        open_targets = [t for t in targets if t.status == "waiting"]
        if not open_targets:
            await store.finish_task(session, task, status="sent", now=now)
            return
        if now >= task.deadline:
            if not await store.finish_task(session, task, status="fallen_back", now=now):
                return  # another worker gave it up
            await self.api.cancel(task.msgid or "")
            for target in open_targets:
                if not await store.close_target(session, target, status="fallback"):
                    continue
                row = await load(session, OutboxMessage, target.outbox_id)
                stats.direct += await store.fall_back(session, row, reason="队长到期没有确认群发，已改为私信", now=now,
                                                      owner=task.sender)
                stats.fallen_back += 1
                await store.refund_quota(session, [target.chat_id], period=target.period)
            notes.append((task.sender, f"「{title_of(task.text)}」到期没有确认，已撤回群发，改为私信告诉群里的队员。"))
        elif now >= task.remind_at and task.reminded_at is None and await store.mark_reminded(session, task, now=now):
            await self.api.remind(task.msgid or "")
            stats.reminded += 1

    async def refresh(self) -> int:
        """Read every customer group's name, owner and member count from WeCom; how many groups."""
        chat_ids = await self.api.list_groups()
        infos = [g for g in await asyncio.gather(*(self.api.group(c) for c in chat_ids)) if g is not None]
        async with self.sessions() as session:
            await remember_groups(session, [(g.chat_id, g.name, g.owner, g.member_count) for g in infos],
                                  now=self.clock.now())
            await session.commit()
        self.last_refresh = self.clock.now()
        return len(infos)

    async def _tell(self, session: Any, notes: list[tuple[str, str]], now: datetime) -> None:
        """Tell captains in the WeCom app (those the app knows as people; others are only logged)."""
        people = await store.captains_on_wecom(session, [owner for owner, _ in notes])
        for owner, text in notes:
            if owner not in people:
                log.info("customer-group owner %s is nobody we know: %s", owner, text)
        await store.owe_captain_notices(session, [(*people[o], o, t) for o, t in notes if o in people], now=now)
