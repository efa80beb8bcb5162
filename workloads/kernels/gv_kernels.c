/* Sample kernels shared by the workloads and the simulator tests. One
 * source: nvcc -x cu builds it for GPUs, the C compiler into the simulator
 * module gv_kernels.so (see include/gpuvisor/kernel.h). Arithmetic is on 32-bit unsigned
 * integers (wrapping), so results are bit-identical on a GPU and on the
 * simulator and checksums can be compared between them. */
#include "gpuvisor/kernel.h"
#include "gv_kernels.h"

GV_MODULE_ABI

/* A global that tests read and write with cuModuleGetGlobal. */
GV_DEVICE_VAR(unsigned, gv_counter);

GV_KERNEL(gv_fill, struct gv_fill_args, a)
{
	unsigned long long i = (unsigned long long)GV_BID_X * GV_BDIM_X + GV_TID_X;

	if (i < a.n)
		a.x[i] = ((unsigned)i * 2654435761u) ^ a.seed;
}

GV_KERNEL(gv_scale_add, struct gv_scale_add_args, a)
{
	unsigned long long i = (unsigned long long)GV_BID_X * GV_BDIM_X + GV_TID_X;

	if (i < a.n)
		a.y[i] = a.y[i] * a.k + a.x[i];
}

/* Thread indices written out, so tests can check every thread ran once
 * with the right indices in a 2-D grid of 2-D blocks. */
GV_KERNEL(gv_index2d, struct gv_index2d_args, a)
{
	unsigned x = GV_BID_X * GV_BDIM_X + GV_TID_X;
	unsigned y = GV_BID_Y * GV_BDIM_Y + GV_TID_Y;

	if (x < a.width && y < a.height)
		a.out[y * a.width + x] += (y << 16) | x;
}

/* One inference step: each activation mixes `reads` weights (read only)
 * with the previous activations and the newest KV block. */
GV_KERNEL(gv_infer_step, struct gv_infer_step_args, a)
{
	unsigned i = GV_BID_X * GV_BDIM_X + GV_TID_X;
	unsigned acc, k;

	if (i >= a.act_n)
		return;
	acc = a.act_in[i];
	for (k = 0; k < a.reads; k++) {
		unsigned long long w =
			((unsigned long long)i * a.reads + k * 7919ull + a.step) % a.w_n;

		acc = acc * 31u + a.w[w];
	}
	a.act_out[i] = acc ^ a.kv[i % a.kv_n];
}

/* Appends a KV block derived from the activations. */
GV_KERNEL(gv_kv_write, struct gv_kv_write_args, a)
{
	unsigned long long i = (unsigned long long)GV_BID_X * GV_BDIM_X + GV_TID_X;

	if (i < a.kv_n)
		a.kv[i] = a.act[i % a.act_n] + (unsigned)i + a.step;
}

/* One training step: gradients, optimizer state and parameters are all
 * rewritten. */
GV_KERNEL(gv_train_step, struct gv_train_step_args, a)
{
	unsigned long long i = (unsigned long long)GV_BID_X * GV_BDIM_X + GV_TID_X;
	unsigned g;

	if (i >= a.n)
		return;
	g = (a.p[i] ^ (a.step * 2246822519u)) * 3266489917u;
	a.g[i] = g;
	a.m[i] = a.m[i] * 3u + g;
	a.p[i] = a.p[i] - (a.m[i] >> 3);
}

GV_KERNEL(gv_count, struct gv_count_args, a)
{
	if (GV_BID_X == 0 && GV_TID_X == 0)
		*a.counter += a.add;
}

/* The device clock in nanoseconds. On a GPU, %globaltimer: one clock for
 * every context on the GPU, so timestamps of different processes compare.
 * In the simulator, CLOCK_MONOTONIC (shared by every process on the host). */
#ifdef __CUDACC__
static __device__ unsigned long long gv_device_ns(void)
{
	unsigned long long t;

	asm volatile("mov.u64 %0, %%globaltimer;" : "=l"(t));
	return t;
}
#else
#include <time.h>
static unsigned long long gv_device_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (unsigned long long)ts.tv_sec * 1000000000ull + (unsigned long long)ts.tv_nsec;
}
#endif

/* A kernel of fixed duration for the time-slice tests: thread 0 of block 0
 * spins for a.ns (launch it as one thread). */
GV_KERNEL(gv_spin, struct gv_spin_args, a)
{
	unsigned long long t0, t;

	if (GV_BID_X != 0 || GV_TID_X != 0)
		return;
	t0 = gv_device_ns();
	do
		t = gv_device_ns();
	while (t - t0 < a.ns);
	a.when[0] = t0;
	a.when[1] = t;
}
