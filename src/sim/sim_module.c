/* Modules and kernel launches.
 *
 * A simulator module is an x86-64 shared object built from kernels written
 * with include/gpuvisor/kernel.h: it exports gv_sim_module_abi, and
 * for each kernel `name` the per-thread entry `name` and `name_gv_argsize`.
 * Anything else (a fatbin, PTX, a cubin, another shared object) is
 * CUDA_ERROR_INVALID_IMAGE. Every load gets its own copy of the object
 * (loaded from a memfd), so two loads of one file have separate globals as
 * two loads of a module do on a GPU.
 *
 * cuLaunchKernel copies the argument struct at launch (kernelParams[0], or
 * the CU_LAUNCH_PARAM_BUFFER_POINTER of extra) and queues the grid on the
 * stream; the worker calls the entry for every thread, block by block.
 *
 * Faults. A kernel that loads or stores through NULL, an unmapped or an
 * inaccessible (PROT_NONE) address must not take the process down: on a
 * GPU the launch's context gets CUDA_ERROR_ILLEGAL_ADDRESS (cuda.h: "While
 * executing a kernel, the device encountered a load or store instruction
 * on an invalid memory address. This leaves the process in an inconsistent
 * state and any further CUDA work will return the same error"). Here the
 * first launch installs a SIGSEGV/SIGBUS handler (SA_SIGINFO | SA_ONSTACK);
 * the worker arms a thread-local sigjmp_buf around the kernel's threads,
 * and the handler, on a thread so armed, siglongjmps back to the worker,
 * which abandons the rest of the grid, releases the execution engine and
 * marks the context faulted (sim_ctx_fault). A fault on any other thread
 * is not ours: the handler passes it to the handler installed before
 * (ASan's, the application's) or, if that was the default, restores the
 * default and returns, so the access faults again and the process dies as
 * it would have. A program that installs its own SIGSEGV handler after the
 * first launch without chaining to ours loses this (its handler sees the
 * kernel's fault). Only kernels are guarded: copies and sets check their
 * ranges before they are queued.
 */
#include <setjmp.h>
#include <signal.h>
#include <dlfcn.h>
#include <errno.h>
#include <elf.h>
#include <fcntl.h>
#include <link.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "gpuvisor/kernel.h"
#include "sim_internal.h"

#define MODULE_MAGIC 0x4d4f444cu
#define FUNC_MAGIC 0x46554e43u
#define MODULE_MAX_BYTES (256u << 20)

typedef void (*sim_kernel_fn)(void **, const struct gv_sim_thread *);

struct sim_func {
	uint32_t magic;
	struct sim_module *mod;
	char name[256];
	sim_kernel_fn fn;
	size_t argsize;
	struct sim_func *next;
};

struct sim_global {
	uintptr_t addr;
	struct sim_global *next;
};

struct sim_module {
	uint32_t magic;
	struct sim_ctx *ctx;
	void *dl;
	/* The memfd the object was loaded from, open while it is loaded: the
	 * dynamic loader takes a file with the device and inode of an object
	 * already loaded for that object, and a closed memfd's inode number
	 * can be reused, so a later load would get this module's copy (and
	 * its globals) instead of its own. */
	int fd;
	struct sim_func *funcs;
	struct sim_global *globals;
	struct sim_module *next;
};

static pthread_mutex_t mod_lock = PTHREAD_MUTEX_INITIALIZER;
static struct sim_module *modules;

static struct sim_module *module_find_locked(CUmodule h)
{
	for (struct sim_module *m = modules; m; m = m->next)
		if ((CUmodule)m == h)
			return m;
	return NULL;
}

