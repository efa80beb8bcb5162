#!/usr/bin/env bash
# make install's layout (cmake --install with DESTDIR, as `make install
# DESTDIR=...` does): FHS paths, the web console's files (served from there), the shim's own directory with real files
# only (libcuda.so.1 with that SONAME, the migration plugin beside it), the
# systemd unit naming the installed daemon; and a daemon run from the
# staged tree describes workloads with installed paths only (nothing of the
# build directory).
. "$(dirname "$0")/lib.sh"
command -v cmake >/dev/null 2>&1 || skip "no cmake"
stage=$T/stage
expect_ok env DESTDIR="$stage" cmake --install "$GV_BUILD_DIR"
prefix=$(sed -n 's/^CMAKE_INSTALL_PREFIX:PATH=//p' "$GV_BUILD_DIR/CMakeCache.txt")
libdir=$(sed -n 's/^CMAKE_INSTALL_LIBDIR:PATH=//p' "$GV_BUILD_DIR/CMakeCache.txt")
root=$stage$prefix

step "FHS layout"
for f in bin/gpuvisor sbin/gpuvisord libexec/gpuvisor/gpuvisor-ckpt \
	"$libdir/gpuvisor/shim/libcuda.so.1" "$libdir/gpuvisor/shim/libgpuvisor-mig.so" \
	"$libdir/gpuvisor/shim/libnvidia-ml.so.1" "$libdir/gpuvisor/libnvmlsim.so" \
	"$libdir/gpuvisor/libcudasim.so" share/gpuvisor/catalog.json \
	share/gpuvisor/console/index.html lib/systemd/system/gpuvisord.service; do
	[ -f "$root/$f" ] || fail "not installed: $prefix/$f"
done
expect_eq "$(find "$root/$libdir/gpuvisor/shim" -type l | wc -l)" 0 "links in the shim directory"
expect_contains "$(readelf -d "$root/$libdir/gpuvisor/shim/libcuda.so.1")" "[libcuda.so.1]" "SONAME"
expect_contains "$(readelf -d "$root/$libdir/gpuvisor/shim/libnvidia-ml.so.1")" "[libnvidia-ml.so.1]" \
	"the NVML interposer's SONAME"
unit=$(cat "$root/lib/systemd/system/gpuvisord.service")
expect_contains "$unit" "ExecStart=$prefix/sbin/gpuvisord" "unit"
expect_contains "$unit" "WantedBy=multi-user.target" "unit"

step "a daemon from the staged tree names installed paths only"
gv_start_daemon --sim l40s:1 --lib-dir "$root/$libdir/gpuvisor" \
	--catalog "$root/share/gpuvisor/catalog.json" --listen 127.0.0.1:0 \
	--console-dir "$root/share/gpuvisor/console"
expect_api 200 GET /v1/node
code=$(curl -s -o "$T/index.html" -w '%{http_code}' "http://$(jout .listen)/ui/")
expect_eq "$code" 200 "the installed console's /ui/"
cmp -s "$T/index.html" "$root/share/gpuvisor/console/index.html" ||
	fail "/ui/ is not the installed index.html"
expect_ok gv mode 0 timeslice
gv_create --profile l40s-12c --gpu 0
expect_api 200 GET "/v1/instances/$GV_ID/env"
envjson=$GV_OUT
expect_not_contains "$envjson" "$GV_BUILD_DIR" "/env"
expect_eq "$(jfield "$envjson" .env.LD_LIBRARY_PATH_PREPEND)" "$root/$libdir/gpuvisor/shim" "shim dir"
expect_ok gv cdi --output -
expect_not_contains "$GV_OUT" "$GV_BUILD_DIR" "CDI spec"
gv_done
