/* The Python type `Scanner`: records grouped by every field their meaning reads, the meaning
   of each group asked of Python once and memoised.

   The scanner decides nothing about what an event means (alpha/usage/fast_tally.py, where the
   Python path groups records by the same key). It asks its resolver (alpha/usage/native.py):
     shape(event_type, source, name) -> int: which of the record's raw parts a group's key
         holds besides the fields every key holds (SHAPE_REQUEST: requestParameters and
         resources[]; SHAPE_RESPONSE: responseElements; SHAPE_MARKED: resources[]' layout
         and the members of request, response and additionalEventData in marks.h)
     meaning(record, shape) -> None (the group's records go back to Python one by one)
                             | reason (str: the group is skipped, for that reason)
                             | (principal, session | None, denied, ((action, resource), ...),
                                (source, name) | None: the call is unmapped)
   and counts each record of a group with its own time and source IP. Every key holds the
   record's eventType, source, name, region, recipient account, error code and error message;
   a group whose meaning reads the caller holds its identity fields too (type, arn, issuer
   arn, account, user name, source identity, onBehalfOf user id, and whether there is an
   identity at all). `principal(type, arn, issuer_arn, account_id, user_name,
   source_identity, behalf_user) -> (arn, person | None) | None` names the caller of the
   other groups, once per identity. Each memo is cleared past its limit, so hostile input with endless distinct
   values cannot grow it.

   A memo's tables are made on its first use and dropped whole when it is reset, so a reset
   (past the limit, or after the resolver failed) never allocates and cannot fail; a memo
   whose tables could not be made answers MemoryError and tries again on its next use. */
#ifndef ALPHA_NATIVE_SCANNER_H
#define ALPHA_NATIVE_SCANNER_H

#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "alloc.h"
#include "marks.h"
#include "record.h"
#include "table.h"
#include "tally.h"
#include "tally_type.h"

#define MEMO_LIMIT 100000
#define REQUEST_MEMO_LIMIT 20000 /* a group's key can hold a whole request: fewer of them */
#define MAX_USES 64
#define KEY_BYTES 2048

enum {
    SHAPE_RESOURCES = 1, SHAPE_MARKS = 2, SHAPE_REQUEST = 4, SHAPE_RESPONSE = 8, SHAPE_MARKED = 16
};
/* marks.MARKS_TEXT: text without which a record names no versionId and no SSE-KMS key */
static const char *const MARKS[] = {"versionId", "\\u", "aws-kms-key-id", "SSEKMSKeyARN"};
enum { MEANING_FALLBACK, MEANING_SKIP, MEANING_USE, MEANING_REFINE };

typedef struct {
    uint64_t generation; /* of the tally `id` belongs to */
    uint32_t id;
} CachedId;

typedef struct {
    char *text; /* canonical JSON text, NULL for None */
    size_t n;
    CachedId id;
} Text;

typedef struct {
    int asked, shape;
} Shape;

typedef struct {
    int none;
    char *principal, *session; /* canonical JSON text; session NULL when None */
    size_t principal_n, session_n;
    CachedId tally_principal, tally_session;
} Identity;

/* What every record of a group means. */
typedef struct {
    int kind, denied, n, refine; /* refine: MEANING_REFINE's shape */
    int by_caller;      /* the key leaves the caller out: the record's identity names whose */
    PyObject *no_caller; /* by_caller: the skip reason when it names no principal */
    int *slots;         /* per use: its resources[] entry, or -1 (its own text) */
    PyObject *reason;   /* MEANING_SKIP: str */
    PyObject *unmapped; /* MEANING_USE: (source, name) of an unmapped call, else NULL */
    Text principal, session;
    Text *actions, *resources;
} Meaning;

/* A memo: byte-string keys -> values by id (`size` bytes each, zeroed when new). */
typedef struct {
    Interner keys;
    char *values; /* NULL until first used, and after a reset */
    size_t size, cap;
    uint32_t limit;
} Memo;