/* Size of an ELF image held in memory, from its headers; 0 if not ELF64. */
static size_t elf_size(const void *image, size_t avail)
{
	const Elf64_Ehdr *eh = image;
	size_t end;

	if (avail < sizeof(*eh) || memcmp(eh->e_ident, ELFMAG, SELFMAG) ||
	    eh->e_ident[EI_CLASS] != ELFCLASS64 || eh->e_machine != EM_X86_64 ||
	    eh->e_type != ET_DYN)
		return 0;
	end = (size_t)eh->e_shoff + (size_t)eh->e_shnum * eh->e_shentsize;
	if ((size_t)eh->e_phoff + (size_t)eh->e_phnum * eh->e_phentsize > end)
		end = (size_t)eh->e_phoff + (size_t)eh->e_phnum * eh->e_phentsize;
	return end <= avail ? end : 0;
}

static CUresult load_image(CUmodule *out, const void *image, size_t len)
{
	SIM_GATE_SECTION();
	struct sim_ctx *c;
	struct sim_module *m = NULL;
	char path[64];
	void *dl = NULL;
	int fd = -1;
	CUresult rc = sim_ctx_require(&c);

	if (rc != CUDA_SUCCESS)
		return rc;
	fd = memfd_create("gpuvisor-sim-module", MFD_CLOEXEC);
	if (fd < 0 || write(fd, image, len) != (ssize_t)len) {
		rc = CUDA_ERROR_OUT_OF_MEMORY;
		goto out;
	}
	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	dl = dlopen(path, RTLD_NOW | RTLD_LOCAL);
	if (!dl || !dlsym(dl, "gv_sim_module_abi") ||
	    *(const int *)dlsym(dl, "gv_sim_module_abi") != GV_SIM_MODULE_ABI) {
		rc = CUDA_ERROR_INVALID_IMAGE;
		goto out;
	}
	m = calloc(1, sizeof(*m));
	if (!m) {
		rc = CUDA_ERROR_OUT_OF_MEMORY;
		goto out;
	}
	m->magic = MODULE_MAGIC;
	m->ctx = c;
	m->dl = dl;
	m->fd = fd;
	dl = NULL;
	fd = -1;
	pthread_mutex_lock(&mod_lock);
	m->next = modules;
	modules = m;
	pthread_mutex_unlock(&mod_lock);
	*out = (CUmodule)m;
out:
	if (dl)
		dlclose(dl);
	if (fd >= 0)
		close(fd);
	return rc;
}

static CUresult load_data(CUmodule *module, const void *image)
{
	CUresult rc = sim_check_init();
	size_t len;

	if (rc != CUDA_SUCCESS)
		return rc;
	if (!module || !image)
		return CUDA_ERROR_INVALID_VALUE;
	*module = NULL;
	/* compared byte by byte: a short PTX string is never read past its end */
	for (int i = 0; i < SELFMAG; i++)
		if (((const unsigned char *)image)[i] != (unsigned char)ELFMAG[i])
			return CUDA_ERROR_INVALID_IMAGE;
	len = elf_size(image, MODULE_MAX_BYTES);
	if (!len)
		return CUDA_ERROR_INVALID_IMAGE;
	return load_image(module, image, len);
}

SIM_API CUresult cuModuleLoadData(CUmodule *module, const void *image)
{
	return load_data(module, image);
}

SIM_API CUresult cuModuleLoadDataEx(CUmodule *module, const void *image, unsigned int numOptions,
				    CUjit_option *options, void **optionValues)
{
	if (numOptions && (!options || !optionValues))
		return sim_check_init() != CUDA_SUCCESS ? sim_check_init()
							: CUDA_ERROR_INVALID_VALUE;
	return load_data(module, image);
}

SIM_API CUresult cuModuleLoadFatBinary(CUmodule *module, const void *fatCubin)
{
	CUresult rc = sim_check_init();

	if (rc != CUDA_SUCCESS)
		return rc;
	if (!module || !fatCubin)
		return CUDA_ERROR_INVALID_VALUE;
	*module = NULL;
	return CUDA_ERROR_INVALID_IMAGE; /* there is no GPU code to run here */
}

