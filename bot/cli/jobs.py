"""`xinfeng jobs run|list` and `xinfeng schedule list|set|clear`: operating the scheduler by hand.

`jobs run --now <ISO>` runs every job once as if it were that instant and prints what it
enqueued; it takes no lease (the sent-log alone makes a repeat impossible), so it is safe next
to a running `xinfeng run`. The demo county's default rule (北票: 每月5日 08:00) is seeded here.
"""

from __future__ import annotations

import argparse
import sys
from collections import defaultdict
from datetime import datetime, tzinfo
from typing import TYPE_CHECKING, Any

from bot.cli.runtime import with_runtime

if TYPE_CHECKING:
    from bot.runtime import Runtime
    from storage.db import Sessions

DEMO_RULES = (("BP", "每月5日 08:00"),)  # 北票: the 5th of every month (PRODUCT.md glossary)
SHOW_PER_KIND = 30


def add_commands(sub: Any) -> None:
    """Register the `jobs` and `schedule` sub-commands on the main parser."""
    jobs = sub.add_parser("jobs", help="run the scheduled jobs now, or list upcoming firings")
    jobs_sub = jobs.add_subparsers(dest="jobs_action", required=True)
    run = jobs_sub.add_parser("run", help="run every job once as of --now and print what it enqueued")
    run.add_argument("--now", required=True, help="ISO datetime, e.g. 2026-12-05T08:00:00+08:00 (no offset: region time)")
    run.add_argument("--only", default="", help="comma-separated job names (default: all)")
    run.set_defaults(run=with_runtime(_jobs_run))
    lst = jobs_sub.add_parser("list", help="upcoming firings")
    lst.add_argument("--from", dest="start", default="", help="ISO datetime (default: now)")
    lst.add_argument("--days", type=int, default=35)
    lst.set_defaults(run=with_runtime(_jobs_list))
    sched = sub.add_parser("schedule", help="recurring rules per org unit (the moral activity day)")
    sched_sub = sched.add_subparsers(dest="schedule_action", required=True)
    sched_sub.add_parser("list", help="every rule, with its next firing").set_defaults(run=with_runtime(_schedule_list))
    st = sched_sub.add_parser("set", help="xinfeng schedule set UNIT_CODE 每月5日 8点 (or: 关闭)")
    st.add_argument("unit_code")
    st.add_argument("rule", nargs="+")
    st.add_argument("--job", default="moral_day")
    st.set_defaults(run=with_runtime(_schedule_change))
    cl = sched_sub.add_parser("clear", help="remove a unit's own rule: it follows the unit above again")
    cl.add_argument("unit_code")
    cl.add_argument("--job", default="moral_day")
    cl.set_defaults(run=with_runtime(_schedule_change))


def parse_instant(text: str, tz: tzinfo) -> datetime:
    """An ISO datetime; one without an offset is read in the region's time zone."""
    at = datetime.fromisoformat(text.strip())
    return at if at.tzinfo is not None else at.replace(tzinfo=tz)


async def _jobs_run(rt: Runtime, args: argparse.Namespace) -> int:
    """Run every job (or `--only` some) as of `--now`, then print what each did and what was enqueued."""
    from scheduler.job import JobRun
    from scheduler.runner import JOBS, run_jobs
    from storage.scheduling.enqueued import enqueued_after, last_outbox_id

    sessions, tz = rt.sessions, rt.settings.tz
    try:
        now = parse_instant(args.now, tz)
    except ValueError:
        print(f"时间格式不对：{args.now}（例如 2026-12-05T08:00:00+08:00）", file=sys.stderr)
        return 2
    only = [j.strip() for j in args.only.split(",") if j.strip()] or None
    unknown = sorted(set(only or []) - set(JOBS))
    if unknown:
        print(f"没有这些任务：{', '.join(unknown)}（可选：{', '.join(JOBS)}）", file=sys.stderr)
        return 2
    async with sessions() as session:
        before = await last_outbox_id(session)
    run = JobRun(now=now, tz=tz, retention_days=rt.settings.retention_days)
    done = await run_jobs(sessions, run, only)
    print(f"xinfeng jobs run — 按 {now.astimezone(tz):%Y-%m-%d %H:%M %z} 运行一次")
    notes: dict[str, list[str]] = defaultdict(list)
    for job, text in run.notes:
        notes[job].append(text)
    for job, n in done.items():
        status = "失败（见日志）" if n < 0 else f"{n}"
        print(f"  {job}: {status}" + (f" — {'；'.join(notes[job])}" if notes[job] else ""))
    async with sessions() as session:
        rows = await enqueued_after(session, before)
    print(f"入队消息 {len(rows)} 条" + ("（由 xinfeng run 的投递程序发出）：" if rows else "：没有需要发送的。"))
    by_kind: dict[str, list[Any]] = defaultdict(list)
    for row in rows:
        by_kind[row.kind].append(row)
    for kind, items in by_kind.items():
        print(f"  {kind}（{len(items)} 条）")
        for row in items[:SHOW_PER_KIND]:
            where = f"{row.platform}:{row.address}" if row.platform else "未绑定聊天账号"
            who = f"群 {row.recipient_label}" if row.person_id is None else row.recipient_label
            print(f"    [{who} · {where}] {row.text.splitlines()[0]}")
        if len(items) > SHOW_PER_KIND:
            print(f"    …… 另有 {len(items) - SHOW_PER_KIND} 条")
    return 1 if any(n < 0 for n in done.values()) else 0


