#!/usr/bin/env bash
# gpuvisor advise / POST /v1/advise on a simulated node (A100-40GB, H100-80GB,
# L40S): the table's modes, JSON and table output, the commands it gives
# work as given and land where it said, bad requests are refused with the
# reason, and advice changes nothing on the node.
. "$(dirname "$0")/lib.sh"
gv_start_daemon

# The node's state as the API shows it (instances, GPUs and modes, free counts).
node_state() {
	local s
	s=$(gv list --json) || fail "gv list --json failed"
	printf '%s\n' "$s"
	gv gpus --json || fail "gv gpus --json failed"
	gv profiles --json || fail "gv profiles --json failed"
	curl -s --unix-socket "$GV_SOCK" http://localhost/v1/events | jq -c '[.events[] | .kind]'
}

# Runs the commands of an advice (JSON in $1, jq path of the commands in
# $2) through this test's daemon: each is "gpuvisor ARGS...".
run_commands() {
	local cmd
	while IFS= read -r cmd; do
		[ -n "$cmd" ] || continue
		case "$cmd" in
		"gpuvisor "*) ;;
		*) fail "advised command is not a gpuvisor command: $cmd" ;;
		esac
		# shellcheck disable=SC2086 # the advised words, split as a shell would
		expect_ok gv ${cmd#gpuvisor }
	done < <(jfield "$1" "$2[]")
}

before=$(node_state)

step "inference on a node whose GPUs are all in passthrough: MIG, after a mode change"
expect_ok gv advise --workload inference --memory 30g --json
adv=$GV_OUT
expect_eq "$(jout .mode)" mig "mode"
expect_eq "$(jout .fits_now)" false "fits_now"
expect_eq "$(jout .profile)" 3g.40gb "profile (smallest MIG profile with 30 GiB; not the A100's whole 7g)"
expect_eq "$(jout '.commands | length')" 0 "no commands for what does not fit"
expect_contains "$(jout '.reasons[0]')" "production inference"
expect_contains "$(jout '.reasons | join(" ")')" "gpu 1 cannot take 3g.40gb: mode is passthrough"
expect_eq "$(jout '.alternatives[0].mode')" mig "first alternative: the same mode"
expect_eq "$(jout '.alternatives[0].fits_now')" true
expect_eq "$(jout '.alternatives[0].mode_changes | join(",")')" 1
expect_eq "$(jout '.alternatives[0].gpu')" 1
expect_eq "$(jout '.alternatives[0].placement')" 4
expect_contains "$(jout '.alternatives[0].reasons | join(" ")')" "set gpu 1 to mig mode (it has no instances"
expect_eq "$(jout '.alternatives[0].commands | join(";")')" \
	"gpuvisor mode 1 mig;gpuvisor create --profile 3g.40gb --gpu 1 --placement 4"
# every answer has the fields the console shows
for f in mode profile gpu placement fits_now reasons alternatives commands replicas; do
	expect_eq "$(jout "has(\"$f\")")" true "field $f"
done
expect_eq "$(jout '[.alternatives[] | has("reasons") and has("commands") and has("fits_now")] | all')" true

step "the table output says the same"
expect_ok gv advise --workload inference --memory 30g
first=$(printf '%s\n' "$GV_OUT" | head -n 1)
expect_eq "$first" "recommended: mig 3g.40gb (does not fit now)"
expect_contains "$GV_OUT" "reasons:"
expect_contains "$GV_OUT" "alternative 1: mig 3g.40gb on gpu 1 at slot 4"
expect_contains "$GV_OUT" "  gpuvisor mode 1 mig"
# the placement table's header and its row line up
hdr=$(printf '%s\n' "$GV_OUT" | grep -m1 '^REPLICA')
row=$(printf '%s\n' "$GV_OUT" | grep -m1 -E '^ +1 +1 +3g\.40gb')
expect_eq "$hdr" "REPLICA  GPU  PROFILE  KIND  SLOT  FRAMEBUFFER" "table header"
expect_eq "$row" "      1    1  3g.40gb  mig      4     39.5 GiB" "table row"

step "advice changed nothing"
expect_eq "$(node_state)" "$before" "node state after advise"

step "its commands work as given, and the instance is where it said"
run_commands "$adv" .alternatives[0].commands
expect_eq "$(gv_gpu_field 1 .mode)" mig
expect_ok gv list --json
expect_eq "$(jout '.instances | length')" 1
expect_eq "$(jout '.instances[0].profile')" 3g.40gb
expect_eq "$(jout '.instances[0].gpu')" 1
expect_eq "$(jout '.instances[0].start')" 4

