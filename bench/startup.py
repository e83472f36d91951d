"""Benchmark `xinfeng run` from launch to ready (run by hand, prints figures).

Each round launches `xinfeng run` as a new process in a fresh temporary directory (SQLite there,
empty, so the start-up migrates it as a first `make run` does) and times it to "ready":

- `console` — no chat token, so `xinfeng run` opens the console chat on the demo county:
  ready when the console's banner is printed (it serves no HTTP). Then one free-text message
  is written and timed to its reply (it waits for the parser's warm-up, if that is still on).
- `http` — a Telegram token pointing at the fake Bot API (tests/bot/channels/telegram), served
  in this process: ready when `GET /healthz` answers 200 (the HTTP server accepts and answers);
  `/readyz` 200 (database at head, relay and scheduler running) is timed too. Then a free-text
  message is sent through the fake and timed to its reply, `/healthz` being asked every 20 ms
  meanwhile: its slowest answer shows whether the parser's warm-up stalls the event loop.

RSS and the CPU time used (all threads: the parser may be loading beside) are read from /proc at
ready. Baselines measured in the same run, to read the figures against this machine's speed at
this moment: `python -c pass` and `python -c "import telegram, sqlalchemy"` (the two libraries
any start must load), launch to exit.

    .venv/bin/python bench/startup.py                 # 5 rounds of each mode
    .venv/bin/python bench/startup.py -n 10 --mode http
    .venv/bin/python bench/startup.py --compare /tmp/old-tree  # and a copy of older code, rounds interleaved

Aim (issue 15): median launch-to-ready < 3 s.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

PYTHON = str(ROOT / ".venv" / "bin" / "python")
XINFENG = str(ROOT / ".venv" / "bin" / "xinfeng")
TOKEN = "123456:STARTUP-bench"
USER = 7_000_001
BANNER = "新风志愿服务 · 控制台"
TIMEOUT = 60.0


def _env(tmp: Path, source: str | None, **extra: str) -> dict[str, str]:
    """This environment without any XINFENG_* (a developer's own settings), plus `extra`.

    `source`: another copy of the code to run (put before the venv's editable install).
    """
    env = {k: v for k, v in os.environ.items() if not k.startswith("XINFENG_")}
    env.update(XINFENG_DATABASE_URL=f"sqlite+aiosqlite:///{tmp / 'xinfeng.db'}", **extra)
    if source:
        env["PYTHONPATH"] = source
    return env


def _rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def _cpu_s(pid: int) -> float:
    """CPU seconds the process has used, all its threads (less swayed by a busy machine than wall time)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def baseline(code: str, n: int) -> list[float]:
    """Seconds from launch to exit of `python -c code`, n times."""
    times = []
    for _ in range(n):
        start = time.perf_counter()
        subprocess.run([PYTHON, "-c", code], check=True)
        times.append(time.perf_counter() - start)
    return times


async def _line_with(stream: asyncio.StreamReader, needle: str, seen: list[str]) -> None:
    while True:
        raw = await stream.readline()
        if not raw:
            raise RuntimeError("xinfeng exited before its line:\n" + "".join(seen[-20:]))
        line = raw.decode(errors="replace")
        seen.append(line)
        if needle in line:
            return


async def console_round(source: str | None) -> dict[str, float]:
    """One `xinfeng run` with no channel: launch → console banner; then one message → its reply."""
    with tempfile.TemporaryDirectory() as tmp:
        start = time.perf_counter()
        proc = await asyncio.create_subprocess_exec(
            XINFENG, "run", cwd=tmp, env=_env(Path(tmp), source), stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT, limit=1 << 20)
        assert proc.stdin is not None and proc.stdout is not None
        seen: list[str] = []
        try:
            await asyncio.wait_for(_line_with(proc.stdout, BANNER, seen), TIMEOUT)
            ready = time.perf_counter() - start
            rss, cpu = _rss_mib(proc.pid), _cpu_s(proc.pid)
            proc.stdin.write("/as 13900000001\n".encode())
            await asyncio.wait_for(_line_with(proc.stdout, "现在您是", seen), TIMEOUT)
            asked = time.perf_counter()
            proc.stdin.write("明天上午帮我买点菜\n".encode())
            await proc.stdin.drain()
            # The echo of the line comes first, then the bot's answer: a line starting with "[".
            await asyncio.wait_for(_line_with(proc.stdout, "\n", seen), TIMEOUT)
            while not seen[-1].startswith("["):
                await asyncio.wait_for(_line_with(proc.stdout, "\n", seen), TIMEOUT)
            first_reply = time.perf_counter() - asked
            proc.stdin.close()
            await asyncio.wait_for(proc.wait(), TIMEOUT)
        finally:
            if proc.returncode is None:
                proc.kill()
                await proc.wait()
    return {"ready": ready, "rss": rss, "cpu": cpu, "first_reply": first_reply, "since_launch": asked - start + first_reply}


async def http_round(source: str | None) -> dict[str, float]:
    """One `xinfeng run` with Telegram (fake Bot API): launch → /healthz 200 → /readyz 200; then one message."""
    import httpx

    from tests.bot.channels.telegram import fake_bot_api

    fake = fake_bot_api.FakeBotAPI(TOKEN, limits=fake_bot_api.FakeLimits(enabled=False))
    await fake.start()
    fake.add_user(USER, "王大娘")
    port = _free_port()
    base = f"http://127.0.0.1:{port}"
    out: dict[str, float] = {}
    with tempfile.TemporaryDirectory() as tmp:
        env = _env(Path(tmp), source, XINFENG_TELEGRAM_TOKEN=TOKEN, XINFENG_TELEGRAM_API_URL=fake.base_url,
                   XINFENG_HTTP_PORT=str(port))
        log = open(Path(tmp) / "xinfeng.log", "wb")  # noqa: SIM115 (closed below)
        start = time.perf_counter()
        proc = await asyncio.create_subprocess_exec(XINFENG, "run", cwd=tmp, env=env, stdin=subprocess.DEVNULL,
                                                    stdout=log, stderr=subprocess.STDOUT)
        try:
            async with httpx.AsyncClient(timeout=2.0) as client:

                async def answered(path: str) -> None:
                    deadline = start + TIMEOUT
                    while True:
                        if proc.returncode is not None or time.perf_counter() > deadline:
                            raise RuntimeError(f"no {path} (exit {proc.returncode}): "
                                               + (Path(tmp) / "xinfeng.log").read_text(errors="replace")[-2000:])
                        try:
                            if (await client.get(base + path)).status_code == 200:
                                return
                        except httpx.TransportError:
                            pass
                        await asyncio.sleep(0.01)

                await answered("/healthz")
                out["ready"] = time.perf_counter() - start
                out["rss"], out["cpu"] = _rss_mib(proc.pid), _cpu_s(proc.pid)
                await answered("/readyz")
                out["readyz"] = time.perf_counter() - start
                # A free-text message at once (the parser may still be warming up): time to its
                # reply, and the slowest /healthz answer meanwhile (a stalled loop answers late).
                asked = time.perf_counter()
                fake.user_says(USER, "明天上午帮我买点菜")
                slowest = 0.0
                while fake.sent_count == 0:
                    if time.perf_counter() - asked > TIMEOUT:
                        raise RuntimeError("no reply to the first message")
                    t = time.perf_counter()
                    await client.get(base + "/healthz")
                    slowest = max(slowest, time.perf_counter() - t)
                    await asyncio.sleep(0.02)
                out["first_reply"] = time.perf_counter() - asked
                out["since_launch"] = time.perf_counter() - start
                out["healthz_max"] = slowest
            proc.send_signal(signal.SIGTERM)
            await asyncio.wait_for(proc.wait(), TIMEOUT)
        finally:
            if proc.returncode is None:
                proc.kill()
                await proc.wait()
            log.close()
            await fake.stop()
    return out


def _summary(name: str, values: list[float], unit: str = "s", base: float | None = None) -> str:
    med, top = statistics.median(values), max(values)
    ratio = f"   = {med / base:5.1f}× bare python" if base else ""
    return f"  {name:<34} median {med:6.2f} {unit}   max {top:6.2f} {unit}{ratio}"


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("-n", type=int, default=5, help="launches per mode")
    parser.add_argument("--mode", choices=["both", "console", "http"], default="both")
    parser.add_argument("--compare", metavar="DIR", action="append", default=[],
                        help="also launch the code in DIR (a copy of the repository, e.g. before a change), "
                             "its rounds interleaved with this code's so all see the same machine load; repeatable")
    args = parser.parse_args()
    sources: list[str | None] = [None, *(str(Path(d).resolve()) for d in args.compare)]
    bare = baseline("pass", args.n)
    libs = baseline("import telegram, sqlalchemy", args.n)
    base = statistics.median(bare)
    print(f"baselines (launch to exit, {args.n} each):")
    print(_summary("python -c pass", bare))
    print(_summary("python -c 'import telegram, sqlalchemy'", libs, base=base))
    lib_med = statistics.median(libs)
    modes = ["console", "http"] if args.mode == "both" else [args.mode]
    for mode in modes:
        rounds: dict[str | None, list[dict[str, Any]]] = {src: [] for src in sources}
        for _ in range(args.n):
            for src in sources:
                try:
                    rounds[src].append(await (console_round(src) if mode == "console" else http_round(src)))
                except Exception as exc:
                    raise RuntimeError(f"{mode} round of {src or 'this code'} failed") from exc
        for src, done in rounds.items():
            ready = [r["ready"] for r in done]
            print(f"xinfeng run, {mode} ({args.n} launches, fresh SQLite each){'' if src is None else ' — ' + src}:")
            print(_summary("launch → ready", ready, base=base)
                  + f"   = {statistics.median(ready) / lib_med:4.1f}× telegram+sqlalchemy   (aim < 3 s)")
            if mode == "http":
                print(_summary("launch → /readyz 200", [r["readyz"] for r in done]))
            print(_summary("CPU used by ready (all threads)", [r["cpu"] for r in done]))
            print(_summary("RSS at ready", [r["rss"] for r in done], unit="MiB"))
            print(_summary("first free-text message → reply", [r["first_reply"] for r in done]))
            print(_summary("launch → first reply", [r["since_launch"] for r in done]))
            if mode == "http":
                print(_summary("slowest /healthz while it was handled", [r["healthz_max"] for r in done]))

if __name__ == "__main__":
    asyncio.run(main())
