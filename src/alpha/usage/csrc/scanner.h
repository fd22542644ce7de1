/* The Python type `Scanner`: the per-record fast path, with the resolver's answers memoised.

   The resolver (alpha/usage/native.py) answers four questions, each asked once per distinct
   key and cached here (each cache is cleared past MEMO_LIMIT keys, so hostile input with
   endless distinct values cannot grow it):
     plan(event_type, source, name) -> None (the request decides: fall back)
                                     | ("skip", reason) | ("unmapped",)
                                     | ("mapped", versioned, ((action, mode), ...))
         mode 0: the action takes no resource ("*"); 1: from resources[]; 2: fall back
     principal(type, arn, issuer_arn, account_id, user_name, source_identity, behalf_user)
         -> (arn, person | None) | None
     error(code, message | None) -> 0 none, 1 denied, 2 unauthenticated, 3 other
     takes(action, resource_type | None) -> True | False | None (the ARN decides: fall back)
     uses(record) -> ((action, resource), ...) | None, for a mapped record whose resources
         the request decides: cached by everything they can depend on (the event name,
         region, accounts, the calling user, resources[] and requestParameters as raw text)
   `error` is cached by code alone when the message cannot change the answer.

   A memo's tables are made on its first use and dropped whole when it is reset, so a reset
   (past MEMO_LIMIT, or after the resolver failed) never allocates and cannot fail; a memo
   whose tables could not be made answers MemoryError and tries again on its next use. */
#ifndef ALPHA_NATIVE_SCANNER_H
#define ALPHA_NATIVE_SCANNER_H

#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "alloc.h"
#include "record.h"
#include "table.h"
#include "tally.h"
#include "tally_type.h"

#define MEMO_LIMIT 100000
#define REQUEST_MEMO_LIMIT 20000 /* its keys hold whole requests: fewer of them */
#define MAX_PLAN_ACTIONS 8
#define MAX_USES 64
#define KEY_BYTES 2048

enum { PLAN_FALLBACK, PLAN_SKIP, PLAN_UNMAPPED, PLAN_MAPPED };
enum { ERR_NONE, ERR_DENIED, ERR_UNAUTHENTICATED, ERR_OTHER };
enum { MODE_NOTHING, MODE_RESOURCES, MODE_FALLBACK };

typedef struct {
    uint64_t generation; /* of the tally `id` belongs to */
    uint32_t id;
} CachedId;

typedef struct {
    int kind, versioned, n;
    PyObject *reason; /* PLAN_SKIP: str */
    char *actions[MAX_PLAN_ACTIONS];
    size_t action_n[MAX_PLAN_ACTIONS];
    int mode[MAX_PLAN_ACTIONS];
    uint32_t action_key[MAX_PLAN_ACTIONS]; /* the action's id in the scanner's own interner */
    CachedId tally_action[MAX_PLAN_ACTIONS];
} Plan;

typedef struct {
    int none;
    char *principal, *session; /* canonical JSON text; session NULL when None */
    size_t principal_n, session_n;
    CachedId tally_principal, tally_session;
} Identity;

typedef struct {
    char *text;
    size_t n;
    CachedId id;
} Text;

typedef struct {
    int none, n; /* none: the resolver could not say (the record falls back) */
    Text *actions, *resources;
} Uses;

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
    Memo plans, identities, errors, takes, uses;
    Interner action_keys;
    size_t record_limit; /* bytes: a longer record is Python's to skip (alpha/usage/reader.py) */
} Scanner;

static void plan_clear(Plan *p) {
    Py_CLEAR(p->reason);
    for (int i = 0; i < p->n; i++) free(p->actions[i]);
    p->n = 0;
}

static void identity_clear(Identity *i) {
    free(i->principal);
    free(i->session);
    i->principal = i->session = NULL;
}

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

static void uses_clear(Uses *u) {
    for (int i = 0; i < u->n; i++) {
        free(u->actions[i].text);
        free(u->resources[i].text);
    }
    free(u->actions);
    free(u->resources);
    u->actions = u->resources = NULL;
    u->n = 0;
}

static void uses_clear_any(void *u) { uses_clear(u); }
static void plan_clear_any(void *p) { plan_clear(p); }
static void identity_clear_any(void *p) { identity_clear(p); }

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

