/* The interposers' shared start: messages and the real library
 * (gpuvisor/preload.h). */
#include "gpuvisor/preload.h"

#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>

static const char *const system_dirs[] = {
	"/usr/lib/x86_64-linux-gnu",
	"/lib/x86_64-linux-gnu",
	"/usr/lib64",
	"/lib64",
	"/usr/lib",
	"/lib",
	"/usr/local/nvidia/lib64",
	"/usr/lib/wsl/lib",
};

void gv_preload_vlog(const char *who, bool debug, const char *fmt, va_list ap)
{
	char msg[512];

	if (debug) {
		const char *d = getenv("GPUVISOR_SHIM_DEBUG");

		if (!d || !*d || (d[0] == '0' && !d[1]))
			return;
	}
	vsnprintf(msg, sizeof(msg), fmt, ap);
	fprintf(stderr, "%s: %s\n", who, msg);
}

__attribute__((format(printf, 3, 4))) static void say(const struct gv_preload_real *r, bool debug,
						      const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	gv_preload_vlog(r->who, debug, fmt, ap);
	va_end(ap);
}

/* Whether path is the file the interposer was loaded from. */
static bool is_self(const char *path, const struct stat *self, bool have_self)
{
	struct stat st;

	if (!have_self || stat(path, &st) != 0)
		return false;
	return st.st_dev == self->st_dev && st.st_ino == self->st_ino;
}

void *gv_preload_open_real(const struct gv_preload_real *r)
{
	const char *env = getenv(r->env);
	struct stat self;
	bool have_self = false;
	char path[4096];
	Dl_info info;
	void *h;

	if (dladdr(r->self, &info) && info.dli_fname)
		have_self = stat(info.dli_fname, &self) == 0;
	if (env && *env) {
		if (is_self(env, &self, have_self)) {
			say(r, false, "%s=%s is %s", r->env, env, r->self_is);
			return NULL;
		}
		h = dlopen(env, RTLD_NOW | RTLD_LOCAL);
		if (!h)
			say(r, false, "cannot load %s=%s: %s", r->env, env, dlerror());
		return h;
	}
	for (size_t i = 0; i < sizeof(system_dirs) / sizeof(system_dirs[0]); i++) {
		struct stat st;

		snprintf(path, sizeof(path), "%s/%s", system_dirs[i], r->soname);
		if (stat(path, &st) != 0 || is_self(path, &self, have_self))
			continue;
		h = dlopen(path, RTLD_NOW | RTLD_LOCAL);
		if (h) {
			say(r, true, "%s: %s", r->found, path);
			return h;
		}
		say(r, true, "cannot load %s: %s", path, dlerror());
	}
	say(r, false, "no real %s found (set %s); %s", r->soname, r->env, r->none);
	return NULL;
}
