#!/bin/sh
# stage-libs.sh BUILD_DIR: copies the shared libraries that gpuvisor's
# programs need from Debian (jansson, libmicrohttpd, libcurl and its
# dependencies, sqlite, xxhash, cmocka) into BUILD_DIR/gpu-libs, so that a
# build made on a Debian 12 machine can run on a GPU machine whose image
# lacks those packages (tests/gpu/run puts gpu-libs last on the library
# path). libc, the dynamic loader and the CUDA driver are never copied.
set -eu
b=$(cd "${1:?usage: stage-libs.sh BUILD_DIR}" && pwd)
out="$b/gpu-libs"
rm -rf "$out"
mkdir -p "$out"
find "$b/bin" "$b/lib" "$b/tests" "$b/bench" -type f -perm -u+x 2>/dev/null |
while read -r f; do
	[ "$(head -c 4 "$f" | tail -c 3)" = ELF ] || continue
	ldd "$f" 2>/dev/null | awk '/=> \// { print $3 }'
done | sort -u | while read -r lib; do
	case "$(basename "$lib")" in
	libc.so.*|libresolv.so.*|libm.so.*|libpthread.so.*|libdl.so.*|librt.so.*|ld-linux*|libcuda.so*|libgcc_s.so.*|libasan.so.*|libubsan.so.*|libstdc++.so.*)
		continue ;;
	esac
	cp -L "$lib" "$out/"
done
echo "stage-libs: $(ls "$out" | wc -l) libraries in $out"
