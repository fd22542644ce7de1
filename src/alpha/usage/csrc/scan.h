/* Scanner.scan: one document's records through the fast path, the rest back to Python. */
#ifndef ALPHA_NATIVE_SCAN_H
#define ALPHA_NATIVE_SCAN_H

#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <stdint.h>
#include <string.h>

#include "json.h"
#include "record.h"
#include "scanner.h"
#include "table.h"
#include "tally.h"
#include "tally_type.h"

enum { DONE, FALL_BACK, FAILED };

static const int cumulative_days[12] = {0, 31, 59, 90, 120, 151, 181, 212, 243, 273, 304, 334};

static inline int two_digits(const char *p) {
    if (p[0] < '0' || p[0] > '9' || p[1] < '0' || p[1] > '9') return -1;
    return (p[0] - '0') * 10 + (p[1] - '0');
}

/* Seconds since the epoch of `YYYY-MM-DDTHH:MM:SSZ`, as `datetime.fromisoformat` reads it;
   0 in *ok when the text has another shape or no such date (Python then decides). */
static int64_t event_second(const Field *f, int *ok) {
    const char *p = f->p;
    *ok = 0;
    if (f->n != 20 || p[4] != '-' || p[7] != '-' || p[10] != 'T' || p[13] != ':' ||
        p[16] != ':' || p[19] != 'Z')
        return 0;
    int c = two_digits(p), y = two_digits(p + 2), month = two_digits(p + 5);
    int day = two_digits(p + 8), hour = two_digits(p + 11), minute = two_digits(p + 14);
    int second = two_digits(p + 17);
    if (c < 0 || y < 0 || month < 1 || month > 12 || day < 1 || hour < 0 || hour > 23 ||
        minute < 0 || minute > 59 || second < 0 || second > 59)
        return 0;
    int year = c * 100 + y;
    int leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
    static const int month_days[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    if (year < 1 || day > month_days[month - 1] + (month == 2 && leap)) return 0;
    /* days since 0001-01-01, then shifted to 1970-01-01 (719162 days later) */
    int64_t y1 = year - 1;
    int64_t days = y1 * 365 + y1 / 4 - y1 / 100 + y1 / 400 + cumulative_days[month - 1] +
                   (month > 2 && leap) + (day - 1) - 719162;
    *ok = 1;
    return days * 86400 + hour * 3600 + minute * 60 + second;
}

static int skip_text(Tally *t, PyObject *reason) {
    return count_into(t->skipped, reason, 1);
}

static inline uint32_t field_id(Tally *t, const Field *f, int *failed) {
    if (f->state == 0) return 0;
    uint32_t id = interner_id(&t->strings, f->p, f->n);
    if (id == 0) *failed = 1;
    return id;
}

/* One clean record: its group's meaning, counted with the record's own time and source IP. */
static int tally_record(Scanner *s, Tally *t, const Record *r, const char *record,
                        size_t record_n) {
    int ok;
    if (r->time.state != 1 || r->time.n == 0) return FALL_BACK;
    int64_t second = event_second(&r->time, &ok);
    if (!ok) return FALL_BACK;
    Meaning *m = meaning_of(s, r, record, record_n);
    if (m == NULL) return PyErr_Occurred() ? FAILED : FALL_BACK;
    Identity *who = NULL;
    if (m->by_caller) { /* whose call: the record's identity says, and whether anyone's */
        if (r->identity) {
            who = identity_of(s, r);
            if (who == NULL) return PyErr_Occurred() ? FAILED : FALL_BACK;
        }
        if (who == NULL || who->none) {
            t->events++;
            return skip_text(t, m->no_caller) ? FAILED : DONE;
        }
    }
    if (m->kind == MEANING_SKIP) {
        t->events++;
        return skip_text(t, m->reason) ? FAILED : DONE;
    }
    if (m->n > MAX_USES) return FALL_BACK;
    uint32_t actions[MAX_USES], resources[MAX_USES];
    int failed = 0;
    for (int i = 0; i < m->n; i++) {
        actions[i] = tally_cached(t, &m->actions[i].id, m->actions[i].text, m->actions[i].n);
        int slot = m->slots[i];
        if (slot >= 0) { /* the record's own ARN in that resources[] entry */
            const Field *arn = &r->res_arn[slot];
            if (slot >= r->resources || arn->state != 1 || arn->n == 0) return FALL_BACK;
            resources[i] = interner_id(&t->strings, arn->p, arn->n);
        } else {
            resources[i] = tally_cached(t, &m->resources[i].id, m->resources[i].text,
                                        m->resources[i].n);
        }
        failed |= actions[i] == 0 || resources[i] == 0;
    }
    uint32_t principal, session = 0;
    int has_session;
    if (who != NULL) {
        principal = tally_cached(t, &who->tally_principal, who->principal, who->principal_n);
        has_session = who->session != NULL;
        if (has_session)
            session = tally_cached(t, &who->tally_session, who->session, who->session_n);
    } else {
        principal = tally_cached(t, &m->principal.id, m->principal.text, m->principal.n);
        has_session = m->session.text != NULL;
        if (has_session)
            session = tally_cached(t, &m->session.id, m->session.text, m->session.n);
    }
    uint32_t region = field_id(t, &r->region, &failed);
    uint32_t ip = field_id(t, &r->ip, &failed);
    if (failed || principal == 0 || (has_session && session == 0)) {
        PyErr_NoMemory();
        return FAILED;
    }
    t->events++;
    if (m->unmapped && count_into(t->unmapped, m->unmapped, 1)) return FAILED;
    if (tally_use(t, principal, session, second, region, ip, m->denied, actions, resources,
                  m->n) < 0) {
        PyErr_NoMemory();
        return FAILED;
    }
    return DONE;
}

static int hand_back(PyObject *fallback, Py_ssize_t index, const char *base, const char *start,
                     const char *end) {
    PyObject *answer = PyObject_CallFunction(fallback, "nnn", index, (Py_ssize_t)(start - base),
                                             (Py_ssize_t)(end - base));
    Py_XDECREF(answer);
    return answer == NULL ? -1 : 0;
}

/* The records array at p (at '['); the position after it, or NULL (a syntax error: *count -1,
   or a Python error set). */
static const char *scan_records(Scanner *s, Tally *t, PyObject *fallback, const char *base,
                                const char *p, const char *end, Py_ssize_t *count) {
    Record r;
    Py_ssize_t index = 0;
    p = json_ws(p + 1, end);
    if (p < end && *p == ']') {
        *count = 0;
        return p + 1;
    }
    for (;;) {
        const char *start = p, *after;
        int outcome = FALL_BACK;
        if (json_kind(p, end) == JV_OBJECT) {
            after = read_record(p, end, &r);
            if (after != NULL && !r.dirty && (size_t)(after - start) <= s->record_limit)
                outcome = tally_record(s, t, &r, start, (size_t)(after - start));
        } else {
            after = json_skip(p, end, 2);
        }
        if (after == NULL) {
            *count = -1;
            return NULL;
        }
        if (outcome == FAILED) return NULL;
        if (outcome == FALL_BACK && hand_back(fallback, index, base, start, after) < 0)
            return NULL;
        index++;
        int closed;
        p = json_after_item(after, end, ']', &closed);
        if (p != NULL && closed) {
            *count = index;
            return p;
        }
        if (p != NULL) continue;
        *count = -1;
        return NULL;
    }
}

/* scan(data, tally, fallback) -> records, or -1 when `data` is not one valid
   {"Records": [...]} document (the tally is then to be thrown away). */
static PyObject *Scanner_scan(Scanner *s, PyObject *args) {
    Py_buffer view;
    Tally *t;
    PyObject *fallback;
    if (!PyArg_ParseTuple(args, "y*O!O:scan", &view, &TallyType, &t, &fallback)) return NULL;
    const char *base = view.buf, *end = base + view.len, *p = base;
    Py_ssize_t count = -1;
    JsonString key;
    if (end - p >= 3 && memcmp(p, "\xEF\xBB\xBF", 3) == 0) p += 3;
    p = json_ws(p, end);
    if (p >= end || *p != '{') goto invalid;
    p = json_ws(p + 1, end);
    if (p >= end || *p != '"' || (p = json_string(p, end, &key)) == NULL || key.escaped ||
        !key_is(&key, "Records", 7))
        goto invalid;
    p = json_ws(p, end);
    if (p >= end || *p != ':') goto invalid;
    p = json_ws(p + 1, end);
    if (json_kind(p, end) != JV_ARRAY) goto invalid;
    p = scan_records(s, t, fallback, base, p, end, &count);
    if (p == NULL) {
        if (count == -1 && !PyErr_Occurred()) goto invalid;
        PyBuffer_Release(&view);
        return NULL;
    }
    for (;;) { /* the envelope's other keys: validated, ignored; a second Records is not ours */
        p = json_ws(p, end);
        if (p < end && *p == '}') break;
        if (p >= end || *p != ',') goto invalid;
        p = json_ws(p + 1, end);
        if (p >= end || *p != '"' || (p = json_string(p, end, &key)) == NULL || key.escaped ||
            key_is(&key, "Records", 7))
            goto invalid;
        p = json_ws(p, end);
        if (p >= end || *p != ':') goto invalid;
        p = json_skip(json_ws(p + 1, end), end, 1);
        if (p == NULL) goto invalid;
    }
    if (json_ws(p + 1, end) != end) goto invalid;
    PyBuffer_Release(&view);
    return PyLong_FromSsize_t(count);
invalid:
    PyBuffer_Release(&view);
    return PyLong_FromLong(-1);
}

/* Scanner(resolver, *, record_limit, memo_limit=, request_memo_limit=): `record_limit` has no
   default here, so the Python reader's is the only one (a record longer than it falls back,
   and the reader skips it). */
static PyObject *Scanner_new(PyTypeObject *type, PyObject *args, PyObject *kwds) {
    PyObject *resolver;
    unsigned int limit = MEMO_LIMIT, request_limit = REQUEST_MEMO_LIMIT;
    Py_ssize_t record_limit = -1;
    static char *names[] = {"resolver", "record_limit", "memo_limit", "request_memo_limit",
                            NULL};
    if (!PyArg_ParseTupleAndKeywords(args, kwds, "O|$nII:Scanner", names, &resolver,
                                     &record_limit, &limit, &request_limit))
        return NULL;
    if (limit < 1 || request_limit < 1) {
        PyErr_SetString(PyExc_ValueError, "memo limits must be at least 1");
        return NULL;
    }
    if (record_limit < 0) {
        PyErr_SetString(PyExc_ValueError, "record_limit (bytes, at least 0) is required");
        return NULL;
    }
    Scanner *s = (Scanner *)type->tp_alloc(type, 0);
    if (s == NULL) return NULL;
    s->resolver = Py_NewRef(resolver);
    s->record_limit = (size_t)record_limit;
    s->shapes.limit = s->identities.limit = limit;
    s->meanings.limit = request_limit;
    s->shapes.size = sizeof(Shape);
    s->meanings.size = sizeof(Meaning);
    s->identities.size = sizeof(Identity);
    return (PyObject *)s; /* the memos are made on first use */
}

static void Scanner_dealloc(Scanner *s) {
    memo_reset(&s->shapes, NULL);
    memo_reset(&s->meanings, meaning_clear_any);
    memo_reset(&s->identities, identity_clear_any);
    Py_XDECREF(s->resolver);
    Py_TYPE(s)->tp_free((PyObject *)s);
}

static PyMethodDef Scanner_methods[] = {
    {"scan", (PyCFunction)Scanner_scan, METH_VARARGS,
     "scan(data, tally, fallback) -> records, or -1 when data is no valid Records document"},
    {NULL},
};

static PyTypeObject ScannerType = {
    PyVarObject_HEAD_INIT(NULL, 0).tp_name = "alpha.usage._native.Scanner",
    .tp_basicsize = sizeof(Scanner),
    .tp_flags = Py_TPFLAGS_DEFAULT,
    .tp_doc = "Tallies CloudTrail documents on the common path; see alpha/usage/native.py.",
    .tp_new = Scanner_new,
    .tp_dealloc = (destructor)Scanner_dealloc,
    .tp_methods = Scanner_methods,
};

#endif