typedef struct {
    PyObject_HEAD
    PyObject *resolver;
    Memo shapes, meanings, identities;
    size_t record_limit; /* bytes: a longer record is Python's to skip (alpha/usage/reader.py) */
} Scanner;

static void identity_clear(Identity *i) {
    free(i->principal);
    free(i->session);
    i->principal = i->session = NULL;
}

static void identity_clear_any(void *p) { identity_clear(p); }

static void meaning_clear(Meaning *m) {
    Py_CLEAR(m->no_caller);
    Py_CLEAR(m->reason);
    Py_CLEAR(m->unmapped);
    free(m->principal.text);
    free(m->session.text);
    m->principal.text = m->session.text = NULL;
    for (int i = 0; i < m->n; i++) {
        free(m->actions[i].text);
        free(m->resources[i].text);
    }
    free(m->actions);
    free(m->resources);
    free(m->slots);
    m->actions = m->resources = NULL;
    m->slots = NULL;
    m->n = 0;
}

static void meaning_clear_any(void *m) { meaning_clear(m); }

/* Forget every answer (past the limit, or after the resolver failed, so no half-made one is
   kept); the memo's tables are made again on its next use. */
static void memo_reset(Memo *m, void (*clear)(void *)) {
    if (clear && m->values) {
        for (uint32_t id = 1; id <= m->keys.count; id++) clear(m->values + id * m->size);
    }
    free(m->values);
    interner_free(&m->keys);
    m->values = NULL;
    m->cap = 0;
}

/* 0 when the memo's tables are there (made now if need be), -1 when out of memory. */
static int memo_ready(Memo *m) {
    if (m->values) return 0;
    char *values = native_calloc(64, m->size);
    if (values == NULL || interner_init(&m->keys) < 0) {
        free(values);
        return -1;
    }
    m->values = values;
    m->cap = 64;
    return 0;
}

/* Room for the value of one more key, made before the key is added: a key is never without
   its value's slot. */
static int memo_room(Memo *m) {
    size_t needed = (size_t)m->keys.count + 2; /* ids start at 1 */
    if (needed <= m->cap) return 0;
    size_t cap = m->cap * 2;
    char *values = native_realloc(m->values, cap * m->size);
    if (values == NULL) return -1;
    memset(values + m->cap * m->size, 0, (cap - m->cap) * m->size);
    m->values = values;
    m->cap = cap;
    return 0;
}

/* The value slot of `key`, and whether it is new (to be filled); NULL when out of memory
   (no error set), the memo unchanged. */
static void *memo_slot(Memo *m, const char *key, size_t n, int *fresh,
                       void (*clear)(void *)) {
    if (m->keys.count >= m->limit) memo_reset(m, clear);
    if (memo_ready(m) < 0 || memo_room(m) < 0) return NULL;
    uint32_t before = m->keys.count;
    uint32_t id = interner_id(&m->keys, key, n);
    if (id == 0) return NULL;
    *fresh = id > before;
    return m->values + (size_t)id * m->size;
}

/* A key of several fields, each with its presence and length, so no two keys collide. */
static int compose(char *key, size_t *n, const Field *const *fields, int count) {
    size_t at = 0;
    for (int i = 0; i < count; i++) {
        const Field *f = fields[i];
        size_t len = f->state ? f->n : 0;
        if (at + len + 5 > KEY_BYTES) return -1;
        key[at++] = (char)f->state;
        store_le32(key + at, (uint32_t)len);
        at += 4;
        if (len) memcpy(key + at, f->p, len);
        at += len;
    }
    *n = at;
    return 0;
}

static PyObject *field_text(const Field *f) {
    if (f->state == 0) Py_RETURN_NONE;
    return PyUnicode_DecodeASCII(f->p, (Py_ssize_t)f->n, "strict");
}

