"""Tests for handlers.language.request_parser: category, time, phone, place and urgency of a request."""

from __future__ import annotations

import csv
import dataclasses
import json
import os
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from handlers.language.lexicon import CATEGORIES, CATEGORY_CODES, LEXICON, OTHER
from handlers.language.request_parser import ParsedRequest, classify, parse_request

BEIJING = timezone(timedelta(hours=8))
# A Saturday morning, as in tests/conftest.py's clock (but 10:00, after "周六上午9点").
NOW = datetime(2026, 11, 28, 10, 0, tzinfo=BEIJING)


def _examples_csv() -> Path | None:
    """The shared examples file next to the repo, or in $XINFENG_EXAMPLES_DIR."""
    candidates = [Path(__file__).resolve().parents[4] / "shared" / "examples" / "requests.csv"]
    if os.environ.get("XINFENG_EXAMPLES_DIR"):
        candidates.append(Path(os.environ["XINFENG_EXAMPLES_DIR"]) / "requests.csv")
    return next((p for p in candidates if p.is_file()), None)


def test_accuracy_on_shared_examples() -> None:
    path = _examples_csv()
    if path is None:
        pytest.skip("requests.csv not found (set XINFENG_EXAMPLES_DIR)")
    with path.open(encoding="utf-8", newline="") as f:
        rows = list(csv.DictReader(f))
    assert rows
    wrong = [(r["text"], r["category"], got) for r in rows if (got := classify(r["text"])) != r["category"]]
    accuracy = 1 - len(wrong) / len(rows)
    print(f"\nrequest category accuracy: {accuracy:.1%} ({len(rows) - len(wrong)}/{len(rows)})")
    for text, expected, got in wrong:
        print(f"  misclassified: {text!r}: expected {expected}, got {got}")
    assert accuracy >= 0.90


# Sentences written for this test, not taken from the examples file: the lexicon must generalise.
UNSEEN = {
    "理论宣讲": ["想请人来村里讲讲最新的医保政策", "党员冬训想找个宣讲员讲讲党史",
             "退役军人优待政策有哪些，想请人讲一讲"],
    "农业技术": ["我家苹果树结果少，还老掉果，想问问咋回事", "西红柿大棚里长了白粉虱，用啥药能治",
             "想学习肉牛养殖技术", "葡萄叶子上有黑斑点，是什么病"],
    "卫生健康": ["我爷爷糖尿病好几年了，想请大夫讲讲怎么控制饮食", "村卫生室想组织一次免费体检",
             "我妈膝盖疼得走不了路，想找个医生看看", "孩子打疫苗以后一直低烧"],
    "法律服务": ["承包的地被人强占了，怎么维权", "在工地干活受了伤，老板不给赔偿",
             "我哥借了钱不还，有借条，能起诉吗", "用工单位不签劳动合同怎么办"],
    "文化文艺": ["春节想在村里办个联欢晚会", "想请老师教大家唱京剧", "想排练一个小品参加镇上的比赛"],
    "助老助残": ["我们村有个五保户老人腿脚不便，想请人定期去看望", "聋哑人小张想找人帮着办残疾证",
             "村里有位盲人大娘，想请人每周去陪她说说话"],
    "助学支教": ["孩子马上中考了，物理成绩很差，想找人补补课", "贫困学生想申请助学金不知道怎么办",
             "暑假想给村里孩子办个作业辅导班"],
    "心理辅导": ["最近压力特别大，晚上老失眠，想找人聊聊", "孩子沉迷手机游戏，说了也不听，越来越叛逆",
             "媳妇生完孩子后情绪一直不好，总哭"],
    "环境整治": ["村头的臭水沟一到夏天就特别臭", "有人往河里倒垃圾，想组织大家清理一下",
             "下大雪了，村里的路需要人扫雪"],
    "生活帮扶": ["家里电线老化总跳闸，想请个电工来看看", "家里下水道堵了", "家里暖气不热了，想找人看看"],
    "移风易俗": ["儿子结婚女方要二十万彩礼，想请人去劝劝", "想倡导丧事简办，不搞封建迷信",
             "村里办酒席的太多了，各种名目随份子"],
    OTHER: ["你好", "你们几点上班", "这个平台是谁办的"],
}


