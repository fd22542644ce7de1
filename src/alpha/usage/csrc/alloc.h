/* Every heap block the scanner and its tally own comes from here, so a test build can make
   any one of them fail and the tests can watch each failure path run.

   Built with ALPHA_NATIVE_FAULTS (`make asan`, and a build of its own in
   tests/usage/test_native.py), the module gains `_fail_allocations(skip, count)`: from then
   on `skip` allocations succeed and the next `count` fail (all of them when count < 0), and
   `_allocations()`, how many were asked for since, and how many of them failed. A release
   build has neither, and these are plain malloc, calloc and realloc. */
#ifndef ALPHA_NATIVE_ALLOC_H
#define ALPHA_NATIVE_ALLOC_H

#include <stddef.h>
#include <stdlib.h>

#ifdef ALPHA_NATIVE_FAULTS
/* Only ever touched under the GIL. */
static long long fault_skip = -1; /* allocations to let through before failing; -1: off */
static long long fault_count;     /* failures still to make; negative: no end */
static long long fault_asked, fault_made;

static int fault_due(void) {
    fault_asked++;
    if (fault_skip < 0) return 0;
    if (fault_skip > 0) {
        fault_skip--;
        return 0;
    }
    if (fault_count == 0) return 0;
    if (fault_count > 0) fault_count--;
    fault_made++;
    return 1;
}
#else
static inline int fault_due(void) { return 0; }
#endif

static inline void *native_malloc(size_t n) { return fault_due() ? NULL : malloc(n); }

static inline void *native_calloc(size_t count, size_t size) {
    return fault_due() ? NULL : calloc(count, size);
}

static inline void *native_realloc(void *p, size_t n) {
    return fault_due() ? NULL : realloc(p, n);
}

#endif
