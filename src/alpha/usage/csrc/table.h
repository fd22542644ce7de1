/* Interned byte strings and fixed-key hash tables for the native tally.

   An `Interner` gives each distinct byte string a dense id (1, 2, ...; 0 means "none") and
   keeps the bytes in one growing arena, addressed by offset so growth never invalidates ids.
   Open addressing with linear probing, kept at most half full. Every table makes room before
   it adds, so one that runs out of memory is left exactly as it was, and usable. */
#ifndef ALPHA_NATIVE_TABLE_H
#define ALPHA_NATIVE_TABLE_H

#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "alloc.h"

static inline uint64_t hash_mix(uint64_t h) {
    h ^= h >> 33;
    h *= 0xFF51AFD7ED558CCDULL;
    h ^= h >> 33;
    h *= 0xC4CEB9FE1A85EC53ULL;
    h ^= h >> 33;
    return h;
}

/* Bytes read as a number and numbers written as bytes are little-endian whatever the
   machine, so a key, and the hash of a given seed, is the same on every machine (gcc and
   clang make each of these one load or store on a little-endian machine). */
static inline uint64_t load_le64(const char *p) {
    const unsigned char *u = (const unsigned char *)p;
    return (uint64_t)u[0] | (uint64_t)u[1] << 8 | (uint64_t)u[2] << 16 | (uint64_t)u[3] << 24 |
           (uint64_t)u[4] << 32 | (uint64_t)u[5] << 40 | (uint64_t)u[6] << 48 |
           (uint64_t)u[7] << 56;
}

static inline void store_le32(char *p, uint32_t v) {
    p[0] = (char)v;
    p[1] = (char)(v >> 8);
    p[2] = (char)(v >> 16);
    p[3] = (char)(v >> 24);
}

static inline uint64_t hash_bytes(const char *p, size_t n, uint64_t seed) {
    uint64_t h = seed ^ (n * 0x9E3779B97F4A7C15ULL);
    while (n >= 8) {
        h = (h ^ load_le64(p)) * 0x9E3779B97F4A7C15ULL;
        h ^= h >> 29;
        p += 8;
        n -= 8;
    }
    if (n) {
        char tail[8] = {0};
        memcpy(tail, p, n);
        h = (h ^ load_le64(tail) ^ ((uint64_t)n << 56)) * 0x9E3779B97F4A7C15ULL;
    }
    return hash_mix(h);
}

/* Fixed-size keys of 32-bit words -> dense entry index (1-based), insertion ordered. */
typedef struct {
    uint32_t *slots; /* entry index, 0 when empty */
    uint64_t *hashes;
    size_t cap, count;
} KeyIndex;

static void keyindex_free(KeyIndex *k) {
    free(k->slots);
    free(k->hashes);
    memset(k, 0, sizeof *k);
}

/* 0, or -1 with nothing held (out of memory). */
static int keyindex_init(KeyIndex *k) {
    k->cap = 256;
    k->count = 0;
    k->slots = native_calloc(k->cap, sizeof *k->slots);
    k->hashes = native_calloc(k->cap, sizeof *k->hashes);
    if (k->slots && k->hashes) return 0;
    keyindex_free(k);
    return -1;
}

static int keyindex_grow(KeyIndex *k) {
    size_t cap = k->cap * 2;
    uint32_t *slots = native_calloc(cap, sizeof *slots);
    uint64_t *hashes = native_calloc(cap, sizeof *hashes);
    if (!slots || !hashes) {
        free(slots);
        free(hashes);
        return -1;
    }
    for (size_t i = 0; i < k->cap; i++) {
        if (!k->slots[i]) continue;
        size_t j = k->hashes[i] & (cap - 1);
        while (slots[j]) j = (j + 1) & (cap - 1);
        slots[j] = k->slots[i];
        hashes[j] = k->hashes[i];
    }
    free(k->slots);
    free(k->hashes);
    k->slots = slots;
    k->hashes = hashes;
    k->cap = cap;
    return 0;
}

