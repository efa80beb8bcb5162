#!/usr/bin/env bash
# A member of the daemon's group who is not root runs a timeslice workload
# (docs/api.md, "Files and who may use them"): the socket, the accounting
# file, the scheduler segment and (simulated node) the node description are
# the group's; state files and the control-socket directory are not for
# other users. The group here is "users" (--group), so the test changes
# nothing on the host.
. "$(dirname "$0")/lib.sh"
[ "$(id -u)" = 0 ] || skip "needs root (runs the workload as another user)"
command -v setpriv >/dev/null || skip "needs setpriv (util-linux)"
[ -x "$GV_BIN_DIR/gv-infer" ] || skip "gv-infer workload not built"
# run as another user: the system python, not one under root's home
[ -x /usr/bin/python3 ] || skip "needs /usr/bin/python3"
gid=$(getent group users | cut -d: -f3)
[ -n "$gid" ] || skip "no group 'users' to stand in for gpuvisor"

# the simulated devices' accounting files: a directory the group shares
export GPUVISOR_SIM_SHM_DIR=$T/shm
mkdir -p "$GPUVISOR_SIM_SHM_DIR"
chgrp users "$GPUVISOR_SIM_SHM_DIR"
chmod 2770 "$GPUVISOR_SIM_SHM_DIR"
chmod 711 "$T"
gv_start_daemon --sim h100-80gb:1 --group users

step "files: the group's, never everyone's"
mode() { stat -c '%a %G' "$1"; }
expect_eq "$(mode "$GV_SOCK")" "660 users" "socket"
expect_eq "$(mode "$GV_STATE")" "2750 users" "state directory"
expect_eq "$(mode "$GV_STATE/gpuvisor.db")" "640 users" "gpuvisor.db"
expect_eq "$(mode "$GV_STATE/sim-node.json")" "640 users" "sim-node.json"
expect_eq "$(mode "$GV_RUN/acct")" "2750 users" "acct directory"
expect_eq "$(stat -c '%a %U' "$GV_RUN/ctl")" "711 root" "ctl directory"
expect_api 200 PUT /v1/gpus/0/mode '{"mode":"timeslice"}'
expect_eq "$(mode "$GV_RUN/sched")" "2750 users" "sched directory"
seg=$(ls "$GV_RUN"/sched/*.sched)
expect_eq "$(mode "$seg")" "660 users" "scheduler segment"
expect_api 201 POST /v1/instances '{"profile":"h100-4c"}'
id=$(jout .id)
expect_eq "$(mode "$GV_RUN/acct/$id.acct")" "660 users" "accounting file"

step "a group member (uid 65534, group users) runs a timeslice workload"
as_member() { setpriv --reuid=65534 --regid=65534 --groups="$gid" "$@"; }
used() { api GET "/v1/instances/$id" | jq -r '.workload.mem_used_bytes // 0'; }
busy() { [ "$(used)" -ge $((64 * 1024 * 1024)) ]; }
as_member "$GV_BIN_DIR/gpuvisor" --socket "$GV_SOCK" run --instance "$id" -- \
	"$GV_BIN_DIR/gv-infer" --weights-mib 64 --steps 60 --step-ms 50 >"$T/wl.out" 2>&1 &
runner=$!
GV_BG_PIDS+=("$runner")
wait_until 30 busy || fail "the member's workload never charged its memory: $(cat "$T/wl.out")"
expect_api 200 GET "/v1/instances/$id"
expect_eq "$(ps -o user= -p "$(jout .workload.pid)" | tr -d ' ')" nobody "the workload's user"
expect_eq "$(stat -c '%a %u' "$GV_RUN/ctl/$id")" "700 65534" "the workload's control-socket directory"
sched=$(api GET /v1/gpus/0/sched)
expect_eq "$(jfield "$sched" ".tenants[] | select(.instance == \"$id\") | .processes")" 1 \
	"the workload attached to the scheduler"
wait "$runner" || fail "the member's workload failed: $(cat "$T/wl.out")"

step "a member holds at most 256 connections to the socket; root still gets in"
as_member /usr/bin/python3 - "$GV_SOCK" <<'PY' >"$T/uid-limit.out" &
import socket, sys, time
socks, closed = [], 0
for i in range(300):
    s = socket.socket(socket.AF_UNIX)
    s.connect(sys.argv[1])
    try:
        s.send(b"GET /v1/node HTTP/1.1\r\n")
    except OSError:
        pass  # refused already: counted below
    socks.append(s)
time.sleep(2)
for s in socks:
    s.setblocking(False)
    try:
        if s.recv(100) == b"":
            closed += 1
    except BlockingIOError:
        pass
    except OSError:
        closed += 1
print(closed)
time.sleep(2)
PY
member_flood=$!
sleep 1
expect_api 200 GET /v1/node
wait "$member_flood" || fail "the member's connections failed: $(cat "$T/uid-limit.out")"
[ "$(cat "$T/uid-limit.out")" -ge 44 ] || fail "only $(cat "$T/uid-limit.out") of 300 connections refused"

step "someone outside the group reaches nothing"
out=$(setpriv --reuid=65534 --regid=65534 --clear-groups curl -s -o /dev/null -w '%{http_code}' \
	--unix-socket "$GV_SOCK" http://localhost/v1/node 2>&1)
expect_eq "$out" 000 "API for a user outside the group"
setpriv --reuid=65534 --regid=65534 --clear-groups cat "$GV_STATE/gpuvisor.db" >/dev/null 2>&1 &&
	fail "a user outside the group reads gpuvisor.db"
setpriv --reuid=65534 --regid=65534 --clear-groups touch "$GV_RUN/ctl/$id-x.sock" 2>/dev/null &&
	fail "a user outside the group creates a name in ctl/"
gv_done