/* A Python str's canonical text in a block of its own size (the encoding buffer reserves
   room for the worst case; memos keep many of these). */
static char *copy_text(PyObject *text, size_t *n) {
    Buffer b = {0};
    char *copy = NULL;
    if (encode_text(text, &b) == 0) {
        copy = native_malloc(b.n ? b.n : 1);
        if (copy == NULL) PyErr_NoMemory();
        else if (b.n) memcpy(copy, b.p, b.n);
        *n = b.n;
    }
    free(b.p);
    return copy;
}

static uint32_t tally_cached(Tally *t, CachedId *c, const char *p, size_t n) {
    if (c->generation != t->generation) {
        c->id = interner_id(&t->strings, p, n);
        c->generation = c->id ? t->generation : 0;
    }
    return c->id;
}

/* A str answer's canonical text into `t` (t->text NULL for None); -1 with an error set. */
static int fill_text(Text *t, PyObject *text) {
    t->id.generation = 0;
    if (text == Py_None) return 0;
    if (!PyUnicode_Check(text)) {
        PyErr_SetString(PyExc_ValueError, "resolver.meaning: malformed answer");
        return -1;
    }
    t->text = copy_text(text, &t->n);
    return t->text == NULL ? -1 : 0;
}

static int fill_uses(Meaning *m, PyObject *answer) {
    PyObject *pairs = PySequence_Fast(answer, "resolver.meaning: expected a sequence");
    if (pairs == NULL) return -1;
    Py_ssize_t n = PySequence_Fast_GET_SIZE(pairs);
    m->actions = native_calloc((size_t)n + 1, sizeof(Text));
    m->resources = native_calloc((size_t)n + 1, sizeof(Text));
    m->slots = native_calloc((size_t)n + 1, sizeof(int));
    int failed = m->actions == NULL || m->resources == NULL || m->slots == NULL;
    if (failed) PyErr_NoMemory();
    for (Py_ssize_t i = 0; i < n && !failed; i++) {
        PyObject *action, *resource;
        failed = !PyArg_ParseTuple(PySequence_Fast_GET_ITEM(pairs, i), "UO", &action, &resource);
        if (failed) break;
        m->n = (int)i + 1; /* held by the meaning from here: cleared with it */
        m->slots[i] = -1;
        if (PyLong_Check(resource)) {
            long slot = PyLong_AsLong(resource);
            failed = slot < 0 || slot >= MAX_RESOURCES;
            if (failed && !PyErr_Occurred())
                PyErr_SetString(PyExc_ValueError, "resolver.meaning: malformed answer");
            m->slots[i] = (int)slot;
            failed = failed || fill_text(&m->actions[i], action) < 0;
            continue;
        }
        failed = fill_text(&m->actions[i], action) < 0 || fill_text(&m->resources[i], resource) < 0;
    }
    Py_DECREF(pairs);
    return failed ? -1 : 0;
}

static int fill_answer(Meaning *m, PyObject *answer);

/* An answer, or (answer for a caller naming a principal, skip reason for one that does not). */
static int fill_meaning(Meaning *m, PyObject *answer) {
    m->kind = MEANING_FALLBACK;
    if (!PyTuple_Check(answer) || PyTuple_GET_SIZE(answer) != 2) return fill_answer(m, answer);
    PyObject *caller = PyTuple_GET_ITEM(answer, 0), *no_caller = PyTuple_GET_ITEM(answer, 1);
    if (!PyUnicode_Check(no_caller) || !(PyUnicode_Check(caller) || PyTuple_Check(caller))) {
        PyErr_SetString(PyExc_ValueError, "resolver.meaning: malformed answer");
        return -1;
    }
    if (fill_answer(m, caller) < 0) return -1;
    m->no_caller = Py_NewRef(no_caller);
    m->by_caller = 1;
    return 0;
}

