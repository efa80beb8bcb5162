/* Migration mode: switched on by $GPUVISOR_CTL, installs the wrappers.
 *
 * Without $GPUVISOR_CTL nothing here runs after one getenv at start-up.
 * With it, every resolved entry point is kept in gv_mig_real and
 * gv_shim_real[i] is pointed at the migration layer's wrapper or at a
 * refusing stub (mig_internal.h). The variable is removed from the
 * environment so that the workload's child processes do not listen on the
 * same control socket (one CUDA process per migratable workload).
 *
 * The tables this file installs point back into it: the generated
 * refusing stubs (gen/gv_mig_refuse.c) return gv_mig_refuse(), and the
 * wrappers (mig_wrap_*.c, listed in mig_wrap.c) use gv_mig_real, the
 * device map and the taint kept here. That is a table of operations filled
 * from this file's state, not two modules leaning on each other: the loop
 * is by design.
 */
#include "mig_internal.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void *gv_mig_real[GV_SYM_COUNT];

static bool gv_mig_enabled;
static pthread_mutex_t taint_lock = PTHREAD_MUTEX_INITIALIZER;
static char taint_reason[256];
static atomic_bool tainted;
static atomic_uchar refused_logged[GV_SYM_COUNT];
static atomic_uchar why_logged[GV_SYM_COUNT];

bool gv_mig_on(void)
{
	return gv_mig_enabled;
}

void gv_mig_taint(const char *fmt, ...)
{
	va_list ap;

	if (atomic_load(&tainted))
		return;
	pthread_mutex_lock(&taint_lock);
	if (!atomic_load(&tainted)) {
		va_start(ap, fmt);
		vsnprintf(taint_reason, sizeof(taint_reason), fmt, ap);
		va_end(ap);
		atomic_store(&tainted, true);
		gv_shim_log(true, "not migratable: %s", taint_reason);
	}
	pthread_mutex_unlock(&taint_lock);
}

const char *gv_mig_taint_reason(void)
{
	return atomic_load(&tainted) ? taint_reason : NULL;
}

CUresult gv_mig_refuse(int sym)
{
	if (sym >= 0 && sym < GV_SYM_COUNT && !atomic_exchange(&refused_logged[sym], 1))
		gv_shim_log(false,
			    "%s is not supported in migration mode (GPUVISOR_CTL is set): "
			    "CUDA_ERROR_NOT_SUPPORTED",
			    gv_shim_names[sym]);
	return CUDA_ERROR_NOT_SUPPORTED;
}

/* Logs why sym is refused, once per name; CUDA_ERROR_NOT_SUPPORTED. */
CUresult gv_mig_refuse_why(int sym, const char *why)
{
	if (!atomic_exchange(&why_logged[sym], 1))
		gv_shim_log(false,
			    "%s: %s is not supported in migration mode (GPUVISOR_CTL is set): "
			    "CUDA_ERROR_NOT_SUPPORTED",
			    gv_shim_names[sym], why);
	return CUDA_ERROR_NOT_SUPPORTED;
}

void gv_mig_init(void)
{
	const char *ctl = getenv("GPUVISOR_CTL");

	if (!ctl || !*ctl)
		return;
	memcpy(gv_mig_real, gv_shim_real, sizeof(gv_mig_real));
	for (size_t i = 0; i < gv_mig_refuse_n; i++)
		gv_shim_real[gv_mig_refuse_tab[i].sym] = gv_mig_refuse_tab[i].fn;
	for (size_t i = 0; i < gv_mig_wrap_n; i++)
		for (const struct gv_mig_wrap_ent *w = gv_mig_wrap_tab[i]; w->fn; w++)
			gv_shim_real[w->sym] = w->fn;
	gv_mig_enabled = true;
	gv_shim_log(true, "migration mode: control socket %s", ctl);
}

/* --- devices */

atomic_int gv_mig_dev;
char gv_mig_dev_uuid[96];

int gv_mig_dev_real(CUdevice app)
{
	return app == 0 ? atomic_load(&gv_mig_dev) : -1;
}

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* The 16 bytes of a UUID string: the hex digits after the prefix
 * ("GPU-", "MIG-"), dashes ignored. */
static bool uuid_parse(const char *s, CUuuid *out)
{
	const char *p = strchr(s, '-');
	int n = 0;

	if (p && p - s == 3)
		s = p + 1;
	memset(out, 0, sizeof(*out));
	for (; *s; s++) {
		int v = hexval(*s);

		if (*s == '-')
			continue;
		if (v < 0 || n >= 32)
			return false;
		out->bytes[n / 2] = (char)(out->bytes[n / 2] | (v << (n % 2 ? 0 : 4)));
		n++;
	}
	return n == 32;
}

void gv_mig_uuid_str(const CUuuid *u, const char *prefix, char *out, size_t len)
{
	const unsigned char *b = (const unsigned char *)u->bytes;

	snprintf(out, len, "%s%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x",
		 prefix, b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7], b[8], b[9], b[10], b[11],
		 b[12], b[13], b[14], b[15]);
}

int gv_mig_find_uuid(const char *uuid)
{
	CUuuid want, have;
	int n = 0;

	if (!uuid || !uuid_parse(uuid, &want))
		return -1;
	if (MREAL(cuDeviceGetCount)(&n) != CUDA_SUCCESS)
		return -1;
	for (int i = 0; i < n; i++)
		if (MREAL(cuDeviceGetUuid_v2)(&have, i) == CUDA_SUCCESS &&
		    !memcmp(have.bytes, want.bytes, sizeof(want.bytes)))
			return i;
	/* libcudasim also opens a device by UUID here, one that appeared in
	 * its node file after cuInit (a MIG instance created later); NVIDIA's
	 * driver takes PCI bus ids only and refuses */
	if (MREAL(cuDeviceGetByPCIBusId)(&n, uuid) == CUDA_SUCCESS)
		return n;
	return -1;
}
