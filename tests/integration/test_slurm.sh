#!/usr/bin/env bash
# gpuvisor on a real Slurm cluster on this machine (docs/slurm.md,
# shared/reference/slurm.md): munged, slurmctld and two slurmd (nodes gv1 and
# gv2, own ports on 127.0.0.1), each node with its own gpuvisord on a
# simulated H100 in timeslice mode, the SPANK plugin (build/lib/
# gpuvisor_spank.so) in plugstack.conf with socket=$T/%n/api.sock, and the
# GRES lines from `gpuvisor slurm-conf` of each node. Then:
#   - an srun inside an sbatch job uses the job's instance;
#   - srun --vgpu on gv1 and on gv2: the task has its instance (h100-20c, on
#     the node it ran on), gv-infer prints the checksum of a run under
#     `gpuvisor run`; the instance is given back when the job ends, and the
#     daemon's events name the job and the peak memory;
#   - four sbatch jobs share gv1's GPU as four 20 GiB partitions; a fifth
#     waits (GRES used up) and runs when one ends;
#   - an impossible profile fails the job at its start with the reason in
#     its stderr, and leaves nothing behind;
#   - scancel mid-run, a task killed with SIGKILL, a gpuvisord restarted
#     while the job runs, and a job past its time limit (--time=1) each leave
#     no instance behind;
#   - scontrol suspend frees the job's GPU memory (the simulated GPU's free
#     memory as another process sees it; the workload shows suspended),
#     scontrol resume restores it and gv-infer finishes with its checksum.
# Needs root and slurm-wlm + munge (scripts/install-deps.sh); exit 77 only
# when those are missing or Slurm cannot start here.
. "$(dirname "$0")/lib.sh"

for c in munged slurmctld slurmd srun sbatch scontrol squeue scancel; do
	command -v "$c" >/dev/null 2>&1 || skip "$c not installed (apt-get install slurm-wlm munge)"
done
[ "$(id -u)" = 0 ] || skip "slurmd must run as root"
[ -r /etc/munge/munge.key ] || skip "no /etc/munge/munge.key"
PLUGIN=$GV_BUILD_DIR/lib/gpuvisor_spank.so
[ -f "$PLUGIN" ] || fail "the SPANK plugin was not built: $PLUGIN (is <slurm/spank.h> there?)"
[ -x "$GV_BIN_DIR/gv-infer" ] || skip "gv-infer not built"

SL=$T/slurm
mkdir -p "$SL/state" "$SL/spool/gv1" "$SL/spool/gv2" "$SL/munge" "$T/jobs"
chmod 755 "$T" "$T/jobs" # the jobs run as root here, but keep it readable
HOST=$(hostname -s)
SLURM_PIDS=()

# ---- the two gpuvisord ---------------------------------------------------
declare -A GVD_PID
start_node_daemon() {
	local n=$1
	mkdir -p "$T/$n/state" "$T/$n/run"
	"$GV_BIN_DIR/gpuvisord" --socket "$T/$n/api.sock" --state-dir "$T/$n/state" \
		--run-dir "$T/$n/run" --sim h100-80gb:1 >>"$T/$n/daemon.log" 2>&1 &
	GVD_PID[$n]=$!
	wait_until 20 curl -sf --unix-socket "$T/$n/api.sock" http://localhost/v1/node ||
		fail "gpuvisord of $n did not start: $(tail -5 "$T/$n/daemon.log")"
}
stop_node_daemon() {
	local n=$1 pid=${GVD_PID[$1]:-}
	[ -n "$pid" ] || return 0
	kill -TERM "$pid" 2>/dev/null
	wait "$pid" 2>/dev/null
	GVD_PID[$n]=
}
gvn() { local n=$1; shift; "$GV_BIN_DIR/gpuvisor" --socket "$T/$n/api.sock" "$@"; }

