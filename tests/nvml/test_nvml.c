/* The NVML interposer over the simulator's NVML (CTest nvml.forward,
 * nvml.instance): run with the interposer first on LD_LIBRARY_PATH and
 * GPUVISOR_REAL_LIBNVML naming libnvmlsim.so, on a simulated node of two
 * GPUs (GPUVISOR_SIM_MODELS=h100-80gb:2).
 *
 *   test_nvml forward SIMLIB    outside an instance: every call is the
 *       simulator's own answer; an entry point the interposer does not
 *       touch is a trampoline (another address than the simulator's) that
 *       returns what the simulator returns; one the simulator lacks is
 *       NVML_ERROR_FUNCTION_NOT_FOUND
 *   test_nvml instance SIMLIB   GPUVISOR_INSTANCE set, CUDA_VISIBLE_DEVICES
 *       the second GPU's UUID, GPUVISOR_ACCT / GPUVISOR_LIMIT an accounting
 *       file and a limit file (256 MiB): one GPU, the second; the other is
 *       not found by UUID, index or PCI bus id; memory = the partition,
 *       used = what this process charges to the accounting file
 *   test_nvml files ACCT LIMIT  makes the instance's files for the mode
 *       above: an accounting file whose header says 1 GiB and a limit file
 *       of 256 MiB (the one that counts, as for the CUDA shim)
 *   test_nvml closed SIMLIB     GPUVISOR_INSTANCE set, CUDA_VISIBLE_DEVICES
 *       a UUID that is not on the node, GPUVISOR_ACCT a file that is not an
 *       accounting file: no GPU, and the whole GPU's memory is not shown
 */
#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gpuvisor/acct.h"
#include "nvml_api.h"

#define MIB (1024ull * 1024ull)

static int failures;

