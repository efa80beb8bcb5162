#!/usr/bin/env bash
# Who may register a workload (docs/api.md, "Workloads"): the requesting
# process itself or one of its descendants, or root on the node; never over
# TCP. A refusal is a 403 that changes nothing. A forced destroy signals
# only the group it registered, never a process that took its place. The
# tenant endpoint's bulk socket goes to the registered workload's processes
# only, bound at its bulk path, and a live one is kept.
. "$(dirname "$0")/lib.sh"
[ "$(id -u)" = 0 ] || skip "needs root (runs clients as another user)"
command -v setpriv >/dev/null || skip "needs setpriv (util-linux)"

gv_start_daemon --sim h100-80gb:1 --listen 127.0.0.1:0
expect_api 200 PUT /v1/gpus/0/mode '{"mode":"timeslice"}'
expect_api 201 POST /v1/instances '{"profile":"h100-20c"}'
id=$(jout .id)

# a local user who is not root may use the socket here (as a member of the
# gpuvisor group would)
chmod 711 "$T"
chmod 666 "$GV_SOCK"
mkdir -m 1777 "$T/nb"
as_nobody() { setpriv --reuid=65534 --regid=65534 --clear-groups "$@"; }
# api as nobody: the body is printed, the status is in $T/api.status
api_nobody() {
	as_nobody curl -s --max-time 30 --unix-socket "$GV_SOCK" -X "$1" -o "$T/nb/body" \
		-w '%{http_code}' -H 'Content-Type: application/json' --data-binary "$3" \
		"http://localhost$2" >"$T/api.status" 2>/dev/null || echo 000 >"$T/api.status"
	cat "$T/nb/body"
}
step "a foreign process is refused: 403, nothing changes"
setsid sleep 600 &
foreign=$!
GV_BG_PIDS+=("$foreign")
out=$(api_nobody POST "/v1/instances/$id/workload" "{\"pid\":$foreign}")
expect_eq "$(api_status)" 403 "nobody registers an unrelated process"
expect_eq "$(jfield "$out" .error.code)" forbidden
expect_contains "$(jfield "$out" .error.message)" "is neither the requesting process"
expect_api 200 GET "/v1/instances/$id"
expect_eq "$(jout .workload)" null "workload after a refused registration"
out=$(api_nobody POST "/v1/instances/$id/workload" '{"pid":1}')
expect_eq "$(api_status)" 400 "pid 1 (init)"
for p in "$GV_DAEMON_PID" $$; do
	out=$(api_nobody POST "/v1/instances/$id/workload" "{\"pid\":$p}")
	expect_eq "$(api_status)" 403 "nobody registers pid $p"
done
# a sibling is no descendant: the shell's background job named by curl
out=$(as_nobody bash -c 'setsid sleep 600 & s=$!; curl -s --unix-socket "$1" -o /dev/null -w "%{http_code}" -X POST -d "{\"pid\":$s}" "http://localhost/v1/instances/$2/workload"; kill $s' _ "$GV_SOCK" "$id")
expect_eq "$out" 403 "a sibling of the requester"
kill -0 "$foreign" || fail "the foreign process died"
expect_api 200 GET "/v1/instances/$id"
expect_eq "$(jout .workload)" null "workload after the refusals"
expect_eq "$(api GET /v1/events | jq '[.events[] | select(.kind == "workload.attached")] | length')" 0 \
	"no workload.attached event"

step "over TCP, registration is refused even with the token"
port=$(sed -n 's/.* and tcp 127\.0\.0\.1:\([0-9]*\) .*/\1/p' "$T/daemon.log" | tail -n 1)
[ -n "$port" ] || fail "no TCP port in the log"
tok=$(cat "$GV_STATE/token")
code=$(curl -s -o "$T/tcp.body" -w '%{http_code}' -H "Authorization: Bearer $tok" -X POST \
	-d "{\"pid\":$foreign}" "http://127.0.0.1:$port/v1/instances/$id/workload")
expect_eq "$code" 403 "TCP registration"
expect_contains "$(cat "$T/tcp.body")" "Unix socket"
expect_api 200 GET "/v1/instances/$id"
expect_eq "$(jout .workload)" null "workload after the TCP refusal"

step "root in another pid namespace (a container's root) is no root on the node"
if unshare --pid --fork true 2>/dev/null; then
	code=$(unshare --pid --fork curl -s -o "$T/ns.body" -w '%{http_code}' --unix-socket "$GV_SOCK" \
		-X POST -d "{\"pid\":$foreign}" "http://localhost/v1/instances/$id/workload")
	expect_eq "$code" 403 "registration from another pid namespace"
	expect_contains "$(cat "$T/ns.body")" "neither the requesting process"
	expect_api 200 GET "/v1/instances/$id"
	expect_eq "$(jout .workload)" null "workload after the namespaced refusal"
else
	echo "(unshare --pid not allowed here: part skipped)"
fi

step "a non-root user registers its own child (gpuvisor run), and force destroy kills it"
setpriv --reuid=65534 --regid=65534 --clear-groups "$GV_BIN_DIR/gpuvisor" --socket "$GV_SOCK" run --instance "$id" -- sleep 600 \
	>"$T/nb/run.out" 2>&1 &
runner=$!
GV_BG_PIDS+=("$runner")
wait_until 10 bash -c "curl -s --unix-socket '$GV_SOCK' http://localhost/v1/instances/$id | jq -e '.workload != null'" ||
	fail "gpuvisor run as nobody did not register: $(cat "$T/nb/run.out")"