static int fill_plan(Scanner *s, Plan *plan, PyObject *answer) {
    plan->kind = PLAN_FALLBACK;
    if (answer == Py_None) return 0;
    const char *kind;
    PyObject *first = PyTuple_Check(answer) && PyTuple_GET_SIZE(answer) ? PyTuple_GET_ITEM(answer, 0) : NULL;
    if (first == NULL || (kind = PyUnicode_AsUTF8(first)) == NULL) goto bad;
    if (strcmp(kind, "skip") == 0 && PyTuple_GET_SIZE(answer) == 2) {
        plan->reason = Py_NewRef(PyTuple_GET_ITEM(answer, 1));
        plan->kind = PLAN_SKIP;
        return 0;
    }
    if (strcmp(kind, "unmapped") == 0) {
        plan->kind = PLAN_UNMAPPED;
        return 0;
    }
    if (strcmp(kind, "mapped") != 0 || PyTuple_GET_SIZE(answer) != 3) goto bad;
    PyObject *actions = PyTuple_GET_ITEM(answer, 2);
    if (!PyTuple_Check(actions) || PyTuple_GET_SIZE(actions) > MAX_PLAN_ACTIONS) {
        return 0; /* more actions than the fast path keeps: fall back */
    }
    plan->versioned = PyObject_IsTrue(PyTuple_GET_ITEM(answer, 1));
    if (plan->versioned < 0) return -1;
    for (Py_ssize_t i = 0; i < PyTuple_GET_SIZE(actions); i++) {
        PyObject *pair = PyTuple_GET_ITEM(actions, i);
        if (!PyTuple_Check(pair) || PyTuple_GET_SIZE(pair) != 2) goto bad;
        long mode = PyLong_AsLong(PyTuple_GET_ITEM(pair, 1));
        if (mode == -1 && PyErr_Occurred()) return -1;
        size_t n;
        char *text = copy_text(PyTuple_GET_ITEM(pair, 0), &n);
        if (text == NULL) return -1;
        plan->actions[plan->n] = text; /* held by the plan from here: cleared with it */
        plan->action_n[plan->n] = n;
        plan->mode[plan->n] = (int)mode;
        plan->tally_action[plan->n].generation = 0;
        /* takes() keys its answers by this id: none (out of memory) must fail, not share 0 */
        plan->action_key[plan->n] = interner_id(&s->action_keys, text, n);
        if (plan->action_key[plan->n++] == 0) {
            PyErr_NoMemory();
            return -1;
        }
    }
    plan->kind = PLAN_MAPPED;
    return 0;
bad:
    if (!PyErr_Occurred()) PyErr_SetString(PyExc_ValueError, "resolver.plan: malformed answer");
    return -1;
}

static int fill_uses(Uses *u, PyObject *answer) {
    u->none = 1;
    if (answer == Py_None) return 0;
    PyObject *pairs = PySequence_Fast(answer, "resolver.uses: expected a sequence");
    if (pairs == NULL) return -1;
    Py_ssize_t n = PySequence_Fast_GET_SIZE(pairs);
    u->actions = native_calloc((size_t)n + 1, sizeof(Text));
    u->resources = native_calloc((size_t)n + 1, sizeof(Text));
    int failed = u->actions == NULL || u->resources == NULL;
    for (Py_ssize_t i = 0; i < n && !failed; i++) {
        PyObject *action, *resource;
        failed = !PyArg_ParseTuple(PySequence_Fast_GET_ITEM(pairs, i), "UU", &action, &resource);
        if (failed) break;
        u->actions[i].text = copy_text(action, &u->actions[i].n);
        u->resources[i].text = copy_text(resource, &u->resources[i].n);
        u->n = (int)i + 1;
        failed = u->actions[i].text == NULL || u->resources[i].text == NULL;
    }
    Py_DECREF(pairs);
    if (failed) {
        if (!PyErr_Occurred()) PyErr_NoMemory();
        return -1;
    }
    u->none = 0;
    return 0;
}

