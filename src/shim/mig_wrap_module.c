/* Migration mode, wrappers: modules, functions, globals and libraries.
 *
 * A module keeps what reloads it at the switch (its path, or a copy of its
 * image); a function is a shim object named after its kernel, found again
 * by name in the reloaded module. What cannot be reloaded as it was (an
 * image of unknown size, JIT options, a global's address, the library
 * API) is forwarded and makes the workload non-migratable.
 */
#include "mig_wrap_internal.h"

#include <elf.h>
#include <stdlib.h>
#include <string.h>

/* --- modules and functions */

/* Bytes of a module image, so it can be kept for the reload at the switch:
 * an ELF object (cubin, or the simulator's shared object) ends with its
 * section or program header table; a fatbin has its size in its header;
 * PTX is text. 0 when unknown. */
static size_t image_len(const void *image)
{
	const unsigned char *b = image;
	const uint32_t fatbin_magic = 0xBA55ED50u, wrapper_magic = 0x466243B1u;
	uint32_t m;

	memcpy(&m, b, sizeof(m));
	if (!memcmp(b, ELFMAG, SELFMAG) && b[EI_CLASS] == ELFCLASS64) {
		Elf64_Ehdr eh;
		uint64_t a, c;

		memcpy(&eh, b, sizeof(eh));
		a = eh.e_shoff + (uint64_t)eh.e_shnum * eh.e_shentsize;
		c = eh.e_phoff + (uint64_t)eh.e_phnum * eh.e_phentsize;
		return a > c ? a : c;
	}
	if (m == fatbin_magic) {
		uint16_t hs;
		uint64_t fs;

		memcpy(&hs, b + 6, sizeof(hs));
		memcpy(&fs, b + 8, sizeof(fs));
		return hs + fs;
	}
	if (m == wrapper_magic)
		return 0; /* the fatbin it points at would have to be kept instead */
	return strnlen((const char *)b, 64u << 20) + 1;
}

static CUresult mod_made(CUmodule *pm, CUmodule m, const char *path, const void *image)
{
	struct gv_mobj *o = gv_mobj_new(GV_MOBJ_MOD, m);

	if (!o)
		goto oom;
	o->ctx = gv_mig_cur_ctx();
	if (path) {
		o->path = strdup(path);
		if (!o->path)
			goto oom;
	} else {
		size_t n = image_len(image);

		if (!n)
			gv_mig_taint("the workload loaded a module image of unknown size");
		else if ((o->image = malloc(n)))
			memcpy(o->image, image, n);
		else
			goto oom;
		o->image_len = n;
	}
	*pm = (CUmodule)o;
	return CUDA_SUCCESS;
oom:
	gv_mobj_free(o);
	MREAL(cuModuleUnload)(m);
	return CUDA_ERROR_OUT_OF_MEMORY;
}

static CUresult w_cuModuleLoad(CUmodule *pm, const char *fname)
{
	CUmodule m;
	CUresult r;

	IN();
	if (!pm || !fname)
		OUT(MREAL(cuModuleLoad)(pm, fname));
	r = MREAL(cuModuleLoad)(&m, fname);
	if (r != CUDA_SUCCESS)
		OUT(r);
	OUT(mod_made(pm, m, fname, NULL));
}

static CUresult w_cuModuleLoadData(CUmodule *pm, const void *image)
{
	CUmodule m;
	CUresult r;

	IN();
	if (!pm || !image)
		OUT(MREAL(cuModuleLoadData)(pm, image));
	r = MREAL(cuModuleLoadData)(&m, image);
	if (r != CUDA_SUCCESS)
		OUT(r);
	OUT(mod_made(pm, m, NULL, image));
}

static CUresult w_cuModuleLoadDataEx(CUmodule *pm, const void *image, unsigned n,
				     CUjit_option *opts, void **vals)
{
	CUmodule m;
	CUresult r;

	IN();
	if (!pm || !image)
		OUT(MREAL(cuModuleLoadDataEx)(pm, image, n, opts, vals));
	r = MREAL(cuModuleLoadDataEx)(&m, image, n, opts, vals);
	if (r != CUDA_SUCCESS)
		OUT(r);
	if (n)
		gv_mig_taint("the workload loaded a module with JIT options");
	OUT(mod_made(pm, m, NULL, image));
}

