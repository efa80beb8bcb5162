#!/usr/bin/env bash
# A daemon that cannot write its state says why at start: the filesystem
# is full (or read-only), not "PRAGMA journal_mode=WAL: disk I/O error".
# Uses a small tmpfs; skipped where mounting one is not allowed.
. "$(dirname "$0")/lib.sh"
[ "$(id -u)" = 0 ] || skip "needs root (mounts a tmpfs)"
mkdir -p "$T/full"
mount -t tmpfs -o size=2m,mode=0755 gv-test-full "$T/full" 2>/dev/null || skip "cannot mount a tmpfs here"
umount_full() { umount -l "$T/full" 2>/dev/null; }
trap 'rc=$?; umount_full; (exit "$rc"); _gv_cleanup' EXIT

start() {
	_gv_capture timeout 20 "$GV_BIN_DIR/gpuvisord" --socket "$T/api.sock" --state-dir "$1" \
		--run-dir "$GV_RUN" --sim h100-80gb:1
}

step "a full filesystem: the cause, and nothing served"
mkdir -p "$T/full/state" "$GV_RUN"
dd if=/dev/zero of="$T/full/fill" bs=64k >/dev/null 2>&1
start "$T/full/state"
[ "$GV_RC" -eq 1 ] || fail "gpuvisord exited with $GV_RC on a full disk: $GV_ERR"
expect_contains "$GV_ERR" "filesystem is full"
expect_contains "$GV_ERR" "free space there and start again"
expect_not_contains "$GV_ERR" "disk I/O error"
[ -S "$T/api.sock" ] && fail "a socket was left"

step "the same daemon starts once there is room"
rm -f "$T/full/fill"
GV_STATE=$T/full/state
gv_start_daemon --sim h100-80gb:1
expect_api 200 GET /v1/node
expect_eq "$(jout .state_dir)" "$T/full/state" "state directory in use"

step "a read-only filesystem"
gv_stop_daemon
mount -o remount,ro "$T/full"
start "$T/full/state"
mount -o remount,rw "$T/full"
[ "$GV_RC" -eq 1 ] || fail "gpuvisord exited with $GV_RC on a read-only filesystem: $GV_ERR"
expect_contains "$GV_ERR" "Read-only file system"
gv_done