stop_all() {
	local p
	# scancel what is left, so that no job outlives the test
	[ -f "$SL/slurm.conf" ] && SLURM_CONF=$SL/slurm.conf scancel --quiet -u root 2>/dev/null
	for p in "${SLURM_PIDS[@]}"; do
		kill -TERM "$p" 2>/dev/null
	done
	for p in "${SLURM_PIDS[@]}"; do
		for _ in $(seq 50); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
		kill -9 "$p" 2>/dev/null
	done
	[ -f "$SL/munge/munged.pid" ] && kill "$(cat "$SL/munge/munged.pid")" 2>/dev/null
	stop_node_daemon gv1
	stop_node_daemon gv2
}
on_exit() {
	local rc=$?
	if [ "$rc" -ne 0 ] && [ "$rc" -ne 77 ]; then
		for f in "$SL"/slurmctld.log "$SL"/slurmd.gv1.log "$SL"/slurmd.gv2.log \
			"$T"/gv1/daemon.log "$T"/gv2/daemon.log; do
			[ -f "$f" ] && { echo "---- $f (last 25 lines)" >&2; tail -n 25 "$f" >&2; }
		done
	fi
	stop_all
	(exit "$rc") # _gv_cleanup reads the status from $?
	_gv_cleanup
}
trap on_exit EXIT
# lib.sh's trap would run _gv_cleanup without stopping Slurm
trap 'exit 130' INT
trap 'exit 143' TERM

step "prepare: two nodes, each its own gpuvisord with one simulated H100 in timeslice mode"
for n in gv1 gv2; do
	start_node_daemon "$n"
	expect_ok gvn "$n" mode 0 timeslice
done

step "gpuvisor slurm-conf: the GRES lines of each node"
expect_ok gvn gv1 slurm-conf --profile h100-20c --node gv1
expect_contains "$GV_OUT" "GresTypes=vgpu"
expect_contains "$GV_OUT" "NodeName=gv1 Gres=vgpu:h100-20c:4"
expect_contains "$GV_OUT" "NodeName=gv1 Name=vgpu Type=h100-20c Count=4 Flags=CountOnly"
GRES1=$(printf '%s\n' "$GV_OUT" | sed -n 's/^NodeName=gv1 Gres=//p')
printf '%s\n' "$GV_OUT" | grep '^NodeName=gv1 Name=vgpu' >"$SL/gres.conf"
expect_ok gvn gv2 slurm-conf --profile h100-20c --node gv2
GRES2=$(printf '%s\n' "$GV_OUT" | sed -n 's/^NodeName=gv2 Gres=//p')
printf '%s\n' "$GV_OUT" | grep '^NodeName=gv2 Name=vgpu' >>"$SL/gres.conf"
# without --profile: every profile the mode takes, with the sharing note
expect_ok gvn gv1 slurm-conf --node gv1
expect_contains "$GV_OUT" "vgpu:h100-10c:8"
expect_contains "$GV_OUT" "NOTE: the profiles share GPUs"
# a passthrough GPU holds one passthrough instance
expect_ok gvn gv1 mode 0 passthrough
expect_ok gvn gv1 slurm-conf --node gv1
expect_contains "$GV_OUT" "Gres=vgpu:passthrough:1"
expect_ok gvn gv1 mode 0 timeslice

step "prepare: the reference checksum (gv-infer under gpuvisor run)"
INFER=("$GV_BIN_DIR/gv-infer" --weights-mib 256 --steps 6)
expect_ok gvn gv1 create --profile h100-20c --json
ref_id=$(jout .id)
expect_ok gvn gv1 run --instance "$ref_id" -- "${INFER[@]}"
WANT=$(printf '%s\n' "$GV_OUT" | grep -o 'checksum: 0x[0-9a-f]*')
[ -n "$WANT" ] || fail "no checksum: $GV_OUT"
expect_ok gvn gv1 run --instance "$ref_id" -- "$GV_BIN_DIR/gv-infer" --weights-mib 1024 --steps 30
WANT_BIG=$(printf '%s\n' "$GV_OUT" | grep -o 'checksum: 0x[0-9a-f]*')
expect_ok gvn gv1 destroy "$ref_id"

