/* libgpuvisor-nvml: state shared by the NVML interposer's files (never
 * installed). The interposer is built as libnvidia-ml.so.1 and sits in the
 * CUDA shim's directory (docs/shim.md, "NVML inside an instance"). */
#ifndef GV_NVML_SHIM_H
#define GV_NVML_SHIM_H

#include <stdbool.h>
#include <stdint.h>

#include "gv_nvml_syms.h" /* generated: enum gv_nvml_sym */
#include "nvml_api.h"

#define GV_EXPORT __attribute__((visibility("default")))

/* Generated tables (gen-trampolines.cmake with PREFIX gv_nvml), indexed by
 * enum gv_nvml_sym: the real NVML's entry points once resolved (a lazy stub
 * that resolves first until then; a stub returning
 * NVML_ERROR_FUNCTION_NOT_FOUND for a name the library lacks). */
extern void *gv_nvml_real[GV_NVML_SYM_COUNT];
extern const char *const gv_nvml_names[GV_NVML_SYM_COUNT];
extern void *const gv_nvml_hook[GV_NVML_SYM_COUNT];

/* The real NVML's function for a name, typed with nvml_api.h's prototype. */
#define GV_NREAL(name) ((__typeof__(&name))gv_nvml_real[GV_NVML_SYM_##name])

/* --- resolve.c: the only place that loads the real NVML and looks up
 * symbols. Fills every slot of gv_nvml_real; called once by gv_nvml_init. */
void gv_nvml_resolve(void);

/* --- init.c */
/* Idempotent, thread-safe; run by the constructor, the lazy stubs and every
 * intercepted entry point: resolves the real NVML and reads the instance's
 * environment. */
void gv_nvml_init(void);
/* "gpuvisor-nvml: ..." on stderr; debug messages only with
 * GPUVISOR_SHIM_DEBUG set (the CUDA shim's switch). */
void gv_nvml_log(bool debug, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* --- instance.c */
/* True when the process runs inside a gpuvisor instance ($GPUVISOR_INSTANCE
 * set): then only the instance's GPU exists. False: everything forwards. */
bool gv_nvml_in_instance(void);
/* The instance's GPU as the real NVML knows it: *gpu the physical GPU's
 * handle and *mig the MIG device's (NULL unless the instance is a MIG
 * device). NVML_SUCCESS, the real NVML's error (UNINITIALIZED...), or
 * NVML_ERROR_NOT_FOUND when the GPU the instance names is not there (or
 * nothing names it: then the process sees no GPU, fail closed). */
gv_nvml_ret gv_nvml_inst_gpu(gv_nvml_device *gpu, gv_nvml_device *mig);
/* True when h is the instance's GPU (or its MIG device). */
bool gv_nvml_inst_is(gv_nvml_device h);

/* --- memory.c */
/* Called by gv_nvml_init: opens $GPUVISOR_ACCT / $GPUVISOR_LIMIT when set. */
void gv_nvml_part_init(void);

#endif
