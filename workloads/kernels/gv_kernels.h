/* Argument structs of the sample kernels (gv_kernels.c). Host code fills
 * one and passes its address as kernelParams[0]. Pointers are device
 * pointers; the layout is the same for nvcc and the C compiler (x86-64 and
 * the GPU agree on the sizes and alignment of these types). */
#ifndef GV_KERNELS_H
#define GV_KERNELS_H

struct gv_fill_args {
	unsigned *x;
	unsigned long long n;
	unsigned seed;
};

struct gv_scale_add_args {
	unsigned *y;
	const unsigned *x;
	unsigned long long n;
	unsigned k;
};

struct gv_index2d_args {
	unsigned *out;
	unsigned width, height;
};

struct gv_infer_step_args {
	const unsigned *w;
	const unsigned *act_in;
	unsigned *act_out;
	const unsigned *kv;
	unsigned long long w_n;
	unsigned act_n, kv_n, reads, step;
};

struct gv_kv_write_args {
	unsigned *kv;
	const unsigned *act;
	unsigned long long kv_n;
	unsigned act_n, step;
};

struct gv_train_step_args {
	unsigned *p, *g, *m;
	unsigned long long n;
	unsigned step;
};

struct gv_count_args {
	unsigned *counter;
	unsigned add;
};

/* gv_spin: occupies the device for ns nanoseconds (busy-wait on the
 * device clock: %globaltimer on a GPU, CLOCK_MONOTONIC in the simulator)
 * and writes when it started and ended to when[0], when[1] (same clock). */
struct gv_spin_args {
	unsigned long long *when;
	unsigned long long ns;
};

#endif
