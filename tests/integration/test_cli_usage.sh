#!/usr/bin/env bash
# The CLI's contract with scripts: help everywhere, exit code 2 for usage
# errors, 3 (with the socket named) when gpuvisord cannot be reached, 1 when
# it refuses, 0 on success.
. "$(dirname "$0")/lib.sh"
GVB=$GV_BIN_DIR/gpuvisor
[ -x "$GVB" ] || fail "gpuvisor not built: $GVB"

step "help"
expect_ok "$GVB" help
for c in gpus profiles create destroy list mode events run cdi version; do
	expect_contains "$GV_OUT" "  $c " "gpuvisor help"
done
expect_ok "$GVB" --help
expect_contains "$GV_OUT" "exit status"
for c in gpus profiles create destroy list mode events run cdi version help; do
	expect_ok "$GVB" help "$c"
	expect_contains "$GV_OUT" "usage: gpuvisor [--socket PATH] $c" "help $c"
	expect_ok "$GVB" "$c" --help
	expect_contains "$GV_OUT" "usage: gpuvisor [--socket PATH] $c" "$c --help"
done
expect_ok "$GVB" --version
expect_contains "$GV_OUT" "gpuvisor "

step "usage errors exit 2 without contacting anything"
export GPUVISOR_SOCKET=$T/nothing-here.sock
expect_rc 2 "usage" "$GVB"
expect_rc 2 "unknown subcommand 'frob'" "$GVB" frob
expect_rc 2 "unknown subcommand" "$GVB" help frob
expect_rc 2 "'--bogus'" "$GVB" gpus --bogus
expect_rc 2 "unexpected argument 'extra'" "$GVB" list extra
expect_rc 2 "--profile is required" "$GVB" create
expect_rc 2 "--framebuffer needs a size" "$GVB" create --profile x --framebuffer 2x
expect_rc 2 "--framebuffer needs a size" "$GVB" create --profile x --framebuffer 100k
expect_rc 2 "--placement needs a start slot" "$GVB" create --profile 1g.5gb --placement -1
expect_rc 2 "--placement needs a start slot" "$GVB" create --profile 1g.5gb --placement four
expect_rc 2 "" "$GVB" create --profile
expect_rc 2 "which instance" "$GVB" destroy
expect_rc 2 "mode takes a GPU and a mode" "$GVB" mode 0
expect_rc 2 "unknown mode 'vgpu'" "$GVB" mode 0 vgpu
expect_rc 2 "--instance is required" "$GVB" run -- true
expect_rc 2 "which command" "$GVB" run --instance i-1
expect_rc 2 "--since needs" "$GVB" events --since x
expect_rc 2 "unsupported --cdi-version '0.9.0'" "$GVB" cdi --cdi-version 0.9.0 --output -
expect_rc 2 "" "$GVB" --socket
# usage errors go to stderr, with the usage line
expect_rc 2 "usage: gpuvisor [--socket PATH] create" "$GVB" create
expect_eq "$GV_OUT" "" "stdout of a usage error"

step "unreachable daemon exits 3 and names the socket"
expect_rc 3 "cannot reach gpuvisord at $T/nothing-here.sock" "$GVB" list
expect_contains "$GV_ERR" "is it running? (--socket / GPUVISOR_SOCKET)"
expect_contains "$GV_ERR" "No such file or directory"
# --socket wins over GPUVISOR_SOCKET; --socket=PATH works too
expect_rc 3 "cannot reach gpuvisord at $T/other.sock" "$GVB" --socket "$T/other.sock" gpus
expect_rc 3 "cannot reach gpuvisord at $T/eq.sock" "$GVB" --socket="$T/eq.sock" gpus
# an empty GPUVISOR_SOCKET means the default (unless a daemon really is there)
if [ ! -e /run/gpuvisor/api.sock ]; then
	GPUVISOR_SOCKET= expect_rc 3 "cannot reach gpuvisord at /run/gpuvisor/api.sock" "$GVB" gpus
fi
# a socket nobody listens on
python3 -c 'import socket,sys; socket.socket(socket.AF_UNIX).bind(sys.argv[1])' "$T/dead.sock" 2>/dev/null ||
	touch "$T/dead.sock"
expect_rc 3 "cannot reach gpuvisord at $T/dead.sock" "$GVB" --socket "$T/dead.sock" gpus
for args in "gpus" "profiles" "list" "events" "mode 0 mig" "destroy i-1" \
	"create --profile 1g.5gb" "run --instance i-1 -- true" "cdi --output -" "version"; do
	# shellcheck disable=SC2086
	expect_rc 3 "cannot reach gpuvisord" "$GVB" $args
done
# version still says which client it is
expect_contains "$GV_OUT" "gpuvisor "
unset GPUVISOR_SOCKET

step "with a daemon: 0 on success, 1 with the daemon's message when refused"
gv_start_daemon
expect_ok gv version
expect_contains "$GV_OUT" "gpuvisord "
expect_ok gv list
GPUVISOR_SOCKET=$GV_SOCK expect_ok "$GVB" gpus
expect_rc 1 "gpuvisor: " gv destroy i-999999
expect_eq "${GV_ERR%%$'\n'*}" "$(printf '%s' "$GV_ERR" | head -n 1)"
expect_contains "$GV_ERR" "i-999999"
expect_rc 1 "gpuvisor: " gv mode 99 timeslice
expect_rc 1 "gpuvisor: " gv create --profile no-such-profile
expect_contains "$GV_ERR" "no-such-profile"
# a usage error never reaches the daemon, even when it is up
expect_rc 2 "" gv mode 0 vgpu
gv_done
