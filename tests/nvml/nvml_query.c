/* nvml-query: an NVML caller shaped like nvidia-smi's basic query, for the
 * NVML tests (docs/shim.md, "NVML inside an instance"; docs/simulator.md,
 * "NVML"). It links libnvidia-ml.so.1 (NEEDED, no RPATH), so the library
 * is whichever LD_LIBRARY_PATH gives: the simulator's NVML, the
 * interposer, or NVIDIA's.
 *
 * Usage: nvml-query [--lookup UUID]...
 *
 * Prints, one fact per line (the tests parse them):
 *   count: N
 *   gpu I: uuid=... name=...
 *   gpu I: memory total=B used=B free=B            (nvmlDeviceGetMemoryInfo)
 *   gpu I: memory_v2 total=B reserved=B used=B free=B   (_v2, when there)
 *   gpu I: process pid=P used=B                    (ComputeRunningProcesses_v3)
 *   gpu I: processes=N
 *   lookup UUID: found|<NVML error string>         (nvmlDeviceGetHandleByUUID)
 * and checks what NVML promises about them: handles by index, by UUID and
 * nvmlDeviceGetIndex agree; an index past the count is INVALID_ARGUMENT;
 * total = free + used unless over; the process count query (*count = 0)
 * answers as documented. Exits 1 after "nvml-query: FAIL ..." lines when a
 * promise is broken, 2 when NVML cannot be initialised.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nvml_api.h"

static int failures;

#define CHECK(cond, ...)                                        \
	do {                                                    \
		if (!(cond)) {                                  \
			printf("nvml-query: FAIL %s: ", #cond); \
			printf(__VA_ARGS__);                    \
			printf("\n");                           \
			failures++;                             \
		}                                               \
	} while (0)

static void query_processes(unsigned int i, gv_nvml_device h)
{
	struct gv_nvml_process *p = NULL;
	unsigned int n = 0;
	gv_nvml_ret r;

	/* documented count query: SUCCESS when none run, else INSUFFICIENT_SIZE */
	r = nvmlDeviceGetComputeRunningProcesses_v3(h, &n, NULL);
	CHECK(r == GV_NVML_SUCCESS || r == GV_NVML_ERROR_INSUFFICIENT_SIZE, "count query: %s",
	      nvmlErrorString(r));
	CHECK(r != GV_NVML_SUCCESS || n == 0, "SUCCESS with %u processes", n);
	for (int tries = 0; tries < 4 && r == GV_NVML_ERROR_INSUFFICIENT_SIZE; tries++) {
		n += 4; /* room for processes that start meanwhile */
		free(p);
		p = calloc(n, sizeof(*p));
		if (!p)
			break;
		r = nvmlDeviceGetComputeRunningProcesses_v3(h, &n, p);
	}
	if (r != GV_NVML_SUCCESS) {
		printf("gpu %u: processes: %s\n", i, nvmlErrorString(r));
		free(p);
		return;
	}
	for (unsigned int k = 0; k < n; k++)
		printf("gpu %u: process pid=%u used=%llu\n", i, p[k].pid, p[k].used_gpu_memory);
	printf("gpu %u: processes=%u\n", i, n);
	free(p);
}

static void query_gpu(unsigned int i)
{
	char uuid[GV_NVML_UUID_BUF] = "", name[GV_NVML_NAME_BUF] = "";
	struct gv_nvml_memory m;
	struct gv_nvml_memory_v2 m2 = { .version = GV_NVML_MEMORY_V2 };
	gv_nvml_device h = NULL, h2 = NULL;
	unsigned int idx = ~0u;
	gv_nvml_ret r;

	r = nvmlDeviceGetHandleByIndex_v2(i, &h);
	CHECK(r == GV_NVML_SUCCESS, "handle of gpu %u: %s", i, nvmlErrorString(r));
	if (r != GV_NVML_SUCCESS)
		return;
	r = nvmlDeviceGetUUID(h, uuid, sizeof(uuid));
	CHECK(r == GV_NVML_SUCCESS, "uuid: %s", nvmlErrorString(r));
	r = nvmlDeviceGetName(h, name, sizeof(name));
	CHECK(r == GV_NVML_SUCCESS, "name: %s", nvmlErrorString(r));
	printf("gpu %u: uuid=%s name=%s\n", i, uuid, name);
	r = nvmlDeviceGetHandleByUUID(uuid, &h2);
	CHECK(r == GV_NVML_SUCCESS && h2 == h, "by UUID %s: %s", uuid, nvmlErrorString(r));
	r = nvmlDeviceGetIndex(h, &idx);
	CHECK(r == GV_NVML_SUCCESS && idx == i, "index: %s, %u", nvmlErrorString(r), idx);

	r = nvmlDeviceGetMemoryInfo(h, &m);
	CHECK(r == GV_NVML_SUCCESS, "memory: %s", nvmlErrorString(r));
	if (r == GV_NVML_SUCCESS) {
		printf("gpu %u: memory total=%llu used=%llu free=%llu\n", i, m.total, m.used,
		       m.free);
		CHECK(m.used > m.total ? m.free == 0 : m.free + m.used == m.total,
		      "free + used != total");
	}
	r = nvmlDeviceGetMemoryInfo_v2(h, &m2);
	if (r == GV_NVML_SUCCESS)
		printf("gpu %u: memory_v2 total=%llu reserved=%llu used=%llu free=%llu\n", i,
		       m2.total, m2.reserved, m2.used, m2.free);
	else
		printf("gpu %u: memory_v2: %s\n", i, nvmlErrorString(r));
	query_processes(i, h);
}

int main(int argc, char **argv)
{
	unsigned int count = 0;
	gv_nvml_device h = NULL;
	gv_nvml_ret r;

	r = nvmlInit_v2();
	if (r != GV_NVML_SUCCESS) {
		printf("nvml-query: nvmlInit_v2: %s\n", nvmlErrorString(r));
		return 2;
	}
	r = nvmlDeviceGetCount_v2(&count);
	CHECK(r == GV_NVML_SUCCESS, "count: %s", nvmlErrorString(r));
	printf("count: %u\n", count);
	for (unsigned int i = 0; i < count; i++)
		query_gpu(i);
	r = nvmlDeviceGetHandleByIndex_v2(count, &h);
	CHECK(r == GV_NVML_ERROR_INVALID_ARGUMENT, "index %u (= count): %s", count,
	      nvmlErrorString(r));
	for (int a = 1; a + 1 < argc; a += 2) {
		if (strcmp(argv[a], "--lookup") != 0)
			continue;
		r = nvmlDeviceGetHandleByUUID(argv[a + 1], &h);
		printf("lookup %s: %s\n", argv[a + 1],
		       r == GV_NVML_SUCCESS ? "found" : nvmlErrorString(r));
	}
	r = nvmlShutdown();
	CHECK(r == GV_NVML_SUCCESS, "shutdown: %s", nvmlErrorString(r));
	return failures ? 1 : 0;
}
