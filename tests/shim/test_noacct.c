/* Without GPUVISOR_ACCT the shim partitions nothing: cuMemGetInfo and
 * cuDeviceTotalMem are the driver's, and allocations are not limited. */
#include "shim_test.h"

int main(void)
{
	CUresult (*real_info)(size_t *, size_t *) = gvt_real("cuMemGetInfo_v2");
	CUresult (*real_total)(size_t *, CUdevice) = gvt_real("cuDeviceTotalMem_v2");
	size_t f, t, rf, rt, tm, rtm;
	CUdeviceptr p;

	CHECK(!getenv("GPUVISOR_ACCT"));
	gvt_ctx();
	CHECK_OK(cuMemGetInfo(&f, &t));
	CHECK_OK(real_info(&rf, &rt));
	CHECK_EQ_U64(f, rf);
	CHECK_EQ_U64(t, rt);
	CHECK_OK(cuDeviceTotalMem(&tm, 0));
	CHECK_OK(real_total(&rtm, 0));
	CHECK_EQ_U64(tm, rtm);
	/* more than a typical test partition, well within the simulated GPU */
	CHECK_OK(cuMemAlloc(&p, 1ull << 30));
	CHECK_OK(real_info(&rf, &rt));
	CHECK_OK(cuMemGetInfo(&f, &t));
	CHECK_EQ_U64(f, rf);
	CHECK_OK(cuMemFree(p));
	printf("ok\n");
	return 0;
}
