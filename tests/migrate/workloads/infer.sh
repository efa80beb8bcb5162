# shellcheck shell=sh disable=SC2034,SC2154 # sourced by run-migrate.sh (reads wl_*, sets dir, wl)
# infer: gv-infer, an inference-shaped workload (16 MiB of weights, a KV
# cache that grows 1 MiB a step, 256 KiB of activations a step), run for
# the scenario's number of steps; its checksum must be that of a run that
# was never migrated.
wl_prog=bin/gv-infer
wl_args="--weights-mib 16 --kv-mib-per-step 1 --act-kib 256"
wl_kind=steps
# Left out: back_and_forth (twenty moves are train's cell; a second
# workload doing them adds half a minute, not a path of the shim).
wl_scenarios="precopy stopcopy faults drop refuse same"

wl_check() { same_checksum; }
