"""PyTorch under the gpuvisor shim: the partition is what the framework sees.

Run by tests/gpu/run with LD_LIBRARY_PATH=<build>/lib/shim and GPUVISOR_ACCT
naming an accounting file whose limit is GV_LIMIT bytes. Checks that
torch.cuda.mem_get_info() reports the partition, that allocating past it
raises out-of-memory, and that a matrix product is still right.
"""
import os
import sys

import torch

limit = int(os.environ["GV_LIMIT"])
failures = []

free, total = torch.cuda.mem_get_info()
print(f"mem_get_info: free={free} total={total} (partition {limit})")
if total != limit:
    failures.append(f"total {total} != partition {limit}")
if not 0 < free < limit:
    failures.append(f"free {free} not within (0, {limit})")

try:
    big = torch.empty(limit, dtype=torch.uint8, device="cuda")
    failures.append("allocating the whole partition did not fail")
    del big
except torch.OutOfMemoryError as e:
    print("past the partition: OutOfMemoryError:", str(e).splitlines()[0][:120])

torch.manual_seed(0)
a = torch.randn(1024, 1024)
b = torch.randn(1024, 1024)
gpu = (a.cuda() @ b.cuda()).cpu()
cpu = a @ b
err = (gpu - cpu).abs().max().item()
print(f"matmul 1024x1024: max abs error vs CPU {err:.3e}")
if not torch.allclose(gpu, cpu, rtol=1e-3, atol=1e-3):
    failures.append(f"matmul differs from the CPU result (max abs error {err})")

free2, total2 = torch.cuda.mem_get_info()
print(f"after work: free={free2} total={total2} torch allocated={torch.cuda.memory_allocated()}")

for f in failures:
    print("FAIL:", f)
print("torch_partition:", "PASS" if not failures else "FAIL")
sys.exit(1 if failures else 0)