step "the next one fits now beside it, with the placement code's start"
expect_ok gv advise --workload inference --memory 30g --json
adv=$GV_OUT
expect_eq "$(jout .fits_now)" true
expect_eq "$(jout .gpu)" 1
expect_eq "$(jout .placement)" 0
expect_eq "$(jout '.alternatives | length')" 0
expect_eq "$(jout '.commands | join(";")')" "gpuvisor create --profile 3g.40gb --gpu 1 --placement 0"
expect_contains "$(jout '.reasons | join(" ")')" "gpu 1 (h100-80gb, mig mode) takes 3g.40gb at slot 0"
run_commands "$adv" .commands
expect_ok gv list --json
expect_eq "$(jout '[.instances[] | select(.gpu == 1) | .start] | sort | join(",")')" "0,4"

step "training: time slicing; replicas spread over GPUs"
expect_ok gv mode 0 timeslice
expect_ok gv mode 2 timeslice
expect_ok gv advise --workload training --memory 16g --replicas 2 --json
expect_eq "$(jout .mode)" timeslice
expect_eq "$(jout .fits_now)" true
expect_eq "$(jout '[.replicas[].gpu] | sort | join(",")')" "0,2" "one replica per time-sliced GPU"
expect_contains "$(jout '.reasons[0]')" "rule for training"
expect_contains "$(jout '.reasons | join(" ")')" "not a tenant that loads the real driver"
adv=$GV_OUT
run_commands "$adv" .commands
expect_ok gv list --json
expect_eq "$(jout '[.instances[] | select(.kind == "timeslice") | .gpu] | sort | join(",")')" "0,2"

step "untrusted tenants: MIG, never time slicing without the warning"
expect_ok gv advise --workload dev --memory 8g --untrusted --json
expect_eq "$(jout .mode)" mig
expect_contains "$(jout '.reasons[0]')" "only MIG isolates faults"
expect_ok gv advise --workload dev --memory 30g --untrusted --json
# the H100 has no room for another 40 GB MIG instance: the time-sliced
# alternatives carry the warning
expect_eq "$(jout .fits_now)" false
expect_eq "$(jout '[.alternatives[] | select(.mode == "timeslice") | (.reasons | join(" ") | contains("WARNING: the tenants do not trust each other"))] | all')" true

step "full performance: a workload that needs a whole GPU"
expect_ok gv advise --workload training --memory 60g --json
expect_eq "$(jout .mode)" passthrough
expect_contains "$(jout '.reasons[0]')" "one workload at full performance"
expect_ok gv advise --workload training --memory 200g
expect_contains "$GV_OUT" "more than the whole of any GPU considered"

step "bad requests: the reason, and nothing changes"
mid=$(node_state)
expect_rc 2 "--workload must be training, inference or dev" gv advise --workload batch --memory 8g
expect_rc 2 "--memory is required" gv advise --workload training
expect_rc 2 "--memory needs a size" gv advise --workload training --memory lots
expect_rc 2 "--replicas needs a number from 1 to 64" gv advise --workload training --memory 1g --replicas 65
expect_rc 1 "no GPU '7'" gv advise --workload training --memory 1g --gpu 7
expect_api 400 POST /v1/advise '{"workload":"training"}'
expect_contains "$(jout .error.message)" "field 'memory_mib' is required"
expect_api 400 POST /v1/advise '{"workload":"training","memory_mib":1024,"replica":2}'
expect_contains "$(jout .error.message)" "unknown field 'replica'"
expect_api 400 POST /v1/advise '{"workload":"training","memory_mib":"20G"}'
expect_contains "$(jout .error.message)" "must be an integer"
expect_api 400 POST /v1/advise 'not json'
expect_api 404 POST /v1/advise '{"workload":"dev","memory_mib":1024,"gpu":9}'
expect_api 405 GET /v1/advise
expect_api 200 POST /v1/advise '{"workload":"dev","memory_mib":1024,"gpu":"2"}'
expect_eq "$(jout '.request.gpu')" 2
expect_eq "$(jout '[.replicas[].gpu] | unique | join(",")')" 2
expect_eq "$(node_state)" "$mid" "node state after refused and read-only requests"

gv_done