static Plan *plan_of(Scanner *s, const Record *r) {
    char key[KEY_BYTES];
    size_t n;
    const Field *fields[] = {&r->type, &r->source, &r->name};
    if (compose(key, &n, fields, 3) < 0) return NULL; /* caller falls back */
    int fresh;
    Plan *plan = memo_slot(&s->plans, key, n, &fresh, plan_clear_any);
    if (plan == NULL) return (Plan *)PyErr_NoMemory();
    if (!fresh) return plan;
    PyObject *type = field_text(&r->type), *source = field_text(&r->source);
    PyObject *name = field_text(&r->name);
    PyObject *answer = (type && source && name)
        ? PyObject_CallMethod(s->resolver, "plan", "OOO", type, source, name) : NULL;
    Py_XDECREF(type);
    Py_XDECREF(source);
    Py_XDECREF(name);
    int failed = answer == NULL || fill_plan(s, plan, answer) < 0;
    Py_XDECREF(answer);
    if (failed) {
        memo_reset(&s->plans, plan_clear_any);
        return NULL;
    }
    return plan;
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

/* The resolver's error kind of the record's code, with its message or without; -1 with an
   error set when the resolver failed. */
static long ask_error(Scanner *s, const Record *r, int with_message) {
    PyObject *code = field_text(&r->code);
    PyObject *message = with_message ? field_text(&r->message) : Py_NewRef(Py_None);
    PyObject *answer = (code && message)
        ? PyObject_CallMethod(s->resolver, "error", "OO", code, message) : NULL;
    Py_XDECREF(code);
    Py_XDECREF(message);
    long value = answer ? PyLong_AsLong(answer) : -1;
    Py_XDECREF(answer);
    if (PyErr_Occurred()) return -1;
    if (value < ERR_NONE || value > ERR_OTHER) {
        PyErr_SetString(PyExc_ValueError, "resolver.error: malformed answer");
        return -1;
    }
    return value;
}

static int error_kind(Scanner *s, const Record *r) {
    if (r->code.state == 0 || r->code.n == 0) return ERR_NONE;
    int fresh;
    int *kind = memo_slot(&s->errors, r->code.p, r->code.n, &fresh, NULL);
    if (kind == NULL) {
        PyErr_NoMemory();
        return -1;
    }
    long value = *kind;
    if (fresh) {
        value = ask_error(s, r, 0); /* the answer without a message, cached by code */
        if (value >= 0) *kind = (int)value;
    }
    /* a message can still name a denial: asked each time, never cached */
    if (value == ERR_OTHER && r->message.state == 1 && r->message.n > 0)
        value = ask_error(s, r, 1);
    if (value < 0) memo_reset(&s->errors, NULL); /* no half-made answer is kept */
    return (int)value;
}

/* Whether the action takes a resource of this resources[] type: 1, 0, or 2 (ask the ARN). */
static int takes(Scanner *s, const Plan *plan, int i, const Field *type) {
    char key[KEY_BYTES];
    size_t n = 0;
    if (type->n + 9 > KEY_BYTES) return 2;
    store_le32(key, plan->action_key[i]);
    key[4] = (char)type->state;
    n = 5;
    if (type->state) {
        memcpy(key + n, type->p, type->n);
        n += type->n;
    }
    int fresh;
    signed char *found = memo_slot(&s->takes, key, n, &fresh, NULL);
    if (found == NULL) {
        PyErr_NoMemory();
        return -1;
    }
    if (!fresh) return *found;
    PyObject *action_text = PyUnicode_FromStringAndSize(plan->actions[i],
                                                        (Py_ssize_t)plan->action_n[i]);
    PyObject *type_text = field_text(type);
    PyObject *answer = (action_text && type_text)
        ? PyObject_CallMethod(s->resolver, "takes", "OO", action_text, type_text) : NULL;
    Py_XDECREF(action_text);
    Py_XDECREF(type_text);
    if (answer == NULL) {
        memo_reset(&s->takes, NULL);
        return -1;
    }
    *found = answer == Py_None ? 2 : (signed char)PyObject_IsTrue(answer);
    Py_DECREF(answer);
    return *found;
}

/* The uses of a mapped record whose resources the request decides; NULL with no error set
   when the record falls back. */
static Uses *uses_of(Scanner *s, const Record *r, const char *record, size_t record_n) {
    static const Field none = {NULL, 0, 0};
    char key[KEY_BYTES];
    size_t n;
    int user = r->id_type.state == 1 && r->id_type.n == 7 && memcmp(r->id_type.p, "IAMUser", 7) == 0;
    Field resources = {r->resources_raw, r->resources_raw_n, r->resources_raw ? 1 : 0};
    Field request = {r->request, r->request_n, r->request ? 1 : 0};
    const Field *fields[] = {&r->type, &r->source, &r->name, &r->region, &r->recipient,
                             &r->id_account, &r->id_type, user ? &r->id_arn : &none,
                             &resources, &request};
    if (compose(key, &n, fields, 10) < 0) return NULL;
    int fresh;
    Uses *found = memo_slot(&s->uses, key, n, &fresh, uses_clear_any);
    if (found == NULL) return (Uses *)PyErr_NoMemory();
    if (!fresh) return found->none ? NULL : found;
    PyObject *answer = PyObject_CallMethod(s->resolver, "uses", "y#", record,
                                           (Py_ssize_t)record_n);
    if (answer == NULL || fill_uses(found, answer) < 0) {
        Py_XDECREF(answer);
        memo_reset(&s->uses, uses_clear_any);
        return NULL;
    }
    Py_DECREF(answer);
    return found->none ? NULL : found;
}

#endif