@pytest.mark.parametrize(("expected", "text"), [(c, t) for c, ts in UNSEEN.items() for t in ts])
def test_category_generalises(expected: str, text: str) -> None:
    assert classify(text) == expected


def test_lexicon_shape() -> None:
    assert len(CATEGORIES) == 12 and set(CATEGORY_CODES) == set(CATEGORIES)
    assert set(LEXICON) <= set(CATEGORIES)
    for category in CATEGORIES:
        if category != OTHER:
            assert len(LEXICON[category]) >= 20, category  # a real word list, not a handful


def test_category_is_always_a_known_name() -> None:
    for text in ["", "？？", "12345", "hello", "谢谢", "我家草莓苗得了炭疽病"]:
        assert parse_request(text, NOW).category in CATEGORIES


def test_single_character_keywords_match_whole_words_only() -> None:
    # "苗" is a farming word, but not inside "疫苗".
    assert classify("想带老人去打疫苗") != "农业技术"


def test_tie_goes_to_other() -> None:
    assert classify("法律 心理") == OTHER


def test_full_example() -> None:
    p = parse_request("我家草莓苗得了炭疽病，明天上午能来杨家村看看吗？电话13812345678", NOW)
    assert p.category == "农业技术"
    assert p.phone == "13812345678"
    assert p.place == "杨家村"
    assert p.urgent is False
    assert p.when is not None
    start, end = p.when
    assert start.date().isoformat() == "2026-11-29" and start.hour < 12 and end.hour < 12
    assert start.utcoffset() == timedelta(hours=8) and start < end
    assert p.description.startswith("我家草莓苗")


def test_to_json_dict() -> None:
    p = parse_request("明天上午来杨家村，电话13812345678", NOW)
    d = p.to_json_dict()
    assert d["category"] in CATEGORIES
    assert d["when"][0].startswith("2026-11-29T") and d["when"][0].endswith("+08:00")
    assert datetime.fromisoformat(d["when"][0]) == p.when[0]  # type: ignore[index]
    assert d["phone"] == "13812345678" and d["place"] == "杨家村"
    json.dumps(d, ensure_ascii=False)  # JSON-ready
    assert parse_request("谢谢", NOW).to_json_dict()["when"] is None


def test_parsed_request_is_frozen() -> None:
    p = parse_request("谢谢", NOW)
    with pytest.raises(dataclasses.FrozenInstanceError):
        p.category = "其他"  # type: ignore[misc]


@pytest.mark.parametrize(
    ("text", "day", "hour"),
    [
        ("明天上午", "2026-11-29", None),
        ("下周三下午两点", "2026-12-02", 14),
        ("后天下午来看看", "2026-11-30", None),
        ("12月1号上午10点", "2026-12-01", 10),
        ("三天后", "2026-12-01", None),
        ("周六上午9点", "2026-12-05", 9),  # today 9:00 is over at 10:00, so next Saturday
        ("12号能来吗", "2026-12-12", None),  # the 12th of this month is over: next month's
    ],
)
def test_when(text: str, day: str, hour: int | None) -> None:
    when = parse_request(text, NOW).when
    assert when is not None, text
    assert when[0].date().isoformat() == day
    assert hour is None or when[0].hour == hour
    assert when[1] >= NOW and when[0].tzinfo is not None


@pytest.mark.parametrize(
    "text",
    [
        "你们这个机器人是干什么的",
        "孩子发烧咳嗽好几天了",  # no date
        "打工的工资被拖欠了半年",  # a duration, not a time
        "独居老人冬天取暖有困难",  # a season is not an appointment
        "今年想养蜂",
        "昨天水管就坏了",  # the past is not a wanted time
        "电话13812345678",  # digits are not a date
        "",
    ],
)
def test_no_time(text: str) -> None:
    assert parse_request(text, NOW).when is None


