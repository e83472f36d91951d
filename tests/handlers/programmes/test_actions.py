"""The programmes' actions called directly, as any caller would: each checks who acts, and a refusal
is audited with its reason and target and changes nothing — no row, no message."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from zoneinfo import ZoneInfo

from sqlalchemy import func, select

from handlers.core.act import Act, Refused
from handlers.programmes.actions.pairing import Visited, log_visit
from handlers.programmes.actions.points import (
    Stocked,
    redeem,
    set_points_rule,
    stock_goods,
)
from handlers.programmes.actions.wishes import (
    Claimed,
    claim_wish,
    confirm_wish,
    fulfil_wish,
    publish_wish,
    submit_wish,
)
from storage.models import AuditEntry, Person
from storage.models.pairings import PairingVisit
from storage.models.points import Goods, PointsAccount, PointsRule, Redemption
from storage.models.wishes import Wish
from storage.programmes.pairings import add_pairing
from tests.conftest import TZ_NAME
from tests.handlers.programmes.scenarios import (
    code_of,
    earn,
    grant,
    wish_publish,
    wish_submit,
)


@asynccontextmanager
async def acting(chat, name: str) -> AsyncIterator[Act]:
    """An Act for `name` in a fresh transaction, committed at the end (as the engine would)."""
    async with chat.sessions() as s:
        person = await s.get(Person, chat.ids[name])
        act = Act(session=s, now=chat.clock.now(), tz=ZoneInfo(TZ_NAME), actor=person)
        yield act
        await s.commit()


async def _refusals(chat) -> list[AuditEntry]:
    async with chat.sessions() as s:
        return list((await s.execute(select(AuditEntry).where(AuditEntry.outcome == "refused")
                                     .order_by(AuditEntry.id))).scalars())


async def _count(chat, model) -> int:
    async with chat.sessions() as s:
        return (await s.execute(select(func.count()).select_from(model))).scalar_one()


async def test_only_a_shopkeeper_stocks_and_redeems(chat) -> None:
    await grant(chat, "钱店长", "shopkeeper", "PL")
    await earn(chat, "赵志愿", "3")
    code = await code_of(chat, "赵志愿")
    async with acting(chat, "钱志愿") as act:
        assert await stock_goods(act, name="金条", price=1, added=100) == Refused("只有爱心超市的店长可以上架商品。")
        outcome = await redeem(act, code=code, wanted="毛巾")
        assert isinstance(outcome, Refused) and act.sent == []
    async with acting(chat, "钱店长") as act:
        assert isinstance(await stock_goods(act, name="毛巾", price=2, added=1), Stocked)
    stocked, redeemed = await _refusals(chat)
    assert (stocked.action, stocked.actor_id, stocked.detail) == (
        "stock_goods", chat.ids["钱志愿"], {"reason": "只有爱心超市的店长可以上架商品。", "goods": "金条"})
    assert (redeemed.action, redeemed.target_type, redeemed.target_id) == ("redeem", "person", chat.ids["赵志愿"])
    assert "只有爱心超市的店长" in redeemed.detail["reason"]
    async with chat.sessions() as s:
        assert (await s.execute(select(Goods.name))).scalars().all() == ["毛巾"]
        assert (await s.execute(select(PointsAccount.balance))).scalar_one() == 3
    assert await _count(chat, Redemption) == 0


async def test_a_redemption_tells_the_volunteer_in_the_same_transaction(chat) -> None:
    await grant(chat, "钱店长", "shopkeeper", "PL")
    await earn(chat, "赵志愿", "3")
    code = await code_of(chat, "赵志愿")
    async with acting(chat, "钱店长") as act:
        await stock_goods(act, name="毛巾", price=2, added=1)
        outcome = await redeem(act, code=code, wanted="毛巾")
        assert not isinstance(outcome, Refused) and outcome.outcome.cost == 2
        assert [m.person_id for m in act.sent] == [chat.ids["赵志愿"]]
        assert "兑换了 毛巾×1，扣 2 积分，现有 1 积分" in act.sent[0].text


async def test_only_an_admin_sets_the_points_rule(chat) -> None:
    async with acting(chat, "赵志愿") as act:
        assert isinstance(await set_points_rule(act, rate=100), Refused)
    [refused] = await _refusals(chat)
    assert (refused.action, refused.target_type, refused.target_id) == ("points_rule", "org_unit", chat.ids["PL"])
    assert refused.detail == {"reason": "只有管理员可以设置积分规则。"}
    assert await _count(chat, PointsRule) == 0


async def test_wish_refusals_carry_the_wish_and_leave_it_as_it_was(chat) -> None:
    await wish_submit(chat)
    await grant(chat, "城关联合会", "federation_admin", "CG")
    async with acting(chat, "赵志愿") as act:
        assert isinstance(await submit_wish(act, ["李大爷", "想要", "收音机"]), Refused)
    async with acting(chat, "城关联合会") as act:  # 城关 does not cover 台吉村
        wish = await act.session.get(Wish, 1)
        assert isinstance(await publish_wish(act, wish), Refused)
        assert act.sent == []
    await chat.send("联合会", "发布心愿 #1")
    async with acting(chat, "王大娘") as act:  # a resident, in no team
        assert isinstance(await claim_wish(act, await act.session.get(Wish, 1)), Refused)
    async with acting(chat, "周台吉") as act:
        assert isinstance(await claim_wish(act, await act.session.get(Wish, 1)), Claimed)
    async with acting(chat, "赵志愿") as act:
        assert isinstance(await fulfil_wish(act, await act.session.get(Wish, 1), [{"kind": "text", "ref": "假的"}]),
                          Refused)
    async with acting(chat, "蓬莱站长") as act:  # an admin, but of another station
        assert isinstance(await confirm_wish(act, await act.session.get(Wish, 1)), Refused)
    refused = await _refusals(chat)
    assert [r.action for r in refused] == ["wish_submit", "wish_publish", "wish_claim", "wish_fulfil", "wish_confirm"]
    assert all((r.target_type, r.target_id) == ("wish", 1) for r in refused[1:])
    assert refused[0].detail == {"reason": "只有驻村第一书记或管理员可以代群众提交微心愿。", "request": "李大爷 想要 收音机"}
    assert all(r.detail["reason"] for r in refused)
    async with chat.sessions() as s:
        wish = await s.get(Wish, 1)
        assert (wish.status, wish.claimed_by_id, wish.proof, wish.confirmed_by_id) == (
            "claimed", chat.ids["周台吉"], [], None)
        assert (await s.execute(select(func.count()).select_from(Wish))).scalar_one() == 1


async def test_a_claim_tells_the_secretary_and_the_federation(chat) -> None:
    await wish_publish(chat)
    async with acting(chat, "周台吉") as act:
        assert isinstance(await claim_wish(act, await act.session.get(Wish, 1)), Claimed)
        told = sorted(m.person_id for m in act.sent)
    assert told == sorted([chat.ids["台吉书记"], chat.ids["联合会"]])


async def test_a_visit_only_to_my_own_household(chat) -> None:
    async with chat.sessions() as s:
        await add_pairing(session=s, volunteer_id=chat.ids["钱志愿"], org_unit_id=chat.ids["PL"],
                          household_name="孙奶奶", household_phone=None, now=chat.clock.now())
        await s.commit()
    async with acting(chat, "钱志愿") as act:
        outcome = await log_visit(act, household="王大娘", note="聊天", problems_solved=0)
        assert outcome == Refused("「王大娘」不是您结对的户。您结对的户：孙奶奶。")
    async with acting(chat, "赵志愿") as act:
        assert isinstance(await log_visit(act, household="孙奶奶", note="聊天", problems_solved=0), Refused)
    refused = await _refusals(chat)
    assert [(r.action, r.detail["household"]) for r in refused] == [("visit", "王大娘"), ("visit", "孙奶奶")]
    assert await _count(chat, PairingVisit) == 0
    async with acting(chat, "钱志愿") as act:
        visited = await log_visit(act, household="孙奶奶家", note="解决了取暖问题", problems_solved=1)
        assert isinstance(visited, Visited) and (visited.month.visits, visited.month.problems_solved) == (1, 1)
