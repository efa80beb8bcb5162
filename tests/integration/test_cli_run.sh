#!/usr/bin/env bash
# gpuvisor run: the instance's environment, registration before the command
# starts, cleared after; exit status; signal forwarding; a workload killed
# with -9; gpuvisor run itself killed with -9; destroy refused while a
# workload runs and --force.
. "$(dirname "$0")/lib.sh"
gv_start_daemon
expect_ok gv mode 2 timeslice
gv_create --profile l40s-8c --gpu 2
id=$GV_ID
dev=$(jout .device_uuid)
GVB=$GV_BIN_DIR/gpuvisor

# workload_pid: the registered pid of $id, or null
workload_pid() { gv_instance_field "$id" '.workload.pid // "null"'; }
no_workload() { [ "$(workload_pid)" = null ]; }
has_workload() { [ "$(workload_pid)" != null ]; }

step "the command gets the instance's environment"
expect_api 200 GET "/v1/instances/$id/env"
prepend=$(jout .env.LD_LIBRARY_PATH_PREPEND)
[ "$prepend" != null ] || fail "env has no LD_LIBRARY_PATH_PREPEND: $GV_OUT"
LD_LIBRARY_PATH=/opt/caller-lib expect_ok gv run --instance "$id" -- \
	sh -c 'printf "%s\n" "$CUDA_VISIBLE_DEVICES" "$GPUVISOR_INSTANCE" "$LD_LIBRARY_PATH" "${LD_LIBRARY_PATH_PREPEND-unset}"'
expect_eq "$(printf '%s\n' "$GV_OUT" | sed -n 1p)" "$dev" CUDA_VISIBLE_DEVICES
expect_eq "$(printf '%s\n' "$GV_OUT" | sed -n 2p)" "$id" GPUVISOR_INSTANCE
expect_eq "$(printf '%s\n' "$GV_OUT" | sed -n 3p)" "$prepend:/opt/caller-lib" LD_LIBRARY_PATH
expect_eq "$(printf '%s\n' "$GV_OUT" | sed -n 4p)" unset "LD_LIBRARY_PATH_PREPEND is not exported"
(unset LD_LIBRARY_PATH; expect_ok gv run --instance "$id" -- sh -c 'echo "$LD_LIBRARY_PATH"'
 expect_eq "$GV_OUT" "$prepend" "LD_LIBRARY_PATH without one before") || exit 1

expect_api 200 GET /v1/node
cat=$(jout .catalog)
expect_ok env -u GPUVISOR_CATALOG "$GVB" --socket "$GV_SOCK" run --instance "$id" -- sh -c 'echo "$GPUVISOR_CATALOG"'
expect_eq "$GV_OUT" "$cat" "GPUVISOR_CATALOG on a simulated node: the daemon's catalog"

step "registered before the command starts, in its own process group, cleared after"
expect_ok gv run --instance "$id" -- sh -c \
	"echo \$\$; ps -o pgid= -p \$\$; $GVB --socket $GV_SOCK list --json"
pid=$(printf '%s\n' "$GV_OUT" | sed -n 1p)
pgid=$(printf '%s\n' "$GV_OUT" | sed -n 2p | tr -d ' ')
expect_eq "$pgid" "$pid" "the workload leads its own process group"
listed=$(printf '%s\n' "$GV_OUT" | sed -n '3,$p' | jq -r --arg id "$id" '.instances[] | select(.id == $id) | .workload.pid')
expect_eq "$listed" "$pid" "pid registered while the command runs"
expect_eq "$(workload_pid)" null "workload cleared after the command"

step "exit status is the command's"
expect_rc 7 "" gv run --instance "$id" -- sh -c 'exit 7'
expect_rc 0 "" gv run --instance "$id" -- true
expect_rc 137 "" gv run --instance "$id" -- sh -c 'kill -9 $$'
expect_rc 143 "" gv run --instance "$id" -- sh -c 'kill -TERM $$'
expect_rc 127 "cannot run no-such-command-gv" gv run --instance "$id" -- no-such-command-gv
expect_eq "$(workload_pid)" null "cleared after a failed exec"
# the form without --
expect_rc 3 "" gv run --instance "$id" sh -c 'exit 3'