static int fill_answer(Meaning *m, PyObject *answer) {
    m->kind = MEANING_FALLBACK;
    if (answer == Py_None) return 0;
    if (PyUnicode_Check(answer)) {
        m->reason = Py_NewRef(answer);
        m->kind = MEANING_SKIP;
        return 0;
    }
    if (PyLong_Check(answer)) {
        long shape = PyLong_AsLong(answer);
        if (PyErr_Occurred()) return -1;
        int whole = (shape & SHAPE_REQUEST) && shape <= (SHAPE_REQUEST | SHAPE_RESPONSE);
        if (!whole && shape != (SHAPE_RESOURCES | SHAPE_MARKED)) {
            PyErr_SetString(PyExc_ValueError, "resolver.meaning: malformed refined shape");
            return -1;
        }
        m->refine = (int)shape;
        m->kind = MEANING_REFINE;
        return 0;
    }
    PyObject *principal, *session, *uses, *unmapped;
    int denied;
    if (!PyArg_ParseTuple(answer, "UOpOO", &principal, &session, &denied, &uses, &unmapped))
        return -1;
    if (fill_text(&m->principal, principal) < 0 || fill_text(&m->session, session) < 0 ||
        fill_uses(m, uses) < 0)
        return -1;
    if (unmapped != Py_None) {
        if (!PyTuple_Check(unmapped) || PyTuple_GET_SIZE(unmapped) != 2) {
            PyErr_SetString(PyExc_ValueError, "resolver.meaning: malformed answer");
            return -1;
        }
        m->unmapped = Py_NewRef(unmapped);
    }
    m->denied = denied;
    m->kind = MEANING_USE;
    return 0;
}

/* The shape of the record's (eventType, source, name); -1 with an error set, or -2 (no error)
   when the record falls back. */
static int shape_of(Scanner *s, const Record *r) {
    char key[KEY_BYTES];
    size_t n;
    const Field *fields[] = {&r->type, &r->source, &r->name};
    if (compose(key, &n, fields, 3) < 0) return -2;
    int fresh;
    Shape *found = memo_slot(&s->shapes, key, n, &fresh, NULL);
    if (found == NULL) {
        PyErr_NoMemory();
        return -1;
    }
    if (found->asked) return found->shape;
    PyObject *type = field_text(&r->type), *source = field_text(&r->source);
    PyObject *name = field_text(&r->name);
    PyObject *answer = (type && source && name)
        ? PyObject_CallMethod(s->resolver, "shape", "OOO", type, source, name) : NULL;
    Py_XDECREF(type);
    Py_XDECREF(source);
    Py_XDECREF(name);
    long shape = answer ? PyLong_AsLong(answer) : -1;
    Py_XDECREF(answer);
    if (!PyErr_Occurred() && (shape < 0 || shape > 31))
        PyErr_SetString(PyExc_ValueError, "resolver.shape: malformed answer");
    if (PyErr_Occurred()) {
        memo_reset(&s->shapes, NULL);
        return -1;
    }
    found->asked = 1;
    found->shape = (int)shape;
    return found->shape;
}

static inline int contains(const char *p, size_t n, const char *needle, size_t m) {
    if (n < m) return 0;
    for (size_t i = 0; i + m <= n; i++) {
        if (p[i] == needle[0] && memcmp(p + i, needle, m) == 0) return 1;
    }
    return 0;
}

static int has_marks(const Record *r) {
    const char *raws[] = {r->request, r->response, r->additional};
    size_t sizes[] = {r->request_n, r->response_n, r->additional_n};
    for (int i = 0; i < 3; i++) {
        for (size_t j = 0; raws[i] && j < sizeof MARKS / sizeof MARKS[0]; j++) {
            if (contains(raws[i], sizes[i], MARKS[j], strlen(MARKS[j]))) return 1;
        }
    }
    return 0;
}

/* The MARK_NAMES members of the request, response and additionalEventData (marks.py's
   mark_members): per part whether it is an object, then each member's value. -1 when one does
   not fit in `cap` or a part's member name has an escape. */
