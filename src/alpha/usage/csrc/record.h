/* One CloudTrail record's fields, as `alpha.usage.events.LazyEvent` declares them, read in
   place from the raw JSON. A record the fast path must not judge alone is marked `dirty`: a
   field of the wrong type, a repeated field, a key or used value with escapes or non-ASCII
   bytes, too many resources. Python decodes a dirty record itself, exactly as before. */
#ifndef ALPHA_NATIVE_RECORD_H
#define ALPHA_NATIVE_RECORD_H

#include <stddef.h>
#include <string.h>

#include "json.h"

#define MAX_RESOURCES 16

typedef struct {
    const char *p;
    size_t n;
    int state; /* 0: absent or null, 1: a plain string, 2: a string with escapes/non-ASCII */
} Field;

typedef struct {
    Field time, source, name, region, ip, code, message, type, recipient;
    int identity; /* userIdentity is an object */
    Field id_type, id_arn, id_account, id_principal, id_user, id_invoked_by;
    Field issuer_type, issuer_arn, issuer_user, issuer_account;
    Field source_identity, behalf_user; /* sessionContext.sourceIdentity, onBehalfOf.userId */
    const char *request; /* requestParameters' raw JSON, NULL when absent */
    size_t request_n;
    const char *response; /* responseElements' raw JSON, NULL when absent */
    size_t response_n;
    const char *additional; /* additionalEventData's raw JSON, NULL when absent */
    size_t additional_n;
    const char *resources_raw; /* resources' raw JSON, NULL when absent */
    size_t resources_raw_n;
    int resources;
    Field res_arn[MAX_RESOURCES], res_type[MAX_RESOURCES], res_account[MAX_RESOURCES];
    int dirty;
} Record;

static inline int key_is(const JsonString *k, const char *name, size_t n) {
    return k->n == n && memcmp(k->p, name, n) == 0;
}

/* A string-or-null field's value at p; marks the record dirty for another type or a repeat. */
static inline const char *read_field(const char *p, const char *end, Field *f, unsigned *seen,
                                     unsigned bit, Record *r, int depth) {
    JsonString s;
    if (*seen & bit) r->dirty = 1;
    *seen |= bit;
    JsonKind kind = json_kind(p, end);
    if (kind == JV_STRING) {
        p = json_string(p, end, &s);
        if (p == NULL) return NULL;
        f->p = s.p;
        f->n = s.n;
        f->state = (s.escaped || s.nonascii) ? 2 : 1;
        return p;
    }
    if (kind == JV_NULL) {
        f->state = 0;
        return json_literal(p, end, "null", 4);
    }
    r->dirty = 1;
    return json_skip(p, end, depth);
}

typedef const char *(*MemberReader)(const char *p, const char *end, const JsonString *key,
                                    Record *r, unsigned *seen, int depth);

/* An object's members, each handed to `member` (which skips what it does not read). */
static const char *read_object(const char *p, const char *end, Record *r, MemberReader member,
                               int depth) {
    JsonString key;
    unsigned seen = 0;
    if (depth > JSON_MAX_DEPTH) return NULL;
    p = json_ws(p + 1, end);
    if (p < end && *p == '}') return p + 1;
    for (;;) {
        if (p >= end || *p != '"') return NULL;
        p = json_string(p, end, &key);
        if (p == NULL) return NULL;
        if (key.escaped) r->dirty = 1; /* it might name a field once unescaped */
        p = json_ws(p, end);
        if (p >= end || *p != ':') return NULL;
        p = json_ws(p + 1, end);
        p = member(p, end, &key, r, &seen, depth + 1);
        if (p == NULL) return NULL;
        int closed;
        p = json_after_item(p, end, '}', &closed);
        if (p == NULL || closed) return p;
    }
}

/* An object-or-null member read by `member`; another type marks the record dirty. */
static inline const char *read_nested(const char *p, const char *end, Record *r,
                                      MemberReader member, unsigned *seen, unsigned bit,
                                      int depth, int *present) {
    if (*seen & bit) r->dirty = 1;
    *seen |= bit;
    JsonKind kind = json_kind(p, end);
    if (kind == JV_OBJECT) {
        if (present) *present = 1;
        return read_object(p, end, r, member, depth);
    }
    if (kind == JV_NULL) {
        if (present) *present = 0;
        return json_literal(p, end, "null", 4);
    }
    r->dirty = 1;
    return json_skip(p, end, depth);
}

static const char *issuer_member(const char *p, const char *end, const JsonString *k,
                                 Record *r, unsigned *seen, int depth) {
    if (key_is(k, "type", 4)) return read_field(p, end, &r->issuer_type, seen, 1, r, depth);
    if (key_is(k, "arn", 3)) return read_field(p, end, &r->issuer_arn, seen, 2, r, depth);
    if (key_is(k, "userName", 8)) return read_field(p, end, &r->issuer_user, seen, 4, r, depth);
    if (key_is(k, "accountId", 9))
        return read_field(p, end, &r->issuer_account, seen, 8, r, depth);
    return json_skip(p, end, depth);
}