step "on a terminal the command gets the foreground, and gives it back"
if command -v script >/dev/null 2>&1; then
	expect_ok script -qec "$GVB --socket $GV_SOCK run --instance $id -- sh -c 'ps -o pgid=,tpgid= -p \$\$'; ps -o pgid=,tpgid= -p \$\$" /dev/null
	inner=$(printf '%s\n' "$GV_OUT" | tr -d '\r' | sed -n 1p | awk '{print ($1 == $2) ? "fg" : "bg"}')
	outer=$(printf '%s\n' "$GV_OUT" | tr -d '\r' | sed -n 2p | awk '{print ($1 == $2) ? "fg" : "bg"}')
	expect_eq "$inner" fg "the command's group owns the terminal: $GV_OUT"
	expect_eq "$outer" fg "the caller's group owns it again: $GV_OUT"
else
	echo "no script(1): terminal check skipped"
fi

step "refusals: unknown instance, a second workload"
expect_rc 1 "gpuvisor: " gv run --instance i-424242 -- true
expect_contains "$GV_ERR" "i-424242"
gv_bg_cli run --instance "$id" -- sleep 30
runner=$!
wait_until 10 has_workload || fail "sleep never registered"
wpid=$(workload_pid)
expect_rc 1 "not started" gv run --instance "$id" -- sh -c 'echo SHOULD-NOT-RUN'
expect_not_contains "$GV_OUT" "SHOULD-NOT-RUN"
expect_eq "$(workload_pid)" "$wpid" "first workload still registered"

step "destroy refused while it runs"
expect_rc 1 "gpuvisor: " gv destroy "$id"
expect_eq "$(gv_instance_field "$id" .id)" "$id" "instance still there"

step "kill -9 of the workload: gpuvisor run exits 137, registration cleared"
kill -9 "$wpid"
wait "$runner"
expect_eq "$?" 137 "gpuvisor run status after kill -9 of its command"
wait_until 5 no_workload || fail "workload not cleared after kill -9"

step "SIGTERM/SIGINT to gpuvisor run reach the command's group"
# (sh ignores SIGINT in its own background jobs, so SIGINT goes to a plain
# command; SIGTERM to a shell with a child)
for sig in TERM INT; do
	if [ "$sig" = TERM ]; then
		gv_bg_cli run --instance "$id" -- sh -c 'sleep 30 & wait'
	else
		gv_bg_cli run --instance "$id" -- sleep 30
	fi
	runner=$!
	wait_until 10 has_workload || fail "not registered ($sig)"
	wpid=$(workload_pid)
	sleep 0.2
	kill -"$sig" "$runner"
	wait "$runner"
	rc=$?
	[ "$rc" -ne 0 ] || fail "gpuvisor run exited 0 after SIG$sig"
	wait_until 5 no_workload || fail "workload not cleared after SIG$sig"
	# nothing of the group survives (the inner sleep got the signal too)
	wait_until 5 sh -c "! pgrep -g $wpid >/dev/null" || fail "group $wpid survived SIG$sig"
done

step "kill -9 of gpuvisor run itself: the daemon clears the workload when its group dies"
gv_bg_cli run --instance "$id" -- sleep 30
runner=$!
wait_until 10 has_workload || fail "not registered"
wpid=$(workload_pid)
kill -9 "$runner"
wait "$runner" 2>/dev/null
sleep 1.5
expect_eq "$(workload_pid)" "$wpid" "still registered while the group lives"
kill -9 -- "-$wpid"
wait_until 5 no_workload || fail "workload of a dead group not cleared"

step "destroy --force kills the workload's group"
gv_bg_cli run --instance "$id" -- sh -c 'sleep 30 & wait'
runner=$!
wait_until 10 has_workload || fail "not registered"
wpid=$(workload_pid)
expect_rc 1 "" gv destroy "$id"
expect_ok gv destroy --force "$id"
expect_eq "$GV_OUT" "destroyed $id"
wait "$runner"
expect_eq "$?" 137 "gpuvisor run status after destroy --force"
wait_until 5 sh -c "! pgrep -g $wpid >/dev/null" || fail "group $wpid survived destroy --force"
expect_ok gv list
expect_eq "$GV_OUT" "no instances"
gv_done
