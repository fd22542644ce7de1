/* The Python type `Tally`: BatchTally's interface (events, skip, unmapped, use, finish). */
#ifndef ALPHA_NATIVE_TALLY_TYPE_H
#define ALPHA_NATIVE_TALLY_TYPE_H

#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <structmember.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "alloc.h"
#include "table.h"
#include "tally.h"

typedef struct {
    char *p;
    size_t n, cap;
} Buffer;

static int buffer_reserve(Buffer *b, size_t more) {
    if (b->n + more <= b->cap) return 0;
    size_t cap = b->cap ? b->cap : 4096;
    while (b->n + more > cap) cap *= 2;
    char *p = native_realloc(b->p, cap);
    if (p == NULL) return -1;
    b->p = p;
    b->cap = cap;
    return 0;
}

static int buffer_add(Buffer *b, const char *p, size_t n) {
    if (buffer_reserve(b, n) < 0) return -1;
    memcpy(b->p + b->n, p, n);
    b->n += n;
    return 0;
}

/* A Python str in canonical JSON form without quotes (as msgspec writes it: `"` and `\`
   escaped, control characters as short or \u00XX escapes, everything else as UTF-8). */
static int encode_text(PyObject *text, Buffer *out) {
    Py_ssize_t n;
    const char *p = PyUnicode_AsUTF8AndSize(text, &n);
    if (p == NULL) return -1;
    out->n = 0;
    if (buffer_reserve(out, (size_t)n * 6 + 1) < 0) {
        PyErr_NoMemory();
        return -1;
    }
    for (Py_ssize_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)p[i];
        char *w = out->p + out->n;
        if (c == '"' || c == '\\') {
            w[0] = '\\';
            w[1] = (char)c;
            out->n += 2;
        } else if (c < 0x20) {
            const char *shorts = "\b\f\n\r\t", *letters = "bfnrt";
            const char *at = c ? strchr(shorts, c) : NULL;
            if (at != NULL) {
                w[0] = '\\';
                w[1] = letters[at - shorts];
                out->n += 2;
            } else {
                static const char hex[] = "0123456789abcdef";
                memcpy(w, "\\u00", 4);
                w[4] = hex[c >> 4];
                w[5] = hex[c & 15];
                out->n += 6;
            }
        } else {
            w[0] = (char)c;
            out->n += 1;
        }
    }
    return 0;
}

/* The id of a Python str (or None: 0) in the tally's strings. */
static int tally_text_id(Tally *t, PyObject *text, Buffer *scratch, uint32_t *id) {
    if (text == Py_None) {
        *id = 0;
        return 0;
    }
    if (!PyUnicode_Check(text)) {
        PyErr_Format(PyExc_TypeError, "expected str or None, got %.100s", Py_TYPE(text)->tp_name);
        return -1;
    }
    if (encode_text(text, scratch) < 0) return -1;
    *id = interner_id(&t->strings, scratch->p, scratch->n);
    if (*id == 0) {
        PyErr_NoMemory();
        return -1;
    }
    return 0;
}

static uint64_t next_generation(void) {
    static uint64_t generation = 0; /* only ever read under the GIL */
    return ++generation;
}

static PyObject *Tally_new(PyTypeObject *type, PyObject *args, PyObject *kwds) {
    Tally *t = (Tally *)type->tp_alloc(type, 0);
    if (t == NULL) return NULL;
    t->generation = next_generation();
    t->skipped = PyDict_New();
    t->unmapped = PyDict_New();
    if (t->skipped == NULL || t->unmapped == NULL || interner_init(&t->strings) < 0 ||
        keyindex_init(&t->row_index) < 0 || keyindex_init(&t->ip_index) < 0) {
        Py_DECREF(t);
        return PyErr_NoMemory();
    }
    return (PyObject *)t;
}

