/* Helpers of the simulator tests: small driver-API programs that exit
 * non-zero, naming the line, on the first broken expectation. With
 * SIMTEST_SOFT set in the environment they report every broken expectation
 * and go on (used to compare the simulator with a real driver: the same
 * programs run against NVIDIA's libcuda.so.1). */
#ifndef GV_SIMTEST_H
#define GV_SIMTEST_H

#include <cuda.h>
#include <stdio.h>
#include <stdlib.h>

static inline void simtest_fail(void)
{
	if (!getenv("SIMTEST_SOFT"))
		exit(1);
}

#define EXPECT_RC(expr, want)                                                                  \
	do {                                                                                   \
		CUresult r_ = (expr);                                                          \
		if (r_ != (want)) {                                                            \
			const char *n_ = NULL;                                                 \
			cuGetErrorName(r_, &n_);                                               \
			fprintf(stderr, "%s:%d: %s returned %d (%s), expected %s\n", __FILE__, \
				__LINE__, #expr, (int)r_, n_ ? n_ : "?", #want);               \
			simtest_fail();                                                        \
		}                                                                              \
	} while (0)

#define OK(expr) EXPECT_RC(expr, CUDA_SUCCESS)

#define EXPECT(cond)                                                                        \
	do {                                                                                \
		if (!(cond)) {                                                              \
			fprintf(stderr, "%s:%d: expected %s\n", __FILE__, __LINE__, #cond); \
			simtest_fail();                                                     \
		}                                                                           \
	} while (0)

/* What the simulator guarantees and NVIDIA's driver does not, skipped by
 * SIMTEST_SOFT runs: an error code (not a crash) for garbage or stale
 * handles and NULL names, and host functions of different streams running
 * concurrently (the driver runs them on one thread). */
#define SIM_ONLY(...)                          \
	do {                                   \
		if (!getenv("SIMTEST_SOFT")) { \
			__VA_ARGS__;           \
		}                              \
	} while (0)

#define MIB (1024ull * 1024ull)

#endif