static const char *context_member(const char *p, const char *end, const JsonString *k,
                                  Record *r, unsigned *seen, int depth) {
    if (key_is(k, "sessionIssuer", 13)) {
        /* a repeated sessionIssuer would merge two objects' fields: dirty, Python decides */
        return read_nested(p, end, r, issuer_member, seen, 1, depth, NULL);
    }
    if (key_is(k, "sourceIdentity", 14))
        return read_field(p, end, &r->source_identity, seen, 2, r, depth);
    return json_skip(p, end, depth);
}

static const char *behalf_member(const char *p, const char *end, const JsonString *k,
                                 Record *r, unsigned *seen, int depth) {
    if (key_is(k, "userId", 6)) return read_field(p, end, &r->behalf_user, seen, 1, r, depth);
    return json_skip(p, end, depth);
}

static const char *identity_member(const char *p, const char *end, const JsonString *k,
                                   Record *r, unsigned *seen, int depth) {
    switch (k->n) {
    case 4:
        if (key_is(k, "type", 4)) return read_field(p, end, &r->id_type, seen, 1, r, depth);
        break;
    case 3:
        if (key_is(k, "arn", 3)) return read_field(p, end, &r->id_arn, seen, 2, r, depth);
        break;
    case 9:
        if (key_is(k, "accountId", 9))
            return read_field(p, end, &r->id_account, seen, 4, r, depth);
        if (key_is(k, "invokedBy", 9))
            return read_field(p, end, &r->id_invoked_by, seen, 8, r, depth);
        break;
    case 11:
        if (key_is(k, "principalId", 11))
            return read_field(p, end, &r->id_principal, seen, 16, r, depth);
        break;
    case 10:
        if (key_is(k, "onBehalfOf", 10))
            return read_nested(p, end, r, behalf_member, seen, 128, depth, NULL);
        break;
    case 8:
        if (key_is(k, "userName", 8)) return read_field(p, end, &r->id_user, seen, 32, r, depth);
        break;
    case 14:
        if (key_is(k, "sessionContext", 14))
            return read_nested(p, end, r, context_member, seen, 64, depth, NULL);
        break;
    }
    return json_skip(p, end, depth);
}

static const char *resource_member(const char *p, const char *end, const JsonString *k,
                                   Record *r, unsigned *seen, int depth) {
    int i = r->resources - 1;
    if (key_is(k, "ARN", 3)) return read_field(p, end, &r->res_arn[i], seen, 1, r, depth);
    if (key_is(k, "type", 4)) return read_field(p, end, &r->res_type[i], seen, 2, r, depth);
    if (key_is(k, "accountId", 9))
        return read_field(p, end, &r->res_account[i], seen, 4, r, depth);
    return json_skip(p, end, depth);
}

/* resources[]: an array of objects, or null. */
static const char *read_resources(const char *p, const char *end, Record *r, int depth) {
    if (json_kind(p, end) == JV_NULL) return json_literal(p, end, "null", 4);
    if (json_kind(p, end) != JV_ARRAY) {
        r->dirty = 1;
        return json_skip(p, end, depth);
    }
    p = json_ws(p + 1, end);
    if (p < end && *p == ']') return p + 1;
    for (;;) {
        if (json_kind(p, end) == JV_OBJECT && r->resources < MAX_RESOURCES) {
            int i = r->resources++;
            memset(&r->res_arn[i], 0, sizeof(Field));
            memset(&r->res_type[i], 0, sizeof(Field));
            memset(&r->res_account[i], 0, sizeof(Field));
            p = read_object(p, end, r, resource_member, depth + 1);
        } else {
            r->dirty = 1; /* not an object, or more resources than the fast path keeps */
            p = json_skip(p, end, depth + 1);
        }
        if (p == NULL) return NULL;
        int closed;
        p = json_after_item(p, end, ']', &closed);
        if (p == NULL || closed) return p;
    }
}

enum {
    SEEN_TIME = 1 << 0, SEEN_SOURCE = 1 << 1, SEEN_NAME = 1 << 2, SEEN_REGION = 1 << 3,
    SEEN_IP = 1 << 4, SEEN_CODE = 1 << 5, SEEN_MESSAGE = 1 << 6, SEEN_IDENTITY = 1 << 7,
    SEEN_REQUEST = 1 << 8, SEEN_RESOURCES = 1 << 9, SEEN_RECIPIENT = 1 << 10,
    SEEN_TYPE = 1 << 11, SEEN_RESPONSE = 1 << 12, SEEN_ADDITIONAL = 1 << 13
};

