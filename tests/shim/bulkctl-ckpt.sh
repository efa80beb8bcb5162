#!/bin/bash
# bulkctl-ckpt.sh TEST_PROGRAM GPUVISOR_CKPT
# The bulk control socket against its real client: a workload of
# test_shim_bulkctl ("work") under the shim with $GPUVISOR_BULK_CTL is moved
# by `gpuvisor-ckpt precopy` (its bulk pre-copied into memory the helper
# made, the rest by the driver's checkpoint), then suspended with
# `gpuvisor-ckpt suspend --bulk` (the shim's `own` first) and resumed. After
# each step the workload's bulk has the contents it had, its submissions
# run and its worker thread makes progress. Run by run-test.sh (a private
# simulator directory in GV_SHIM_TEST_DIR), GPUVISOR_INSTANCE set.
set -u
prog=$1 ckpt=$2
D=$GV_SHIM_TEST_DIR
sock=$D/bulk.sock
fail() { echo "bulkctl-ckpt: $*" >&2; [ -f "$D/err" ] && sed 's/^/  workload: /' "$D/err" >&2; exit 1; }

mkfifo "$D/in" "$D/out" || fail "mkfifo"
GPUVISOR_BULK_CTL=$sock setsid "$prog" work <"$D/in" >"$D/out" 2>"$D/err" &
W=$!
trap 'kill -9 $W 2>/dev/null' EXIT
exec 7>"$D/in" 8<"$D/out"
ask_wl() { echo "$1" >&7; read -r -t 10 line <&8 || fail "no answer to '$1'"; echo "$line"; }
read -r -t 10 ready <&8 || fail "the workload did not start"
[ -S "$sock" ] || fail "no socket at $sock"
sum_a=$(ask_wl "sum a") sum_b=$(ask_wl "sum b")

check_runs() { # step
	[ "$(ask_wl "sum a")" = "$sum_a" ] || fail "$1: the first bulk allocation changed"
	[ "$(ask_wl "sum b")" = "$sum_b" ] || fail "$1: the second bulk allocation changed"
	[ "$(ask_wl submit)" = 1 ] || fail "$1: a submission failed"
	local c0 c
	c0=$(ask_wl count)
	for _ in $(seq 200); do
		c=$(ask_wl count)
		[ "$c" -gt "$c0" ] && return 0
		sleep 0.05
	done
	fail "$1: the worker thread stands still"
}
list_has() { # step foreign
	local l
	l=$("$prog" ask "$sock" '{"op":"list"}') || fail "$1: list"
	case $l in
	*'"id":1,'*'"foreign":'$2'}'*'"id":2,'*'"foreign":'$2'}]}') ;;
	*) fail "$1: list $l (expected foreign $2)" ;;
	esac
}

out=$("$ckpt" precopy "$W" --bulk "$sock" --timeout-ms 10000) || fail "precopy: $out"
case $out in *'"state":"destination"'*'"bulk_regions":2'*) ;; *) fail "precopy: $out" ;; esac
list_has precopy true
check_runs precopy

out=$("$ckpt" suspend "$W" --bulk "$sock") || fail "suspend: $out"
case $out in *'"checkpointed"'*) ;; *) fail "suspend: $out" ;; esac
out=$("$ckpt" resume "$W") || fail "resume: $out"
list_has "suspend and resume" false
check_runs "suspend and resume"
echo "bulkctl-ckpt: ok"
