#!/usr/bin/env bash
# gpuvisor events pages through the daemon's event log: the API answers at
# most 1000 events per call, the CLI asks again from the last seq it got
# until a short page, for the table, --json and --since.
. "$(dirname "$0")/lib.sh"
gv_start_daemon
# 1041 mode changes (one event each), more than one page; one curl process
# sends them all, alternating, so each one changes the mode
: >"$T/requests"
for i in $(seq 1041); do
	[ $((i % 2)) = 1 ] && m=timeslice || m=passthrough
	# "next" resets every option, so each request names the socket again
	[ "$i" = 1 ] || echo next >>"$T/requests"
	printf 'unix-socket = "%s"\nurl = "http://localhost/v1/gpus/2/mode"\nrequest = "PUT"\nheader = "Content-Type: application/json"\ndata = "{\\"mode\\":\\"%s\\"}"\noutput = "/dev/null"\nfail\n' \
		"$GV_SOCK" "$m" >>"$T/requests"
done
curl -s -K "$T/requests" ||
	fail "curl could not send the mode changes"
expect_eq "$(gv_gpu_field 2 .mode)" timeslice "mode after 1041 changes"
expect_api 200 GET /v1/events
total=$(printf '%s' "$GV_OUT" | jq '.events | length')
[ "$total" -lt 1041 ] || fail "the API answered all $total events at once: paging untested"

step "--json: every event, in order, once"
expect_ok gv events --json
expect_eq "$(jout '.events | length')" 1041 "events"
expect_eq "$(jout '[.events[].seq] == [range(1; 1042)]')" true "seq 1..1041 in order"

step "--since N: the events after N"
expect_ok gv events --since 10 --json
expect_eq "$(jout '.events | length')" 1031
expect_eq "$(jout '.events[0].seq')" 11
expect_ok gv events --since 1041 --json
expect_eq "$(jout '.events | length')" 0

step "table: a header and one line per event"
expect_ok gv events
expect_eq "$(printf '%s\n' "$GV_OUT" | wc -l)" 1042 "table lines"
gv_done
