#!/usr/bin/env bash
# Scheduler settings survive daemon restarts (SIGTERM and kill -9): policy,
# slice and weights come back from the store, and the segment is adopted,
# not recreated (same inode: containers bind-mount it, and tenants running
# through the restart keep their records). A segment lost while the daemon
# was down (tmpfs cleared) is recreated with the stored settings.
. "$(dirname "$0")/lib.sh"
gv_start_daemon

uuid1=$(gv_gpu_field 1 .uuid)
seg=$GV_RUN/sched/$uuid1.sched

expect_ok gv mode 1 timeslice
gv_create --profile h100-10c --gpu 1
a=$GV_ID
gv_create --profile h100-10c --gpu 1
b=$GV_ID
expect_ok gv sched 1 --policy equal-share --slice-ms 7 --weight "$a=4"
ino=$(stat -c %i "$seg")

check_state() {
	expect_ok gv sched 1 --json
	expect_eq "$(jout .policy)" equal-share "policy ($1)"
	expect_eq "$(jout .slice_ms)" 7 "slice ($1)"
	expect_eq "$(jout '[.tenants[].instance] | sort | join(",")')" \
		"$(printf '%s\n' "$a" "$b" | sort | paste -sd,)" "tenants ($1)"
	expect_eq "$(jout ".tenants[] | select(.instance == \"$a\") | .weight")" 4 "weight of $a ($1)"
	expect_eq "$(jout ".tenants[] | select(.instance == \"$b\") | .weight")" 1 "weight of $b ($1)"
	expect_eq "$(jout ".tenants[] | select(.instance == \"$a\") | .share_ppm")" 500000 \
		"fixed share of $a, 1/8 x 4 ($1)"
}

step "plain restart"
gv_restart_daemon
check_state "after SIGTERM"
expect_eq "$(stat -c %i "$seg")" "$ino" "segment inode after SIGTERM"

step "kill -9"
gv_restart_daemon --kill9
check_state "after kill -9"
expect_eq "$(stat -c %i "$seg")" "$ino" "segment inode after kill -9"
expect_eq "$(stat -c %a "$seg")" 660 "segment mode"

step "the adopted segment is the daemon's: destroy removes the tenant"
gv_create --profile h100-10c --gpu 1
c=$GV_ID
expect_ok gv sched 1 --json
expect_eq "$(jout '.tenants | length')" 3
expect_ok gv destroy "$c"
check_state "after destroying $c"

step "a segment lost while the daemon was down is made again"
gv_stop_daemon || fail "gpuvisord exited with $? on SIGTERM"
rm -f "$seg"
gv_start_daemon
[ -f "$seg" ] || fail "no segment after start"
check_state "recreated segment"

if command -v sqlite3 >/dev/null; then
	step "a tenant whose instance vanished while the daemon was down is dropped"
	gv_stop_daemon || fail "gpuvisord exited with $? on SIGTERM"
	sqlite3 "$GV_STATE/gpuvisor.db" "DELETE FROM instances WHERE id = '$b'" ||
		fail "cannot edit the state database"
	gv_start_daemon
	expect_ok gv sched 1 --json
	expect_eq "$(jout '[.tenants[].instance] | join(",")')" "$a" "tenants after $b vanished"
else
	echo "(sqlite3 command-line tool not installed: vanished-instance step not run)"
fi
gv_done