static void Tally_dealloc(Tally *t) {
    interner_free(&t->strings);
    keyindex_free(&t->row_index);
    keyindex_free(&t->ip_index);
    free(t->rows);
    free(t->ip_rows);
    Py_XDECREF(t->skipped);
    Py_XDECREF(t->unmapped);
    Py_TYPE(t)->tp_free((PyObject *)t);
}

static int count_into(PyObject *dict, PyObject *key, Py_ssize_t count) {
    PyObject *have = PyDict_GetItemWithError(dict, key);
    if (have == NULL && PyErr_Occurred()) return -1;
    Py_ssize_t now = have ? PyLong_AsSsize_t(have) : 0;
    if (now == -1 && PyErr_Occurred()) return -1;
    PyObject *value = PyLong_FromSsize_t(now + count);
    if (value == NULL) return -1;
    int failed = PyDict_SetItem(dict, key, value);
    Py_DECREF(value);
    return failed;
}

static PyObject *Tally_skip(Tally *t, PyObject *args) {
    PyObject *reason;
    Py_ssize_t count = 1;
    if (!PyArg_ParseTuple(args, "O|n:skip", &reason, &count)) return NULL;
    PyObject *text = PyObject_Str(reason); /* a StrEnum member counts as its plain text */
    if (text == NULL) return NULL;
    int failed = count_into(t->skipped, text, count);
    Py_DECREF(text);
    if (failed) return NULL;
    Py_RETURN_NONE;
}

static PyObject *Tally_unmapped(Tally *t, PyObject *args) {
    PyObject *source, *name;
    if (!PyArg_ParseTuple(args, "UU:unmapped", &source, &name)) return NULL;
    PyObject *key = PyTuple_Pack(2, source, name);
    if (key == NULL) return NULL;
    int failed = count_into(t->unmapped, key, 1);
    Py_DECREF(key);
    if (failed) return NULL;
    Py_RETURN_NONE;
}

/* use(principal, session, second, region, source_ip, denied, uses): BatchTally.use. */
static PyObject *Tally_use(Tally *t, PyObject *args) {
    PyObject *principal, *session, *region, *ip, *uses;
    long long second;
    int denied;
    if (!PyArg_ParseTuple(args, "OOLOOpO:use", &principal, &session, &second, &region, &ip,
                          &denied, &uses))
        return NULL;
    PyObject *seq = PySequence_Fast(uses, "uses must be a sequence");
    if (seq == NULL) return NULL;
    Py_ssize_t n = PySequence_Fast_GET_SIZE(seq);
    uint32_t *actions = native_malloc(sizeof(uint32_t) * (size_t)(n ? n : 1) * 2);
    Buffer scratch = {0};
    uint32_t p, s, g, i4;
    PyObject *result = NULL;
    if (actions == NULL) {
        PyErr_NoMemory();
        goto done;
    }
    uint32_t *resources = actions + (n ? n : 1);
    if (tally_text_id(t, principal, &scratch, &p) < 0 ||
        tally_text_id(t, session, &scratch, &s) < 0 ||
        tally_text_id(t, region, &scratch, &g) < 0 || tally_text_id(t, ip, &scratch, &i4) < 0)
        goto done;
    for (Py_ssize_t i = 0; i < n; i++) {
        PyObject *use = PySequence_Fast_GET_ITEM(seq, i);
        PyObject *action = PyObject_GetAttrString(use, "action");
        PyObject *resource = action ? PyObject_GetAttrString(use, "resource") : NULL;
        int failed = resource == NULL || tally_text_id(t, action, &scratch, &actions[i]) < 0 ||
                     tally_text_id(t, resource, &scratch, &resources[i]) < 0;
        Py_XDECREF(action);
        Py_XDECREF(resource);
        if (failed) goto done;
    }
    if (tally_use(t, p, s, (int64_t)second, g, i4, denied, actions, resources, (int)n) < 0) {
        PyErr_NoMemory();
        goto done;
    }
    result = Py_NewRef(Py_None);
done:
    free(scratch.p);
    free(actions);
    Py_DECREF(seq);
    return result;
}

