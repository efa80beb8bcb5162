#!/bin/sh
# Runs every fuzz target of tests/fuzz with libFuzzer (clang from Debian:
# clang and libclang-rt-14-dev, which scripts/install-deps.sh installs).
#
#   scripts/fuzz.sh [--time-per-target S | --total-time S] [--merge] [TARGET...]
#
# Builds the targets in $FUZZ_BUILD (default build-fuzz: clang, GV_FUZZ=ON,
# ASan+UBSan), then runs each for its time on a scratch copy of its corpus
# (tests/fuzz/corpus/<name>), so what it finds grows the copy as it runs.
# --merge adds to tests/fuzz/corpus/<name> the inputs of the run that reach
# code the committed corpus does not (libFuzzer -merge=1): `make fuzz` does
# this, so the corpora grow from what runs find (commit them); CI does not
# touch the tree. A crash, leak or timeout fails the run and its input is
# kept under $FUZZ_BUILD/artifacts/. Prints executions per target.
set -eu
here=$(cd "$(dirname "$0")/.." && pwd)
build=${FUZZ_BUILD:-$here/build-fuzz}
per=""
total=""
merge=0
targets=""
while [ $# -gt 0 ]; do
	case "$1" in
	--time-per-target) per=$2; shift 2 ;;
	--total-time) total=$2; shift 2 ;;
	--merge) merge=1; shift ;;
	-h|--help) sed -n '2,16p' "$0"; exit 0 ;;
	-*) echo "fuzz.sh: unknown option $1" >&2; exit 2 ;;
	*) targets="$targets $1"; shift ;;
	esac
done
command -v clang >/dev/null 2>&1 || {
	echo "fuzz.sh: clang is missing (scripts/install-deps.sh installs it)" >&2
	exit 1
}
if [ -z "$targets" ]; then
	for f in "$here"/tests/fuzz/fuzz_*.c; do
		n=$(basename "$f" .c)
		targets="$targets ${n#fuzz_}"
	done
fi
set -- $targets
if [ -n "$total" ]; then
	per=$((total / $#))
	[ "$per" -ge 1 ] || per=1
fi
: "${per:=60}"

mkdir -p "$build"
if [ ! -f "$build/CMakeCache.txt" ]; then
	cmake -S "$here" -B "$build" -DCMAKE_C_COMPILER=clang -DGV_FUZZ=ON \
		-DCMAKE_BUILD_TYPE=RelWithDebInfo >"$build/fuzz-cmake.log" 2>&1 || {
		cat "$build/fuzz-cmake.log" >&2
		exit 1
	}
fi
cmake --build "$build" --target fuzz_targets -j "${JOBS:-$(nproc)}" >"$build/fuzz-build.log" 2>&1 || {
	tail -n 40 "$build/fuzz-build.log" >&2
	exit 1
}

mkdir -p "$build/artifacts"
rc=0
report=""
for t in "$@"; do
	exe=$build/tests/fuzz/fuzz_$t
	seeds=$here/tests/fuzz/corpus/$t
	work=$build/corpus/$t
	[ -x "$exe" ] || { echo "fuzz.sh: no target $t" >&2; exit 2; }
	rm -rf "$work"
	mkdir -p "$work"
	cp "$seeds"/* "$work"/
	log=$build/fuzz-$t.log
	echo "fuzz: $t for ${per}s"
	if ASAN_OPTIONS=detect_leaks=1:abort_on_error=0 \
		"$exe" -max_total_time="$per" -timeout=10 -rss_limit_mb=4096 -print_final_stats=1 \
		-artifact_prefix="$build/artifacts/$t-" "$work" >"$log" 2>&1; then
		status=ok
	else
		status=FAILED
		rc=1
		grep -E "ERROR|SUMMARY|artifact|Test unit written" "$log" | head -n 20 >&2 || true
	fi
	execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -n 1)
	cov=$(grep -o 'cov: [0-9]*' "$log" | tail -n 1 | cut -d' ' -f2)
	n_before=$(ls "$seeds" | wc -l)
	added=0
	if [ "$merge" = 1 ] && [ "$status" = ok ]; then
		"$exe" -merge=1 "$seeds" "$work" >"$build/merge-$t.log" 2>&1 || true
		added=$(($(ls "$seeds" | wc -l) - n_before))
	fi
	line=$(printf '%-10s %-6s executions %-10s coverage %-6s corpus %s (+%s merged)' \
		"$t" "$status" "${execs:-?}" "${cov:-?}" "$(ls "$work" | wc -l)" "$added")
	echo "  $line"
	report="$report
$line"
done
echo "fuzz summary (${per}s per target):$report"
exit $rc