SIM_API CUresult cuModuleLoad(CUmodule *module, const char *fname)
{
	struct sim_ctx *c;
	struct stat st;
	void *buf = NULL;
	size_t len;
	int fd = -1;
	CUresult rc = sim_ctx_require(&c);

	if (rc != CUDA_SUCCESS)
		return rc;
	if (!module || !fname)
		return CUDA_ERROR_INVALID_VALUE;
	*module = NULL;
	fd = open(fname, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return CUDA_ERROR_FILE_NOT_FOUND;
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || st.st_size <= 0 ||
	    st.st_size > MODULE_MAX_BYTES) {
		rc = CUDA_ERROR_INVALID_IMAGE;
		goto out;
	}
	len = (size_t)st.st_size;
	buf = malloc(len);
	if (!buf) {
		rc = CUDA_ERROR_OUT_OF_MEMORY;
		goto out;
	}
	if (read(fd, buf, len) != (ssize_t)len) {
		rc = CUDA_ERROR_FILE_NOT_FOUND;
		goto out;
	}
	if (!elf_size(buf, len)) {
		rc = CUDA_ERROR_INVALID_IMAGE;
		goto out;
	}
	rc = load_image(module, buf, len);
out:
	free(buf);
	close(fd);
	return rc;
}

static void module_free(struct sim_module *m)
{
	struct sim_func *f, *fn;
	struct sim_global *g, *gn;

	for (f = m->funcs; f; f = fn) {
		fn = f->next;
		f->magic = 0;
		free(f);
	}
	for (g = m->globals; g; g = gn) {
		gn = g->next;
		sim_mem_unregister(g->addr, SIM_MEM_GLOBAL, NULL);
		free(g);
	}
	dlclose(m->dl);
	close(m->fd);
	free(m);
}

SIM_API CUresult cuModuleUnload(CUmodule hmod)
{
	SIM_GATE_SECTION();
	struct sim_module *m;
	CUresult rc = sim_check_init();

	if (rc != CUDA_SUCCESS)
		return rc;
	pthread_mutex_lock(&mod_lock);
	m = module_find_locked(hmod);
	if (m)
		for (struct sim_module **pp = &modules; *pp; pp = &(*pp)->next)
			if (*pp == m) {
				*pp = m->next;
				break;
			}
	pthread_mutex_unlock(&mod_lock);
	if (!m)
		return CUDA_ERROR_INVALID_HANDLE;
	/* kernels of the module may still be queued */
	if (sim_ctx_valid(m->ctx))
		sim_ctx_sync(m->ctx);
	module_free(m);
	return CUDA_SUCCESS;
}

void sim_module_ctx_teardown(struct sim_ctx *c)
{
	for (;;) {
		struct sim_module *m = NULL;

		pthread_mutex_lock(&mod_lock);
		for (struct sim_module **pp = &modules; *pp; pp = &(*pp)->next)
			if ((*pp)->ctx == c) {
				m = *pp;
				*pp = m->next;
				break;
			}
		pthread_mutex_unlock(&mod_lock);
		if (!m)
			break;
		module_free(m);
	}
}

