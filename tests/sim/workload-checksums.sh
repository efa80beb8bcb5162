#!/bin/sh
# gv-infer and gv-train print the same checksum for the same options (runs
# are deterministic), and a different one for different options (the
# checksum depends on the work done).
# usage: workload-checksums.sh <bin dir>
set -eu
bin=$1
sum() { "$@" | sed -n 's/^checksum: \(0x[0-9a-f]\{16\}\)$/\1/p'; }

check() {
	name=$1; shift
	a=$(sum "$@")
	b=$(sum "$@")
	[ -n "$a" ] || { echo "$name: no checksum line" >&2; exit 1; }
	[ "$a" = "$b" ] || { echo "$name: checksums differ between runs: $a $b" >&2; exit 1; }
	echo "$name: $a"
	last=$a
}

check infer "$bin/gv-infer" --weights-mib 8 --kv-mib-per-step 1 --steps 4
i4=$last
check infer-5 "$bin/gv-infer" --weights-mib 8 --kv-mib-per-step 1 --steps 5
[ "$i4" != "$last" ] || { echo "infer: 4 and 5 steps give the same checksum" >&2; exit 1; }
check train "$bin/gv-train" --params-mib 4 --steps 3
t3=$last
check train-4 "$bin/gv-train" --params-mib 4 --steps 4
[ "$t3" != "$last" ] || { echo "train: 3 and 4 steps give the same checksum" >&2; exit 1; }
# bad options are refused with status 2
if "$bin/gv-infer" --steps -1 2>/dev/null; then echo "infer accepted --steps -1" >&2; exit 1; fi
if "$bin/gv-train" --bogus 2>/dev/null; then echo "train accepted --bogus" >&2; exit 1; fi
echo "sim.workloads: ok"
