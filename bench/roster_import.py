"""Benchmark `xinfeng import` on a generated province roster: rows per second and peak memory.

    .venv/bin/python bench/roster_import.py --volunteers 100000 [--backends sqlite,postgresql]
        [--baseline REV] [--pg-url postgresql+asyncpg://postgres@127.0.0.1:5432/postgres]

Writes one roster directory (a province's 3,115 org units, 2,000 teams, N volunteers — each in
one team and every fifth in two — as plain CSV with the English headers every version reads),
then imports it into a fresh database per (code version, backend), each in its own process so
its peak memory (ru_maxrss) is its own: this working tree ("current") and, with `--baseline`,
the tree of a git revision extracted by `git archive` (read-only: the repository is untouched).
Each import runs twice: the first creates everything, the second finds nothing to change.
Besides wall time, each run's CPU time (the importing process, and on PostgreSQL the server's
backends for that database) is given: on a shared machine it says more than the clock.
"""

from __future__ import annotations

import argparse
import asyncio
import csv
import json
import os
import resource
import subprocess
import sys
import tarfile
import tempfile
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CITIES, CENTERS, INSTITUTES, STATIONS = 14, 100, 10, 2
SKILLS = ("理发", "水电维修", "农业技术推广", "护理", "法律咨询", "秧歌", "课业辅导", "")


def write_roster(directory: Path, volunteers: int, teams: int = 2000) -> None:
    """A province's org units, teams and `volunteers` volunteers as CSV files."""
    directory.mkdir(parents=True, exist_ok=True)
    stations: list[str] = []
    with (directory / "org_units.csv").open("w", encoding="utf-8", newline="") as f:
        w = csv.writer(f)
        w.writerow(["code", "name", "level", "parent_code"])
        w.writerow(["LN", "辽宁省", "province", ""])
        for c in range(CITIES):
            w.writerow([f"C{c}", f"第{c}市", "city", "LN"])
        for k in range(CENTERS):
            w.writerow([f"K{k}", f"第{k}县新时代文明实践中心", "center", f"C{k % CITIES}"])
            for i in range(INSTITUTES):
                w.writerow([f"K{k}-{i}", f"第{k}县第{i}镇新时代文明实践所", "institute", f"K{k}"])
                for s in range(STATIONS):
                    code = f"K{k}-{i}-{s}"
                    stations.append(code)
                    w.writerow([code, f"第{k}县第{i}镇第{s}村新时代文明实践站", "station", f"K{k}-{i}"])
    with (directory / "teams.csv").open("w", encoding="utf-8", newline="") as f:
        w = csv.writer(f)
        w.writerow(["code", "name", "org_code", "categories", "parent_code", "invite_code"])
        for t in range(teams):
            w.writerow([f"T{t}", f"第{t}志愿服务队", stations[t % len(stations)], "生活帮扶|助老助残", "", ""])
    with (directory / "volunteers.csv").open("w", encoding="utf-8", newline="") as f:
        w = csv.writer(f)
        w.writerow(["name", "phone", "org_code", "team_codes", "skills", "party_member"])
        for v in range(volunteers):
            team = v % teams
            codes = f"T{team}|T{(team + 7) % teams}" if v % 5 == 0 else f"T{team}"
            w.writerow([f"志愿者{v}", f"13{v:09d}", stations[team % len(stations)], codes, SKILLS[v % len(SKILLS)],
                        "是" if v % 3 == 0 else "否"])


def extract(revision: str, into: Path) -> Path:
    """The tree of `revision` as plain files (git archive: reads the repository, changes nothing)."""
    archive = into / "tree.tar"
    with archive.open("wb") as out:
        subprocess.run(["git", "-C", str(ROOT), "archive", revision], stdout=out, check=True)
    with tarfile.open(archive) as tar:
        tar.extractall(into / "tree", filter="data")
    return into / "tree"


async def _pg(admin_url: str, statement: str) -> None:
    from sqlalchemy import text
    from sqlalchemy.ext.asyncio import create_async_engine

    engine = create_async_engine(admin_url, isolation_level="AUTOCOMMIT")
    try:
        async with engine.connect() as conn:
            await conn.execute(text(statement))
    finally:
        await engine.dispose()


