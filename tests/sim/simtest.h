/* Helpers of the simulator tests: small driver-API programs that exit
 * non-zero, naming the line, on the first broken expectation. */
#ifndef GV_SIMTEST_H
#define GV_SIMTEST_H

#include <cuda.h>
#include <stdio.h>
#include <stdlib.h>

#define EXPECT_RC(expr, want)                                                                  \
	do {                                                                                   \
		CUresult r_ = (expr);                                                          \
		if (r_ != (want)) {                                                            \
			const char *n_ = NULL;                                                 \
			cuGetErrorName(r_, &n_);                                               \
			fprintf(stderr, "%s:%d: %s returned %d (%s), expected %s\n", __FILE__, \
				__LINE__, #expr, (int)r_, n_ ? n_ : "?", #want);               \
			exit(1);                                                               \
		}                                                                              \
	} while (0)

#define OK(expr) EXPECT_RC(expr, CUDA_SUCCESS)

#define EXPECT(cond)                                                                           \
	do {                                                                                   \
		if (!(cond)) {                                                                 \
			fprintf(stderr, "%s:%d: expected %s\n", __FILE__, __LINE__, #cond);    \
			exit(1);                                                               \
		}                                                                              \
	} while (0)

#define MIB (1024ull * 1024ull)

#endif
