"""`xinfeng intake retrain|report|import`: the intake's category model by hand.

`retrain` trains on the stored examples now (as the nightly job does) and stores the model;
`report` measures without storing. Both print the examples' sources, the accuracy measured by
cross-validation (the lexicon alone, the model alone, the blend) and the words the model
learned that the lexicon lacks. `import FILE.csv` adds labelled requests (columns text,category)
as examples, e.g. to start a county's model from an older list of requests.
"""

from __future__ import annotations

import argparse
import csv
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from bot.cli.runtime import with_runtime

if TYPE_CHECKING:
    from bot.runtime import Runtime
    from handlers.language.learning import Fitted


def add_commands(sub: Any) -> None:
    """Register the `intake` sub-commands on the main parser."""
    intake = sub.add_parser("intake", help="the request classifier: retrain it, report on it, import examples")
    intake_sub = intake.add_subparsers(dest="intake_action", required=True)
    intake_sub.add_parser("retrain", help="train on the stored examples now and use the model"
                          ).set_defaults(run=with_runtime(_retrain))
    intake_sub.add_parser("report", help="cross-validated accuracy and learned words, without storing"
                          ).set_defaults(run=with_runtime(_report))
    imp = intake_sub.add_parser("import", help="add labelled requests from a CSV file (columns text,category)")
    imp.add_argument("file", type=Path)
    imp.set_defaults(run=with_runtime(_import))


def _percent(value: float | None) -> str:
    return "—" if value is None else f"{value:.1%}"


def _print_fitted(fitted: Fitted) -> None:
    """What cross-validation measured, and the words learned."""
    if not fitted.folds:
        print(f"样本 {fitted.examples} 条，太少，不做交叉验证；模型不参与判断（权重 0）。")
    else:
        print(f"交叉验证（{fitted.folds} 折，{fitted.examples} 条）：只用词表 {_percent(fitted.lexicon_accuracy)}，"
              f"只用模型 {_percent(fitted.model_accuracy)}，词表+模型 {_percent(fitted.blended_accuracy)}"
              f"（模型权重 {fitted.model.blend:g}）")
        print("各权重：" + "，".join(f"{w:g} → {acc:.1%}" for w, acc in fitted.by_blend.items()))
    learned = fitted.model.learned_words()
    if learned:
        print("学到的词（词表里没有的）：")
        for category, words in learned.items():
            print(f"  {category}：{'、'.join(words)}")
    print(f"用时 {fitted.seconds:.1f} 秒")


async def _print_counts(rt: Runtime) -> None:
    """How many examples there are, by source, and how often the parser had guessed right."""
    from storage.intake.examples import example_count
    from storage.intake.models import latest_model_info

    async with rt.sessions() as session:
        counts = await example_count(session)
        info = await latest_model_info(session)
    sources = "，".join(f"{k} {v}" for k, v in counts.items() if k not in ("total", "guessed_right"))
    print(f"样本：{counts['total']} 条" + (f"（{sources}）" if sources else ""))
    if counts["total"]:
        print(f"点单时猜对类别：{counts['guessed_right']} 条")
    if info is None:
        print("在用的模型：无（只用词表）")
    else:
        when = info.trained_at.astimezone(rt.settings.tz).strftime("%Y-%m-%d %H:%M")
        print(f"在用的模型：#{info.id}，{when} 训练，{info.examples} 条样本，权重 {info.blend:g}，"
              f"交叉验证 {_percent(info.blended_accuracy)}，{info.size // 1024} KB")


async def _retrain(rt: Runtime, args: argparse.Namespace) -> int:
    """Train now and store the model."""
    from handlers.language.learning import retrain

    done = await retrain(rt.sessions, rt.clock.now(), force=True)
    if done is None:
        print("还没有样本：点单确认后会自动积累。现在只用词表。")
        return 0
    _print_fitted(done.fitted)
    print(f"已保存模型 #{done.model_id}，各个进程一分钟内开始使用。")
    await _print_counts(rt)
    return 0


async def _report(rt: Runtime, args: argparse.Namespace) -> int:
    """Measure on the stored examples without storing anything."""
    import asyncio

    from handlers.language.learning import fit, training_due

    await _print_counts(rt)
    async with rt.sessions() as session:
        training = await training_due(session, force=True)
    if training is None:
        return 0
    _print_fitted(await asyncio.to_thread(fit, training.examples))
    return 0


async def _import(rt: Runtime, args: argparse.Namespace) -> int:
    """Add the CSV's rows as examples; a file with a bad row adds nothing."""
    from handlers.language.lexicon import CATEGORIES
    from storage.intake.examples import record_example

    try:
        with args.file.open(encoding="utf-8-sig", newline="") as f:
            rows = list(csv.DictReader(f))
    except (OSError, UnicodeDecodeError) as e:
        print(f"读不了 {args.file}：{e}", file=sys.stderr)
        return 1
    bad = [f"{args.file}:{n}: 类别“{r.get('category')}”不在类别表里" for n, r in enumerate(rows, start=2)
           if (r.get("category") or "").strip() not in CATEGORIES and (r.get("text") or "").strip()]
    if not rows or "text" not in rows[0] or "category" not in rows[0]:
        bad.insert(0, f"{args.file}: 需要 text,category 两列")
    if bad:
        print("\n".join(bad[:20]), file=sys.stderr)
        return 1
    added = 0
    now = rt.clock.now()
    async with rt.sessions() as session:
        for row in rows:
            if await record_example(session, text=row["text"], category=row["category"].strip(), source="imported",
                                    now=now) is not None:
                added += 1
        await session.commit()
    print(f"已导入 {added} 条样本。运行 xinfeng intake retrain 即可学习。")
    return 0
