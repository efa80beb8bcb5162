# shellcheck shell=sh disable=SC2034,SC2154 # sourced by run-migrate.sh (reads wl_*, sets dir, wl)
# train: gv-train, a training-shaped workload (6 MiB of parameters that
# every step rewrites, with their gradients and optimizer state), run for
# the scenario's number of steps; its checksum must be that of a run that
# was never migrated.
wl_prog=bin/gv-train
wl_args="--params-mib 6"
wl_kind=steps
# Left out: drop, refuse and same (the dropped connection, the request's
# checks and the move within one GPU take the same path whatever the
# workload allocated: infer's cells cover them).
wl_scenarios="precopy stopcopy back_and_forth faults"
# Its steps are slow next to its moves (80 ms each under ASan, and run
# twice, migrated and for the reference): fewer than the scenarios' counts
# still leave it room (its moves end near step 80 in both, 60 under ASan).
wl_steps_precopy=200
wl_steps_faults=200

wl_check() { same_checksum; }