step "prepare: munged, slurmctld, slurmd gv1 and gv2"
PORT=$((20000 + RANDOM % 30000))
cat >"$SL/plugstack.conf" <<EOF
required $PLUGIN socket=$T/%n/api.sock
EOF
cat >"$SL/slurm.conf" <<EOF
ClusterName=gvtest
SlurmctldHost=$HOST(127.0.0.1)
SlurmUser=root
SlurmdUser=root
SlurmctldPort=$PORT
SlurmdPort=$((PORT + 1))
AuthType=auth/munge
AuthInfo=socket=$SL/munge/munge.sock
CredType=cred/munge
StateSaveLocation=$SL/state
SlurmdSpoolDir=$SL/spool/%n
SlurmctldPidFile=$SL/slurmctld.pid
SlurmdPidFile=$SL/slurmd.%n.pid
SlurmctldLogFile=$SL/slurmctld.log
SlurmdLogFile=$SL/slurmd.%n.log
SlurmctldDebug=info
SlurmdDebug=info
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
SchedulerType=sched/builtin
AccountingStorageType=accounting_storage/none
JobAcctGatherType=jobacct_gather/none
JobCompType=jobcomp/none
MpiDefault=none
ReturnToService=2
SlurmdParameters=config_overrides
KillWait=2
MinJobAge=300
InactiveLimit=0
OverTimeLimit=0
PlugStackConfig=$SL/plugstack.conf
GresTypes=vgpu
NodeName=gv1 NodeHostname=$HOST NodeAddr=127.0.0.1 Port=$((PORT + 1)) CPUs=8 RealMemory=1000 Gres=$GRES1 State=UNKNOWN
NodeName=gv2 NodeHostname=$HOST NodeAddr=127.0.0.1 Port=$((PORT + 2)) CPUs=8 RealMemory=1000 Gres=$GRES2 State=UNKNOWN
PartitionName=gv Nodes=gv1,gv2 Default=YES MaxTime=INFINITE State=UP
EOF
export SLURM_CONF=$SL/slurm.conf
munged --socket="$SL/munge/munge.sock" --pid-file="$SL/munge/munged.pid" \
	--log-file="$SL/munge/munged.log" --seed-file="$SL/munge/seed" --force \
	>"$SL/munge/out" 2>&1 || skip "munged cannot start here: $(cat "$SL/munge/out")"
slurmctld -D -f "$SL/slurm.conf" -i >"$SL/slurmctld.out" 2>&1 &
SLURM_PIDS+=("$!")
for n in gv1 gv2; do
	slurmd -D -f "$SL/slurm.conf" -N "$n" >"$SL/slurmd.$n.out" 2>&1 &
	SLURM_PIDS+=("$!")
done
nodes_idle() {
	[ "$(sinfo -h -N -o '%N %t' 2>/dev/null | grep -c ' idle$')" = 2 ]
}
wait_until 60 nodes_idle || skip "Slurm did not start here: $(sinfo -N 2>&1; tail -3 "$SL/slurmctld.log" "$SL/slurmd.gv1.log" 2>/dev/null)"

# helpers
n_inst() { gvn "$1" list --json | jq '.instances | length'; }
no_inst() { [ "$(n_inst "$1")" = 0 ]; }
job_state() { scontrol show job "$1" 2>/dev/null | grep -o 'JobState=[A-Z_]*' | cut -d= -f2; }
job_done() { case "$(job_state "$1")" in COMPLETED|FAILED|CANCELLED|TIMEOUT|NODE_FAIL|OUT_OF_MEMORY) return 0 ;; *) return 1 ;; esac; }
job_is() { [ "$(job_state "$1")" = "$2" ]; }
owned_on() { gvn "$1" list --json | jq -r --arg o "slurm:job:$2" '.instances[] | select(.owner == $o) | .id'; }
has_workload_of() { [ -n "$(gvn "$1" list --json | jq -r --arg o "slurm:job:$2" '.instances[] | select(.owner == $o and .workload != null) | .id')" ]; }
sbatch_id() { sbatch --parsable "$@"; }

