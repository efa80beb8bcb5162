/* Helpers for the shim's test programs. Each test program is a plain
 * driver-API program (linked against libcuda.so.1, i.e. libcudasim at
 * build time), run by run-test.sh with the shim first on LD_LIBRARY_PATH,
 * GPUVISOR_REAL_LIBCUDA naming the simulator and GPUVISOR_ACCT naming a
 * fresh accounting file. Failures print where and why, then exit(1).
 */
#ifndef GV_SHIM_TEST_H
#define GV_SHIM_TEST_H

#include <cuda.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/types.h>

#define CHECK(cond)                                                                              \
	do {                                                                                     \
		if (!(cond)) {                                                                   \
			fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #cond); \
			exit(1);                                                                 \
		}                                                                                \
	} while (0)

#define CHECK_EQ_U64(a, b)                                                                         \
	do {                                                                                       \
		uint64_t a_ = (a), b_ = (b);                                                       \
		if (a_ != b_) {                                                                    \
			fprintf(stderr, "%s:%d: %s == %llu, expected %s == %llu\n", __FILE__,      \
				__LINE__, #a, (unsigned long long)a_, #b, (unsigned long long)b_); \
			exit(1);                                                                   \
		}                                                                                  \
	} while (0)

#define CHECK_CU(call, expect)                                                            \
	do {                                                                              \
		CUresult r_ = (call), e_ = (expect);                                      \
		if (r_ != e_) {                                                           \
			fprintf(stderr, "%s:%d: %s returned %s, expected %s\n", __FILE__, \
				__LINE__, #call, gvt_err_name(r_), gvt_err_name(e_));     \
			exit(1);                                                          \
		}                                                                         \
	} while (0)

#define CHECK_OK(call) CHECK_CU(call, CUDA_SUCCESS)

const char *gvt_err_name(CUresult r);
/* The real driver's (simulator's) own function, bypassing the shim. */
void *gvt_real(const char *name);
/* Same, NULL when the driver does not have it. */
void *gvt_real_opt(const char *name);
/* cuInit + a new context on device 0, made current. */
CUcontext gvt_ctx(void);
/* cuMemGetInfo through the shim. */
uint64_t gvt_free(void);
uint64_t gvt_total(void);
/* What every process of the instance has charged ($GPUVISOR_ACCT, or the
 * accounting file at path). */
uint64_t gvt_used(void);
uint64_t gvt_used_at(const char *path);
uint64_t gvt_limit(void);
/* Creates an accounting file (like the daemon does for an instance). */
void gvt_acct_create(const char *path, uint64_t limit);
/* Runs this program again (argv[0] = self) with args, optionally with
 * GPUVISOR_ACCT=acct; returns its pid. Its stdout is a pipe: *rd. */
pid_t gvt_spawn(char *const args[], const char *acct, int *rd);
/* Exit status of pid (-signal when killed). */
int gvt_wait(pid_t pid);
/* Reads one line "key value" written by a child; returns value. */
uint64_t gvt_read_u64(int fd);
/* Allocates bytes with cuMemAlloc so that exactly target bytes stay free;
 * returns the pointer (0 when nothing needed). */
CUdeviceptr gvt_fill_to(uint64_t target);
/* The context overhead the real driver reports (free delta when one more
 * context is created through it), measured with a context current. */
uint64_t gvt_real_ctx_overhead(void);

#endif
