# Helpers of the suspend tests (test_suspend.sh, test_suspend_faults.sh),
# sourced after lib.sh, with $id the instance under test and WL the gv-infer
# command line.
#
# held INSTANCE OUTFILE: gv-infer --hold in the background (runner: its
# gpuvisor run), stdin a FIFO kept open by a sleeper; it stops before its
# last step until `release`, so it holds its memory however slow the checks
# are (ASan), and its last step and checksum read what went through the moves.
held() {
	rm -f "$T/hold"
	mkfifo "$T/hold"
	"$GV_BIN_DIR/gpuvisor" --socket "$GV_SOCK" run --instance "$1" -- "${WL[@]}" --hold \
		<"$T/hold" >"$2" 2>&1 &
	runner=$!
	GV_BG_PIDS+=("$runner")
	# the FIFO's writer is a process of its own: a descriptor of this shell
	# would be inherited by every process started meanwhile (a restarted
	# daemon) and the end of input would never come
	sleep 100000 >"$T/hold" &
	holder=$!
	GV_BG_PIDS+=("$holder")
}
release() { kill "$holder" 2>/dev/null; wait "$holder" 2>/dev/null; }

wl_state() { gv_instance_field "$id" '.workload.state // "none"'; }
has_workload() { [ "$(gv_instance_field "$id" '.workload.pid // "null"')" != null ]; }
# gv-infer --verbose prints "step N:" as it goes
step_of() { grep -o 'step [0-9]*:' "$1" | tail -1 | tr -dc 0-9; }