static int write_text(Buffer *b, const Tally *t, uint32_t id) {
    if (id == 0) return buffer_add(b, "null", 4);
    size_t n;
    const char *p = interner_bytes(&t->strings, id, &n);
    if (buffer_reserve(b, n + 2) < 0) return -1;
    b->p[b->n++] = '"';
    memcpy(b->p + b->n, p, n);
    b->n += n;
    b->p[b->n++] = '"';
    return 0;
}

static int write_int(Buffer *b, int64_t v) {
    char digits[24];
    int n = sizeof digits;
    uint64_t u = v < 0 ? (uint64_t)0 - (uint64_t)v : (uint64_t)v;
    do {
        digits[--n] = (char)('0' + u % 10);
        u /= 10;
    } while (u);
    if (v < 0) digits[--n] = '-';
    return buffer_add(b, digits + n, sizeof digits - (size_t)n);
}

static int write_row(Buffer *b, const Tally *t, const RowEntry *e) {
    return buffer_add(b, "[", 1) || write_text(b, t, e->principal) || buffer_add(b, ",", 1) ||
           write_text(b, t, e->session) || buffer_add(b, ",", 1) ||
           write_text(b, t, e->action) || buffer_add(b, ",", 1) ||
           write_text(b, t, e->resource) || buffer_add(b, ",", 1) || write_int(b, e->hour) ||
           buffer_add(b, ",", 1) || write_int(b, e->used) || buffer_add(b, ",", 1) ||
           write_int(b, e->denied) || buffer_add(b, ",", 1) || write_int(b, e->first) ||
           buffer_add(b, ",", 1) || write_int(b, e->last) || buffer_add(b, ",", 1) ||
           write_text(b, t, e->region) || buffer_add(b, "]\n", 2);
}

static int write_ips(Buffer *b, const Tally *t, const IpEntry *e) {
    for (int j = 0; j < e->n; j++) {
        if (buffer_add(b, "[", 1) || write_text(b, t, e->principal) || buffer_add(b, ",", 1) ||
            write_text(b, t, e->action) || buffer_add(b, ",", 1) ||
            write_text(b, t, e->ips[j]) || buffer_add(b, ",", 1) ||
            write_int(b, e->calls[j]) || buffer_add(b, "]\n", 2))
            return -1;
    }
    return 0;
}

/* A JSON array of the strings whose ids are marked in `seen` (0 is null: never listed). */
static int write_marked(Buffer *b, const Tally *t, const unsigned char *seen) {
    int first = 1;
    if (buffer_add(b, "[", 1)) return -1;
    for (uint32_t id = 1; id <= t->strings.count; id++) {
        if (!seen[id]) continue;
        if ((!first && buffer_add(b, ",", 1)) || write_text(b, t, id)) return -1;
        first = 0;
    }
    return buffer_add(b, "]", 1);
}

/* The distinct principals, sessions and actions of the rows, and their regions, each as a
   JSON array (a store adds them before it loads the rows). */
static int write_names(Buffer *names, Buffer *regions, const Tally *t) {
    unsigned char *seen = native_calloc((size_t)t->strings.count + 1, 2);
    if (seen == NULL) return -1;
    unsigned char *region = seen + t->strings.count + 1;
    for (size_t i = 0; i < t->row_index.count; i++) {
        const RowEntry *e = &t->rows[i];
        seen[e->principal] = seen[e->session] = seen[e->action] = 1;
        region[e->region] = 1;
    }
    seen[0] = region[0] = 0;
    int failed = write_marked(names, t, seen) || write_marked(regions, t, region);
    free(seen);
    return failed ? -1 : 0;
}

