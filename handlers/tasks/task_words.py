"""A volunteer's own words about their task ("干完了", "俺明天去不了了", "我也报名") → the command, offered.

docs/tasks.md: what a volunteer says about a task they hold maps to that task's command. The
bot does not act on a guess: it names the task and the command and offers it as a button
("是要报告任务 #3 完成吗？请发：完成 #3 小时数"). Someone holding several open tasks is asked which.
"我也报名" right after an activity card offers 报名 for the activity they were last told about.
Words like these from someone with no task are not taken for one: a volunteer is told they hold
none; anyone else's message is read as a request.
"""

from __future__ import annotations

from datetime import timedelta

from handlers.activities.texts import aref, signup_button, when_text
from handlers.core.context import Context
from handlers.core.messages import Button
from handlers.core.rights import member_team_ids
from handlers.core.texts import hours_text, ref
from handlers.language.request_parser import ParsedRequest
from storage.activities.activities import upcoming_for_teams
from storage.db import load
from storage.models import Task
from storage.models.activities import Activity
from storage.tasks.queries import latest_activity_offered, open_tasks_held_by

# How long after an activity card "我也报名" still means that activity.
SIGNUP_WINDOW = timedelta(days=3)
HOUR_CHOICES = (1, 2, 3, 4)
# The acts a volunteer reports about a task they hold (signup and accept concern no held task).
ABOUT_A_TASK = ("complete", "release", "help", "delay", "report", "arrived", "on_way")


async def answer_task_words(ctx: Context, parsed: ParsedRequest) -> bool:
    """Offer the command a volunteer's words mean; False when they are no volunteer's words (a request)."""
    if parsed.action == "signup":
        await _offer_signup(ctx)
        return True
    held = await open_tasks_held_by(ctx.session, ctx.person.id)
    if parsed.task_ref is not None:
        held = [t for t in held if t.id == parsed.task_ref] or held
    if not held:
        if ctx.person.is_volunteer and parsed.action in ABOUT_A_TASK:
            ctx.reply("您现在手上没有进行中的任务。查看您的任务请发：我的")
            return True
        return False
    if parsed.action == "accept":
        ctx.reply("要接哪个任务？请点任务卡片上的「接单」，或发：接单 #任务号")
        return True
    if len(held) > 1:
        _ask_which(ctx, held, parsed.action)
    elif parsed.action == "complete":
        _offer_complete(ctx, held[0], parsed.hours)
    elif parsed.action == "release":
        task = held[0]
        ctx.reply(f"是要放弃任务 {ref(task.id)}（{task.category}）吗？放弃后我会请队里其他人接手。\n"
                  f"确定的话请点「放弃」或发：放弃 {ref(task.id)}", [Button("放弃", f"放弃 {ref(task.id)}")])
    else:
        task = held[0]
        ctx.reply(f"收到，辛苦了！任务 {ref(task.id)}（{task.category}）：干完了请发「完成 {ref(task.id)} 小时数」，"
                  f"去不了请发「放弃 {ref(task.id)}」。有情况也可以直接打电话告诉居民或站长。",
                  [Button("完成", f"完成 {ref(task.id)}"), Button("放弃", f"放弃 {ref(task.id)}")])
    return True


def _offer_complete(ctx: Context, task: Task, hours: float | None) -> None:
    """Ask whether the task is done, with the hours said (or a choice of hours) as buttons."""
    done = f"完成 {ref(task.id)}"
    if hours is not None and 0 < hours <= 24:
        said = f"{hours_text(hours)}小时"
        ctx.reply(f"是要报告任务 {ref(task.id)}（{task.category}）完成、用了 {said} 吗？请发：{done} {said}",
                  [Button(f"完成，{said}", f"{done} {said}")])
        return
    ctx.reply(f"是要报告任务 {ref(task.id)}（{task.category}）完成吗？请发：{done} 小时数\n用了多长时间？点一下就行：",
              [Button(f"{h}小时", f"{done} {h}小时") for h in HOUR_CHOICES])


def _ask_which(ctx: Context, held: list[Task], action: str | None) -> None:
    """Several open tasks: ask which one, each as a button for the command the words meant."""
    verb = {"complete": "完成", "release": "放弃"}.get(action or "", "")
    lines = [f"您手上有 {len(held)} 个任务，说的是哪一个？"]
    lines += [f"{ref(t.id)}【{t.category}】{t.description[:20]}" for t in held[:5]]
    if verb:
        lines.append(f"请点一下，或发：{verb} #任务号")
        buttons = [Button(f"{verb} {ref(t.id)}", f"{verb} {ref(t.id)}") for t in held[:5]]
    else:
        lines.append("干完了请发「完成 #任务号 小时数」，去不了请发「放弃 #任务号」。")
        buttons = [Button(f"完成 {ref(t.id)}", f"完成 {ref(t.id)}") for t in held[:5]]
    ctx.reply("\n".join(lines), buttons)


async def _offer_signup(ctx: Context) -> None:
    """Offer 报名 for the activity the person was last told about (else the newest of their teams')."""
    activity = None
    activity_id = await latest_activity_offered(ctx.session, ctx.person.id, ctx.now - SIGNUP_WINDOW)
    if activity_id is not None:
        activity = await load(ctx.session, Activity, activity_id)
    if activity is None or activity.status != "planned" or activity.starts_at <= ctx.now:
        upcoming = await upcoming_for_teams(session=ctx.session, team_ids=sorted(await member_team_ids(ctx.act)),
                                            now=ctx.now)
        fresh = [a for a in upcoming if a.starts_at > ctx.now and a.created_at is not None
                 and a.created_at >= ctx.now - SIGNUP_WINDOW]
        activity = max(fresh, key=lambda a: a.id) if fresh else None
    if activity is None:
        ctx.reply("想报名哪个活动？发「活动」看看近期的活动，再发：报名 #活动号")
        return
    ctx.reply(f"是要报名{aref(activity.id)}【{activity.title}】吗？\n时间：{when_text(ctx.tz, activity.starts_at, activity.ends_at)}\n"
              f"确定的话请点「报名」或发：报名 #{activity.id}", signup_button(activity.id))
