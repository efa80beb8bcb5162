"""ckpt_torch.py PROBE [HELPER]: a PyTorch inference loop checkpointed and restored by
the driver while it holds a bulk tensor (weights / KV-cache shaped), driven
from another process (PROBE ctl PID, tests/gpu/ckpt_probe.cu). Prints the
phases' times and whether the outputs after the restore equal those before,
bit for bit. Run it with PYTORCH_CUDA_ALLOC_CONF=expandable_segments:True too:
PyTorch then backs its cache with VMM memory (cuMemCreate / cuMemMap).
With HELPER (gpuvisor-ckpt, src/ckpt/ckpt.c) the suspend and resume go
through it, by process group, as gpuvisord's do (run this as a group leader:
setsid), and nvidia-smi's memory.used is read while suspended."""
import os
import subprocess
import sys
import time

import torch


def main():
    probe = sys.argv[1]
    bulk_mib = int(os.environ.get("GV_TORCH_BULK_MIB", "4096"))
    torch.manual_seed(0)
    dev = "cuda"
    layer = torch.nn.TransformerEncoderLayer(d_model=512, nhead=8, dim_feedforward=2048,
                                             batch_first=True)
    model = torch.nn.TransformerEncoder(layer, num_layers=4).to(dev).eval()
    x = torch.randn(8, 128, 512, device=dev)
    bulk = torch.empty(bulk_mib << 20, dtype=torch.uint8, device=dev)
    bulk.fill_(7)
    with torch.no_grad():
        y0 = model(x)
        torch.cuda.synchronize()
        free0, total = torch.cuda.mem_get_info()
        t0 = time.monotonic()
        if len(sys.argv) > 2:
            helper, grp = sys.argv[2], str(os.getpgid(0))
            used = lambda: subprocess.run(
                ["nvidia-smi", "--query-gpu=memory.used", "--format=csv,noheader"],
                capture_output=True, text=True).stdout.strip()
            before = used()
            r = subprocess.run([helper, "suspend", grp, "--timeout-ms", "10000"],
                               capture_output=True, text=True)
            sys.stdout.write("gpuvisor-ckpt suspend: " + r.stdout + r.stderr)
            during = used()
            r2 = subprocess.run([helper, "resume", grp], capture_output=True, text=True)
            sys.stdout.write("gpuvisor-ckpt resume: " + r2.stdout + r2.stderr)
            print(f"nvidia-smi memory.used: before {before}, suspended {during}, after {used()}")
            r = r if r.returncode else r2
        else:
            r = subprocess.run([probe, "ctl", str(os.getpid())], capture_output=True, text=True)
            sys.stdout.write(r.stdout + r.stderr)
        took = time.monotonic() - t0
        y1 = model(x)
        torch.cuda.synchronize()
    same = torch.equal(y0, y1)
    bulk_ok = bool((bulk == 7).all().item())
    conf = os.environ.get("PYTORCH_CUDA_ALLOC_CONF", "default allocator")
    print(f"torch {torch.__version__} ({conf}): bulk {bulk_mib} MiB, "
          f"reserved {torch.cuda.memory_reserved() >> 20} MiB, ctl {took:.2f} s, "
          f"outputs identical: {same}, bulk intact: {bulk_ok}")
    ok = r.returncode == 0 and same and bulk_ok
    print("ckpt_torch:", "PASS" if ok else "FAIL")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
