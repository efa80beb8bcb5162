#!/bin/sh
# run-test.sh ACCT_TOOL LIMIT PROGRAM [ARGS...]
# Runs a shim test program in a fresh directory: the simulated GPU's shared
# state (GPUVISOR_SIM_SHM_DIR) and, unless LIMIT is "none", an instance
# accounting file with that limit (GPUVISOR_ACCT), both private to this run.
# LD_LIBRARY_PATH (the shim first) and GPUVISOR_REAL_LIBCUDA come from CTest.
set -eu
tool=$1 limit=$2
shift 2
dir=$(mktemp -d "${TMPDIR:-/tmp}/gv-shim-test.XXXXXX")
trap 'rm -rf "$dir"' EXIT INT TERM
export GPUVISOR_SIM_SHM_DIR="$dir" GV_SHIM_TEST_DIR="$dir"
unset GPUVISOR_ACCT
if [ "$limit" != none ]; then
	"$tool" "$dir/instance.acct" "$limit"
	export GPUVISOR_ACCT="$dir/instance.acct"
fi
"$@"
