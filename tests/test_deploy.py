"""The deployment kit: Dockerfile, compose.yaml, the Caddyfile, .env.example, the systemd units, backups.

What needs a Docker engine (building the image, `docker compose config`) runs when one is there
and is skipped, saying why, when not. The rest is checked without it: the compose file's
services and wiring, the proxy's routes against the routes the bot really serves, the example
settings against `bot/settings.py`, what the wheel the image installs contains, and the backup
script against real SQLite and PostgreSQL databases (restored and compared).
"""

from __future__ import annotations

import os
import re
import shutil
import sqlite3
import subprocess
import sys
import uuid
import zipfile
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import pytest
import yaml
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.settings import Settings

ROOT = Path(__file__).resolve().parents[1]
DEPLOY = ROOT / "deploy"
WORKERS = ("worker-1", "worker-2")
INTERNAL = ("/healthz", "/readyz", "/metrics")
PACKAGES = ("bot", "handlers", "storage", "scheduler")


def compose() -> dict[str, Any]:
    """compose.yaml as data (merge keys resolved)."""
    return yaml.safe_load((ROOT / "compose.yaml").read_text(encoding="utf-8"))


def env_example() -> dict[str, str]:
    """The variables .env.example lists, set or commented out (`# XINFENG_MAP_DATA=…`), with their values."""
    found = {}
    for line in (ROOT / ".env.example").read_text(encoding="utf-8").splitlines():
        if m := re.match(r"^(?:# )?([A-Z][A-Z0-9_]*)=(.*)$", line):
            found[m.group(1)] = m.group(2)
    return found


# ---------------------------------------------------------------- compose.yaml


def test_compose_runs_two_webhook_workers_behind_caddy_after_migrating() -> None:
    services = compose()["services"]
    assert {"postgres", "redis", "migrate", *WORKERS, "caddy"} <= set(services)
    assert services["migrate"]["command"] == ["db", "upgrade"]
    for name in WORKERS:
        worker = services[name]
        assert worker["image"] == services["migrate"]["image"] == "xinfeng:latest"
        assert worker["environment"]["XINFENG_TELEGRAM_MODE"] == "webhook"  # polling would need exactly one
        assert worker["depends_on"]["migrate"] == {"condition": "service_completed_successfully"}
        assert worker["depends_on"]["redis"] == {"condition": "service_healthy"}
        assert worker["environment"]["XINFENG_REDIS_URL"].startswith("redis://redis:")
        assert "@postgres:5432/" in worker["environment"]["XINFENG_DATABASE_URL"]
        assert "/readyz" in " ".join(worker["healthcheck"]["test"])
    caddy = services["caddy"]
    assert {"80:80", "443:443"} <= set(caddy["ports"])
    assert "./deploy/Caddyfile:/etc/caddy/Caddyfile:ro" in caddy["volumes"]
    port = services["worker-1"]["environment"]["XINFENG_HTTP_PORT"]
    assert caddy["environment"]["UPSTREAMS"].split() == [f"{w}:{port}" for w in WORKERS]
    # Reached from outside through the proxy only: a worker's own port is on the host's loopback.
    assert all(p.startswith("127.0.0.1:") for name in WORKERS for p in services[name].get("ports", []))


def test_compose_mounts_files_that_exist_and_uses_variables_the_example_lists() -> None:
    raw = (ROOT / "compose.yaml").read_text(encoding="utf-8")
    for service in compose()["services"].values():
        for volume in service.get("volumes", []):
            source = volume.split(":", 1)[0]
            if source.startswith("./") and source not in ("./import", "./backups"):  # made by the operator / script
                assert (ROOT / source).exists(), source
    used = set(re.findall(r"\$\{([A-Z_][A-Z0-9_]*)", raw))
    listed = {k for k in env_example() if not k.startswith("XINFENG_")}
    assert used == listed


def _docker_engine() -> str | None:
    """Why Docker cannot run here, or None when an engine answers."""
    if shutil.which("docker") is None:
        return "no docker client on this machine"
    info = subprocess.run(["docker", "info"], capture_output=True, text=True, timeout=60)
    return None if info.returncode == 0 else "no Docker engine answers here (`docker info` failed)"


