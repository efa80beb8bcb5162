/* Init, devices, versions, error strings. */
#include <stdio.h>
#include <string.h>

#include "conf.h"

CASE_F(init_before_cuinit, CONF_NOINIT,
       "cuInit: \"If cuInit() has not been called, any function from the driver API will return CUDA_ERROR_NOT_INITIALIZED\"")
{
	int n = 0;
	CUdevice d;
	CUdeviceptr p;

	EXPECT_RC(cuDeviceGetCount(&n), CUDA_ERROR_NOT_INITIALIZED);
	EXPECT_RC(cuDeviceGet(&d, 0), CUDA_ERROR_NOT_INITIALIZED);
	EXPECT_RC(cuMemAlloc(&p, 16), CUDA_ERROR_NOT_INITIALIZED);
}

CASE_F(init_flags_nonzero, CONF_NOINIT,
       "cuInit: \"Currently, the Flags parameter must be 0\" (CUDA_ERROR_INVALID_VALUE otherwise)")
{
	EXPECT_RC(cuInit(1), CUDA_ERROR_INVALID_VALUE);
}

CASE_F(init_errors_before_cuinit, CONF_NOINIT,
       "cuGetErrorName/cuGetErrorString work before cuInit (they need no driver state)")
{
	const char *s = NULL;

	EXPECT_RC(cuGetErrorName(CUDA_ERROR_INVALID_VALUE, &s), CUDA_SUCCESS);
	EXPECT(s && !strcmp(s, "CUDA_ERROR_INVALID_VALUE"));
}

CASE(init_twice, "cuInit: a second cuInit(0) succeeds")
{
	EXPECT_RC(cuInit(0), CUDA_SUCCESS);
}

CASE(version_driver,
     "cuDriverGetVersion: the CUDA version the driver supports (1000 * major + 10 * minor), CUDA 12 or later here")
{
	int v = 0;

	OK(cuDriverGetVersion(&v));
	EXPECT(v >= 12000);
	EXPECT_RC(cuDriverGetVersion(NULL), CUDA_ERROR_INVALID_VALUE);
}

CASE(device_count, "cuDeviceGetCount: at least one device; NULL count is CUDA_ERROR_INVALID_VALUE")
{
	int n = 0;

	OK(cuDeviceGetCount(&n));
	EXPECT(n >= 1);
	EXPECT_RC(cuDeviceGetCount(NULL), CUDA_ERROR_INVALID_VALUE);
}

CASE(device_get_range,
     "cuDeviceGet: ordinals in [0, cuDeviceGetCount()); others are CUDA_ERROR_INVALID_DEVICE")
{
	CUdevice d;

	OK(cuDeviceGet(&d, 0));
	EXPECT(d == 0);
	EXPECT_RC(cuDeviceGet(&d, conf.ndev), CUDA_ERROR_INVALID_DEVICE);
	EXPECT_RC(cuDeviceGet(&d, -1), CUDA_ERROR_INVALID_DEVICE);
	EXPECT_RC(cuDeviceGet(NULL, 0), CUDA_ERROR_INVALID_VALUE);
}

CASE(device_name,
     "cuDeviceGetName: a NUL-terminated name within len; NULL name is CUDA_ERROR_INVALID_VALUE")
{
	char name[256];

	memset(name, 'x', sizeof(name));
	OK(cuDeviceGetName(name, sizeof(name), conf.dev));
	EXPECT(memchr(name, 0, sizeof(name)) && name[0]);
	EXPECT_RC(cuDeviceGetName(NULL, 16, conf.dev), CUDA_ERROR_INVALID_VALUE);
	EXPECT_RC(cuDeviceGetName(name, sizeof(name), conf.ndev), CUDA_ERROR_INVALID_DEVICE);
}

CASE(device_total_mem, "cuDeviceTotalMem: the device's memory in bytes")
{
	size_t b = 0;

	OK(cuDeviceTotalMem(&b, conf.dev));
	EXPECT(b >= (1ull << 30));
	EXPECT_RC(cuDeviceTotalMem(&b, conf.ndev), CUDA_ERROR_INVALID_DEVICE);
}

CASE(device_uuid, "cuDeviceGetUuid: 16 bytes identifying the device, stable between calls")
{
	CUuuid a, b;
	static const CUuuid zero;

	OK(cuDeviceGetUuid(&a, conf.dev));
	OK(cuDeviceGetUuid(&b, conf.dev));
	EXPECT(!memcmp(&a, &b, sizeof(a)));
	EXPECT(memcmp(&a, &zero, sizeof(a)));
}

