/*
 * bcryptprimitives.dll for Wine 8.0, test plumbing only: it never ships.
 *
 * Go >= 1.22 on Windows loads bcryptprimitives.dll!ProcessPrng at start-up;
 * Wine 8.0 has no such DLL, so every Go program dies before main. This one
 * exports ProcessPrng and fills the buffer from advapi32!SystemFunction036
 * (RtlGenRandom), which Wine has. Built by .ci/wine/run with Debian's
 * mingw-w64 and copied into the test prefix's system32.
 */
#include <windows.h>

typedef BOOLEAN(WINAPI *rtlgenrandom_t)(PVOID, ULONG);

__declspec(dllexport) BOOL WINAPI ProcessPrng(PBYTE data, SIZE_T len)
{
	static rtlgenrandom_t gen;
	if (!gen) {
		HMODULE advapi = LoadLibraryA("advapi32.dll");
		if (!advapi || !(gen = (rtlgenrandom_t)GetProcAddress(advapi, "SystemFunction036")))
			return FALSE;
	}
	while (len > 0) {
		ULONG n = len > 0x40000000 ? 0x40000000 : (ULONG)len;
		if (!gen(data, n))
			return FALSE;
		data += n;
		len -= n;
	}
	return TRUE;
}

BOOL WINAPI DllMain(HINSTANCE inst, DWORD reason, LPVOID reserved)
{
	return TRUE;
}