def test_docker_compose_config_accepts_the_file(tmp_path: Path) -> None:
    if shutil.which("docker") is None:
        pytest.skip("no docker client on this machine")
    if subprocess.run(["docker", "compose", "version"], capture_output=True, timeout=60).returncode != 0:
        pytest.skip("the docker compose plugin is not installed here")
    shutil.copy(ROOT / "compose.yaml", tmp_path / "compose.yaml")
    shutil.copy(ROOT / ".env.example", tmp_path / ".env")
    shutil.copytree(DEPLOY, tmp_path / "deploy")
    result = subprocess.run(["docker", "compose", "config", "--quiet"], cwd=tmp_path, capture_output=True,
                            text=True, timeout=120)
    assert result.returncode == 0, result.stderr


def test_the_image_builds_and_runs_xinfeng() -> None:
    if reason := _docker_engine():
        pytest.skip(reason)
    tag = f"xinfeng:test-{uuid.uuid4().hex[:8]}"
    build = subprocess.run(["docker", "build", "-t", tag, "."], cwd=ROOT, capture_output=True, text=True, timeout=1800)
    assert build.returncode == 0, build.stderr[-3000:]
    try:
        run = subprocess.run(["docker", "run", "--rm", tag, "--help"], capture_output=True, text=True, timeout=300)
        user = subprocess.run(["docker", "run", "--rm", "--entrypoint", "id", tag, "-u"], capture_output=True,
                              text=True, timeout=300)
        font = subprocess.run(["docker", "run", "--rm", "--entrypoint", "ls", tag,
                               "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc"], capture_output=True, timeout=300)
    finally:
        subprocess.run(["docker", "rmi", "-f", tag], capture_output=True, timeout=300)
    assert run.returncode == 0 and "xinfeng" in run.stdout
    assert user.stdout.strip() != "0"
    assert font.returncode == 0


# ---------------------------------------------------------------- Dockerfile and what it installs


def test_dockerfile_is_slim_unprivileged_with_the_cjk_font_and_xinfeng_as_entrypoint() -> None:
    lines = [ln.strip() for ln in (ROOT / "Dockerfile").read_text(encoding="utf-8").splitlines()]
    assert any(ln.startswith("ARG PYTHON_IMAGE=python:3.11-slim") for ln in lines)
    assert any("fonts-wqy-microhei" in ln for ln in lines)
    users = [ln.split()[1] for ln in lines if ln.startswith("USER ")]
    assert users and users[-1] not in ("root", "0")
    assert 'ENTRYPOINT ["xinfeng"]' in lines
    assert 'CMD ["run"]' in lines


def test_the_dockerfile_copies_files_that_exist_and_dockerignore_lets_through() -> None:
    rules = [ln.strip() for ln in (ROOT / ".dockerignore").read_text(encoding="utf-8").splitlines()
             if ln.strip() and not ln.startswith("#")]
    assert rules[0] == "*"  # nothing by default: no .venv, databases or .env in the build context
    allowed = {r[1:].rstrip("/") for r in rules if r.startswith("!")}
    copied = set()
    for ln in (ROOT / "Dockerfile").read_text(encoding="utf-8").splitlines():
        if ln.startswith("COPY ") and "--from=" not in ln:
            copied |= set(ln.split()[1:-1])
    assert copied <= allowed, copied - allowed
    assert [c for c in sorted(copied) if not (ROOT / c).exists()] == []  # a missing one fails the build


def test_the_wheel_the_image_installs_holds_every_file_xinfeng_reads(tmp_path: Path) -> None:
    src = tmp_path / "src"
    src.mkdir()
    for name in ("pyproject.toml", "README.md"):  # what the Dockerfile's wheel stage copies
        shutil.copy(ROOT / name, src / name)
    for package in PACKAGES:
        shutil.copytree(ROOT / package, src / package, ignore=shutil.ignore_patterns("__pycache__"))
    built = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(tmp_path / "out"),
                            str(src)], capture_output=True, text=True, timeout=600)
    if built.returncode != 0 and re.search(r"No matching distribution|Could not find a version|Network", built.stderr):
        pytest.skip(f"pip could not fetch the build backend: {built.stderr.strip().splitlines()[-1]}")
    assert built.returncode == 0, built.stderr
    (wheel,) = (tmp_path / "out").glob("xinfeng-*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    needed = {str(p.relative_to(src)) for package in PACKAGES for p in (src / package).rglob("*")
              if p.is_file() and p.name != "README.md"}  # a README next to data is for people, not the bot
    assert needed - names == set()
    entry = next(n for n in names if n.endswith("entry_points.txt"))
    assert "xinfeng = bot.cli:main" in zipfile.ZipFile(wheel).read(entry).decode()