expect_api 200 GET "/v1/instances/$id"
child=$(jout .workload.pid)
expect_eq "$(ps -o ppid= -p "$child" | tr -d ' ')" "$runner" "the workload is the CLI's child"
expect_eq "$(ps -o user= -p "$child" | tr -d ' ')" nobody "the workload's user"
expect_api 200 DELETE "/v1/instances/$id?force=1"
wait_until 5 bash -c "! kill -0 $child" || fail "force destroy left the workload $child running"
kill -0 "$foreign" || fail "force destroy killed the foreign process"
expect_api 201 POST /v1/instances '{"profile":"h100-20c"}'
id=$(jout .id)

step "root on the node may register (adopt) a process; it must lead its group"
setsid bash -c 'sleep 600 & echo $! >"$1"; wait' _ "$T/member.pid" &
GV_BG_PIDS+=("$!")
wait_until 5 test -s "$T/member.pid" || fail "no member pid"
member=$(cat "$T/member.pid")
expect_api 400 POST "/v1/instances/$id/workload" "{\"pid\":$member}"
expect_contains "$(jout .error.message)" "does not lead its process group"
kill "$member"
expect_api 200 POST "/v1/instances/$id/workload" "{\"pid\":$foreign}"
expect_eq "$(jout .workload.pid)" "$foreign" "adopted by root"

step "a forced destroy after the workload died kills nothing else"
kill -9 "$foreign"
wait "$foreign" 2>/dev/null
# try to have the next process take the dead workload's number
reused=0
for i in $(seq 1 20); do
	if [ -w /proc/sys/kernel/ns_last_pid ]; then
		echo $((foreign - 1)) >/proc/sys/kernel/ns_last_pid 2>/dev/null
	fi
	setsid sleep 600 &
	other=$!
	GV_BG_PIDS+=("$other")
	if [ "$other" = "$foreign" ]; then
		reused=1
		break
	fi
	[ -w /proc/sys/kernel/ns_last_pid ] || break
	kill -9 "$other"
	wait "$other" 2>/dev/null
done
echo "(the dead workload's pid reused by another group leader: $reused)"
expect_api 200 DELETE "/v1/instances/$id?force=1"
sleep 0.5
kill -0 "$other" || fail "force destroy killed process $other, which is not the workload"
expect_not_contains "$(api GET /v1/events | jq -r '.events[] | select(.kind == "workload.killed") | .message')" \
	"pid $foreign " "killed-event for the dead workload"

step "the tenant endpoint's bulk socket: for the registered workload's processes only"
# what a container's shim asks when it cannot bind its bulk socket itself
expect_api 201 POST /v1/instances '{"profile":"h100-20c"}'
b=$(jout .id)
cat >"$T/bulk.py" <<'EOF'
import os, socket, stat, sys
tenant, want = sys.argv[1], sys.argv[2]
def ask(line):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.connect(tenant)
    s.sendall(line)
    msg, fds, _, _ = socket.recv_fds(s, 4096, 1)
    s.close()
    return msg.decode().strip(), fds
if sys.argv[3] == "foreign":
    print("foreign:", ask(b"bulk\n")[0])
    sys.exit(0)
os.setsid()
print("unregistered:", ask(b"bulk\n")[0])
print("register:", ask(b"register\n")[0])
msg, fds = ask(b"bulk\n")
print("bulk:", msg, len(fds))
l = socket.socket(fileno=fds[0])
st = os.lstat(want)
print("bound:", stat.S_ISSOCK(st.st_mode), oct(stat.S_IMODE(st.st_mode)), st.st_uid == os.getuid())
l.listen(4)
print("again:", ask(b"bulk\n")[0])
c = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
c.connect(want)
cred = c.getsockopt(socket.SOL_SOCKET, socket.SO_PEERCRED, 12)
print("served by:", int.from_bytes(cred[:4], "little") == os.getpid())
EOF
sock="$GV_RUN/tenant/$b/tenant.sock"
expect_ok python3 "$T/bulk.py" "$sock" "$GV_RUN/ctl/$b/bulk.sock" member
printf '%s\n' "$GV_OUT"
expect_contains "$GV_OUT" "unregistered: error 403 " "bulk before registering"
expect_contains "$GV_OUT" "register: ok $b " "registration"
expect_contains "$GV_OUT" "bulk: ok $b 1" "the bound socket, passed"
expect_contains "$GV_OUT" "bound: True 0o600 True" "a socket at the bulk path, mode 0600, the caller's"
expect_contains "$GV_OUT" "again: error 409 " "a live socket is kept"
expect_contains "$GV_OUT" "served by: True" "the listener's credentials"
# a link planted there (the directory is the workload's user's) is not
# followed: refused, its target untouched
touch "$T/target"
chmod 644 "$T/target"
expect_ok python3 - "$sock" "$GV_RUN/ctl/$b/bulk.sock" "$T/target" <<'EOF'
import os, socket, sys
os.setsid()
def ask(line):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.connect(sys.argv[1])
    s.sendall(line)
    out = s.recv(4096).decode().strip()
    s.close()
    return out
print("register:", ask(b"register\n"))
if os.path.lexists(sys.argv[2]):
    os.unlink(sys.argv[2])
os.symlink(sys.argv[3], sys.argv[2])
print("bulk:", ask(b"bulk\n"))
EOF
expect_contains "$GV_OUT" "bulk: error " "a link at the bulk path"
expect_eq "$(stat -c %a:%U "$T/target")" "644:$(id -un)" "the link's target"
expect_ok python3 "$T/bulk.py" "$sock" "$GV_RUN/ctl/$b/bulk.sock" foreign
expect_contains "$GV_OUT" "foreign: error 403 " "a process of another group"
gv_done
