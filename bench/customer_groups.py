"""Benchmark: the moral day at province scale with 60 % of teams holding WeCom customer groups.

Run by hand, from the repository root:

    .venv/bin/python bench/customer_groups.py                       # SQLite and PostgreSQL
    .venv/bin/python bench/customer_groups.py --backend sqlite --volunteers 100000

It generates the province (`bench/province.py`: 20,000 teams, 60 % with a bound group), turns
every bound group into a customer group (客户群) owned by a captain — each captain owns the
groups of two teams — and marks 5 % of the groups' monthly quota as spent. Then it runs the
real `moral_day` job (which writes one outbox row per group) and the customer-group sender's
dispatch against the fake WeCom server (a real local HTTP server, tests/bot/channels/wechat),
timing both. It checks: one task per captain (not per group), every task's groups are that
captain's, and a quota-spent group got no task (its members were told directly). Aim: < 60 s.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from sqlalchemy import func, select, text  # noqa: E402

from scheduler_fanout import DUE, PG_DEFAULT, TZ, _engine, drop, prepare  # noqa: E402
from storage.db import create_engine, session_factory  # noqa: E402


async def customer_groups(engine) -> int:
    """Every bound group becomes a customer group of captain `cap<(id+1)/2>`; 5 % have spent their quota."""
    async with engine.begin() as conn:
        ts = "'2026-11-25T00:00:00+00:00'" if engine.dialect.name == "sqlite" else "TIMESTAMPTZ '2026-11-25Z'"
        await conn.execute(text("UPDATE team_groups SET platform = 'wecom_customer', chat_id = 'wr' || id"))
        await conn.execute(text(
            "INSERT INTO wecom_customer_groups (id, chat_id, name, owner, member_count, refreshed_at) "
            f"SELECT id, chat_id, coalesce(title, ''), 'cap' || ((id + 1) / 2), 60, {ts} FROM team_groups"))
        await conn.execute(text("INSERT INTO wecom_group_quota (chat_id, period, used) "
                                "SELECT chat_id, '2026-12', 31 FROM team_groups WHERE id % 20 = 0"))
        return int((await conn.execute(text("SELECT count(*) FROM team_groups"))).scalar_one())


class InProcess:
    """The fake's add_msg_template rules without HTTP: the fake server shares this process's GIL,
    so over HTTP the bench would time the fake serving as much as the sender (`--api http` does)."""

    def __init__(self, customer, members) -> None:
        self.customer, self.members, self.count = customer, members, 0

    async def create_task(self, sender: str, chat_ids: list[str], text: str):
        from bot.channels.wecom.customer_groups import TaskCreated, TaskRefused
        from tests.bot.channels.wechat.fake_customer_groups import GroupTask

        if sender not in self.members:
            return TaskRefused(40003, "invalid userid", gone=True)
        mine = [c for c in chat_ids if self.customer.groups.get(c, {}).get("owner") == sender]
        self.count += 1
        msgid = f"msg-bench-{self.count}"
        self.customer.tasks[msgid] = GroupTask(msgid, sender, mine, text, DUE)
        return TaskCreated(msgid, tuple(c for c in chat_ids if c not in mine))


async def run(url: str, schema: str | None, args: argparse.Namespace) -> None:
    """Prepare, fan out the moral day, dispatch the customer-group tasks, check and report."""
    from bot.channels.wechat.api import api_http_client, build_api
    from bot.channels.wecom.customer_groups import CustomerGroupsApi
    from bot.channels.wecom.group_sender import CustomerGroupSender, SenderStats
    from scheduler.job import JobRun
    from scheduler.runner import run_jobs
    from storage.clock import FixedClock
    from storage.models import CUSTOMER_PLATFORM, CustomerGroup, GroupMessageTarget, GroupMessageTask, OutboxMessage
    from tests.bot.channels.wechat.fake_customer_groups import install
    from tests.bot.channels.wechat.fake_wechat_api import FakeWeChatApi

    made = await prepare(url, schema, args.volunteers, args.teams, 0.6)
    engine = _engine(url, schema)
    groups = await customer_groups(engine)
    print(f"generated: {made}; customer groups: {groups:,}", flush=True)
    sessions = session_factory(engine)
    clock = FixedClock(DUE)
    started = time.perf_counter()
    fanned = await run_jobs(sessions, JobRun(now=DUE, tz=TZ), ["moral_day"])
    fanout_s = time.perf_counter() - started
    fake = FakeWeChatApi(clock, app_id="wx", app_secret="s", corp_id="ww", corp_secret="cs", agent_id=1,
                         template_ids=set())
    fake.start()
    customer = install(fake)
    async with sessions() as s:
        for g in (await s.execute(select(CustomerGroup))).scalars():
            customer.add_group(g.chat_id, g.name, g.owner, 0)
            fake.wecom.members.add(g.owner)
    api = build_api(name="bench", base_url=fake.base_url + "/wecom", clock=clock, wecom=True, account_id="ww",
                    secret="cs", http=api_http_client())
    calls = CustomerGroupsApi(api) if args.api == "http" else InProcess(customer, fake.wecom.members)
    sender = CustomerGroupSender(sessions, clock, calls, tz=TZ)
    stats = SenderStats()
    started = time.perf_counter()
    while await sender.dispatch(stats):
        pass
    dispatch_s = time.perf_counter() - started
    await api.http.aclose()
    fake.stop()
    async with sessions() as s:
        tasks = (await s.execute(select(func.count(GroupMessageTask.id)))).scalar_one()
        owners = (await s.execute(select(func.count(func.distinct(GroupMessageTask.sender))))).scalar_one()
        per_message = len((await s.execute(select(GroupMessageTask.sender, GroupMessageTask.text).distinct())).all())
        targets = (await s.execute(select(func.count(GroupMessageTarget.id)))).scalar_one()
        spent_with_task = (await s.execute(select(func.count(GroupMessageTarget.id)).join(
            OutboxMessage, OutboxMessage.id == GroupMessageTarget.outbox_id).where(
            OutboxMessage.address.in_(select(text("chat_id FROM wecom_group_quota WHERE used >= 31")))))).scalar_one()
        confirming = (await s.execute(select(func.count(OutboxMessage.id)).where(
            OutboxMessage.platform == CUSTOMER_PLATFORM, OutboxMessage.status == "confirming"))).scalar_one()
    ok = tasks == per_message == len(customer.tasks) and targets == confirming and spent_with_task == 0
    print(f"  moral_day fan-out: {fanned['moral_day']:,} rows in {fanout_s:.1f} s")
    print(f"  dispatch: {stats.tasks:,} tasks for {owners:,} captains (one per captain and text: the moral-day "
          f"text names the region) covering {stats.groups:,} groups; "
          f"{stats.fallen_back:,} quota-spent groups → {stats.direct:,} direct messages; {dispatch_s:.1f} s")
    print(f"  one task per captain, quota respected: {'OK' if ok else 'WRONG'}; "
          f"target < 60 s: {'OK' if fanout_s + dispatch_s < 60 else 'OVER'} ({fanout_s + dispatch_s:.1f} s)",
          flush=True)
    await engine.dispose()


async def one_backend(backend: str, args: argparse.Namespace) -> None:
    path, schema = None, None
    if backend == "sqlite":
        path = Path(args.workdir) / f"cg-{uuid.uuid4().hex[:6]}.db"
        path.parent.mkdir(parents=True, exist_ok=True)
        url = f"sqlite+aiosqlite:///{path}"
    else:
        url, schema = args.pg_url, "bench_" + uuid.uuid4().hex[:10]
        admin = create_engine(url)
        async with admin.begin() as conn:
            await conn.execute(text(f'CREATE SCHEMA "{schema}"'))
        await admin.dispose()
    print(f"\n== {backend}: {args.volunteers:,} volunteers, {args.teams:,} teams, API {args.api} ==", flush=True)
    try:
        await run(url, schema, args)
    finally:
        await drop(url, schema, path)


def main() -> None:
    """Parse arguments and run."""
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--backend", choices=["sqlite", "postgresql", "both"], default="both")
    p.add_argument("--volunteers", type=int, default=200_000)
    p.add_argument("--teams", type=int, default=20_000)
    p.add_argument("--pg-url", default=os.environ.get("XINFENG_BENCH_DATABASE_URL")
                   or os.environ.get("XINFENG_TEST_DATABASE_URL") or PG_DEFAULT)
    p.add_argument("--workdir", default="/tmp/xinfeng-bench")
    p.add_argument("--api", choices=["inprocess", "http"], default="inprocess",
                   help="create the tasks in process (default) or over HTTP against the fake WeCom server")
    args = p.parse_args()
    for backend in (["sqlite", "postgresql"] if args.backend == "both" else [args.backend]):
        asyncio.run(one_backend(backend, args))


if __name__ == "__main__":
    main()
