"""Benchmark: retraining the intake's category model on 10,000 examples — time and memory.

Run by hand: `.venv/bin/python bench/intake_retrain.py [N]`. Builds a throwaway SQLite
database, stores N labelled requests (the corpus's requests, each varied with names, villages,
times and fillers so that no two are alike), then runs `retrain` exactly as the nightly job and
`xinfeng intake retrain` do: read, five-fold cross-validation, final training, store. Prints the
wall time and what the retrain adds to the maximum resident size of a worker that already
holds the parser (jieba's dictionary, ~115 MB), against the limits (30 s, 200 MB); `--trace`
also prints the peak of Python allocations during the retrain (tracemalloc, which slows it).
"""

from __future__ import annotations

import asyncio
import csv
import random
import resource
import sys
import tempfile
import time
import tracemalloc
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from handlers.language.learning import retrain
from handlers.language.request_parser import warm_up
from storage.db import create_all, create_engine, session_factory
from storage.intake.examples import record_example

CORPUS = ROOT / "tests" / "handlers" / "language" / "data" / "villager_messages.csv"
LIMIT_SECONDS = 30
LIMIT_MB = 200
# tracemalloc slows allocation-heavy code several times: `--trace` measures memory, not time.
TRACE = "--trace" in sys.argv

_OPENINGS = ("", "", "你好 ", "麻烦问一下 ", "同志 ", "喂 ", "那个啥 ", "俺是{v}的 ", "{n}家 ")
_ENDINGS = ("", "", " 谢谢", " 麻烦了", " 电话{p}", " 俺在{v}", " {t}", " 急", " 行不")
_NAMES = "王 李 张 刘 陈 杨 赵 黄 周 吴 孙 马 朱 胡 郭 何 高 林 罗 郑".split()
_VILLAGES = "杨家村 曹家村 黑沟村 长发村 三家子村 中毛屯 蓬莱社区 台吉镇 城关街道 红旗村 前进村 老漫子村".split()
_TIMES = "明天上午 后天下午 礼拜六 明儿后晌 周末 下礼拜一 今儿傍黑 过两天 月底 明早八点".split()


def varied(texts: list[tuple[str, str]], n: int, seed: int = 7) -> list[tuple[str, str]]:
    """`n` labelled requests made from the corpus's by adding openings, endings and a dropped character."""
    rng = random.Random(seed)
    out = []
    for _ in range(n):
        text, category = rng.choice(texts)
        if len(text) > 8 and rng.random() < 0.3:
            i = rng.randrange(len(text))
            text = text[:i] + text[i + 1:]
        fill = {"v": rng.choice(_VILLAGES), "n": rng.choice(_NAMES), "t": rng.choice(_TIMES),
                "p": f"13{rng.randrange(10**9):09d}"}
        out.append((rng.choice(_OPENINGS).format(**fill) + text + rng.choice(_ENDINGS).format(**fill), category))
    return out


def corpus_requests() -> list[tuple[str, str]]:
    """The labelled requests of the villager corpus."""
    with CORPUS.open(encoding="utf-8") as f:
        return [(r["text"], r["category"]) for r in csv.DictReader(f) if r["kind"] == "request"]


async def main(n: int) -> None:
    examples = varied(corpus_requests(), n)
    now = datetime(2026, 11, 29, 3, 0, tzinfo=UTC)
    with tempfile.TemporaryDirectory() as tmp:
        engine = create_engine(f"sqlite+aiosqlite:///{Path(tmp) / 'bench.db'}")
        await create_all(engine)
        sessions = session_factory(engine)
        async with sessions() as session:
            for text, category in examples:
                await record_example(session, text=text, category=category, source="confirmed", now=now)
            await session.commit()
        warm_up()  # a worker holds jieba's dictionary (~115 MB) for the parser anyway
        rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        if TRACE:
            tracemalloc.start()
        started = time.perf_counter()
        done = await retrain(sessions, now, force=True)
        seconds = time.perf_counter() - started
        peak = tracemalloc.get_traced_memory()[1] if TRACE else 0
        tracemalloc.stop()
        rss_after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        await engine.dispose()
    assert done is not None
    fitted = done.fitted
    print(f"examples: {fitted.examples} ({len({t for t, _ in examples})} distinct)")
    print(f"retrain: {seconds:.1f} s (limit {LIMIT_SECONDS} s; of which training and cross-validation {fitted.seconds:.1f} s)")
    traced = f"peak traced {peak / 2**20:.0f} MB during retrain, " if TRACE else ""
    print(f"memory: {traced}process max RSS {rss_before:.0f} MB with the parser loaded → {rss_after:.0f} MB "
          f"after retraining: {rss_after - rss_before:.0f} MB for the retrain (limit {LIMIT_MB} MB)")
    print(f"model: {len(fitted.model.counts)} n-grams, {len(fitted.model.to_bytes()) // 1024} KB stored, "
          f"blend {fitted.model.blend:g}")
    print(f"cross-validation: lexicon {fitted.lexicon_accuracy:.1%}, model {fitted.model_accuracy:.1%}, "
          f"blended {fitted.blended_accuracy:.1%}")


if __name__ == "__main__":
    asyncio.run(main(next((int(a) for a in sys.argv[1:] if a.isdigit()), 10_000)))
