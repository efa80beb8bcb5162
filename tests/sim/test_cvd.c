/* CUDA_VISIBLE_DEVICES: indices, GPU- and MIG- UUIDs (and unique
 * prefixes), enumeration stopping at the first bad entry. Runs on
 * nodes/small.json; each case is this program again ("list" mode) with the
 * variable set, printing one line per device. */
#include <string.h>
#include <unistd.h>

#include "simtest.h"

static int list(void)
{
	CUresult r = cuInit(0);
	int n;

	if (r != CUDA_SUCCESS) {
		printf("init %d\n", (int)r);
		return 0;
	}
	OK(cuDeviceGetCount(&n));
	for (int i = 0; i < n; i++) {
		char name[128];
		CUuuid u;
		size_t mem;
		int sms;
		const unsigned char *b = (const unsigned char *)u.bytes;

		OK(cuDeviceGetName(name, sizeof(name), i));
		OK(cuDeviceGetUuid(&u, i));
		OK(cuDeviceTotalMem(&mem, i));
		OK(cuDeviceGetAttribute(&sms, CU_DEVICE_ATTRIBUTE_MULTIPROCESSOR_COUNT, i));
		printf("%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x "
		       "%zu %d %s\n",
		       b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7], b[8], b[9], b[10], b[11],
		       b[12], b[13], b[14], b[15], mem / (1024 * 1024), sms, name);
	}
	return 0;
}

/* Runs the list mode with CUDA_VISIBLE_DEVICES=cvd (unset when NULL). */
static int run(const char *self, const char *cvd, char out[][256], int max)
{
	char cmd[1024];
	FILE *p;
	int n = 0;

	if (cvd)
		snprintf(cmd, sizeof(cmd), "CUDA_VISIBLE_DEVICES='%s' '%s' list", cvd, self);
	else
		snprintf(cmd, sizeof(cmd), "env -u CUDA_VISIBLE_DEVICES '%s' list", self);
	p = popen(cmd, "r");
	EXPECT(p != NULL);
	while (n < max && fgets(out[n], 256, p))
		n++;
	EXPECT(pclose(p) == 0);
	return n;
}

#define U_A100 "11111111-1111-4111-8111-111111111111"
#define U_MIG1 "22222222-2222-4222-8222-222222222222"
#define U_MIG3 "33333333-3333-4333-8333-333333333333"
#define U_H100 "44444444-4444-4444-8444-444444444444"
#define U_L4 "55555555-5555-4555-8555-555555555555"

int main(int argc, char **argv)
{
	char out[8][256];
	const char *self = "/proc/self/exe";
	char exe[4096];
	ssize_t len;
	int n;

	if (argc == 2 && !strcmp(argv[1], "list"))
		return list();
	len = readlink(self, exe, sizeof(exe) - 1);
	EXPECT(len > 0);
	exe[len] = '\0';

	/* default: a MIG-mode GPU shows its first instance */
	n = run(exe, NULL, out, 8);
	EXPECT(n == 3);
	EXPECT(!strncmp(out[0], U_MIG1 " 4864 ", strlen(U_MIG1) + 6));
	EXPECT(strstr(out[0], "MIG 1g.5gb"));
	EXPECT(!strncmp(out[1], U_H100 " ", strlen(U_H100) + 1) && strstr(out[1], "H100"));
	EXPECT(!strncmp(out[2], U_L4 " ", strlen(U_L4) + 1));

	n = run(exe, "GPU-" U_H100, out, 8);
	EXPECT(n == 1 && !strncmp(out[0], U_H100 " ", strlen(U_H100) + 1));

	/* a MIG UUID: that instance's memory and SM share */
	n = run(exe, "MIG-" U_MIG3, out, 8);
	EXPECT(n == 1 && !strncmp(out[0], U_MIG3 " 19968 ", strlen(U_MIG3) + 7));
	EXPECT(strstr(out[0], "MIG 3g.20gb"));
	{
		int sms = atoi(out[0] + strlen(U_MIG3) + 7);

		EXPECT(sms > 0 && sms < 108);
	}

	n = run(exe, "2,0", out, 8);
	EXPECT(n == 2 && !strncmp(out[0], U_L4, strlen(U_L4)) &&
	       !strncmp(out[1], U_MIG1, strlen(U_MIG1)));
	n = run(exe, "GPU-4444", out, 8); /* a unique prefix */
	EXPECT(n == 1 && !strncmp(out[0], U_H100, strlen(U_H100)));
	n = run(exe, "1,bogus,0", out, 8); /* stops at the bad entry */
	EXPECT(n == 1 && !strncmp(out[0], U_H100, strlen(U_H100)));
	n = run(exe, "1,1", out, 8); /* a repeat ends the list as well */
	EXPECT(n == 1);
	n = run(exe, "GPU-" U_A100, out, 8); /* the MIG-mode GPU itself: its first instance */
	EXPECT(n == 1);
	n = run(exe, "", out, 8);
	EXPECT(n == 1 && atoi(out[0] + 5) == CUDA_ERROR_NO_DEVICE);
	n = run(exe, "7", out, 8);
	EXPECT(n == 1 && atoi(out[0] + 5) == CUDA_ERROR_NO_DEVICE);
	printf("sim.cvd: ok\n");
	return 0;
}
