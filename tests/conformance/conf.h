/* The conformance suite: small cases, each checking one behaviour of the
 * CUDA driver API as documented (cuda.h's reference comments, CUDA 13.0,
 * and the driver API guide), over what gpuvisor and its workloads use. One
 * binary, built against cuda.h only; it runs on libcudasim (ctest
 * conformance) and on NVIDIA's libcuda.so.1 (tests/gpu/run). A case that
 * fails on a GPU is a wrong expectation; one that fails on the simulator
 * is a simulator bug.
 *
 * A case is a function registered with CASE(id, doc): doc cites the
 * documented behaviour it checks. Cases run in one process, in the
 * device-0 primary context (conf.ctx, current when a case starts), with the
 * sample kernels loaded (conf.mod). ISOLATED cases run in a child process
 * of their own (the binary again, with --case ID): kernel faults, which
 * leave a context unusable, and calls before cuInit.
 */
#ifndef GV_CONF_H
#define GV_CONF_H

#include <cuda.h>
#include <stdbool.h>
#include <stddef.h>

enum {
	CONF_ISOLATED = 1, /* in a child process */
	CONF_NOINIT = 2,   /* ... before cuInit (implies ISOLATED) */
};

struct conf_case {
	const char *id;
	const char *doc;
	void (*fn)(const void *arg);
	const void *arg;
	unsigned flags;
	struct conf_case *next;
};

void conf_register(struct conf_case *c);

#define CASE_F(name, flags_, docstr)                                    \
	static void case_##name(const void *arg);                       \
	static struct conf_case case_reg_##name = {                     \
		#name, docstr, case_##name, NULL, flags_, NULL          \
	};                                                              \
	__attribute__((constructor)) static void case_ctor_##name(void) \
	{                                                               \
		conf_register(&case_reg_##name);                        \
	}                                                               \
	static void case_##name(const void *arg __attribute__((unused)))
#define CASE(name, docstr) CASE_F(name, 0, docstr)

/* The sample kernels (workloads/kernels/gv_kernels.c) loaded in one context. */
struct conf_kernels {
	CUmodule mod;
	CUfunction fill, count, spin;
};

/* The harness's state for the in-process cases. */
struct conf_state {
	CUdevice dev;
	CUcontext ctx;	       /* device 0's primary context, retained */
	struct conf_kernels k; /* loaded in ctx */
	const char *module_path;
	int ndev;
};
extern struct conf_state conf;

/* Checks: false (and the case marked failed, with file and line) when the
 * expectation is broken. REQUIRE_* end the case. */
bool conf_expect_rc(CUresult got, CUresult want, const char *expr, const char *wname,
		    const char *file, int line);
bool conf_expect(bool ok, const char *expr, const char *file, int line);
void conf_note(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#define EXPECT_RC(expr, want) conf_expect_rc((expr), (want), #expr, #want, __FILE__, __LINE__)
#define EXPECT(cond) conf_expect(!!(cond), #cond, __FILE__, __LINE__)
#define REQUIRE_RC(expr, want)              \
	do {                                \
		if (!EXPECT_RC(expr, want)) \
			return;             \
	} while (0)
#define REQUIRE(cond)              \
	do {                       \
		if (!EXPECT(cond)) \
			return;    \
	} while (0)
#define OK(expr) REQUIRE_RC(expr, CUDA_SUCCESS)

/* Helpers (conformance.c). */
double conf_now_ms(void);
/* Launches of the sample kernels; k: the kernels of the stream's context
 * (NULL: conf.k). gv_spin busy-waits ms milliseconds on the device clock
 * and writes its start and end (ns) to when[0], when[1] (device memory). */
CUresult conf_spin(const struct conf_kernels *k, CUstream s, double ms, CUdeviceptr when);
/* gv_count: *counter += add (thread 0 only). */
CUresult conf_count(const struct conf_kernels *k, CUstream s, CUdeviceptr counter, unsigned add);
/* gv_fill: x[i] = (i * 2654435761) ^ seed for i < n. */
CUresult conf_fill(const struct conf_kernels *k, CUstream s, CUdeviceptr x, unsigned long long n,
		   unsigned seed);
unsigned conf_fill_value(unsigned long long i, unsigned seed);
/* Loads the sample kernels into the current context. */
CUresult conf_load_kernels(struct conf_kernels *k);
/* Runs fn(arg) on a new thread and joins it. */
void conf_on_thread(void (*fn)(void *), void *arg);

#endif
