#!/usr/bin/env bash
# run.sh TEST [SIM]: one browser test of the web console. Starts gpuvisord
# on a simulated node (tests/integration/lib.sh: its own state dir, the
# EXIT trap stops it and the workloads it knows) with --listen on a free
# port of 127.0.0.1, then runs `node TEST.mjs` against it with Debian's
# chromium driven by playwright-core (tests/console/node_modules, installed
# by the console.npm_ci test). No skip: a missing browser or module fails.
#
# Env for the node test: GV_URL (http://127.0.0.1:PORT), GV_TOKEN (the
# daemon's <state-dir>/token), GV_SOCK, GV_BIN_DIR, GV_BUILD_DIR, T.
# GV_CONSOLE_SCREENSHOTS=1 writes docs/console-*.png.
HERE=$(cd "$(dirname "$0")" && pwd)
name=$1
GV_SIM=${2:-a100-40gb:1,h100-80gb:1,l40s:1}
. "$HERE/../integration/lib.sh"

command -v node >/dev/null || fail "node is not installed (scripts/install-deps.sh installs nodejs)"
[ -x /usr/bin/chromium ] || fail "/usr/bin/chromium is missing (scripts/install-deps.sh installs chromium)"
[ -f "$HERE/node_modules/playwright-core/package.json" ] ||
	fail "playwright-core is not installed in $HERE/node_modules (run: cd $HERE && npm ci)"

# migrations: private simulated-device accounting, the shim's test faults
export GPUVISOR_SIM_SHM_DIR=$T/shm
mkdir -p "$GPUVISOR_SIM_SHM_DIR"

gv_start_daemon --sim "$GV_SIM" --listen 127.0.0.1:0
port=$(sed -n 's/.*and tcp 127\.0\.0\.1:\([0-9]*\).*/\1/p' "$T/daemon.log" | tail -n 1)
[ -n "$port" ] || fail "no tcp port in the daemon's log: $(cat "$T/daemon.log")"
[ -s "$GV_STATE/token" ] || fail "no token in $GV_STATE/token"

GV_URL=http://127.0.0.1:$port GV_TOKEN=$(cat "$GV_STATE/token") \
	GV_SOCK=$GV_SOCK T=$T \
	node "$HERE/$name.mjs" || fail "console test $name failed"
gv_done
