# Locates cuda.h (needed by the shim and the simulator) and, optionally, nvcc.
# Sets GV_CUDA_INCLUDE_DIR and GV_NVCC (empty when nvcc is absent).
set(_gv_cuda_hints "$ENV{CUDA_HOME}" "$ENV{CUDA_PATH}" /usr/local/cuda)
find_path(GV_CUDA_INCLUDE_DIR cuda.h
  HINTS ${_gv_cuda_hints}
  PATH_SUFFIXES include targets/x86_64-linux/include)
if(NOT GV_CUDA_INCLUDE_DIR)
  message(FATAL_ERROR
    "cuda.h was not found (looked in $CUDA_HOME, /usr/local/cuda and the system "
    "include paths). The CUDA shim and the simulator are built against the CUDA "
    "driver API headers: install the CUDA toolkit (e.g. NVIDIA's cuda-toolkit "
    "package, or Debian's nvidia-cuda-toolkit from non-free) or set CUDA_HOME.")
endif()
message(STATUS "cuda.h: ${GV_CUDA_INCLUDE_DIR}")
find_program(GV_NVCC nvcc HINTS ${_gv_cuda_hints} PATH_SUFFIXES bin)
if(GV_NVCC)
  message(STATUS "nvcc: ${GV_NVCC} (GPU kernels will be built)")
else()
  set(GV_NVCC "")
  message(STATUS "nvcc not found: GPU kernels are not built (simulator kernels are)")
endif()
