# shellcheck shell=sh disable=SC2034,SC2154 # sourced by run-migrate.sh (reads wl_*, sets dir, wl)
# probe: gv-mig-probe taint, a workload that allocated managed memory: not
# migratable (hello says why, every request is refused with that reason).
# Its check also runs the probe's two short programs that need no
# migration: an entry point the migration layer does not handle is
# refused (also through cuGetProcAddress), and the sub-allocator packs
# small allocations in 2 MiB regions.
wl_prog=tests/migrate/gv-mig-probe
wl_args=taint
wl_kind=probe
wl_not_migratable="the workload allocated managed memory"
# Left out: every cell that moves it (it is not migratable: that is what
# it checks).
wl_scenarios="refuse"

wl_check() {
	exec 3>&-
	wait_wl
	(shim_env "$wl" refuse) >"$dir/refuse.out" 2>"$dir/wl.err" ||
		fail "probe refuse: $(cat "$dir/refuse.out")"
	grep -q 'cuStreamAddCallback is not supported in migration mode' "$dir/wl.err" ||
		fail "the refusal was not logged"
	(shim_env "$wl" suballoc) >"$dir/suballoc.out" 2>"$dir/wl.err" ||
		fail "probe suballoc: $(cat "$dir/suballoc.out")"
}