SIM_API CUresult cuModuleGetFunction(CUfunction *hfunc, CUmodule hmod, const char *name)
{
	struct sim_module *m;
	struct sim_func *f = NULL;
	char szname[300];
	void *fn, *sz;
	CUresult rc = sim_check_init();

	if (rc != CUDA_SUCCESS)
		return rc;
	if (!hfunc || !name)
		return CUDA_ERROR_INVALID_VALUE;
	*hfunc = NULL;
	pthread_mutex_lock(&mod_lock);
	m = module_find_locked(hmod);
	if (!m) {
		rc = CUDA_ERROR_INVALID_HANDLE;
		goto out;
	}
	for (f = m->funcs; f; f = f->next)
		if (!strcmp(f->name, name))
			goto found;
	snprintf(szname, sizeof(szname), "%s_gv_argsize", name);
	fn = strlen(name) < sizeof(f->name) ? dlsym(m->dl, name) : NULL;
	sz = fn ? dlsym(m->dl, szname) : NULL;
	if (!fn || !sz) {
		rc = CUDA_ERROR_NOT_FOUND;
		goto out;
	}
	f = calloc(1, sizeof(*f));
	if (!f) {
		rc = CUDA_ERROR_OUT_OF_MEMORY;
		goto out;
	}
	f->magic = FUNC_MAGIC;
	f->mod = m;
	snprintf(f->name, sizeof(f->name), "%s", name);
	*(void **)&f->fn = fn;
	f->argsize = (size_t) * (const unsigned long long *)sz;
	f->next = m->funcs;
	m->funcs = f;
found:
	*hfunc = (CUfunction)f;
out:
	pthread_mutex_unlock(&mod_lock);
	return rc;
}

SIM_API CUresult cuModuleGetGlobal_v2(CUdeviceptr *dptr, size_t *bytes, CUmodule hmod,
				      const char *name)
{
	SIM_GATE_SECTION();
	struct sim_module *m;
	const ElfW(Sym) *sym = NULL;
	Dl_info info;
	void *addr;
	bool known = false;
	CUresult rc = sim_check_init();

	if (rc != CUDA_SUCCESS)
		return rc;
	if (!name)
		return CUDA_ERROR_INVALID_VALUE;
	pthread_mutex_lock(&mod_lock);
	m = module_find_locked(hmod);
	if (!m) {
		rc = CUDA_ERROR_INVALID_HANDLE;
		goto out;
	}
	addr = dlsym(m->dl, name);
	if (!addr || !dladdr1(addr, &info, (void **)&sym, RTLD_DL_SYMENT) || !sym ||
	    ELF64_ST_TYPE(sym->st_info) != STT_OBJECT) {
		rc = CUDA_ERROR_NOT_FOUND;
		goto out;
	}
	for (struct sim_global *g = m->globals; g; g = g->next)
		known |= g->addr == (uintptr_t)addr;
	if (!known) {
		struct sim_global *g = calloc(1, sizeof(*g));
		struct sim_alloc a = { 0 };

		if (!g) {
			rc = CUDA_ERROR_OUT_OF_MEMORY;
			goto out;
		}
		g->addr = (uintptr_t)addr;
		g->next = m->globals;
		m->globals = g;
		a.start = (uintptr_t)addr;
		a.size = sym->st_size;
		a.kind = SIM_MEM_GLOBAL;
		a.ctx = m->ctx;
		a.dev = m->ctx->dev;
		sim_mem_register(&a);
	}
	if (dptr)
		*dptr = (CUdeviceptr)(uintptr_t)addr;
	if (bytes)
		*bytes = sym->st_size;
out:
	pthread_mutex_unlock(&mod_lock);
	return rc;
}

/* ---- launches ---- */

static struct sim_func *func_find(CUfunction h)
{
	struct sim_func *r = NULL;

	if (!h)
		return NULL;
	pthread_mutex_lock(&mod_lock);
	for (struct sim_module *m = modules; m && !r; m = m->next)
		for (struct sim_func *f = m->funcs; f; f = f->next)
			if ((CUfunction)f == h) {
				r = f;
				break;
			}
	pthread_mutex_unlock(&mod_lock);
	return r;
}

/* The worker's jump back out of a faulting kernel (NULL: no kernel runs on
 * this thread). Written before the kernel runs, so the handler's read does
 * not allocate the thread's TLS block. */
static _Thread_local sigjmp_buf *kernel_jmp;
static struct sigaction prev_segv, prev_bus;
static pthread_once_t fault_once = PTHREAD_ONCE_INIT;