static int marks_of(const Record *r, char *out, size_t cap, size_t *n) {
    const char *raws[] = {r->request, r->response, r->additional};
    size_t sizes[] = {r->request_n, r->response_n, r->additional_n};
    size_t at = 0;
    for (int i = 0; i < 3; i++) {
        int object = raws[i] != NULL && sizes[i] && raws[i][0] == '{';
        Field members[MARK_COUNT];
        if (object && mark_members(raws[i], sizes[i], members) < 0) return -1;
        if (at + 1 > cap) return -1;
        out[at++] = (char)object;
        for (int j = 0; object && j < MARK_COUNT; j++) {
            size_t len = members[j].state ? members[j].n : 0;
            if (at + len + 5 > cap) return -1;
            out[at++] = (char)members[j].state;
            store_le32(out + at, (uint32_t)len);
            at += 4;
            if (len) memcpy(out + at, members[j].p, len);
            at += len;
        }
    }
    *n = at;
    return 0;
}

/* resources[] without its ARNs' text (fast_tally._layout): whether it is an array, then each
   entry's type and account, whether it has an ARN (none, empty, one) and the first entry with
   the same one. -1 when it does not fit in `cap`. */
static int layout_of(const Record *r, char *out, size_t cap, size_t *n) {
    size_t at = 0;
    out[at++] = (char)(r->resources_raw != NULL && r->resources_raw[0] == '[');
    for (int i = 0; i < r->resources; i++) {
        const Field *parts[] = {&r->res_type[i], &r->res_account[i]};
        for (int j = 0; j < 2; j++) {
            size_t len = parts[j]->state ? parts[j]->n : 0;
            if (at + len + 7 > cap) return -1;
            out[at++] = (char)parts[j]->state;
            store_le32(out + at, (uint32_t)len);
            at += 4;
            if (len) memcpy(out + at, parts[j]->p, len);
            at += len;
        }
        const Field *arn = &r->res_arn[i];
        int first = -1;
        for (int k = 0; arn->state && arn->n && k <= i; k++) {
            const Field *other = &r->res_arn[k];
            if (other->state && other->n == arn->n && memcmp(other->p, arn->p, arn->n) == 0) {
                first = k;
                break;
            }
        }
        out[at++] = (char)(arn->state == 0 ? 0 : arn->n == 0 ? 1 : 2);
        out[at++] = (char)first;
    }
    *n = at;
    return 0;
}

static Identity *identity_of(Scanner *s, const Record *r) {
    char key[KEY_BYTES];
    size_t n;
    const Field *fields[] = {&r->id_type, &r->id_arn, &r->issuer_arn, &r->id_account,
                             &r->id_user, &r->source_identity, &r->behalf_user};
    if (compose(key, &n, fields, 7) < 0) return NULL; /* no error set: the caller falls back */
    int fresh;
    Identity *found = memo_slot(&s->identities, key, n, &fresh, identity_clear_any);
    if (found == NULL) return (Identity *)PyErr_NoMemory();
    if (!fresh) return found;
    PyObject *args[7] = {NULL};
    int have = 1;
    for (int i = 0; i < 7; i++) have &= (args[i] = field_text(fields[i])) != NULL;
    PyObject *answer = NULL;
    if (have)
        answer = PyObject_CallMethod(s->resolver, "principal", "OOOOOOO", args[0], args[1],
                                     args[2], args[3], args[4], args[5], args[6]);
    for (int i = 0; i < 7; i++) Py_XDECREF(args[i]);
    int ok = answer != NULL;
    found->none = 1;
    if (ok && answer != Py_None) {
        PyObject *arn, *session;
        ok = PyArg_ParseTuple(answer, "UO", &arn, &session) &&
             (found->principal = copy_text(arn, &found->principal_n)) != NULL &&
             (session == Py_None ||
              (found->session = copy_text(session, &found->session_n)) != NULL);
        found->none = 0;
    }
    Py_XDECREF(answer);
    if (!ok) {
        memo_reset(&s->identities, identity_clear_any);
        return NULL;
    }
    return found;
}

