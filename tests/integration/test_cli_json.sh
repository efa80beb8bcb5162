#!/usr/bin/env bash
# Machine-readable and human output: every listing's --json parses with jq
# and has the API's fields; the human tables line up; events --since.
. "$(dirname "$0")/lib.sh"
gv_start_daemon
expect_ok gv mode 1 mig
expect_ok gv mode 2 timeslice
gv_create --profile 3g.40gb --gpu 1 --placement 0
mig=$GV_ID
for f in id gpu gpu_uuid profile kind start fb_mib state device_uuid created workload; do
	jout "has(\"$f\")" | grep -qx true || fail "create --json lacks $f: $GV_OUT"
done
gv_create --profile l40s-16c --gpu 2
ts=$GV_ID
gv_create --profile passthrough --gpu 0
pt=$GV_ID

step "gpus --json"
expect_ok gv gpus --json
jvalid "$GV_OUT"
expect_eq "$(jout '.gpus | length')" 3
for f in index uuid name model matched_by pci_bus_id mem_mib mode mig_capable mig_mode \
	instances allocated_mib free_mib mig_slots; do
	expect_eq "$(jout "[.gpus[] | has(\"$f\")] | all")" true "gpus[].$f"
done
expect_eq "$(jout '[.gpus[].model] | join(",")')" "a100-40gb,h100-80gb,l40s"
expect_eq "$(jout '[.gpus[].mode] | join(",")')" "passthrough,mig,timeslice"
expect_eq "$(jout '.gpus[1].instances')" 1

step "profiles --json, all GPUs and one"
expect_ok gv profiles --json
jvalid "$GV_OUT"
expect_eq "$(jout '[.profiles[].gpu] | unique | join(",")')" "0,1,2"
for f in gpu name kind fb_mib max free; do
	expect_eq "$(jout "[.profiles[] | has(\"$f\")] | all")" true "profiles[].$f"
done
expect_ok gv profiles --gpu 1 --json
expect_eq "$(jout '[.profiles[].gpu] | unique | join(",")')" "1"
expect_eq "$(jout '.profiles[] | select(.name == "3g.40gb") | .free')" 1 "3g.40gb free"
expect_eq "$(jout '.profiles[] | select(.name == "3g.40gb") | .starts | join(",")')" "0,4"
expect_ok gv profiles --gpu "$(gv_gpu_field 2 .uuid)" --json
expect_eq "$(jout '[.profiles[].gpu] | unique | join(",")')" "2" "profiles by UUID"
expect_rc 1 "gpuvisor: " gv profiles --gpu 5 --json

step "list --json"
expect_ok gv list --json
jvalid "$GV_OUT"
expect_eq "$(jout '[.instances[].id] | sort | join(",")')" \
	"$(printf '%s\n' "$mig" "$ts" "$pt" | sort | paste -sd, -)"
expect_eq "$(jout ".instances[] | select(.id == \"$mig\") | .kind")" mig
expect_eq "$(jout ".instances[] | select(.id == \"$ts\") | .kind")" timeslice
expect_eq "$(jout ".instances[] | select(.id == \"$pt\") | .kind")" passthrough
expect_eq "$(jout '[.instances[].workload] | map(. == null) | all')" true "no workloads"

step "events --json and --since"
expect_ok gv events --json
jvalid "$GV_OUT"
n=$(jout '.events | length')
[ "$n" -ge 5 ] || fail "expected at least 5 events (2 modes, 3 creations), got $n"
expect_eq "$(jout '[.events[].seq] | . == (sort | unique)')" true "seq increasing"
for f in seq time kind gpu instance message; do
	expect_eq "$(jout "[.events[] | has(\"$f\")] | all")" true "events[].$f"
done
last=$(jout '.events[-1].seq')
mid=$(jout '.events[-3].seq')
expect_ok gv events --since "$mid" --json
expect_eq "$(jout '[.events[].seq | tostring] | join(",")')" \
	"$(gv events --json | jq -r "[.events[] | select(.seq > $mid) | .seq | tostring] | join(\",\")")" \
	"events --since $mid"
expect_ok gv events --since "$last" --json
expect_eq "$(jout '.events | length')" 0 "no events after the last"
expect_ok gv events --since "$last"
expect_eq "$GV_OUT" "no events"
expect_ok gv destroy "$pt"
expect_ok gv events --since "$last" --json
expect_eq "$(jout '.events[0].instance')" "$pt" "the destroy event"

step "human tables line up"
# aligned COLUMN OUTPUT: every row has a value starting (left-aligned) at the
# column where the header's COLUMN starts
aligned() {
	printf '%s\n' "$2" | awk -v col="$1" '
		NR == 1 { pos = index($0, col); if (pos == 0) exit 2; next }
		{ if (pos > 1 && substr($0, pos - 1, 1) != " ") exit 1
		  if (substr($0, pos, 1) == " ") exit 1 }' ||
		fail "column $1 is not aligned:
$2"
}
expect_ok gv list
for col in ID PROFILE KIND STATE DEVICE; do aligned "$col" "$GV_OUT"; done
expect_ok gv gpus
for col in NAME MODEL MODE MIG UUID; do aligned "$col" "$GV_OUT"; done
expect_ok gv profiles
for col in PROFILE KIND STARTS; do aligned "$col" "$GV_OUT"; done
expect_ok gv events
for col in TIME KIND; do aligned "$col" "$GV_OUT"; done
# no trailing blanks
expect_ok gv list
printf '%s\n' "$GV_OUT" | grep -q ' $' && fail "trailing blanks in gv list"

step "create/mode/destroy print one line; --json on create only"
expect_ok gv create --profile l40s-16c --gpu 2
expect_eq "$(printf '%s\n' "$GV_OUT" | wc -l)" 1 "create output lines"
expect_contains "$GV_OUT" "created i-"
expect_contains "$GV_OUT" "16.0 GiB"
id=$(printf '%s' "$GV_OUT" | sed -n 's/^created \(i-[0-9]*\):.*/\1/p')
expect_ok gv destroy "$id"
expect_eq "$GV_OUT" "destroyed $id"
expect_ok gv destroy "$mig" "$ts"
gv_done
