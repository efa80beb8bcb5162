"""ckpt_torch_loop.py SECONDS: a PyTorch inference loop for the daemon's
suspend / resume / migrate --mode checkpoint on a GPU
(tests/gpu/suspend-check.sh). A small transformer (fixed seed) answers the
same input again and again for SECONDS of wall time; every answer must equal
the first bit for bit, whatever happens to the process meanwhile. Prints the
count of answers and exits non-zero on a difference."""
import sys
import time

import torch


def main():
    seconds = float(sys.argv[1])
    torch.manual_seed(0)
    layer = torch.nn.TransformerEncoderLayer(d_model=512, nhead=8, dim_feedforward=2048,
                                             batch_first=True)
    model = torch.nn.TransformerEncoder(layer, num_layers=4).to("cuda").eval()
    x = torch.randn(8, 128, 512, device="cuda")
    weights = torch.empty(1 << 30, dtype=torch.uint8, device="cuda").fill_(3)  # 1 GiB
    n = bad = 0
    end = time.monotonic() + seconds
    with torch.no_grad():
        y0 = model(x)
        print("ready", flush=True)
        while time.monotonic() < end:
            y = model(x)
            torch.cuda.synchronize()
            n += 1
            bad += not torch.equal(y, y0)
            time.sleep(0.05)
    intact = bool((weights == 3).all().item())
    print(f"answers {n}, differing {bad}, weights intact {intact}", flush=True)
    return 0 if bad == 0 and intact else 1


if __name__ == "__main__":
    sys.exit(main())