/* What `finish` returns: a named tuple (a struct sequence) named as BatchUsage's fields. */
static PyStructSequence_Field finished_fields[] = {
    {"events", "Records counted."},
    {"rows", "The hourly rows, one JSON array a line."},
    {"row_count", "How many hourly rows."},
    {"skipped", "Records that gave no usage, by reason."},
    {"unmapped", "Unmapped calls by (source, name)."},
    {"source_ips", "The source-IP counts, one JSON array a line."},
    {"source_ip_count", "How many source-IP counts."},
    {"names", "The principals, sessions and actions the rows name, as a JSON array."},
    {"regions", "The regions the rows name, as a JSON array."},
    {NULL},
};

static PyStructSequence_Desc finished_desc = {
    "alpha.usage._native.Finished", "One batch's rows and counts (Tally.finish).",
    finished_fields, 9,
};

static PyTypeObject *FinishedType; /* made by the module's init (native.c) */

static PyObject *finished_of(PyObject *items) {
    PyObject *finished = PyStructSequence_New(FinishedType);
    if (finished == NULL) return NULL;
    for (Py_ssize_t i = 0; i < PyTuple_GET_SIZE(items); i++)
        PyStructSequence_SetItem(finished, i, Py_NewRef(PyTuple_GET_ITEM(items, i)));
    return finished;
}

/* finish() -> Finished(events, rows, row_count, skipped, unmapped, source_ips,
                        source_ip_count, names, regions) */
static PyObject *Tally_finish(Tally *t, PyObject *unused) {
    Buffer rows = {0}, ips = {0}, names = {0}, regions = {0};
    size_t ip_count = 0;
    PyObject *items = NULL, *result = NULL;
    for (size_t i = 0; i < t->row_index.count; i++) {
        if (write_row(&rows, t, &t->rows[i])) goto done;
    }
    for (size_t i = 0; i < t->ip_index.count; i++) {
        if (write_ips(&ips, t, &t->ip_rows[i])) goto done;
        ip_count += (size_t)t->ip_rows[i].n;
    }
    if (write_names(&names, &regions, t)) goto done;
    items = Py_BuildValue("ny#nOOy#ny#y#", t->events, rows.p ? rows.p : "", (Py_ssize_t)rows.n,
                          (Py_ssize_t)t->row_index.count, t->skipped, t->unmapped,
                          ips.p ? ips.p : "", (Py_ssize_t)ips.n, (Py_ssize_t)ip_count, names.p,
                          (Py_ssize_t)names.n, regions.p, (Py_ssize_t)regions.n);
    result = items ? finished_of(items) : NULL;
done:
    Py_XDECREF(items);
    free(rows.p);
    free(ips.p);
    free(names.p);
    free(regions.p);
    return result != NULL || PyErr_Occurred() ? result : PyErr_NoMemory();
}

static PyMethodDef Tally_methods[] = {
    {"skip", (PyCFunction)Tally_skip, METH_VARARGS, "Count skipped records by reason."},
    {"unmapped", (PyCFunction)Tally_unmapped, METH_VARARGS, "Count an unmapped event."},
    {"use", (PyCFunction)Tally_use, METH_VARARGS, "Count one call, as BatchTally.use."},
    {"finish", (PyCFunction)Tally_finish, METH_NOARGS, "The batch's rows and counts."},
    {NULL},
};

static PyMemberDef Tally_members[] = {
    {"events", T_PYSSIZET, offsetof(Tally, events), 0, "Records counted."},
    {NULL},
};

static PyTypeObject TallyType = {
    PyVarObject_HEAD_INIT(NULL, 0).tp_name = "alpha.usage._native.Tally",
    .tp_basicsize = sizeof(Tally),
    .tp_flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_BASETYPE,
    .tp_doc = "One batch's tally (the native twin of BatchTally).",
    .tp_new = Tally_new,
    .tp_dealloc = (destructor)Tally_dealloc,
    .tp_methods = Tally_methods,
    .tp_members = Tally_members,
};

#endif