async def _jobs_list(rt: Runtime, args: argparse.Namespace) -> int:
    """Print every firing from `--from` (default now) for `--days` days, overdue ones flagged."""
    from scheduler.upcoming import upcoming

    sessions, tz, now = rt.sessions, rt.settings.tz, rt.clock.now()
    try:
        start = parse_instant(args.start, tz) if args.start else now
    except ValueError:
        print(f"时间格式不对：{args.start}", file=sys.stderr)
        return 2
    async with sessions() as session:
        firings = await upcoming(session, start, tz, days=max(1, args.days))
    print(f"{start.astimezone(tz):%Y-%m-%d %H:%M} 起 {args.days} 天内的计划（{len(firings)} 项）：")
    for f in firings:
        flag = "  ⚠ 逾期待补发" if f.overdue else ""
        print(f"  {f.at.astimezone(tz):%Y-%m-%d %H:%M}  {f.job:<18} {f.what}{flag}")
    return 0


async def _schedule_list(rt: Runtime, args: argparse.Namespace) -> int:
    """Print every rule with its next firing."""
    from storage.scheduling.rules import list_rules, recurrence_of

    sessions, tz, now = rt.sessions, rt.settings.tz, rt.clock.now()
    async with sessions() as session:
        rules = await list_rules(session)
    if not rules:
        print("还没有任何规则。设置：xinfeng schedule set BP 每月5日 8点")
        return 0
    for rule, unit in rules:
        if rule.enabled:
            rec = recurrence_of(rule)
            nxt = rec.next_due(now, tz).astimezone(tz)
            what = f"{rec.describe():<18} 下次 {nxt:%Y-%m-%d %H:%M}"
        else:
            what = "已关闭（本单位及下属不发送）"
        print(f"{rule.job:<10} {unit.code:<12} {unit.name}  {what}  （设于 {rule.updated_at.astimezone(tz):%Y-%m-%d %H:%M}）")
    return 0


async def _schedule_change(rt: Runtime, args: argparse.Namespace) -> int:
    """Set, switch off (`关闭`) or clear a unit's rule, audited as done from the command line."""
    from handlers.activities.moral_day import OFF_WORDS, rule_text
    from handlers.language.rule_parser import parse_rule
    from storage import audit
    from storage.people.network import unit_by_code
    from storage.scheduling.rules import clear_rule, set_rule

    sessions, tz, now = rt.sessions, rt.settings.tz, rt.clock.now()
    async with sessions() as session:
        unit = await unit_by_code(session, args.unit_code)
        if unit is None:
            print(f"没有代码为 {args.unit_code} 的单位。", file=sys.stderr)
            return 1
        if args.schedule_action == "clear":
            removed = await clear_rule(session=session, unit_id=unit.id, job=args.job)
            audit.record(session, at=now, actor_id=None, action=f"{args.job}_set", target_type="org_unit",
                         target_id=unit.id, rule="inherit", via="cli")
            await session.commit()
            print(f"{unit.name}：{'已改为跟随上级' if removed else '本来就跟随上级'}。")
            return 0
        text = " ".join(args.rule)
        rec = None if text in OFF_WORDS or text.lower() == "off" else parse_rule(text)
        if rec is None and not (text in OFF_WORDS or text.lower() == "off"):
            print(f"看不懂规则「{text}」。例如：每月5日 8点、每月第一个周六 9点、关闭", file=sys.stderr)
            return 1
        await set_rule(session=session, unit_id=unit.id, job=args.job, recurrence=rec, now=now)
        audit.record(session, at=now, actor_id=None, action=f"{args.job}_set", target_type="org_unit",
                     target_id=unit.id, rule=rec.describe() if rec else "off", via="cli")
        await session.commit()
    if rec is None:
        print(f"{unit.name}及下属单位：{args.job} 已关闭。")
    else:
        nxt = rec.next_due(now, tz).astimezone(tz)
        print(f"{unit.name}及下属单位：{args.job} = {rule_text(rec)}，下次 {nxt:%Y-%m-%d %H:%M}。")
    return 0


async def seed_demo_schedules(sessions: Sessions, now: datetime) -> list[str]:
    """Give the demo county its moral activity day, unless a rule is already set there."""
    from handlers.language.rule_parser import parse_rule
    from storage.people.network import unit_by_code
    from storage.scheduling.rules import MORAL_DAY, own_rule, set_rule

    seeded = []
    async with sessions() as session:
        for code, text in DEMO_RULES:
            unit = await unit_by_code(session, code)
            rec = parse_rule(text)
            if unit is None or rec is None:
                continue
            if await own_rule(session, unit.id, MORAL_DAY) is None:
                await set_rule(session=session, unit_id=unit.id, job=MORAL_DAY, recurrence=rec, now=now)
                seeded.append(f"{unit.name} 道德活动日 {rec.describe()}")
        await session.commit()
    return seeded

