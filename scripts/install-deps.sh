#!/bin/sh
# Installs the Debian packages gpuvisor needs to build and test, only those
# that are missing. Needs root (or sudo) when something is missing.
# podman and runc: integration.container runs a CDI device in a container
# (shared/reference/containers.md: runc and cgroupfs on these machines).
# clang and libclang-rt-14-dev (libFuzzer, ASan) are for `make fuzz` and the
# fuzzing step of `make check` (Debian 12's clang is 14).
# slurm-wlm, munge and the plugin headers: integration.slurm starts munged,
# slurmctld and two slurmd here (docs/slurm.md).
# chromium, nodejs and npm: the web console's browser tests (tests/console,
# docs/console.md).
set -eu
PKGS="build-essential cmake pkg-config libsqlite3-dev libmicrohttpd-dev
libjansson-dev libcurl4-openssl-dev libcmocka-dev libxxhash-dev jq curl procps
podman runc python3 util-linux clang libclang-rt-14-dev
slurm-wlm munge slurm-wlm-plugins-dev libslurm-dev
chromium nodejs npm"
missing=""
for p in $PKGS; do
	# a Node.js from NodeSource brings its own npm and conflicts with
	# Debian's npm package: a working npm command is enough
	[ "$p" = npm ] && command -v npm >/dev/null 2>&1 && continue
	if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'ok installed'; then
		missing="$missing $p"
	fi
done
[ -z "$missing" ] && exit 0
echo "install-deps: installing:$missing"
SUDO=""
if [ "$(id -u)" -ne 0 ]; then
	command -v sudo >/dev/null 2>&1 || {
		echo "install-deps: missing packages:$missing; run as root or install them" >&2
		exit 1
	}
	SUDO=sudo
fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
# shellcheck disable=SC2086
$SUDO apt-get install -y -qq --no-install-recommends $missing