# ---------------------------------------------------------------- the reverse proxy


def caddy_paths() -> list[str]:
    """The path patterns the Caddyfile sends to the workers."""
    found = re.search(r"^\s*@xinfeng path (.+)$", (DEPLOY / "Caddyfile").read_text(encoding="utf-8"), re.M)
    assert found, "the Caddyfile names its routes in one `@xinfeng path …` matcher"
    return found.group(1).split()


def caddy_matches(pattern: str, path: str) -> bool:
    """Caddy's path matcher: exact, or a prefix when the pattern ends in *."""
    return path.startswith(pattern[:-1]) if pattern.endswith("*") else path == pattern


def sample_path(route_path: str) -> str:
    """A concrete path for a Starlette route ("/api/units/{code}" → "/api/units/x")."""
    return re.sub(r"\{[^}]+\}", "x", route_path)


async def public_routes(tmp_path: Path) -> list[str]:
    """Every path the bot serves to the outside, with every channel configured as .env.example describes."""
    from bot.dashboard import dashboard_routes
    from bot.runtime import build_runtime
    from bot.service import configured_channels

    env = tmp_path / ".env"
    shutil.copy(ROOT / ".env.example", env)
    # The example's settings, with made-up credentials for every channel and a database of our own.
    settings = Settings(_env_file=env, database_url=f"sqlite+aiosqlite:///{tmp_path / 'x.db'}",
                        telegram_token="123456:TEST", telegram_webhook_secret="s3cret", wechat_token="t",
                        wechat_app_id="wx1", wechat_app_secret="s",
                        wecom_corp_id="ww1", wecom_agent_id=1000002, wecom_secret="s", wecom_token="t",
                        wecom_aes_key="a" * 43)
    rt = await build_runtime(settings)
    try:
        channels = configured_channels(settings, rt, lambda: None)
        assert {c.platform for c in channels} == {"telegram", "wechat", "wecom"}
        routes = [r for c in channels for r in c.routes()] + dashboard_routes(rt.sessions, rt.clock)
    finally:
        await rt.close()
    return sorted({r.path for r in routes})  # type: ignore[attr-defined]


async def test_caddy_routes_exactly_what_the_bot_serves_publicly(tmp_path: Path) -> None:
    patterns, served = caddy_paths(), await public_routes(tmp_path)
    assert urlparse(env_example()["XINFENG_TELEGRAM_WEBHOOK_URL"]).path in served
    unrouted = [p for p in served if not any(caddy_matches(c, sample_path(p)) for c in patterns)]
    stale = [c for c in patterns if not any(caddy_matches(c, sample_path(p)) for p in served)]
    exposed = [p for p in INTERNAL if any(caddy_matches(c, p) for c in patterns)]
    assert (unrouted, stale, exposed) == ([], [], [])


def test_caddy_sends_traffic_only_to_ready_workers() -> None:
    caddyfile = (DEPLOY / "Caddyfile").read_text(encoding="utf-8")
    assert re.search(r"^\s*health_uri /readyz$", caddyfile, re.M)
    assert re.search(r"^\s*reverse_proxy \{\$UPSTREAMS", caddyfile, re.M)


def test_caddy_accepts_the_caddyfile() -> None:
    if shutil.which("caddy") is None:
        pytest.skip("caddy is not installed here (Debian: apt-get install caddy)")
    env = {**os.environ, "DOMAIN": "bot.example.org", "UPSTREAMS": "worker-1:8080 worker-2:8080"}
    result = subprocess.run(["caddy", "validate", "--config", str(DEPLOY / "Caddyfile"), "--adapter", "caddyfile"],
                            capture_output=True, text=True, env=env, timeout=120)
    assert result.returncode == 0, result.stderr[-2000:]


