/* The native twin of `alpha.usage.tally.BatchTally`: the same rows, counts and source-IP
   lists, kept as interned ids in C. Strings are held in their canonical JSON form without the
   quotes (what msgspec writes), so `finish` writes the JSON lines directly. */
#ifndef ALPHA_NATIVE_TALLY_H
#define ALPHA_NATIVE_TALLY_H

#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <stdint.h>
#include <stdlib.h>

#include "alloc.h"
#include "table.h"

#define MAX_SOURCE_IPS 16
#define SECONDS_PER_HOUR 3600

typedef struct {
    uint32_t principal, session, action, resource, region; /* interned ids, 0 = null */
    int64_t hour;
    int64_t used, denied, first, last;
} RowEntry;

typedef struct {
    uint32_t principal, action;
    int n; /* listed IPs, the overflow (ip 0) included */
    uint32_t ips[MAX_SOURCE_IPS + 1];
    int64_t calls[MAX_SOURCE_IPS + 1];
} IpEntry;

typedef struct {
    PyObject_HEAD
    Py_ssize_t events;
    uint64_t generation; /* tells a scanner's cached ids of an earlier tally from this one's */
    Interner strings;
    KeyIndex row_index;
    RowEntry *rows;
    size_t rows_cap;
    KeyIndex ip_index;
    IpEntry *ip_rows;
    size_t ip_cap;
    PyObject *skipped;  /* dict reason -> count */
    PyObject *unmapped; /* dict (source, name) -> count */
    int finished;
} Tally;

static inline uint64_t row_hash(uint32_t p, uint32_t s, uint32_t a, uint32_t r, int64_t hour,
                                uint32_t g) {
    uint64_t h = hash_mix(((uint64_t)p << 32) ^ s ^ 0x1234567ULL);
    h = hash_mix(h ^ (((uint64_t)a << 32) | r));
    h = hash_mix(h ^ (uint64_t)hour ^ ((uint64_t)g << 40));
    return h;
}

static int tally_row(Tally *t, uint32_t p, uint32_t s, uint32_t a, uint32_t r, int64_t hour,
                     uint32_t g, int denied, int64_t second) {
    uint64_t h = row_hash(p, s, a, r, hour, g);
    KeyIndex *k = &t->row_index;
    size_t i = h & (k->cap - 1);
    while (k->slots[i]) {
        if (k->hashes[i] == h) {
            RowEntry *e = &t->rows[k->slots[i] - 1];
            if (e->principal == p && e->session == s && e->action == a && e->resource == r &&
                e->hour == hour && e->region == g) {
                if (denied) e->denied++; else e->used++;
                if (second < e->first) e->first = second;
                else if (second > e->last) e->last = second;
                return 0;
            }
        }
        i = (i + 1) & (k->cap - 1);
    }
    if (k->count + 1 > t->rows_cap) {
        size_t cap = t->rows_cap ? t->rows_cap * 2 : 1024;
        RowEntry *rows = native_realloc(t->rows, cap * sizeof *rows);
        if (!rows) return -1;
        t->rows = rows;
        t->rows_cap = cap;
    }
    if (keyindex_room(k, h, &i) < 0) return -1;
    RowEntry *e = &t->rows[k->count];
    e->principal = p; e->session = s; e->action = a; e->resource = r; e->region = g;
    e->hour = hour;
    e->used = denied ? 0 : 1;
    e->denied = denied ? 1 : 0;
    e->first = e->last = second;
    k->count++;
    k->slots[i] = (uint32_t)k->count;
    k->hashes[i] = h;
    return 0;
}

static int tally_ip(Tally *t, uint32_t p, uint32_t a, uint32_t ip) {
    uint64_t h = hash_mix((((uint64_t)p << 32) | a) ^ 0xABCDEFULL);
    KeyIndex *k = &t->ip_index;
    size_t i = h & (k->cap - 1);
    IpEntry *e = NULL;
    while (k->slots[i]) {
        IpEntry *have = &t->ip_rows[k->slots[i] - 1];
        if (k->hashes[i] == h && have->principal == p && have->action == a) {
            e = have;
            break;
        }
        i = (i + 1) & (k->cap - 1);
    }
    if (e == NULL) {
        if (k->count + 1 > t->ip_cap) {
            size_t cap = t->ip_cap ? t->ip_cap * 2 : 256;
            IpEntry *rows = native_realloc(t->ip_rows, cap * sizeof *rows);
            if (!rows) return -1;
            t->ip_rows = rows;
            t->ip_cap = cap;
        }
        if (keyindex_room(k, h, &i) < 0) return -1;
        e = &t->ip_rows[k->count];
        e->principal = p;
        e->action = a;
        e->n = 0;
        k->count++;
        k->slots[i] = (uint32_t)k->count;
        k->hashes[i] = h;
    }
    /* BatchTally._count_ip: a new IP past MAX_SOURCE_IPS listed ones counts as overflow */
    int listed = 0;
    for (int j = 0; j < e->n; j++) {
        if (e->ips[j] == ip) {
            e->calls[j]++;
            return 0;
        }
        if (e->ips[j] != 0) listed++;
    }
    if (ip != 0 && listed >= MAX_SOURCE_IPS) {
        for (int j = 0; j < e->n; j++) {
            if (e->ips[j] == 0) {
                e->calls[j]++;
                return 0;
            }
        }
        ip = 0;
    }
    e->ips[e->n] = ip;
    e->calls[e->n] = 1;
    e->n++;
    return 0;
}

/* One call (`events` already counted) needing `n` (action, resource) pairs, as ids. */
static int tally_use(Tally *t, uint32_t principal, uint32_t session, int64_t second,
                     uint32_t region, uint32_t ip, int denied, const uint32_t *actions,
                     const uint32_t *resources, int n) {
    /* Python's floor division, for times before 1970 */
    int64_t hour = second >= 0 ? second / SECONDS_PER_HOUR
                               : -((-second + SECONDS_PER_HOUR - 1) / SECONDS_PER_HOUR);
    for (int i = 0; i < n; i++) {
        if (tally_row(t, principal, session, actions[i], resources[i], hour, region, denied,
                      second) < 0)
            return -1;
    }
    if (denied) return 0;
    for (int i = 0; i < n; i++) {
        int seen = 0;
        for (int j = 0; j < i; j++) {
            if (actions[j] == actions[i]) {
                seen = 1;
                break;
            }
        }
        if (!seen && tally_ip(t, principal, actions[i], ip) < 0) return -1;
    }
    return 0;
}

#endif