step "timeout: a job with --time=1 is submitted now and checked at the end"
expect_ok sbatch_id -w gv2 --time=1 --vgpu=h100-20c --gres=vgpu:h100-20c:1 \
	-o "$T/jobs/timeout.out" --wrap "exec $GV_BIN_DIR/gv-infer --weights-mib 64 --steps 100000 --step-ms 100"
job_timeout=$GV_OUT

step "srun --vgpu on gv1: the instance, its environment, gv-infer's checksum"
expect_ok srun -w gv1 --vgpu=h100-20c --gres=vgpu:h100-20c:1 bash -c \
	'echo "inst=$GPUVISOR_INSTANCE profile=$GPUVISOR_PROFILE all=$GPUVISOR_SLURM_INSTANCES job=$SLURM_JOB_ID"; exec "$0" "$@"' \
	"${INFER[@]}"
expect_contains "$GV_OUT" "$WANT" "gv-infer's output under srun"
expect_contains "$GV_OUT" "profile=h100-20c"
line=$(printf '%s\n' "$GV_OUT" | grep '^inst=')
inst=$(printf '%s' "$line" | sed 's/^inst=\([^ ]*\) .*/\1/')
job=$(printf '%s' "$line" | sed 's/.*job=//')
expect_contains "$line" "all=$inst:h100-20c"
wait_until 20 no_inst gv1 || fail "gv1 still has instances after job $job: $(gvn gv1 list)"
expect_ok gvn gv1 events --json
expect_contains "$GV_OUT" "on gpu 0 for slurm:job:$job"
ev=$(printf '%s' "$GV_OUT" | jq -r --arg i "$inst" '.events[] | select(.instance == $i and .kind == "instance.destroyed") | .message')
expect_contains "$ev" "of slurm:job:$job, peak "
peak=$(printf '%s' "$ev" | sed 's/.*peak \([0-9]*\) bytes.*/\1/')
[ "$peak" -ge $((256 * 1024 * 1024)) ] || fail "peak $peak below gv-infer's 256 MiB of weights: $ev"
expect_not_contains "$(gvn gv2 events)" "slurm:job:$job"

step "srun --vgpu on gv2: lands on gv2's daemon"
expect_ok srun -w gv2 --vgpu=h100-20c --gres=vgpu:h100-20c:1 bash -c 'echo "node=$SLURMD_NODENAME inst=$GPUVISOR_INSTANCE"; exec "$0" "$@"' "${INFER[@]}"
expect_contains "$GV_OUT" "$WANT"
expect_contains "$GV_OUT" "node=gv2 inst=i-"
expect_ok gvn gv2 events
expect_contains "$GV_OUT" "for slurm:job:"

step "an srun inside a batch job runs in the job's instance"
cat >"$T/jobs/inner.sh" <<EOF
#!/bin/bash
echo "batch inst=\$GPUVISOR_INSTANCE"
srun bash -c 'echo "step inst=\$GPUVISOR_INSTANCE"; exec "\$0" "\$@"' ${INFER[*]}
EOF
expect_ok sbatch_id -w gv2 --vgpu=h100-20c --gres=vgpu:h100-20c:1 -o "$T/jobs/inner.out" "$T/jobs/inner.sh"
ji=$GV_OUT
wait_until 60 job_done "$ji" || fail "job $ji did not end: $(squeue)"
out=$(cat "$T/jobs/inner.out")
expect_eq "$(job_state "$ji")" COMPLETED "the batch job with an inner srun: $out"
expect_contains "$out" "$WANT"
bi=$(printf '%s\n' "$out" | sed -n 's/^batch inst=//p')
si=$(printf '%s\n' "$out" | sed -n 's/^step inst=//p')
[ -n "$bi" ] && [ "$bi" = "$si" ] || fail "batch script and step have instances '$bi' and '$si': $out"
no_job_inst() { [ -z "$(owned_on gv2 "$ji")" ]; }
wait_until 30 no_job_inst || fail "job $ji's instance left on gv2: $(gvn gv2 list)"