# ---------------------------------------------------------------- settings


def code_environment_variables() -> set[str]:
    """XINFENG_* variables the code reads itself, outside the settings class."""
    names: set[str] = set()
    for package in PACKAGES:
        for path in (ROOT / package).rglob("*.py"):
            names |= set(re.findall(r"environ(?:\.get)?\(\s*[\"'](XINFENG_[A-Z0-9_]+)", path.read_text("utf-8")))
            names |= set(re.findall(r"getenv\(\s*[\"'](XINFENG_[A-Z0-9_]+)", path.read_text("utf-8")))
    return names


def test_env_example_lists_exactly_the_settings_the_bot_reads() -> None:
    listed = {k for k in env_example() if k.startswith("XINFENG_")}
    settings = {f"XINFENG_{name.upper()}" for name in Settings.model_fields}
    assert listed == settings | code_environment_variables()


def test_env_example_is_a_valid_configuration(tmp_path: Path) -> None:
    env = tmp_path / ".env"
    shutil.copy(ROOT / ".env.example", env)
    settings = Settings(_env_file=env)
    assert settings.telegram_mode == "webhook"
    assert settings.telegram_token is None and settings.wecom_agent_id is None  # blank means not set
    assert settings.public_base_url.startswith("https://")


# ---------------------------------------------------------------- systemd


def test_systemd_units_verify() -> None:
    if shutil.which("systemd-analyze") is None:
        pytest.skip("systemd-analyze is not installed here")
    units = [DEPLOY / "systemd" / n for n in ("xinfeng-migrate.service", "xinfeng-backup.service",
                                             "xinfeng-backup.timer")]
    instance = DEPLOY / "systemd" / "xinfeng@8081.service"  # an instance of the template, as systemd reads it
    result = subprocess.run(["systemd-analyze", "verify", "--man=no", f"{DEPLOY / 'systemd' / 'xinfeng@.service'}:"
                             f"{instance.name}", *map(str, units)], capture_output=True, text=True, timeout=120)
    # The programs live on the server, not here; anything else systemd says is a mistake in a unit.
    complaints = [ln for ln in (result.stdout + result.stderr).splitlines()
                  if ln.strip() and "is not executable" not in ln]
    assert complaints == []


def test_workers_take_their_port_from_the_instance_and_wait_for_migrations() -> None:
    unit = (DEPLOY / "systemd" / "xinfeng@.service").read_text(encoding="utf-8")
    assert "ExecStart=/usr/bin/env XINFENG_HTTP_PORT=%i /opt/xinfeng/bin/xinfeng run" in unit
    assert "Requires=xinfeng-migrate.service" in unit and "xinfeng-migrate.service" in unit.split("After=")[1]
    assert "User=xinfeng" in unit


# ---------------------------------------------------------------- backups


def run_backup(url: str, directory: Path, path: str | None = None) -> subprocess.CompletedProcess[str]:
    """deploy/backup.sh, as cron or the timer would run it."""
    env = {**os.environ, "XINFENG_DATABASE_URL": url, "BACKUP_DIR": str(directory), "BACKUP_KEEP_DAYS": "14"}
    if path is not None:
        env["PATH"] = path
    shell = shutil.which("sh")
    assert shell is not None
    return subprocess.run([shell, str(DEPLOY / "backup.sh")], capture_output=True, text=True, env=env, timeout=300)


def sqlite_with_unsaved_wal(path: Path) -> sqlite3.Connection:
    """A WAL database whose last row is only in the write-ahead log (the writer still has it open)."""
    db = sqlite3.connect(path, isolation_level=None)
    db.execute("PRAGMA journal_mode=WAL")
    db.execute("PRAGMA wal_autocheckpoint=0")
    db.execute("CREATE TABLE org_units (code TEXT PRIMARY KEY, name TEXT)")
    db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    db.execute("INSERT INTO org_units VALUES ('WAL', '只在预写日志里')")
    return db


