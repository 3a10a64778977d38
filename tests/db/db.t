#!/bin/sh
# db.t: the database layer (tests/db/test_db) against a SQLite file and a
# real PostgreSQL server started here (tests/lib/pgserver), removed on
# exit whatever happens.
set -eu
top=${SY_SRCDIR:-$(cd "$(dirname "$0")/../.." && pwd)}
build=${SY_BUILDDIR:-$top/build}
tmp=$(mktemp -d /tmp/sydb.XXXXXX)
chmod 755 "$tmp"
pg="$tmp/pg"
trap '"$top/tests/lib/pgserver" destroy "$pg"; rm -rf "$tmp"' EXIT
trap 'exit 1' INT TERM HUP

pw="S3cret-$(od -An -N6 -tx1 /dev/urandom | tr -d ' \n')"
port=$("$top/tests/lib/pgserver" init "$pg")
"$top/tests/lib/pgserver" start "$pg"
"$top/tests/lib/pgserver" psql "$pg" -v pw="$pw" \
    -f "$top/tests/db/schema.sql" -f "$top/tests/db/schema_pg.sql" >/dev/null
/usr/bin/python3 - "$tmp/app.sqlite3" "$top/tests/db/schema.sql" \
    "$top/tests/db/schema_lite.sql" <<'PY'
import sqlite3, sys
db = sqlite3.connect(sys.argv[1])
for f in sys.argv[2:]:
    db.executescript(open(f, encoding="utf-8").read())
db.commit()
PY

SY_DB_SQLITE="$tmp/app.sqlite3" SY_DB_DIR="$tmp" SY_PG_DIR="$pg" \
SY_PG_PORT="$port" SY_PG_PASSWORD="$pw" SY_PG_LOG="$pg/log" \
SY_PGSERVER="$top/tests/lib/pgserver" \
    timeout 300 "$build/tests/db/test_db" 2>"$tmp/stderr" || rc=$?
cat "$tmp/stderr" >&2
if grep -F -e "$pw" "$tmp/stderr" >/dev/null; then
	echo "not ok - the password appears in the test's log output"
	exit 1
fi
echo "# log lines: $(wc -l <"$tmp/stderr"), none with the password"
exit "${rc:-0}"