static CUresult w_cuModuleUnload(CUmodule hm)
{
	struct gv_mobj *o = gv_mobj_find(hm, GV_MOBJ_MOD);
	CUresult r;

	IN();
	if (!o)
		OUT(MREAL(cuModuleUnload)(hm));
	r = MREAL(cuModuleUnload)((CUmodule)o->real);
	if (r == CUDA_SUCCESS) {
		pthread_mutex_lock(&gv_mobj_lock);
		for (struct gv_mobj *x = gv_mobj_head; x;) {
			struct gv_mobj *n = x->next;

			if (x->mod == o) {
				pthread_mutex_unlock(&gv_mobj_lock);
				gv_mobj_free(x);
				pthread_mutex_lock(&gv_mobj_lock);
				n = gv_mobj_head;
			}
			x = n;
		}
		pthread_mutex_unlock(&gv_mobj_lock);
		gv_mobj_free(o);
	}
	OUT(r);
}

static CUresult w_cuModuleGetFunction(CUfunction *pf, CUmodule hm, const char *name)
{
	struct gv_mobj *m = gv_mobj_find(hm, GV_MOBJ_MOD), *o = NULL;
	CUfunction f;
	CUresult r;

	IN();
	if (!m || !pf || !name)
		OUT(MREAL(cuModuleGetFunction)(pf, m ? (CUmodule)m->real : hm, name));
	r = MREAL(cuModuleGetFunction)(&f, (CUmodule)m->real, name);
	if (r != CUDA_SUCCESS)
		OUT(r);
	pthread_mutex_lock(&gv_mobj_lock);
	for (struct gv_mobj *x = gv_mobj_head; x && !o; x = x->next)
		if (x->kind == GV_MOBJ_FUNC && x->mod == m && !strcmp(x->name, name))
			o = x;
	pthread_mutex_unlock(&gv_mobj_lock);
	if (!o) {
		char *nm = strdup(name);

		o = nm ? gv_mobj_new(GV_MOBJ_FUNC, f) : NULL;
		if (!o) {
			free(nm);
			OUT(CUDA_ERROR_OUT_OF_MEMORY);
		}
		o->mod = m;
		o->ctx = m->ctx;
		o->name = nm;
	}
	*pf = (CUfunction)o;
	OUT(CUDA_SUCCESS);
}

static CUresult w_cuModuleGetGlobal_v2(CUdeviceptr *dp, size_t *bytes, CUmodule hm,
				       const char *name)
{
	IN();
	gv_mig_taint("the workload took a module global's address with cuModuleGetGlobal");
	OUT(MREAL(cuModuleGetGlobal_v2)(dp, bytes, (CUmodule)gv_mobj_real(hm, GV_MOBJ_MOD), name));
}

/* --- libraries: forwarded, the workload marked (TAINTED) */

static CUresult w_cuLibraryLoadData(CUlibrary *lib, const void *code, CUjit_option *jo, void **jv,
				    unsigned njo, CUlibraryOption *lo, void **lv, unsigned nlo)
{
	IN();
	TAINTED("the library API (cuLibraryLoadData)");
	OUT(MREAL(cuLibraryLoadData)(lib, code, jo, jv, njo, lo, lv, nlo));
}

static CUresult w_cuLibraryLoadFromFile(CUlibrary *lib, const char *file, CUjit_option *jo,
					void **jv, unsigned njo, CUlibraryOption *lo, void **lv,
					unsigned nlo)
{
	IN();
	TAINTED("the library API (cuLibraryLoadFromFile)");
	OUT(MREAL(cuLibraryLoadFromFile)(lib, file, jo, jv, njo, lo, lv, nlo));
}

const struct gv_mig_wrap_ent gv_mig_wrap_module[] = {
	W(cuModuleLoad),
	W(cuModuleLoadData),
	W(cuModuleLoadDataEx),
	W(cuModuleUnload),
	W(cuModuleGetFunction),
	W(cuModuleGetGlobal_v2),
	/* libraries */
	W(cuLibraryLoadData),
	W(cuLibraryLoadFromFile),
	W_END,
};