static void fault_handler(int sig, siginfo_t *si, void *uc)
{
	sigjmp_buf *j = kernel_jmp;
	const struct sigaction *prev = sig == SIGBUS ? &prev_bus : &prev_segv;

	if (j)
		siglongjmp(*j, 1);
	if ((prev->sa_flags & SA_SIGINFO) && prev->sa_sigaction) {
		prev->sa_sigaction(sig, si, uc);
		return;
	}
	if (!(prev->sa_flags & SA_SIGINFO) && prev->sa_handler != SIG_DFL &&
	    prev->sa_handler != SIG_IGN) {
		prev->sa_handler(sig);
		return;
	}
	/* the default action: let the access fault again without us */
	signal(sig, SIG_DFL);
}

static void fault_install(void)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_sigaction = fault_handler;
	sa.sa_flags = SA_SIGINFO | SA_ONSTACK;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGSEGV, &sa, &prev_segv);
	sigaction(SIGBUS, &sa, &prev_bus);
}

/* Every thread of the grid, block by block: 0, or -EFAULT when the kernel
 * faulted (the rest of the grid is abandoned, as the GPU abandons a
 * faulting kernel). */
static int run_grid(sim_kernel_fn fn, void *args, const unsigned *g, const unsigned *b)
{
	sigjmp_buf jb;
	struct gv_sim_thread t;
	void *params[1] = { args };

	if (sigsetjmp(jb, 1)) {
		kernel_jmp = NULL;
		return -EFAULT;
	}
	kernel_jmp = &jb;
	t.grid_dim = (struct gv_dim3){ g[0], g[1], g[2] };
	t.block_dim = (struct gv_dim3){ b[0], b[1], b[2] };
	for (unsigned bz = 0; bz < g[2]; bz++)
		for (unsigned by = 0; by < g[1]; by++)
			for (unsigned bx = 0; bx < g[0]; bx++) {
				t.block_idx = (struct gv_dim3){ bx, by, bz };
				for (unsigned tz = 0; tz < b[2]; tz++)
					for (unsigned ty = 0; ty < b[1]; ty++)
						for (unsigned tx = 0; tx < b[0]; tx++) {
							t.thread_idx =
								(struct gv_dim3){ tx, ty, tz };
							fn(params, &t);
						}
			}
	kernel_jmp = NULL;
	return 0;
}

static void run_launch(struct sim_op *op)
{
	sim_kernel_fn fn;
	bool locked;
	int err;

	pthread_once(&fault_once, fault_install);
	*(void **)&fn = *(void **)&op->u.launch.fn;
	locked = sim_exec_begin(op->u.launch.dev);
	err = run_grid(fn, op->u.launch.args, op->u.launch.grid, op->u.launch.block);
	sim_exec_end(op->u.launch.dev, locked);
	if (err)
		sim_ctx_fault(op->u.launch.ctx, CUDA_ERROR_ILLEGAL_ADDRESS);
}

static void fini_launch(struct sim_op *op)
{
	free(op->u.launch.args);
}

/* The argument bytes: kernelParams[0], or extra's buffer. */
static CUresult launch_args(const struct sim_func *f, void **params, void **extra, void **out)
{
	const void *src = NULL;
	size_t have = f->argsize;

	*out = NULL;
	if (params && extra)
		return CUDA_ERROR_INVALID_VALUE;
	if (extra) {
		for (size_t i = 0; extra[i] != CU_LAUNCH_PARAM_END; i += 2) {
			if (extra[i] == CU_LAUNCH_PARAM_BUFFER_POINTER)
				src = extra[i + 1];
			else if (extra[i] == CU_LAUNCH_PARAM_BUFFER_SIZE)
				have = extra[i + 1] ? *(size_t *)extra[i + 1] : 0;
			else
				return CUDA_ERROR_INVALID_VALUE;
		}
		if (!src || have < f->argsize)
			return CUDA_ERROR_INVALID_VALUE;
	} else if (f->argsize) {
		if (!params || !params[0])
			return CUDA_ERROR_INVALID_VALUE;
		src = params[0];
	}
	*out = calloc(1, f->argsize ? f->argsize : 1);
	if (!*out)
		return CUDA_ERROR_OUT_OF_MEMORY;
	if (f->argsize)
		memcpy(*out, src, f->argsize);
	return CUDA_SUCCESS;
}