/* Room for one more key of hash `h`, whose free slot a probe found at *slot: when it would
   leave the table over half full, the table grows first and *slot moves to the key's free
   slot in it; -1, with the table unchanged, when out of memory. */
static int keyindex_room(KeyIndex *k, uint64_t h, size_t *slot) {
    if ((k->count + 1) * 2 <= k->cap) return 0;
    if (keyindex_grow(k) < 0) return -1;
    size_t i = h & (k->cap - 1);
    while (k->slots[i]) i = (i + 1) & (k->cap - 1);
    *slot = i;
    return 0;
}

typedef struct {
    char *arena;
    size_t arena_len, arena_cap;
    size_t *offsets; /* by id: start in arena; offsets[id + 1] - offsets[id] is its length */
    uint32_t count;  /* ids in use: 1..count */
    size_t offsets_cap;
    KeyIndex index; /* slots hold ids */
    uint64_t seed;  /* of its hash: see interner_init */
} Interner;

/* Each table hashes with its own seed, from its address (random under ASLR) and the time:
   keys come from the logs, and a fixed seed would let crafted records collide on purpose
   and make every lookup walk a long chain. Ids never depend on it, so neither do results. */
static uint64_t interner_seed(const Interner *t) {
    return hash_mix((uint64_t)(uintptr_t)t ^ ((uint64_t)time(NULL) << 20) ^ 0x5EEDULL);
}

static void interner_free(Interner *t) {
    free(t->arena);
    free(t->offsets);
    keyindex_free(&t->index);
    memset(t, 0, sizeof *t);
}

/* 0, or -1 with nothing held (out of memory). */
static int interner_init(Interner *t) {
    memset(t, 0, sizeof *t);
    t->seed = interner_seed(t);
    t->offsets_cap = 64;
    t->offsets = native_malloc(t->offsets_cap * sizeof *t->offsets);
    t->arena_cap = 4096;
    t->arena = native_malloc(t->arena_cap);
    if (keyindex_init(&t->index) < 0 || !t->offsets || !t->arena) {
        interner_free(t);
        return -1;
    }
    t->offsets[0] = 0;
    t->offsets[1] = 0;
    return 0;
}

static inline const char *interner_bytes(const Interner *t, uint32_t id, size_t *n) {
    *n = t->offsets[id + 1] - t->offsets[id];
    return t->arena + t->offsets[id];
}

/* The id of these bytes, added when new; 0 when out of memory. */
static uint32_t interner_id(Interner *t, const char *p, size_t n) {
    uint64_t h = hash_bytes(p, n, t->seed);
    KeyIndex *k = &t->index;
    size_t i = h & (k->cap - 1);
    while (k->slots[i]) {
        if (k->hashes[i] == h) {
            uint32_t id = k->slots[i];
            size_t len;
            const char *have = interner_bytes(t, id, &len);
            if (len == n && memcmp(have, p, n) == 0) return id;
        }
        i = (i + 1) & (k->cap - 1);
    }
    if (t->count == UINT32_MAX - 2) return 0;
    if (t->arena_len + n > t->arena_cap) {
        size_t cap = t->arena_cap;
        while (t->arena_len + n > cap) cap *= 2;
        char *arena = native_realloc(t->arena, cap);
        if (!arena) return 0;
        t->arena = arena;
        t->arena_cap = cap;
    }
    if ((size_t)t->count + 3 > t->offsets_cap) {
        size_t cap = t->offsets_cap * 2;
        size_t *offsets = native_realloc(t->offsets, cap * sizeof *offsets);
        if (!offsets) return 0;
        t->offsets = offsets;
        t->offsets_cap = cap;
    }
    if (keyindex_room(k, h, &i) < 0) return 0;
    if (n) memcpy(t->arena + t->arena_len, p, n);
    t->arena_len += n;
    uint32_t id = ++t->count;
    t->offsets[id + 1] = t->arena_len;
    k->slots[i] = id;
    k->hashes[i] = h;
    k->count = t->count;
    return id;
}

#endif