/* The key of the record's group in `shape`; -1 when it does not fit. The caller's identity
   only in a SHAPE_REQUEST shape (the others' meanings are by caller). */
static int group_key(const Record *r, int shape, char *key, size_t *n) {
    static const Field none = {NULL, 0, 0};
    char layout[KEY_BYTES], marks[KEY_BYTES], flags[2] = {(char)shape, 0};
    size_t layout_n = 0, marks_n = 0;
    int whole = shape & SHAPE_REQUEST;
    Field identity = {NULL, 0, r->identity ? 1 : 0};
    Field request = {r->request, r->request_n, r->request ? 1 : 0};
    Field additional = {r->additional, r->additional_n, r->additional ? 1 : 0};
    Field resources = {r->resources_raw, r->resources_raw_n, r->resources_raw ? 1 : 0};
    Field response = {r->response, r->response_n, r->response ? 1 : 0};
    Field more = none, whole_additional = none, whole_resources = none, whole_response = none;
    Field marked = none;
    if (shape & SHAPE_REQUEST) {
        more = request;
        whole_additional = additional;
        whole_resources = resources;
        if (shape & SHAPE_RESPONSE) whole_response = response;
    } else if (shape & SHAPE_RESOURCES) {
        if (layout_of(r, layout, sizeof layout, &layout_n) < 0) return -1;
        more = (Field){layout, layout_n, 1};
        if (shape & SHAPE_MARKS) flags[1] = (char)has_marks(r);
        if (shape & SHAPE_MARKED) {
            if (marks_of(r, marks, sizeof marks, &marks_n) < 0) return -1;
            marked = (Field){marks, marks_n, 1};
        }
    }
    Field flag_field = {flags, 2, 1};
    const Field *fields[] = {&flag_field, &r->type, &r->source, &r->name, &r->region,
                             &r->recipient, whole ? &identity : &none,
                             whole ? &r->id_type : &none, whole ? &r->id_arn : &none,
                             whole ? &r->issuer_arn : &none, whole ? &r->id_account : &none,
                             whole ? &r->id_user : &none,
                             whole ? &r->source_identity : &none,
                             whole ? &r->behalf_user : &none, &r->code, &r->message, &more,
                             &whole_additional, &whole_resources, &whole_response, &marked};
    return compose(key, n, fields, 21);
}

/* The meaning of the record's group; NULL with an error set, or without one when the record
   falls back. */
static Meaning *meaning_of(Scanner *s, const Record *r, const char *record, size_t record_n) {
    int shape = shape_of(s, r);
    if (shape < 0) return NULL;
    for (int level = 0; level < 3; level++) { /* refined twice, a group holds all it reads */
        char key[KEY_BYTES];
        size_t n;
        if (group_key(r, shape, key, &n) < 0) return NULL; /* too long to keep: Python's */
        int fresh;
        Meaning *found = memo_slot(&s->meanings, key, n, &fresh, meaning_clear_any);
        if (found == NULL) return (Meaning *)PyErr_NoMemory();
        if (fresh) {
            PyObject *answer = PyObject_CallMethod(s->resolver, "meaning", "y#i", record,
                                                   (Py_ssize_t)record_n, shape);
            if (answer == NULL || fill_meaning(found, answer) < 0) {
                Py_XDECREF(answer);
                memo_reset(&s->meanings, meaning_clear_any);
                return NULL;
            }
            Py_DECREF(answer);
        }
        if (found->kind != MEANING_REFINE) return found->kind == MEANING_FALLBACK ? NULL : found;
        shape = found->refine;
    }
    return NULL;
}

#endif