step "an impossible profile fails the job at its start, with the reason"
expect_fail "gpuvisor: job not started: --vgpu=h100-99c" srun -w gv1 --vgpu=h100-99c true
expect_contains "$GV_ERR" "h100-99c"
expect_fail "--vgpu=a,,b: empty profile name" srun -w gv1 --vgpu=a,,b true
no_inst gv1 || fail "a failed start left an instance: $(gvn gv1 list)"
# a profile the GPU's mode does not take: MIG on a timeslice GPU
expect_fail "job not started" srun -w gv1 --vgpu=3g.40gb true
no_inst gv1 || fail "a failed start left an instance: $(gvn gv1 list)"

step "four jobs share gv1's GPU; a fifth waits for the GRES and runs when one ends"
ids=()
for k in 1 2 3 4 5; do
	expect_ok sbatch_id -w gv1 --vgpu=h100-20c --gres=vgpu:h100-20c:1 -o "$T/jobs/share$k.out" \
		--wrap "exec $GV_BIN_DIR/gv-infer --weights-mib 256 --steps 6 --step-ms $((k < 5 ? 600 : 0))"
	ids+=("$GV_OUT")
done
four_running() { [ "$(n_inst gv1)" = 4 ]; }
wait_until 30 four_running || fail "four instances expected on gv1: $(gvn gv1 list; squeue)"
expect_eq "$(gvn gv1 list --json | jq '[.instances[] | select(.profile == "h100-20c" and .fb_mib == 20480)] | length')" 4 "four 20 GiB partitions"
expect_eq "$(gvn gv1 gpus --json | jq '.gpus[0].free_mib')" 0 "gv1's GPU fully allocated"
sq=$(squeue -h -j "${ids[4]}" -o '%T %r')
expect_contains "$sq" "PENDING" "the fifth job"
for k in 0 1 2 3 4; do
	wait_until 60 job_done "${ids[$k]}" || fail "job ${ids[$k]} did not end: $(squeue)"
done
for k in 1 2 3 4 5; do
	expect_contains "$(cat "$T/jobs/share$k.out")" "$WANT" "job $k's output"
done
wait_until 20 no_inst gv1 || fail "instances left on gv1: $(gvn gv1 list)"

step "scancel mid-run gives the instance back"
expect_ok sbatch_id -w gv1 --vgpu=h100-20c --gres=vgpu:h100-20c:1 -o "$T/jobs/cancel.out" \
	--wrap "exec $GV_BIN_DIR/gv-infer --weights-mib 64 --steps 100000 --step-ms 100"
jc=$GV_OUT
wait_until 30 has_workload_of gv1 "$jc" || fail "job $jc never registered: $(gvn gv1 list)"
expect_ok scancel "$jc"
wait_until 30 no_inst gv1 || fail "scancel left an instance: $(gvn gv1 list)"
expect_contains "$(gvn gv1 events)" "of slurm:job:$jc"

step "a task killed with SIGKILL: the job fails, the instance goes"
expect_ok sbatch_id -w gv1 --vgpu=h100-20c --gres=vgpu:h100-20c:1 -o "$T/jobs/kill.out" \
	--wrap "exec $GV_BIN_DIR/gv-infer --weights-mib 64 --steps 100000 --step-ms 100"
