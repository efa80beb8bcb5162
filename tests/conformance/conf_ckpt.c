/* The checkpoint API (cuda.h, CUDA 12.8+), where the driver has it: looked
 * up with cuGetProcAddress, so the suite also runs on drivers without it. */
#include <unistd.h>

#include "conf.h"

typedef CUresult (*get_state_fn)(int pid, CUprocessState *state);
typedef CUresult (*get_tid_fn)(int pid, int *tid);

static void *proc(const char *name)
{
	void *fn = NULL;
	CUdriverProcAddressQueryResult st;

	if (cuGetProcAddress(name, &fn, 12080, CU_GET_PROC_ADDRESS_DEFAULT, &st) != CUDA_SUCCESS ||
	    st != CU_GET_PROC_ADDRESS_SUCCESS)
		return NULL;
	return fn;
}

CASE_F(ckpt_state_running, CONF_ISOLATED,
       "cuCheckpointProcessGetState: a process using CUDA normally is CU_PROCESS_STATE_RUNNING")
{
	get_state_fn f = (get_state_fn)proc("cuCheckpointProcessGetState");
	CUprocessState s = CU_PROCESS_STATE_FAILED;

	if (!f) {
		conf_note("cuCheckpointProcessGetState not in this driver");
		return;
	}
	OK(f((int)getpid(), &s));
	EXPECT(s == CU_PROCESS_STATE_RUNNING);
	EXPECT_RC(f((int)getpid(), NULL), CUDA_ERROR_INVALID_VALUE);
}

CASE_F(ckpt_restore_tid, CONF_ISOLATED,
       "cuCheckpointProcessGetRestoreThreadId: the id of the process's restore thread (a thread of it: > 0)")
{
	get_tid_fn f = (get_tid_fn)proc("cuCheckpointProcessGetRestoreThreadId");
	int tid = 0;

	if (!f) {
		conf_note("cuCheckpointProcessGetRestoreThreadId not in this driver");
		return;
	}
	OK(f((int)getpid(), &tid));
	EXPECT(tid > 0);
}

CASE(procaddr_found,
     "cuGetProcAddress: a driver entry point by name and version (CU_GET_PROC_ADDRESS_SUCCESS)")
{
	void *fn = NULL;
	CUdriverProcAddressQueryResult st = CU_GET_PROC_ADDRESS_SYMBOL_NOT_FOUND;

	OK(cuGetProcAddress("cuMemAlloc", &fn, 12000, CU_GET_PROC_ADDRESS_DEFAULT, &st));
	EXPECT(fn != NULL && st == CU_GET_PROC_ADDRESS_SUCCESS);
}

CASE(procaddr_not_found,
     "cuGetProcAddress: an unknown name gives CU_GET_PROC_ADDRESS_SYMBOL_NOT_FOUND in symbolStatus")
{
	void *fn = (void *)1;
	CUdriverProcAddressQueryResult st = CU_GET_PROC_ADDRESS_SUCCESS;
	CUresult rc =
		cuGetProcAddress("cuNoSuchFunction", &fn, 12000, CU_GET_PROC_ADDRESS_DEFAULT, &st);

	EXPECT(rc == CUDA_SUCCESS || rc == CUDA_ERROR_NOT_FOUND);
	EXPECT(st == CU_GET_PROC_ADDRESS_SYMBOL_NOT_FOUND);
}
