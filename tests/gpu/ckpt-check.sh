#!/bin/bash
# tests/gpu/ckpt-check.sh [OUT_DIR]: what the driver's checkpoint API does
# with the memory the migration design leaves to it or takes from it
# (ckpt_probe.cu), and a PyTorch inference loop checkpointed and restored
# from another process with the default and the VMM-backed (expandable
# segments) caching allocator. Needs nvcc and a GPU with driver R580+;
# needs no gpuvisor build. Prints what it measured; non-zero on a wrong
# result the design relies on.
set -u
cd "$(dirname "$0")/../.."
out=${1:-$(mktemp -d)}
mkdir -p "$out"
nvcc=$(command -v nvcc || echo /usr/local/cuda/bin/nvcc)
cc=$(nvidia-smi --query-gpu=compute_cap --format=csv,noheader | head -1 | tr -d .)
probe=$out/ckpt_probe
"$nvcc" -O2 -gencode "arch=compute_$cc,code=sm_$cc" -o "$probe" tests/gpu/ckpt_probe.cu \
	-lcuda -lcublas 2>/dev/null ||
	"$nvcc" -O2 -gencode "arch=compute_$cc,code=sm_$cc" -DGV_NO_CUBLAS -o "$probe" \
		tests/gpu/ckpt_probe.cu -lcuda || { echo "ckpt-check: cannot build ckpt_probe"; exit 1; }
rc=0
timeout 400 "$probe" "${GV_CKPT_MIB:-1024}" || rc=1
if python3 -c 'import torch' 2>/dev/null; then
	echo; echo "== PyTorch, default caching allocator"
	timeout 120 python3 tests/gpu/ckpt_torch.py "$probe" || rc=1
	echo; echo "== PyTorch, expandable segments (VMM-backed cache)"
	PYTORCH_CUDA_ALLOC_CONF=expandable_segments:True timeout 120 \
		python3 tests/gpu/ckpt_torch.py "$probe" || rc=1
	# gpuvisord's helper, built here against the real driver (libc only)
	if gcc -O2 -I"$(dirname "$nvcc")/../include" -o "$out/gpuvisor-ckpt" src/ckpt/ckpt.c -ldl; then
		echo; echo "== PyTorch suspended and resumed by gpuvisor-ckpt (by process group)"
		timeout 120 setsid python3 tests/gpu/ckpt_torch.py "$probe" "$out/gpuvisor-ckpt" || rc=1
	else
		echo "ckpt-check: cannot build gpuvisor-ckpt"; rc=1
	fi
else
	echo "(no PyTorch here: torch part skipped)"
fi
exit $rc