def measure(code: Path, url: str, roster: Path) -> dict[str, float]:
    """Run the import twice in a child process on `code`; its figures."""
    env = {**os.environ, "PYTHONPATH": str(code)}
    out = subprocess.run([sys.executable, str(Path(__file__).resolve()), "--child", "--url", url,
                          "--roster", str(roster)], cwd=code, env=env, capture_output=True, text=True, check=False)
    if out.returncode != 0:
        raise SystemExit(f"child failed ({code}):\n{out.stderr[-3000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])


async def child(url: str, roster: Path) -> dict[str, float]:
    """In the child: build the schema, import twice, report times and peak memory."""
    from datetime import datetime, timezone

    import storage
    from storage.db import create_all, create_engine, session_factory
    from storage.roster.importing import import_directory

    assert Path(storage.__file__).resolve().is_relative_to(Path.cwd().resolve()), storage.__file__
    engine = create_engine(url)
    await create_all(engine)
    sessions = session_factory(engine)
    now = datetime(2026, 12, 1, tzinfo=timezone.utc)
    figures: dict[str, float] = {}
    for run in ("first", "again"):
        began, cpu = time.perf_counter(), await _cpu(engine)
        report = await import_directory(session_factory=sessions, directory=roster, now=now)
        figures[f"{run}_s"] = round(time.perf_counter() - began, 2)
        figures[f"{run}_cpu_s"] = round(await _cpu(engine) - cpu, 2)
        assert report.ok, report.errors[:5]
        counts = report.counts["volunteers"]
        figures[f"{run}_created"], figures[f"{run}_unchanged"] = counts.created, counts.unchanged
    await engine.dispose()
    figures["peak_mb"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)
    return figures


async def _cpu(engine: object) -> float:
    """CPU seconds used so far by this process and, on PostgreSQL, by the database's backends.

    On a machine shared with other work, wall time depends on the load; CPU time does not much.
    """
    usage = resource.getrusage(resource.RUSAGE_SELF)
    total = usage.ru_utime + usage.ru_stime
    if engine.dialect.name == "postgresql":  # type: ignore[attr-defined]
        from sqlalchemy import text

        async with engine.connect() as conn:  # type: ignore[attr-defined]
            pids = (await conn.execute(text(
                "SELECT pid FROM pg_stat_activity WHERE datname = current_database()"))).scalars().all()
        tick = os.sysconf("SC_CLK_TCK")
        for pid in pids:
            try:
                fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
                total += (int(fields[11]) + int(fields[12])) / tick
            except OSError:
                pass  # a backend that just ended
    return total


def main() -> None:
    """Generate, import with each version on each backend, print a table."""
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--volunteers", type=int, default=100_000)
    p.add_argument("--backends", default="sqlite,postgresql")
    p.add_argument("--baseline", help="a git revision to compare with (e.g. HEAD)")
    p.add_argument("--pg-url", default="postgresql+asyncpg://postgres@127.0.0.1:5432/postgres")
    p.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    p.add_argument("--url", help=argparse.SUPPRESS)
    p.add_argument("--roster", type=Path, help=argparse.SUPPRESS)
    args = p.parse_args()
    if args.child:
        print(json.dumps(asyncio.run(child(args.url, args.roster))))
        return
    with tempfile.TemporaryDirectory(prefix="roster-bench-") as tmp:
        work = Path(tmp)
        began = time.perf_counter()
        write_roster(work / "roster", args.volunteers)
        size = (work / "roster" / "volunteers.csv").stat().st_size
        print(f"roster: {args.volunteers:,} volunteers, volunteers.csv {size / 2**20:.1f} MB, "
              f"written in {time.perf_counter() - began:.1f} s")
        versions = {"current": ROOT}
        if args.baseline:
            versions = {f"baseline {args.baseline}": extract(args.baseline, work), **versions}
        print(f"machine load (1 min) at start: {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
        print("| code | backend | first import | rows/s | CPU s (app + db) | re-import | re-import CPU s | peak MB |")
        print("| --- | --- | --- | --- | --- | --- | --- | --- |")
        for label, code in versions.items():
            for backend in args.backends.split(","):
                if backend == "sqlite":
                    url = f"sqlite+aiosqlite:///{work / f'{uuid.uuid4().hex}.db'}"
                else:
                    name = "roster_bench_" + uuid.uuid4().hex[:8]
                    asyncio.run(_pg(args.pg_url, f'CREATE DATABASE "{name}"'))
                    url = args.pg_url.rsplit("/", 1)[0] + "/" + name
                try:
                    f = measure(code, url, work / "roster")
                finally:
                    if backend != "sqlite":
                        asyncio.run(_pg(args.pg_url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
                rate = args.volunteers / f["first_s"]
                print(f"| {label} | {backend} | {f['first_s']:.1f} s | {rate:,.0f} | {f['first_cpu_s']:.1f} "
                      f"| {f['again_s']:.1f} s | {f['again_cpu_s']:.1f} | {f['peak_mb']:.0f} |", flush=True)


if __name__ == "__main__":
    main()
