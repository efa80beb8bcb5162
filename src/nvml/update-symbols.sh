#!/bin/sh
# Regenerates symbols.txt: every function NVIDIA's nvml.h declares (the
# versioned ones and the legacy unversioned ones it declares under
# NVML_NO_UNVERSIONED_FUNC_DEFS), plus nvmlInternalGetExportTable, which
# the library exports without a declaration (NVIDIA's own tools use it).
# Usage: src/nvml/update-symbols.sh PATH/TO/nvml.h   (maintainers, after a
# driver or toolkit update; the CUDA toolkit ships nvml.h in its include/)
set -eu
hdr=${1:?usage: update-symbols.sh PATH/TO/nvml.h}
here=$(dirname "$0")
{
	grep -oE 'DECLDIR[[:space:]]+[A-Za-z_*[:space:]]*\bnvml[A-Za-z0-9_]+[[:space:]]*\(' "$hdr" |
		grep -oE 'nvml[A-Za-z0-9_]+'
	echo nvmlInternalGetExportTable
} | LC_ALL=C sort -u >"$here/symbols.txt"
wc -l <"$here/symbols.txt"
