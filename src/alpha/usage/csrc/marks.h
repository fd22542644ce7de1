/* The members of a request, response or additionalEventData that the meaning of an S3 object
   call reads (alpha/usage/marks.py: MARK_NAMES, and VERSIONED for a versionId that is a
   non-empty string), taken from the raw JSON in place, so a group's key holds them instead of
   the whole part. The text was validated when the record was read. */
#ifndef ALPHA_NATIVE_MARKS_H
#define ALPHA_NATIVE_MARKS_H

#include <string.h>

#include "json.h"
#include "record.h"

#define MARK_COUNT 3
static const char *const MARK_NAMES[MARK_COUNT] = {
    "versionId", "x-amz-server-side-encryption-aws-kms-key-id", "SSEKMSKeyARN"};
static const char VERSIONED[] = "\"v\"";

/* The raw value of each MARK_NAMES member at the top of the object at p (n bytes), the last
   of a repeated name as Python's decoding keeps; each absent one has state 0. -1 when a
   member's name has an escape (it could spell a mark: Python reads the record). */
static int mark_members(const char *p, size_t n, Field out[MARK_COUNT]) {
    const char *end = p + n;
    for (int i = 0; i < MARK_COUNT; i++) out[i] = (Field){NULL, 0, 0};
    p = json_ws(p + 1, end);
    while (p < end && *p == '"') {
        JsonString name;
        p = json_string(p, end, &name);
        if (p == NULL || name.escaped) return -1;
        p = json_ws(p, end);
        if (p >= end || *p != ':') return -1;
        const char *value = json_ws(p + 1, end);
        p = json_skip(value, end, 1);
        if (p == NULL) return -1;
        for (int i = 0; i < MARK_COUNT; i++) {
            if (key_is(&name, MARK_NAMES[i], strlen(MARK_NAMES[i])))
                out[i] = (Field){value, (size_t)(p - value), 1};
        }
        p = json_ws(p, end);
        if (p < end && *p == ',') p = json_ws(p + 1, end);
    }
    if (out[0].state && out[0].n > 2 && out[0].p[0] == '"')
        out[0] = (Field){VERSIONED, sizeof VERSIONED - 1, 1};
    return 0;
}

#endif
