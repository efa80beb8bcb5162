"""Shared by the shim's generators (update-gated.py, update-mig-refuse.py):
the driver entry points the shim exports (symbols.txt) and their
prototypes as the shim compiles cuda.h (__CUDA_API_VERSION_INTERNAL, so
each versioned name means itself)."""
import os
import re
import subprocess

HERE = os.path.dirname(os.path.abspath(__file__))


def symbols():
    """The names in symbols.txt, in its order."""
    with open(os.path.join(HERE, "symbols.txt")) as f:
        return [n for n in (line.strip() for line in f) if n and not n.startswith("#")]


def prototypes(include_dir):
    """{name: parameter list text} of every CUresult function in cuda.h."""
    src = "#define __CUDA_API_VERSION_INTERNAL 1\n#include <cuda.h>\n"
    pre = subprocess.run(["cc", "-E", "-P", "-I" + include_dir, "-x", "c", "-"],
                         input=src, capture_output=True, text=True, check=True).stdout
    pre = " ".join(pre.split())
    return {m.group(1): m.group(2).strip()
            for m in re.finditer(r"CUresult\s+(cu[A-Za-z0-9_]+)\s*\(([^;]*?)\)\s*;", pre)}