#define CHECK(cond, ...)                                                                \
	do {                                                                            \
		if (!(cond)) {                                                          \
			fprintf(stderr, "FAIL %s:%d: %s: ", __FILE__, __LINE__, #cond); \
			fprintf(stderr, __VA_ARGS__);                                   \
			fprintf(stderr, "\n");                                          \
			failures++;                                                     \
		}                                                                       \
	} while (0)

typedef gv_nvml_ret (*str_fn)(char *, unsigned int);
typedef gv_nvml_ret (*count_fn)(unsigned int *);
typedef gv_nvml_ret (*temp_fn)(gv_nvml_device, int, unsigned int *);

static void test_forward(void *sim)
{
	str_fn sim_ver = (str_fn)dlsym(sim, "nvmlSystemGetDriverVersion");
	count_fn sim_count = (count_fn)dlsym(sim, "nvmlDeviceGetCount_v2");
	temp_fn temp = (temp_fn)dlsym(RTLD_DEFAULT, "nvmlDeviceGetTemperature");
	char mine[GV_NVML_VERSION_BUF] = "", theirs[GV_NVML_VERSION_BUF] = "";
	unsigned int n = 0, n_sim = 0, t = 0;
	gv_nvml_device h = NULL;
	gv_nvml_ret r;

	CHECK(sim_ver && sim_count, "libnvmlsim lacks its entry points");
	if (!sim_ver || !sim_count)
		return;
	/* the trampoline, not the simulator's function, is what the program
	 * links to: the interposer is really in front */
	CHECK((void *)&nvmlSystemGetDriverVersion != (void *)sim_ver,
	      "nvmlSystemGetDriverVersion is the simulator's own: no interposer in front");
	r = nvmlSystemGetDriverVersion(mine, sizeof(mine));
	CHECK(r == GV_NVML_ERROR_UNINITIALIZED, "before init: %s", nvmlErrorString(r));
	CHECK(nvmlInit_v2() == GV_NVML_SUCCESS, "init");
	r = nvmlSystemGetDriverVersion(mine, sizeof(mine));
	CHECK(r == GV_NVML_SUCCESS, "driver version: %s", nvmlErrorString(r));
	CHECK(sim_ver(theirs, sizeof(theirs)) == GV_NVML_SUCCESS && !strcmp(mine, theirs),
	      "through the interposer '%s', directly '%s'", mine, theirs);
	r = nvmlSystemGetDriverVersion(mine, 2);
	CHECK(r == GV_NVML_ERROR_INSUFFICIENT_SIZE, "short buffer: %s", nvmlErrorString(r));
	/* intercepted names forward unchanged outside an instance */
	CHECK(nvmlDeviceGetCount_v2(&n) == GV_NVML_SUCCESS && sim_count(&n_sim) == 0 && n == 2 &&
		      n_sim == 2,
	      "count %u, simulator's %u", n, n_sim);
	CHECK(nvmlDeviceGetCount_v2(NULL) == GV_NVML_ERROR_INVALID_ARGUMENT, "count(NULL)");
	CHECK(nvmlDeviceGetHandleByIndex_v2(1, &h) == GV_NVML_SUCCESS, "index 1");
	/* a function the simulator does not implement */
	CHECK(temp != NULL, "the interposer does not export nvmlDeviceGetTemperature");
	if (temp) {
		r = temp(h, 0, &t);
		CHECK(r == GV_NVML_ERROR_FUNCTION_NOT_FOUND, "temperature: %s", nvmlErrorString(r));
	}
	CHECK(nvmlShutdown() == GV_NVML_SUCCESS, "shutdown");
	CHECK(nvmlShutdown() == GV_NVML_ERROR_UNINITIALIZED, "second shutdown");
}

static void test_instance(void)
{
	const char *mine_uuid = getenv("CUDA_VISIBLE_DEVICES");
	char uuid[GV_NVML_UUID_BUF] = "", other[GV_NVML_UUID_BUF] = "";
	struct gv_nvml_pci_info pci;
	struct gv_nvml_memory m = { 0 };
	struct gv_nvml_memory_v2 m2 = { .version = GV_NVML_MEMORY_V2 };
	struct gv_acct *acct = NULL;
	struct gv_err err = { 0 };
	gv_nvml_device h = NULL, h2 = NULL;
	unsigned int n = 0, idx = 9;
	gv_nvml_ret r;

	CHECK(gv_acct_open(getenv("GPUVISOR_ACCT"), &acct, &err) == 0, "%s", err.msg);
	if (!acct)
		return;
	CHECK(gv_acct_charge(acct, 48 * MIB) == 0, "charge");
	CHECK(nvmlDeviceGetCount_v2(&n) == GV_NVML_ERROR_UNINITIALIZED, "count before init");
	CHECK(nvmlInit_v2() == GV_NVML_SUCCESS, "init");
	CHECK(nvmlDeviceGetCount_v2(&n) == GV_NVML_SUCCESS && n == 1, "count %u", n);
	CHECK(nvmlDeviceGetCount(&n) == GV_NVML_SUCCESS && n == 1, "count (v1) %u", n);
	r = nvmlDeviceGetHandleByIndex_v2(0, &h);
	CHECK(r == GV_NVML_SUCCESS, "index 0: %s", nvmlErrorString(r));
	CHECK(nvmlDeviceGetUUID(h, uuid, sizeof(uuid)) == GV_NVML_SUCCESS &&
		      !strcmp(uuid, mine_uuid),
	      "index 0 is %s, not the instance's %s", uuid, mine_uuid);
	CHECK(nvmlDeviceGetIndex(h, &idx) == GV_NVML_SUCCESS && idx == 0, "its index %u", idx);
	r = nvmlDeviceGetHandleByIndex_v2(1, &h2);
	CHECK(r == GV_NVML_ERROR_INVALID_ARGUMENT, "index 1: %s", nvmlErrorString(r));
	r = nvmlDeviceGetHandleByIndex(1, &h2);
	CHECK(r == GV_NVML_ERROR_INVALID_ARGUMENT, "index 1 (v1): %s", nvmlErrorString(r));
	CHECK(nvmlDeviceGetHandleByUUID(mine_uuid, &h2) == GV_NVML_SUCCESS && h2 == h,
	      "by its own UUID");
	/* the other GPU: its UUID and bus id, as the simulator names them */
	snprintf(other, sizeof(other), "%s", getenv("GV_TEST_OTHER_UUID"));
	r = nvmlDeviceGetHandleByUUID(other, &h2);
	CHECK(r == GV_NVML_ERROR_NOT_FOUND, "other GPU by UUID: %s", nvmlErrorString(r));
	r = nvmlDeviceGetHandleByPciBusId_v2("00000000:10:00.0", &h2);
	CHECK(r == GV_NVML_ERROR_NOT_FOUND, "other GPU by bus id: %s", nvmlErrorString(r));
	CHECK(nvmlDeviceGetPciInfo_v3(h, &pci) == GV_NVML_SUCCESS, "pci info (forwarded)");
	r = nvmlDeviceGetHandleByPciBusId_v2(pci.bus_id, &h2);
	CHECK(r == GV_NVML_SUCCESS && h2 == h, "own bus id %s: %s", pci.bus_id, nvmlErrorString(r));
	CHECK(nvmlDeviceGetHandleByUUID(NULL, &h2) == GV_NVML_ERROR_INVALID_ARGUMENT,
	      "NULL UUID: the real library's error");

	r = nvmlDeviceGetMemoryInfo(h, &m);
	CHECK(r == GV_NVML_SUCCESS && m.total == 256 * MIB && m.used == 48 * MIB &&
		      m.free == 208 * MIB,
	      "memory %s: total %llu used %llu free %llu", nvmlErrorString(r), m.total, m.used,
	      m.free);
	r = nvmlDeviceGetMemoryInfo_v2(h, &m2);
	CHECK(r == GV_NVML_SUCCESS && m2.total == 256 * MIB && m2.used == 48 * MIB &&
		      m2.free == 208 * MIB && m2.reserved == 0,
	      "memory_v2 %s: total %llu used %llu free %llu", nvmlErrorString(r), m2.total, m2.used,
	      m2.free);
	m2.version = 1;
	r = nvmlDeviceGetMemoryInfo_v2(h, &m2);
	CHECK(r == GV_NVML_ERROR_ARGUMENT_VERSION_MISMATCH, "bad version: %s", nvmlErrorString(r));
	CHECK(nvmlDeviceGetMemoryInfo(h, NULL) == GV_NVML_ERROR_INVALID_ARGUMENT, "NULL memory");
	/* this process charges the instance but has no simulated context: the
	 * simulator lists no process, so neither does the instance */
	n = 0;
	r = nvmlDeviceGetComputeRunningProcesses_v3(h, &n, NULL);
	CHECK(r == GV_NVML_SUCCESS && n == 0, "processes: %s, %u", nvmlErrorString(r), n);
	r = nvmlDeviceGetComputeRunningProcesses_v3(h, NULL, NULL);
	CHECK(r == GV_NVML_ERROR_INVALID_ARGUMENT, "NULL count: %s", nvmlErrorString(r));
	CHECK(gv_acct_uncharge(acct, 48 * MIB) == 0, "uncharge");
	CHECK(nvmlDeviceGetMemoryInfo(h, &m) == GV_NVML_SUCCESS && m.used == 0 &&
		      m.free == 256 * MIB,
	      "after uncharge: used %llu", m.used);
	CHECK(nvmlShutdown() == GV_NVML_SUCCESS, "shutdown");
	gv_acct_close(acct);
}

static void test_closed(void)
{
	unsigned int n = 7;
	gv_nvml_device h = NULL;

	CHECK(nvmlInit_v2() == GV_NVML_SUCCESS, "init");
	CHECK(nvmlDeviceGetCount_v2(&n) == GV_NVML_SUCCESS && n == 0, "count %u", n);
	CHECK(nvmlDeviceGetHandleByIndex_v2(0, &h) == GV_NVML_ERROR_INVALID_ARGUMENT,
	      "index 0 of no GPU");
	CHECK(nvmlShutdown() == GV_NVML_SUCCESS, "shutdown");
}

int main(int argc, char **argv)
{
	void *sim;

	if (argc == 4 && !strcmp(argv[1], "files")) {
		struct gv_err err = { 0 };

		if (gv_acct_create(argv[2], 1024 * MIB, &err) < 0 ||
		    gv_acct_limit_create(argv[3], 256 * MIB, &err) < 0) {
			fprintf(stderr, "%s\n", err.msg);
			return 1;
		}
		return 0;
	}
	if (argc != 3) {
		fprintf(stderr, "usage: test_nvml forward|instance|closed LIBNVMLSIM\n"
				"       test_nvml files ACCT LIMIT\n");
		return 2;
	}
	/* the same object the interposer loaded (dlopen returns its handle) */
	sim = dlopen(argv[2], RTLD_NOW | RTLD_LOCAL);
	if (!sim) {
		fprintf(stderr, "%s\n", dlerror());
		return 2;
	}
	if (!strcmp(argv[1], "forward"))
		test_forward(sim);
	else if (!strcmp(argv[1], "instance"))
		test_instance();
	else
		test_closed();
	if (failures)
		fprintf(stderr, "test_nvml %s: %d failure(s)\n", argv[1], failures);
	else
		printf("test_nvml %s: ok\n", argv[1]);
	return failures ? 1 : 0;
}