CASE(device_pci_roundtrip,
     "cuDeviceGetPCIBusId / cuDeviceGetByPCIBusId: the bus id names the same device")
{
	char id[64];
	CUdevice d = -1;

	OK(cuDeviceGetPCIBusId(id, sizeof(id), conf.dev));
	EXPECT(strlen(id) >= 12);
	OK(cuDeviceGetByPCIBusId(&d, id));
	EXPECT(d == conf.dev);
}

CASE(device_attr_invalid,
     "cuDeviceGetAttribute: an attribute outside CUdevice_attribute is CUDA_ERROR_INVALID_VALUE; a bad device CUDA_ERROR_INVALID_DEVICE")
{
	int v;

	EXPECT_RC(cuDeviceGetAttribute(&v, CU_DEVICE_ATTRIBUTE_MAX, conf.dev),
		  CUDA_ERROR_INVALID_VALUE);
	EXPECT_RC(cuDeviceGetAttribute(&v, CU_DEVICE_ATTRIBUTE_WARP_SIZE, conf.ndev),
		  CUDA_ERROR_INVALID_DEVICE);
	EXPECT_RC(cuDeviceGetAttribute(NULL, CU_DEVICE_ATTRIBUTE_WARP_SIZE, conf.dev),
		  CUDA_ERROR_INVALID_VALUE);
}

/* Device attributes with their documented or architectural values: one
 * case each. min/max bound the value (CUDA-capable devices of compute
 * capability 7.0 or later, as gpuvisor supports). */
struct attr_case {
	CUdevice_attribute a;
	int min, max;
};

static void attr_check(const void *arg)
{
	const struct attr_case *c = arg;
	int v = -12345;

	REQUIRE_RC(cuDeviceGetAttribute(&v, c->a, conf.dev), CUDA_SUCCESS);
	if (!EXPECT(v >= c->min && v <= c->max))
		conf_note("value %d, expected [%d, %d]", v, c->min, c->max);
}