static CUresult launch(CUfunction h, const unsigned grid[3], const unsigned block[3],
		       unsigned shmem, CUstream hs, void **params, void **extra, bool pt)
{
	struct sim_func *f;
	struct sim_stream *s;
	struct sim_op *op;
	void *args;
	CUresult rc = sim_check_init();
	unsigned long long threads;

	if (rc != CUDA_SUCCESS)
		return rc;
	rc = sim_stream_resolve(hs, pt, &s);
	if (rc != CUDA_SUCCESS)
		return rc;
	f = func_find(h);
	if (!f)
		return CUDA_ERROR_INVALID_HANDLE;
	if (!grid[0] || !grid[1] || !grid[2] || !block[0] || !block[1] || !block[2] ||
	    grid[1] > 65535 || grid[2] > 65535 || grid[0] > 2147483647u || block[0] > 1024 ||
	    block[1] > 1024 || block[2] > 64)
		return CUDA_ERROR_INVALID_VALUE;
	threads = (unsigned long long)block[0] * block[1] * block[2];
	if (threads > 1024)
		return CUDA_ERROR_INVALID_VALUE;
	if (shmem > 49152)
		return CUDA_ERROR_INVALID_VALUE;
	rc = launch_args(f, params, extra, &args);
	if (rc != CUDA_SUCCESS)
		return rc;
	op = calloc(1, sizeof(*op));
	if (!op) {
		free(args);
		return CUDA_ERROR_OUT_OF_MEMORY;
	}
	op->run = run_launch;
	op->fini = fini_launch;
	*(void **)&op->u.launch.fn = *(void **)&f->fn;
	op->u.launch.args = args;
	op->u.launch.dev = s->ctx->dev;
	op->u.launch.ctx = s->ctx;
	memcpy(op->u.launch.grid, grid, sizeof(op->u.launch.grid));
	memcpy(op->u.launch.block, block, sizeof(op->u.launch.block));
	sim_stream_submit(s, op);
	return CUDA_SUCCESS;
}

SIM_API CUresult cuLaunchKernel(CUfunction f, unsigned int gridDimX, unsigned int gridDimY,
				unsigned int gridDimZ, unsigned int blockDimX,
				unsigned int blockDimY, unsigned int blockDimZ,
				unsigned int sharedMemBytes, CUstream hStream, void **kernelParams,
				void **extra)
{
	const unsigned g[3] = { gridDimX, gridDimY, gridDimZ };
	const unsigned b[3] = { blockDimX, blockDimY, blockDimZ };

	return launch(f, g, b, sharedMemBytes, hStream, kernelParams, extra, false);
}

SIM_API CUresult cuLaunchKernel_ptsz(CUfunction f, unsigned int gridDimX, unsigned int gridDimY,
				     unsigned int gridDimZ, unsigned int blockDimX,
				     unsigned int blockDimY, unsigned int blockDimZ,
				     unsigned int sharedMemBytes, CUstream hStream,
				     void **kernelParams, void **extra)
{
	const unsigned g[3] = { gridDimX, gridDimY, gridDimZ };
	const unsigned b[3] = { blockDimX, blockDimY, blockDimZ };

	return launch(f, g, b, sharedMemBytes, hStream, kernelParams, extra, true);
}

/* The event of a programmatic-event or launch-completion attribute, NULL
 * for other attributes. */
static CUevent attr_event(const CUlaunchAttribute *a)
{
	if (a->id == CU_LAUNCH_ATTRIBUTE_PROGRAMMATIC_EVENT)
		return a->value.programmaticEvent.event;
	if (a->id == CU_LAUNCH_ATTRIBUTE_LAUNCH_COMPLETION_EVENT)
		return a->value.launchCompletionEvent.event;
	return NULL;
}

