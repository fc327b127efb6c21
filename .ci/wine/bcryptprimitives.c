/*
 * bcryptprimitives.c - minimal stand-in for Windows' bcryptprimitives.dll,
 * used only by the CI "Windows lane" (Go test binaries run under Wine).
 *
 * Why it exists: since Go 1.22 the Windows runtime loads
 * %SystemRoot%\system32\bcryptprimitives.dll at start-up and calls its
 * ProcessPrng export for all randomness (runtime seed, crypto/rand).
 * Wine 8.0 (Debian 12's wine64) ships no bcryptprimitives.dll, so every Go
 * binary dies at once with "fatal error: bcryptprimitives.dll not found".
 * Newer Wine releases provide the DLL; this shim is only for Wine 8.
 *
 * ProcessPrng(PBYTE pbData, SIZE_T cbData) fills the buffer with
 * cryptographically random bytes and always returns TRUE.  We implement it
 * with RtlGenRandom (advapi32!SystemFunction036), which Wine does provide.
 * RtlGenRandom takes a ULONG length, so large requests are chunked.
 *
 * Build (done by .ci/wine/setup; no C runtime, DllMain is the entry point):
 *   x86_64-w64-mingw32-gcc -O2 -shared -nostdlib -Wl,--entry,DllMain \
 *       -o bcryptprimitives.dll bcryptprimitives.c bcryptprimitives.def \
 *       -ladvapi32 -lkernel32
 * The .def file keeps the export name undecorated ("ProcessPrng").
 */
#include <windows.h>

/* RtlGenRandom is exported by advapi32 under the name SystemFunction036. */
BOOLEAN WINAPI SystemFunction036(PVOID RandomBuffer, ULONG RandomBufferLength);

BOOL WINAPI ProcessPrng(PBYTE pbData, SIZE_T cbData)
{
    while (cbData > 0) {
        ULONG n = cbData > 0x40000000u ? 0x40000000u : (ULONG)cbData;
        if (!SystemFunction036(pbData, n)) {
            /* Real ProcessPrng never fails; if the RNG is broken there is
             * nothing safe to return, so stop the process like Windows would. */
            RaiseFailFastException(NULL, NULL, 0);
        }
        pbData += n;
        cbData -= n;
    }
    return TRUE;
}

BOOL WINAPI DllMain(HINSTANCE inst, DWORD reason, LPVOID reserved)
{
    (void)inst; (void)reason; (void)reserved;
    return TRUE;
}