def test_when_follows_the_zone_of_now() -> None:
    utc_now = NOW.astimezone(timezone.utc)
    when = parse_request("明天上午", NOW).when
    # jionlp reads wall-clock time; the result is in the zone we were given, not UTC.
    assert when is not None and when[0].tzinfo == BEIJING
    assert parse_request("明天上午", utc_now).when[0].tzinfo == timezone.utc  # type: ignore[index]


@pytest.mark.parametrize(
    ("text", "phone"),
    [
        ("电话13812345678", "13812345678"),
        ("电话：１３８１２３４５６７８", "13812345678"),  # full-width digits
        ("打 +86 138-1234-5678 找我", "13812345678"),
        ("我的电话是 138 1234 5678，座机 024-23456789", "13812345678"),  # mobile preferred
        ("联系电话 0419-1234567", "0419-1234567"),
        ("孩子发烧了", None),
        ("完成 #123 2小时", None),
    ],
)
def test_phone(text: str, phone: str | None) -> None:
    assert parse_request(text, NOW).phone == phone


@pytest.mark.parametrize(
    ("text", "place"),
    [
        ("明天能来杨家村看看吗", "杨家村"),
        ("请到曹家村来一趟", "曹家村"),
        ("黄土坎镇蓬莱社区的王大娘想理发", "黄土坎镇蓬莱社区"),
        ("活动 周六上午9点 村文化广场 包饺子 限20人", "村文化广场"),
        ("我住在李家屯", "李家屯"),
        ("我是喀左县大城子镇的", "喀左县大城子镇"),
        ("去红旗村帮忙", "红旗村"),
        ("三家子村委会想办个讲座", "三家子村委会"),
        ("朝阳县有没有农技员", "朝阳县"),
        ("村里想请人讲讲政策", None),  # 村里 alone is not a place name
        ("能不能来我们村演一场", None),
        ("村口的垃圾堆了好几天", None),
        ("河沟里全是塑料袋", None),
        ("我们农村的孩子", None),
        ("想回家乡看看", None),
    ],
)
def test_place(text: str, place: str | None) -> None:
    assert parse_request(text, NOW).place == place


@pytest.mark.parametrize(
    ("text", "urgent"),
    [
        ("急！水管爆了", True),
        ("紧急情况，老人摔倒了", True),
        ("麻烦马上来一趟", True),
        ("赶紧派人来", True),
        ("请尽快安排", True),
        ("救命啊", True),
        ("我很着急", True),
        ("不急，下周来就行", False),
        ("不用着急", False),
        ("想办一次急救培训", False),  # 急救 is a topic, not haste
        ("想学学怎么给果树剪枝", False),
    ],
)
def test_urgent(text: str, urgent: bool) -> None:
    assert parse_request(text, NOW).urgent is urgent


def test_description_is_normalised_text() -> None:
    p = parse_request("  家里　水管冻裂了，电话：１３８１２３４５６７８ ", NOW)
    assert p.description == "家里 水管冻裂了,电话:13812345678"
    assert isinstance(p, ParsedRequest)


def test_json_has_kind_confidence_alternatives_and_people() -> None:
    d = parse_request("明天下午需要两个人帮俺家搬个大衣柜 上三楼", NOW).to_json_dict()
    assert d["kind"] == "request" and d["category"] == "生活帮扶" and d["people"] == 2
    assert 0 < d["confidence"] <= 1 and d["alternatives"][0]["category"] == "生活帮扶"
    assert d["place"] is None  # "上三楼" is where the wardrobe goes, not a place
    assert d["when_precision"] == "part" and d["when_past"] is False
    json.dumps(d, ensure_ascii=False)
    small = parse_request("不用了", NOW).to_json_dict()
    assert (small["kind"], small["action"]) == ("small_talk", "no")