/* Any JSON value of a member kept raw (a repeated one marks the record dirty). */
static inline const char *read_raw(const char *p, const char *end, const char **raw, size_t *n,
                                   unsigned *seen, unsigned bit, Record *r, int depth) {
    if (*seen & bit) r->dirty = 1;
    *seen |= bit;
    *raw = p;
    const char *after = json_skip(p, end, depth);
    *n = after ? (size_t)(after - p) : 0;
    return after;
}

static const char *record_member(const char *p, const char *end, const JsonString *k,
                                 Record *r, unsigned *seen, int depth) {
    switch (k->n) {
    case 9:
        if (key_is(k, "eventTime", 9))
            return read_field(p, end, &r->time, seen, SEEN_TIME, r, depth);
        if (key_is(k, "eventName", 9))
            return read_field(p, end, &r->name, seen, SEEN_NAME, r, depth);
        if (key_is(k, "awsRegion", 9))
            return read_field(p, end, &r->region, seen, SEEN_REGION, r, depth);
        if (key_is(k, "errorCode", 9))
            return read_field(p, end, &r->code, seen, SEEN_CODE, r, depth);
        if (key_is(k, "eventType", 9))
            return read_field(p, end, &r->type, seen, SEEN_TYPE, r, depth);
        if (key_is(k, "resources", 9)) {
            if (*seen & SEEN_RESOURCES) r->dirty = 1;
            *seen |= SEEN_RESOURCES;
            r->resources_raw = p;
            const char *after = read_resources(p, end, r, depth);
            r->resources_raw_n = after ? (size_t)(after - p) : 0;
            return after;
        }
        break;
    case 11:
        if (key_is(k, "eventSource", 11))
            return read_field(p, end, &r->source, seen, SEEN_SOURCE, r, depth);
        break;
    case 15:
        if (key_is(k, "sourceIPAddress", 15))
            return read_field(p, end, &r->ip, seen, SEEN_IP, r, depth);
        break;
    case 12:
        if (key_is(k, "errorMessage", 12))
            return read_field(p, end, &r->message, seen, SEEN_MESSAGE, r, depth);
        if (key_is(k, "userIdentity", 12))
            return read_nested(p, end, r, identity_member, seen, SEEN_IDENTITY, depth,
                               &r->identity);
        break;
    case 17:
        if (key_is(k, "requestParameters", 17)) {
            const char *start = p;
            JsonKind kind = json_kind(p, end);
            if (*seen & SEEN_REQUEST) r->dirty = 1;
            *seen |= SEEN_REQUEST;
            if (kind != JV_OBJECT && kind != JV_NULL) r->dirty = 1;
            p = json_skip(p, end, depth);
            if (p != NULL && kind == JV_OBJECT) {
                r->request = start;
                r->request_n = (size_t)(p - start);
            } else {
                r->request = NULL;
            }
            return p;
        }
        break;
    case 16:
        if (key_is(k, "responseElements", 16))
            return read_raw(p, end, &r->response, &r->response_n, seen, SEEN_RESPONSE, r, depth);
        break;
    case 19:
        if (key_is(k, "additionalEventData", 19))
            return read_raw(p, end, &r->additional, &r->additional_n, seen, SEEN_ADDITIONAL, r,
                            depth);
        break;
    case 18:
        if (key_is(k, "recipientAccountId", 18))
            return read_field(p, end, &r->recipient, seen, SEEN_RECIPIENT, r, depth);
        break;
    }
    return json_skip(p, end, depth);
}

/* A record at p (an object); the position after it, or NULL on a syntax error. */
static inline const char *read_record(const char *p, const char *end, Record *r) {
    memset(r, 0, offsetof(Record, res_arn));
    r->dirty = 0;
    p = read_object(p, end, r, record_member, 2);
    if (p == NULL) return NULL;
    /* fields the interpretation reads as text must be plain, and the call must be named */
    const Field *used[] = {&r->time, &r->source, &r->name, &r->region, &r->ip, &r->code,
                           &r->message, &r->type, &r->id_type, &r->id_arn, &r->id_account,
                           &r->id_user, &r->issuer_arn, &r->source_identity,
                           &r->behalf_user};
    for (size_t i = 0; i < sizeof used / sizeof used[0]; i++) {
        if (used[i]->state == 2) r->dirty = 1;
    }
    for (int i = 0; i < r->resources; i++) {
        if (r->res_arn[i].state == 2 || r->res_type[i].state == 2) r->dirty = 1;
    }
    if (r->source.state != 1 || r->source.n == 0 || r->name.state != 1 || r->name.n == 0)
        r->dirty = 1;
    return p;
}

#endif
