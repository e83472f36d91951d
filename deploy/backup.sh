#!/bin/sh
# Back up Xinfeng's database into BACKUP_DIR, one dated file a run, and delete those older than
# BACKUP_KEEP_DAYS days. Run it daily (cron, deploy/systemd/xinfeng-backup.timer, or
# `docker compose --profile tools run --rm backup`); docs/deploy.md shows how to restore.
#
#   XINFENG_DATABASE_URL  the bot's database (or give it as the first argument):
#                         postgresql+asyncpg://user:password@host:5432/db → pg_dump, custom format (.dump)
#                         sqlite+aiosqlite:////var/lib/xinfeng/xinfeng.db → SQLite's online backup (.db),
#                         safe while the bot runs: it copies a consistent snapshot, WAL included
#   BACKUP_DIR            where the files go (default ./backups)
#   BACKUP_KEEP_DAYS      how many days of files to keep (default 14)
#
# A file is written under a temporary name, checked (pg_restore can list it; SQLite's integrity
# check passes), and only then given its final name: a file named xinfeng-*.dump/.db is whole.
set -eu

url=${1:-${XINFENG_DATABASE_URL:-}}
dir=${BACKUP_DIR:-./backups}
keep=${BACKUP_KEEP_DAYS:-14}
[ -n "$url" ] || { echo "backup: set XINFENG_DATABASE_URL (or pass the URL)" >&2; exit 2; }

mkdir -p "$dir"
stamp=$(date -u +%Y%m%d-%H%M%S)

case "$url" in
  postgres://*|postgresql://*|postgres+*|postgresql+*)
    # libpq does not know SQLAlchemy's "+asyncpg" driver suffix.
    libpq=$(printf '%s' "$url" | sed -E 's#^postgres(ql)?(\+[A-Za-z0-9_]+)?://#postgresql://#')
    final="$dir/xinfeng-$stamp.dump"
    tmp="$final.partial"
    pg_dump --format=custom --compress=6 --no-owner --file="$tmp" --dbname="$libpq"
    pg_restore --list "$tmp" >/dev/null
    ;;
  sqlite*)
    path=${url#*:///}
    path=${path%%\?*}
    [ -f "$path" ] || { echo "backup: no SQLite database at $path" >&2; exit 2; }
    final="$dir/xinfeng-$stamp.db"
    tmp="$final.partial"
    if command -v sqlite3 >/dev/null 2>&1; then
      sqlite3 "$path" ".timeout 30000" ".backup '$tmp'"
      check=$(sqlite3 "$tmp" "PRAGMA integrity_check;")
    else  # the image has Python, not the sqlite3 shell: the same online backup through Python's module
      python3 - "$path" "$tmp" <<'PY'
import sqlite3, sys
src = sqlite3.connect(sys.argv[1], timeout=30)
dst = sqlite3.connect(sys.argv[2])
src.backup(dst)
dst.close()
src.close()
PY
      check=$(python3 -c 'import sqlite3, sys; print(sqlite3.connect(sys.argv[1]).execute("PRAGMA integrity_check").fetchone()[0])' "$tmp")
    fi
    [ "$check" = "ok" ] || { echo "backup: the copy failed SQLite's integrity check: $check" >&2; rm -f "$tmp"; exit 1; }
    ;;
  *)
    echo "backup: cannot back up this kind of database URL (PostgreSQL or SQLite only)" >&2
    exit 2
    ;;
esac

mv "$tmp" "$final"
echo "backup: $final ($(wc -c <"$final") bytes)"
find "$dir" -maxdepth 1 -type f \( -name 'xinfeng-*.dump' -o -name 'xinfeng-*.db' -o -name 'xinfeng-*.partial' \) \
  -mtime +"$keep" -print -delete | sed 's/^/backup: deleted old /'
