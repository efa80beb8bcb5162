#!/usr/bin/env bash
# gpuvisor events pages through the daemon's event log: the API answers at
# most 1000 events per call, the CLI asks again from the last seq it got
# until a short page, for the table, --json and --since.
. "$(dirname "$0")/lib.sh"
gv_start_daemon
expect_ok gv mode 2 timeslice
# 1 mode event + 2 per create/destroy: 1041 events, more than one page
for i in $(seq 520); do
	expect_api 201 POST /v1/instances '{"profile":"l40s-48c","gpu":"2"}'
	id=$(jout .id)
	expect_api 200 DELETE "/v1/instances/$id"
done
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