@pytest.mark.parametrize("shell", ["sqlite3", "python"])
def test_sqlite_backup_is_a_consistent_copy_including_the_wal(tmp_path: Path, shell: str) -> None:
    path = None
    if shell == "sqlite3":
        if shutil.which("sqlite3") is None:
            pytest.skip("the sqlite3 shell is not installed here")
    else:  # the image has Python but no sqlite3 shell: a PATH with the script's tools and no sqlite3
        tools = tmp_path / "bin"
        tools.mkdir()
        for tool in ("date", "mkdir", "mv", "wc", "find", "sed", "rm"):
            (tools / tool).symlink_to(shutil.which(tool))  # type: ignore[arg-type]
        (tools / "python3").symlink_to(sys.executable)
        path = str(tools)
    live = sqlite_with_unsaved_wal(tmp_path / "xinfeng.db")
    try:
        assert (tmp_path / "xinfeng.db-wal").stat().st_size > 0
        result = run_backup(f"sqlite+aiosqlite:///{tmp_path / 'xinfeng.db'}", tmp_path / "backups", path)
    finally:
        live.close()
    assert result.returncode == 0, result.stderr
    (copy,) = (tmp_path / "backups").glob("xinfeng-*.db")
    assert result.stdout.startswith(f"backup: {copy}")
    assert sqlite3.connect(copy).execute("SELECT name FROM org_units").fetchall() == [("只在预写日志里",)]
    assert not list((tmp_path / "backups").glob("*.partial"))


def test_old_backups_are_deleted_and_others_kept(tmp_path: Path) -> None:
    backups = tmp_path / "backups"
    backups.mkdir()
    old, recent, mine = backups / "xinfeng-20200101-000000.db", backups / "xinfeng-recent.db", backups / "notes.txt"
    for f in (old, recent, mine):
        f.write_text("x")
    os.utime(old, (0, 0))
    os.utime(mine, (0, 0))
    sqlite3.connect(tmp_path / "x.db").execute("CREATE TABLE t (x)").connection.close()
    result = run_backup(f"sqlite+aiosqlite:///{tmp_path / 'x.db'}", backups)
    assert result.returncode == 0, result.stderr
    assert not old.exists() and recent.exists() and mine.exists()


def test_a_backup_of_a_missing_database_fails_loudly(tmp_path: Path) -> None:
    result = run_backup(f"sqlite+aiosqlite:///{tmp_path / 'nothing.db'}", tmp_path / "backups")
    assert result.returncode != 0 and "no SQLite database" in result.stderr
    assert not list((tmp_path / "backups").glob("*"))


async def test_postgresql_backup_restores_into_an_equal_database(engine: AsyncEngine, tmp_path: Path) -> None:
    if engine.dialect.name != "postgresql":
        pytest.skip("PostgreSQL only (SQLite is covered above)")
    if shutil.which("pg_dump") is None or shutil.which("pg_restore") is None:
        pytest.skip("pg_dump/pg_restore are not installed here")
    async with engine.begin() as conn:
        await conn.execute(text("INSERT INTO org_units (code, name, level, path) VALUES ('BK', '备份测试中心', "
                                "'center', '/')"))
    url = engine.url.render_as_string(hide_password=False)
    result = run_backup(url, tmp_path / "backups")
    assert result.returncode == 0, result.stderr
    (dump,) = (tmp_path / "backups").glob("xinfeng-*.dump")
    target = f"xf_restore_{uuid.uuid4().hex[:8]}"
    server = url.replace("+asyncpg", "").rsplit("/", 1)[0]  # libpq's URL, without the database
    subprocess.run(["psql", f"{server}/postgres", "-qc", f'CREATE DATABASE "{target}"'], check=True,
                   capture_output=True)
    try:
        restore = subprocess.run(["pg_restore", "--no-owner", "--exit-on-error", f"--dbname={server}/{target}",
                                  str(dump)], capture_output=True, text=True, timeout=300)
        assert restore.returncode == 0, restore.stderr
        query = "SELECT name FROM org_units WHERE code = 'BK'"
        restored = subprocess.run(["psql", f"{server}/{target}", "-Atc", query], capture_output=True, text=True)
        assert restored.stdout.strip() == "备份测试中心"
    finally:
        subprocess.run(["psql", f"{server}/postgres", "-qc", f'DROP DATABASE IF EXISTS "{target}" WITH (FORCE)'],
                       capture_output=True)
