# Helpers of the suspend tests (test_suspend.sh, test_suspend_faults.sh),
# sourced after lib.sh, with $id the instance under test and WL the gv-infer
# command line.
#
# held INSTANCE OUTFILE: gv-infer --hold run on INSTANCE in the background
# (gv_hold_bg: it stops before its last step until `release`, so it holds
# its memory however slow the checks are (ASan), and its last step and
# checksum read what went through the moves); $runner is its gpuvisor run.
held() {
	gv_hold_bg "$2" "$GV_BIN_DIR/gpuvisor" --socket "$GV_SOCK" run --instance "$1" -- \
		"${WL[@]}" --hold
}

wl_state() { gv_instance_field "$id" '.workload.state // "none"'; }
has_workload() { [ "$(gv_instance_field "$id" '.workload.pid // "null"')" != null ]; }
# gv-infer --verbose prints "step N:" as it goes
step_of() { grep -o 'step [0-9]*:' "$1" | tail -1 | tr -dc 0-9; }