#define ATTR(name, lo, hi, docstr)                                                            \
	static const struct attr_case attr_##name = { CU_DEVICE_ATTRIBUTE_##name, lo, hi };   \
	static struct conf_case attr_reg_##name = { "device_attr_" #name, docstr, attr_check, \
						    &attr_##name,	  0,	  NULL };     \
	__attribute__((constructor)) static void attr_ctor_##name(void)                       \
	{                                                                                     \
		conf_register(&attr_reg_##name);                                              \
	}

ATTR(WARP_SIZE, 32, 32, "CU_DEVICE_ATTRIBUTE_WARP_SIZE: warp size in threads (32)")
ATTR(MAX_THREADS_PER_BLOCK, 1024, 1024,
     "CU_DEVICE_ATTRIBUTE_MAX_THREADS_PER_BLOCK: 1024 on compute capability 2.0 and later")
ATTR(MAX_BLOCK_DIM_X, 1024, 1024, "CU_DEVICE_ATTRIBUTE_MAX_BLOCK_DIM_X: 1024")
ATTR(MAX_BLOCK_DIM_Y, 1024, 1024, "CU_DEVICE_ATTRIBUTE_MAX_BLOCK_DIM_Y: 1024")
ATTR(MAX_BLOCK_DIM_Z, 64, 64, "CU_DEVICE_ATTRIBUTE_MAX_BLOCK_DIM_Z: 64")
ATTR(MAX_GRID_DIM_X, 2147483647, 2147483647, "CU_DEVICE_ATTRIBUTE_MAX_GRID_DIM_X: 2^31-1")
ATTR(MAX_GRID_DIM_Y, 65535, 65535, "CU_DEVICE_ATTRIBUTE_MAX_GRID_DIM_Y: 65535")
ATTR(MAX_GRID_DIM_Z, 65535, 65535, "CU_DEVICE_ATTRIBUTE_MAX_GRID_DIM_Z: 65535")
ATTR(MULTIPROCESSOR_COUNT, 1, 1024, "CU_DEVICE_ATTRIBUTE_MULTIPROCESSOR_COUNT: number of SMs")
ATTR(COMPUTE_CAPABILITY_MAJOR, 7, 20, "CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MAJOR")
ATTR(COMPUTE_CAPABILITY_MINOR, 0, 9, "CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MINOR")
ATTR(UNIFIED_ADDRESSING, 1, 1, "CU_DEVICE_ATTRIBUTE_UNIFIED_ADDRESSING: 1 on 64-bit Linux")
ATTR(VIRTUAL_MEMORY_MANAGEMENT_SUPPORTED, 1, 1,
     "CU_DEVICE_ATTRIBUTE_VIRTUAL_MEMORY_MANAGEMENT_SUPPORTED: the VMM APIs are supported")
ATTR(MEMORY_POOLS_SUPPORTED, 1, 1,
     "CU_DEVICE_ATTRIBUTE_MEMORY_POOLS_SUPPORTED: cuMemAllocAsync and pools are supported")
ATTR(MANAGED_MEMORY, 1, 1, "CU_DEVICE_ATTRIBUTE_MANAGED_MEMORY: cuMemAllocManaged is supported")
ATTR(CAN_MAP_HOST_MEMORY, 1, 1,
     "CU_DEVICE_ATTRIBUTE_CAN_MAP_HOST_MEMORY: host memory can be mapped")
ATTR(CONCURRENT_KERNELS, 0, 1, "CU_DEVICE_ATTRIBUTE_CONCURRENT_KERNELS: a boolean")
ATTR(MAX_SHARED_MEMORY_PER_BLOCK, 49152, 49152,
     "CU_DEVICE_ATTRIBUTE_MAX_SHARED_MEMORY_PER_BLOCK: 48 KiB without opt-in")
ATTR(TOTAL_CONSTANT_MEMORY, 65536, 65536, "CU_DEVICE_ATTRIBUTE_TOTAL_CONSTANT_MEMORY: 64 KiB")
ATTR(PCI_BUS_ID, 0, 255, "CU_DEVICE_ATTRIBUTE_PCI_BUS_ID: the PCI bus (0-255)")
ATTR(PCI_DEVICE_ID, 0, 31, "CU_DEVICE_ATTRIBUTE_PCI_DEVICE_ID: the PCI device (0-31)")
ATTR(CLOCK_RATE, 1, 10000000, "CU_DEVICE_ATTRIBUTE_CLOCK_RATE: peak clock in kHz")
ATTR(GLOBAL_MEMORY_BUS_WIDTH, 1, 100000, "CU_DEVICE_ATTRIBUTE_GLOBAL_MEMORY_BUS_WIDTH: bits")
ATTR(MAX_THREADS_PER_MULTIPROCESSOR, 1024, 4096,
     "CU_DEVICE_ATTRIBUTE_MAX_THREADS_PER_MULTIPROCESSOR")
ATTR(ASYNC_ENGINE_COUNT, 1, 16, "CU_DEVICE_ATTRIBUTE_ASYNC_ENGINE_COUNT: copy engines")
ATTR(STREAM_PRIORITIES_SUPPORTED, 0, 1,
     "CU_DEVICE_ATTRIBUTE_STREAM_PRIORITIES_SUPPORTED: a boolean")

CASE(device_default_pool,
     "cuDeviceGetDefaultMemPool: every device that supports pools has a default pool")
{
	CUmemoryPool p = NULL, q = NULL;

	OK(cuDeviceGetDefaultMemPool(&p, conf.dev));
	EXPECT(p != NULL);
	OK(cuDeviceGetMemPool(&q, conf.dev));
	EXPECT(q == p); /* "the current pool ... is the default memory pool" until set */
}

/* ---- error strings: one case per CUresult of cuda.h ---- */

struct err_case {
	CUresult code;
	const char *name;
};

static void err_check(const void *arg)
{
	const struct err_case *c = arg;
	const char *n = NULL, *s = NULL;

	REQUIRE_RC(cuGetErrorName(c->code, &n), CUDA_SUCCESS);
	if (!EXPECT(n && !strcmp(n, c->name)))
		conf_note("name \"%s\"", n ? n : "(null)");
	REQUIRE_RC(cuGetErrorString(c->code, &s), CUDA_SUCCESS);
	EXPECT(s && s[0]);
}

#define CONF_ERR(code)                                                                       \
	static const struct err_case err_##code = { code, #code };                           \
	static struct conf_case err_reg_##code = {                                           \
		"errors_" #code,                                                             \
		"cuGetErrorName: \"the string representation of an error code enum name\"; " \
		"cuGetErrorString: its description",                                         \
		err_check,                                                                   \
		&err_##code,                                                                 \
		0,                                                                           \
		NULL                                                                         \
	};                                                                                   \
	__attribute__((constructor)) static void err_ctor_##code(void)                       \
	{                                                                                    \
		conf_register(&err_reg_##code);                                              \
	}
#include "conf_errors.h"
#undef CONF_ERR

CASE(errors_unknown_code,
     "cuGetErrorName/cuGetErrorString: \"If the error code is not recognized, CUDA_ERROR_INVALID_VALUE will be returned and *pStr will be set to the NULL value\"")
{
	const char *s = "x";

	EXPECT_RC(cuGetErrorName((CUresult)123456, &s), CUDA_ERROR_INVALID_VALUE);
	EXPECT(s == NULL);
	s = "x";
	EXPECT_RC(cuGetErrorString((CUresult)123456, &s), CUDA_ERROR_INVALID_VALUE);
	EXPECT(s == NULL);
}
