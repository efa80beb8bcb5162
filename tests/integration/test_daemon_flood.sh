#!/usr/bin/env bash
# No client can starve the others (docs/api.md, "Limits"): 1,500 slow
# clients on TCP (spread over 30 source addresses) and 500 on the Unix
# socket hold request heads that never end, trickling a line every 2 s. The
# admin socket keeps serving create / list / destroy within a second each;
# the request deadline closes every slow client; a per-address limit
# refuses one address's excess at once; TCP serves again after the flood.
. "$(dirname "$0")/lib.sh"
command -v python3 >/dev/null || skip "needs python3"
# the slow clients need 2,000 descriptors, the daemon as many
ulimit -n 8192 2>/dev/null || skip "cannot raise the open-file limit to 8192"

DEADLINE=6
gv_start_daemon --sim h100-80gb:1 --listen 127.0.0.1:0 --request-timeout "$DEADLINE"
port=$(sed -n 's/.* and tcp 127\.0\.0\.1:\([0-9]*\) .*/\1/p' "$T/daemon.log" | tail -n 1)
[ -n "$port" ] || fail "no TCP port in the log"
tok=$(cat "$GV_STATE/token")
expect_api 200 PUT /v1/gpus/0/mode '{"mode":"timeslice"}'

# timed STATUS METHOD PATH [BODY]: the request must answer STATUS within
# 1 s (curl's own clock: the request, not a process start); body in GV_OUT
timed() {
	local want=$1 method=$2 path=$3 out code secs
	local args=(-s --max-time 10 --unix-socket "$GV_SOCK" -X "$method" -o "$T/timed.body"
		-w '%{http_code} %{time_total}')
	[ $# -ge 4 ] && args+=(-H 'Content-Type: application/json' --data-binary "$4")
	out=$(curl "${args[@]}" "http://localhost$path") || out="000 10"
	code=${out% *}
	secs=${out#* }
	GV_OUT=$(cat "$T/timed.body" 2>/dev/null)
	[ "$code" = "$want" ] || fail "$method $path -> $code during the flood, expected $want: $GV_OUT"
	awk -v s="$secs" 'BEGIN { exit !(s <= 1.0) }' ||
		fail "$method $path took ${secs} s during the flood"
	echo "  $method $path: $code in ${secs} s"
}

step "one address gets at most 64 TCP connections; the rest are refused at once"
python3 - "$port" <<'PY' || fail "per-address limit"
import socket, sys, time
port = int(sys.argv[1])
socks, refused = [], 0
for i in range(100):
    s = socket.socket()
    s.bind(("127.0.0.200", 0))
    s.connect(("127.0.0.1", port))
    try:
        s.send(b"GET /v1/node HTTP/1.1\r\n")
    except OSError:
        pass  # refused already: counted below
    socks.append(s)
time.sleep(2)
# the refused ones are closed at once; those admitted wait for the deadline
for s in socks:
    s.setblocking(False)
    try:
        if s.recv(100) == b"":
            refused += 1
    except BlockingIOError:
        pass
    except OSError:
        refused += 1
print("refused %d of 100 from one address" % refused)
sys.exit(0 if refused >= 36 else 1)
PY

step "1,500 slow TCP clients and 500 slow Unix-socket clients"
gv_bg python3 "$GV_SOURCE_DIR/tests/integration/slow_clients.py" --unix "$GV_SOCK" --unix-n 500 \
	--tcp "127.0.0.1:$port" --tcp-n 1500 --tcp-sources 30 --duration 30 \
	--ready "$T/slow.ready" --out "$T/slow.json"
slow=$!
wait_until 60 test -s "$T/slow.ready" || fail "the slow clients did not connect"
echo "slow clients connected: $(cat "$T/slow.ready")"

step "the admin socket serves create / list / destroy within a second each"
for i in $(seq 1 8); do
	timed 201 POST /v1/instances '{"profile":"h100-20c"}'
	id=$(jout .id)
	timed 200 GET /v1/instances
	expect_contains "$GV_OUT" "\"$id\""
	timed 200 DELETE "/v1/instances/$id"
done
# and the CLI, as a person would use it
expect_ok gv create --profile h100-20c --json
id=$(jout .id)
expect_ok gv list
expect_contains "$GV_OUT" "$id"
expect_ok gv destroy "$id"

step "the deadline closes every slow client"
wait "$slow" || fail "slow_clients.py failed"
summary=$(cat "$T/slow.json")
echo "$summary"
expect_eq "$(jfield "$summary" .unix.connected)" 500 "Unix slow clients connected"
expect_eq "$(jfield "$summary" .unix.closed)" 500 "Unix slow clients closed by the deadline"
expect_eq "$(jfield "$summary" .tcp.closed)" 1500 "TCP slow clients closed by the deadline"
late=$(jfield "$summary" '.unix.latest_close_s | floor')
[ "$late" -le $((DEADLINE + 4)) ] || fail "a Unix slow client lived ${late} s (deadline ${DEADLINE} s)"
m=$(api GET /metrics)
closed=$(printf '%s\n' "$m" | awk '$1 == "gpuvisor_api_deadline_closed_total" {print $2}')
[ "${closed:-0}" -ge 2000 ] || fail "gpuvisor_api_deadline_closed_total is '$closed', expected 2000 or more"

step "TCP serves again"
code=$(curl -s -o "$T/tcp.body" -w '%{http_code}' --max-time 5 -H "Authorization: Bearer $tok" \
	"http://127.0.0.1:$port/v1/instances")
expect_eq "$code" 200 "TCP request after the flood"
expect_eq "$(jq '.instances | length' "$T/tcp.body")" 0 "instances after the creates and destroys"
gv_done
