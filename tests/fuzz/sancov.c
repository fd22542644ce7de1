/* Coverage of the C scanner for libFuzzer (atheris), from gcc's instrumentation.

   libFuzzer reads clang's inline 8-bit counters; gcc has none, only `-fsanitize-coverage=
   trace-pc`, a call at the start of every basic block. This file turns those calls into
   8-bit counters, each counting the edge from the block before (AFL's hash of the two
   addresses), and hands them to libFuzzer. It is compiled without instrumentation (its hook
   would call itself) and linked into the fuzzing build of the extension only (`make fuzz`).

   libFuzzer's functions are looked up in its own module (atheris' core), never by name in
   the process: the sanitizers preloaded by `make fuzz` define the same names as no-ops, and
   the first definition loaded would win. */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <stddef.h>
#include <stdint.h>

#define COUNTERS (1 << 16)

/* libFuzzer's interface (compiler-rt's sanitizer_coverage_interface.inc). */
typedef void (*CountersInit)(uint8_t *start, uint8_t *stop);
typedef void (*PcsInit)(const uintptr_t *start, const uintptr_t *stop);

static uint8_t counters[COUNTERS];
/* libFuzzer pairs each counter with a (pc, flags) entry; flags 0: not a function entry.
   The "pc" only has to be unique: the counter's own address. */
static uintptr_t pcs[2 * COUNTERS];
static uintptr_t previous;

/* Hidden: this module's instrumented code calls this one, never a sanitizer's no-op. */
__attribute__((visibility("hidden"))) void __sanitizer_cov_trace_pc(void) {
    uintptr_t here = (uintptr_t)__builtin_return_address(0);
    here = (here ^ (here >> 15)) * 0x9E3779B1u;
    uint8_t *counter = &counters[(here ^ previous) & (COUNTERS - 1)];
    *counter = (uint8_t)(*counter + 1);
    previous = here >> 1;
}

/* Hands the counters to the libFuzzer in the already loaded module at `path`; 1 when done,
   0 when it has no such functions (the harness then stops: it never fuzzes blind). */
int alpha_fuzz_register(const char *path) {
    void *libfuzzer = dlopen(path, RTLD_NOW | RTLD_NOLOAD);
    if (libfuzzer == NULL) return 0;
    CountersInit counters_init;
    PcsInit pcs_init;
    *(void **)&counters_init = dlsym(libfuzzer, "__sanitizer_cov_8bit_counters_init");
    *(void **)&pcs_init = dlsym(libfuzzer, "__sanitizer_cov_pcs_init");
    int found = counters_init != NULL && pcs_init != NULL;
    if (found) {
        for (size_t i = 0; i < COUNTERS; i++) pcs[2 * i] = (uintptr_t)&counters[i];
        counters_init(counters, counters + COUNTERS);
        pcs_init(pcs, pcs + 2 * COUNTERS);
    }
    dlclose(libfuzzer); /* RTLD_NOLOAD took a reference: the module stays loaded */
    return found;
}
