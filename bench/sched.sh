#!/bin/sh
# The time-slice scheduler end to end, on the simulator: what it costs one
# tenant alone (kernels per second through the shim with the scheduler vs
# without it) and how close each policy comes to its intended share (device
# time of gv-spin tenants, see tests/timeslice/ts_tool.c). Prints ratios;
# never fails on its numbers (exit status 0 unless something is missing).
#
# usage: bench/sched.sh BUILD_DIR      (about one minute)
set -u
b=${1:?usage: bench/sched.sh BUILD_DIR}
b=$(cd "$b" && pwd) || exit 1
for f in tests/timeslice/ts_tool bin/gv-spin lib/shim/libcuda.so.1 lib/libcudasim.so lib/gv_kernels.so; do
  if [ ! -e "$b/$f" ]; then
    echo "bench/sched.sh: $b/$f is missing (build the timeslice tests first)" >&2
    exit 1
  fi
done
"$b/tests/timeslice/ts_tool" bench "$b" || echo "bench/sched.sh: the bench could not run (status $?)"
exit 0
