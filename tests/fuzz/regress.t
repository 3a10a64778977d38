#!/bin/sh
# regress.t: every libFuzzer target over its seed corpus and its saved
# crash reproducers (tests/fuzz/regressions/<target>/), once each; TAP.
# The targets are built by scripts/fuzz --build-only into build-fuzz/
# unless SY_FUZZ_DIR names a directory that already holds them.
top=${SY_SRCDIR:-$(cd "$(dirname "$0")/../.." && pwd)}
bin=${SY_FUZZ_DIR:-$top/build-fuzz}
fz=$top/tests/fuzz
log=$(mktemp) || exit 1
trap 'rm -f "$log"' EXIT

if [ -z "${SY_FUZZ_DIR:-}" ] &&
    ! "$top/scripts/fuzz" --build-only >"$log" 2>&1; then
	echo "Bail out! scripts/fuzz --build-only failed"
	sed 's/^/# /' "$log"
	exit 1
fi
targets=$(cd "$fz" && ls fuzz_*.c | sed 's/^fuzz_//; s/\.c$//')
n=0
for t in $targets; do
	n=$((n + 1))
	[ -d "$fz/regressions/$t" ] &&
	    n=$((n + $(find "$fz/regressions/$t" -type f | wc -l)))
done
echo "1..$n"
i=0
fail=0
check() {	# description, then the command
	d=$1; shift
	i=$((i + 1))
	if [ ! -x "$bin/fuzz_$t" ]; then
		echo "not ok $i - $d # $bin/fuzz_$t missing"
		fail=1
	elif timeout 120 "$@" >"$log" 2>&1; then
		echo "ok $i - $d"
	else
		echo "not ok $i - $d"
		fail=1
		grep -E 'ERROR|SUMMARY|^ *#[0-9]+ ' "$log" | head -n 20 |
		    sed 's/^/# /'
	fi
}
for t in $targets; do
	check "fuzz_$t over its corpus" \
	    "$bin/fuzz_$t" -runs=0 -timeout=5 -rss_limit_mb=2048 \
	    "$fz/corpus/$t"
	[ -d "$fz/regressions/$t" ] || continue
	for f in $(find "$fz/regressions/$t" -type f | sort); do
		check "fuzz_$t ${f#$fz/}" \
		    "$bin/fuzz_$t" -timeout=5 -rss_limit_mb=2048 "$f"
	done
done
exit $fail