jk=$GV_OUT
wait_until 30 has_workload_of gv1 "$jk" || fail "job $jk never registered"
pid=$(gvn gv1 list --json | jq -r '.instances[0].workload.pid')
kill -9 "$pid"
wait_until 30 job_done "$jk" || fail "job $jk did not end"
expect_eq "$(job_state "$jk")" FAILED "state of the killed job"
wait_until 30 no_inst gv1 || fail "a killed task left an instance: $(gvn gv1 list)"

step "gpuvisord restarted while the job runs: the instance is still given back"
expect_ok sbatch_id -w gv1 --vgpu=h100-20c --gres=vgpu:h100-20c:1 -o "$T/jobs/restart.out" \
	--wrap "exec $GV_BIN_DIR/gv-infer --weights-mib 256 --steps 6 --step-ms 1000"
jr=$GV_OUT
wait_until 30 has_workload_of gv1 "$jr" || fail "job $jr never registered"
stop_node_daemon gv1
start_node_daemon gv1
expect_eq "$(owned_on gv1 "$jr" | wc -l)" 1 "the job's instance after the restart"
wait_until 60 job_done "$jr" || fail "job $jr did not end"
expect_eq "$(job_state "$jr")" COMPLETED
expect_contains "$(cat "$T/jobs/restart.out")" "$WANT"
wait_until 30 no_inst gv1 || fail "instance left after a daemon restart: $(gvn gv1 list)"

step "scontrol suspend frees the job's GPU memory, resume restores it"
GIB=$((1024 * 1024 * 1024))
expect_ok sbatch_id -w gv1 --vgpu=h100-20c --gres=vgpu:h100-20c:1 -o "$T/jobs/suspend.out" \
	--wrap "exec $GV_BIN_DIR/gv-infer --weights-mib 1024 --steps 30 --step-ms 100"
js=$GV_OUT
mem_big() { [ "$(gvn gv1 list --json | jq '.instances[0].mem_used_bytes // 0')" -ge "$GIB" ]; }
wait_until 30 mem_big || fail "job $js never used 1 GiB: $(gvn gv1 list)"
free_before=$(sim_free 0 "$T/gv1/state/sim-node.json") || fail "cannot read the simulated GPU's free memory"
expect_ok scontrol suspend "$js"
wl_state() { gvn gv1 list --json | jq -r '.instances[0].workload.state // "none"'; }
is_suspended() { [ "$(wl_state)" = suspended ]; }
wait_until 20 is_suspended || fail "the workload was not suspended: $(gvn gv1 list --json; grep gpuvisor "$SL/slurmd.gv1.log" | tail -5)"
free_susp=$(sim_free 0 "$T/gv1/state/sim-node.json")
[ $((free_susp - free_before)) -ge "$GIB" ] ||
	fail "suspend freed $((free_susp - free_before)) bytes of the GPU, expected >= 1 GiB"
expect_eq "$(job_state "$js")" SUSPENDED
expect_ok scontrol resume "$js"
is_running() { [ "$(wl_state)" = running ]; }
wait_until 20 is_running || fail "the workload was not resumed: $(gvn gv1 list --json)"
wait_until 60 job_done "$js" || fail "job $js did not end after resume"
expect_eq "$(job_state "$js")" COMPLETED
expect_contains "$(cat "$T/jobs/suspend.out")" "$WANT_BIG" "gv-infer's checksum after suspend/resume"
expect_contains "$(gvn gv1 events)" "workload.suspended"
wait_until 30 no_inst gv1 || fail "instance left after the suspended job: $(gvn gv1 list)"

step "the job past its time limit was ended and its instance given back"
wait_until 120 job_done "$job_timeout" || fail "job $job_timeout did not time out: $(squeue)"
expect_eq "$(job_state "$job_timeout")" TIMEOUT
wait_until 30 no_inst gv2 || fail "instance left on gv2 after a timeout: $(gvn gv2 list)"
expect_contains "$(gvn gv2 events)" "of slurm:job:$job_timeout"

gv_done
