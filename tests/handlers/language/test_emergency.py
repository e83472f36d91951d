"""The emergency lexicon on the labelled villager messages: every emergency found, no request mistaken for one."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from handlers.language.emergency import KINDS, detect_emergency

CORPUS = Path(__file__).parent / "data" / "villager_messages.csv"


def _rows() -> list[dict[str, str]]:
    with CORPUS.open(encoding="utf-8") as f:
        return [r for r in csv.DictReader(f) if r["emergency"].strip() in ("yes", "no")]


def test_on_the_corpus_precision_and_recall() -> None:
    rows = _rows()
    said = [(detect_emergency(r["text"]) is not None, r["emergency"].strip() == "yes") for r in rows]
    true_pos = sum(1 for got, want in said if got and want)
    false_pos = [r["text"] for r, (got, want) in zip(rows, said) if got and not want]
    missed = [r["text"] for r, (got, want) in zip(rows, said) if want and not got]
    assert sum(want for _, want in said) >= 20, "the corpus should hold a fair number of emergencies"
    # Precision matters most: an ambulance line sent to a villager asking for a check-up is worse than useless.
    assert false_pos == []
    assert true_pos / (true_pos + len(missed)) >= 0.95, missed


@pytest.mark.parametrize(("text", "kind"), [
    ("俺老伴摔了一跤 腿动不了了 快来人", "medical"),
    ("快来人啊 俺家老头摔倒了起不来了", "medical"),
    ("着火了 俺家柴火垛着了", "fire"),
    ("屋里一股煤气味 呛得慌", "gas"),
    ("暖气管子爆了 屋里水都没脚脖子了", "flood"),
    ("他拎着镐把子要动手 快来人", "police"),
    ("俺家狗把孩子咬了 血止不住", "medical"),
    ("牛棚着火了", "fire"),
    ("老头胸口疼得厉害 直冒汗", "medical"),
    ("孩子放学到现在没回家 到处找也找不着", "police"),
])
def test_an_emergency_and_its_kind(text: str, kind: str) -> None:
    found = detect_emergency(text)
    assert found is not None and found.kinds[0] == kind
    assert found.numbers[0][0] == KINDS[kind][0]


@pytest.mark.parametrize("text", [
    "去年摔过一跤 想找人看看腿",  # the past
    "前阵子电线着过一回火 现在没事了",
    "想请人讲讲冬天咋防煤烟中毒",  # a lesson
    "俺家烟筒老倒烟 怕煤烟中毒 想找人给看看",  # a fear
    "媳妇的车打不着火了 谁会修",  # a phrase that only contains 着火
    "老伴起不来床 想找人帮着洗澡",  # bedridden, not fallen
    "儿子出去打工一直没回来",  # away, not missing
    "炉子点着了 屋里暖和了",
    "想借点救命钱",  # a loan
    "胸口疼好几天了 想找大夫看看",  # an ache, not an attack
    "母猪要生了 谁会接生",  # the vet's
    "牛犊子拉稀 站不起来 有没有会看的",
    "落水管坏了 一下雨就往墙上淌",
    "村里想搞一回义诊 查查血压血糖",
])
def test_not_an_emergency(text: str) -> None:
    assert detect_emergency(text) is None


def test_several_kinds_call_every_number_once() -> None:
    found = detect_emergency("着火了 俺爹让烟呛晕倒了 叫不醒")
    assert found is not None and set(found.kinds) == {"medical", "fire"}
    assert [n for n, _ in found.numbers] == ["120", "119"]