/* Attributes other than events are hints here and ignored. A programmatic
 * or launch-completion event is recorded on the launch's stream after the
 * kernel: the simulator runs a kernel's blocks in order and does not
 * overlap the next kernel, so the event fires when the whole kernel has
 * completed, which both attributes allow. */
static CUresult launch_ex(const CUlaunchConfig *config, CUfunction f, void **params, void **extra,
			  bool pt)
{
	unsigned g[3], b[3];
	CUresult rc = sim_check_init();

	if (rc != CUDA_SUCCESS)
		return rc;
	if (!config || (config->numAttrs && !config->attrs))
		return CUDA_ERROR_INVALID_VALUE;
	for (unsigned i = 0; i < config->numAttrs; i++) {
		CUevent e = attr_event(&config->attrs[i]);

		if ((config->attrs[i].id == CU_LAUNCH_ATTRIBUTE_PROGRAMMATIC_EVENT ||
		     config->attrs[i].id == CU_LAUNCH_ATTRIBUTE_LAUNCH_COMPLETION_EVENT) &&
		    !sim_event_valid(e))
			return CUDA_ERROR_INVALID_HANDLE;
	}
	g[0] = config->gridDimX;
	g[1] = config->gridDimY;
	g[2] = config->gridDimZ;
	b[0] = config->blockDimX;
	b[1] = config->blockDimY;
	b[2] = config->blockDimZ;
	rc = launch(f, g, b, config->sharedMemBytes, config->hStream, params, extra, pt);
	for (unsigned i = 0; rc == CUDA_SUCCESS && i < config->numAttrs; i++) {
		CUevent e = attr_event(&config->attrs[i]);

		if (e)
			rc = sim_event_record(e, config->hStream, pt);
	}
	return rc;
}

SIM_API CUresult cuLaunchKernelEx(const CUlaunchConfig *config, CUfunction f, void **kernelParams,
				  void **extra)
{
	return launch_ex(config, f, kernelParams, extra, false);
}

SIM_API CUresult cuLaunchKernelEx_ptsz(const CUlaunchConfig *config, CUfunction f,
				       void **kernelParams, void **extra)
{
	return launch_ex(config, f, kernelParams, extra, true);
}

SIM_API CUresult cuFuncGetAttribute(int *pi, CUfunction_attribute attrib, CUfunction hfunc)
{
	CUresult rc = sim_check_init();

	if (rc != CUDA_SUCCESS)
		return rc;
	if (!pi)
		return CUDA_ERROR_INVALID_VALUE;
	if (!func_find(hfunc))
		return CUDA_ERROR_INVALID_HANDLE;
	switch (attrib) {
	case CU_FUNC_ATTRIBUTE_MAX_THREADS_PER_BLOCK:
		*pi = 1024;
		break;
	case CU_FUNC_ATTRIBUTE_NUM_REGS:
		*pi = 32;
		break;
	case CU_FUNC_ATTRIBUTE_PTX_VERSION:
	case CU_FUNC_ATTRIBUTE_BINARY_VERSION:
		*pi = 80;
		break;
	case CU_FUNC_ATTRIBUTE_SHARED_SIZE_BYTES:
	case CU_FUNC_ATTRIBUTE_CONST_SIZE_BYTES:
	case CU_FUNC_ATTRIBUTE_LOCAL_SIZE_BYTES:
		*pi = 0;
		break;
	case CU_FUNC_ATTRIBUTE_MAX_DYNAMIC_SHARED_SIZE_BYTES:
		*pi = 49152;
		break;
	default:
		if ((int)attrib < 0 || attrib >= CU_FUNC_ATTRIBUTE_MAX)
			return CUDA_ERROR_INVALID_VALUE;
		*pi = 0;
	}
	return CUDA_SUCCESS;
}
