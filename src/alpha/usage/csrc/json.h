/* A strict JSON scanner over one CloudTrail log document, in place (no copies, no Python).

   It validates everything it passes over: string escapes and UTF-8, number grammar,
   literals, nesting. It is stricter than msgspec on purpose (it rejects invalid UTF-8 in
   fields nobody reads, which msgspec skips unchecked): a document this scanner rejects goes
   whole through the Python reader, so being stricter only costs speed, never correctness.

   A string is returned as a slice of the raw text between its quotes with two flags: whether
   it holds an escape and whether it holds non-ASCII bytes. The fast path only ever uses
   plain slices (neither flag), which are already their own canonical JSON form. */
#ifndef ALPHA_NATIVE_JSON_H
#define ALPHA_NATIVE_JSON_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

#define JSON_MAX_DEPTH 256

typedef struct {
    const char *p; /* first byte after the opening quote */
    size_t n;      /* bytes up to the closing quote */
    int escaped;   /* holds a backslash escape */
    int nonascii;  /* holds a byte >= 0x80 */
} JsonString;

typedef enum {
    JV_STRING,
    JV_NUMBER,
    JV_OBJECT,
    JV_ARRAY,
    JV_TRUE,
    JV_FALSE,
    JV_NULL,
    JV_ERROR
} JsonKind;

static inline const char *json_ws(const char *p, const char *end) {
    while (p < end && (*p == ' ' || *p == '\n' || *p == '\r' || *p == '\t')) p++;
    return p;
}

static inline int json_hex(unsigned char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

/* The code unit of `\uXXXX` at p (p at the 'u'), or -1. */
static inline long json_u16(const char *p, const char *end) {
    long v = 0;
    if (end - p < 5) return -1;
    for (int i = 1; i <= 4; i++) {
        int h = json_hex((unsigned char)p[i]);
        if (h < 0) return -1;
        v = v * 16 + h;
    }
    return v;
}

/* One escape sequence at p (just after the backslash); the next position, or NULL. */
static inline const char *json_escape(const char *p, const char *end) {
    if (p >= end) return NULL;
    switch (*p) {
    case '"': case '\\': case '/': case 'b': case 'f': case 'n': case 'r': case 't':
        return p + 1;
    case 'u': {
        long hi = json_u16(p, end);
        if (hi < 0) return NULL;
        if (hi >= 0xDC00 && hi <= 0xDFFF) return NULL; /* a lone low surrogate */
        if (hi >= 0xD800 && hi <= 0xDBFF) {            /* must pair with a low one */
            if (end - p < 12 || p[5] != '\\' || p[6] != 'u') return NULL;
            long lo = json_u16(p + 6, end);
            if (lo < 0xDC00 || lo > 0xDFFF) return NULL;
            return p + 11;
        }
        return p + 5;
    }
    default:
        return NULL;
    }
}

/* One UTF-8 sequence starting at p (a byte >= 0x80); the next position, or NULL. */
static inline const char *json_utf8(const char *p, const char *end) {
    const unsigned char *u = (const unsigned char *)p;
    unsigned char c = u[0];
    size_t left = (size_t)(end - p);
    if (c >= 0xC2 && c <= 0xDF) {
        if (left < 2 || (u[1] & 0xC0) != 0x80) return NULL;
        return p + 2;
    }
    if (c >= 0xE0 && c <= 0xEF) {
        if (left < 3 || (u[1] & 0xC0) != 0x80 || (u[2] & 0xC0) != 0x80) return NULL;
        if (c == 0xE0 && u[1] < 0xA0) return NULL; /* overlong */
        if (c == 0xED && u[1] > 0x9F) return NULL; /* a surrogate */
        return p + 3;
    }
    if (c >= 0xF0 && c <= 0xF4) {
        if (left < 4 || (u[1] & 0xC0) != 0x80 || (u[2] & 0xC0) != 0x80 ||
            (u[3] & 0xC0) != 0x80)
            return NULL;
        if (c == 0xF0 && u[1] < 0x90) return NULL; /* overlong */
        if (c == 0xF4 && u[1] > 0x8F) return NULL; /* past U+10FFFF */
        return p + 4;
    }
    return NULL;
}

/* A string at p (at the opening quote); the position after the closing quote, or NULL. */
static inline const char *json_string(const char *p, const char *end, JsonString *out) {
    const char *start = ++p;
    int escaped = 0, nonascii = 0;
    for (;;) {
        /* the common run of plain bytes, 16 (SSE2) or 8 (SWAR) at a time; a block holding a
           quote, backslash, control or non-ASCII byte stops the run at that byte */
#if defined(__SSE2__)
        const __m128i quote = _mm_set1_epi8('"'), slash = _mm_set1_epi8('\\');
        const __m128i space = _mm_set1_epi8(0x20);
        while (end - p >= 16) {
            __m128i w = _mm_loadu_si128((const __m128i *)p);
            /* signed compare: bytes >= 0x80 are negative, so `w < 0x20` flags them too */
            __m128i flagged = _mm_or_si128(
                _mm_or_si128(_mm_cmpeq_epi8(w, quote), _mm_cmpeq_epi8(w, slash)),
                _mm_cmplt_epi8(w, space));
            int mask = _mm_movemask_epi8(flagged);
            if (mask) {
                p += __builtin_ctz((unsigned)mask);
                break;
            }
            p += 16;
        }
#elif defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
        while (end - p >= 8) {
            uint64_t w;
            memcpy(&w, p, 8);
            uint64_t quote = w ^ 0x2222222222222222ULL;
            uint64_t slash = w ^ 0x5C5C5C5C5C5C5C5CULL;
            /* the lowest flagged byte of each test is always a true match */
            uint64_t flagged = ((quote - 0x0101010101010101ULL) & ~quote) |
                               ((slash - 0x0101010101010101ULL) & ~slash) |
                               ((w - 0x2020202020202020ULL) & ~w) | w;
            flagged &= 0x8080808080808080ULL;
            if (flagged) {
                p += __builtin_ctzll(flagged) >> 3;
                break;
            }
            p += 8;
        }
#endif
        if (p >= end) return NULL;
        unsigned char c = (unsigned char)*p;
        if (c == '"') break;
        if (c == '\\') {
            escaped = 1;
            p = json_escape(p + 1, end);
            if (p == NULL) return NULL;
        } else if (c < 0x20) {
            return NULL;
        } else if (c >= 0x80) {
            nonascii = 1;
            p = json_utf8(p, end);
            if (p == NULL) return NULL;
        } else {
            p++;
        }
    }
    out->p = start;
    out->n = (size_t)(p - start);
    out->escaped = escaped;
    out->nonascii = nonascii;
    return p + 1;
}

static inline const char *json_digits(const char *p, const char *end) {
    const char *start = p;
    while (p < end && *p >= '0' && *p <= '9') p++;
    return p == start ? NULL : p;
}

/* A number at p, by JSON's grammar; the position after it, or NULL. */
static inline const char *json_number(const char *p, const char *end) {
    if (p < end && *p == '-') p++;
    if (p >= end) return NULL;
    if (*p == '0') {
        p++;
    } else {
        p = json_digits(p, end);
        if (p == NULL) return NULL;
    }
    if (p < end && *p == '.') {
        p = json_digits(p + 1, end);
        if (p == NULL) return NULL;
    }
    if (p < end && (*p == 'e' || *p == 'E')) {
        p++;
        if (p < end && (*p == '+' || *p == '-')) p++;
        p = json_digits(p, end);
        if (p == NULL) return NULL;
    }
    return p;
}

static inline const char *json_literal(const char *p, const char *end, const char *word,
                                       size_t n) {
    if ((size_t)(end - p) < n || memcmp(p, word, n) != 0) return NULL;
    return p + n;
}

/* The kind of the value starting at p (whitespace already skipped). */
static inline JsonKind json_kind(const char *p, const char *end) {
    if (p >= end) return JV_ERROR;
    switch (*p) {
    case '"': return JV_STRING;
    case '{': return JV_OBJECT;
    case '[': return JV_ARRAY;
    case 't': return JV_TRUE;
    case 'f': return JV_FALSE;
    case 'n': return JV_NULL;
    default:
        return (*p == '-' || (*p >= '0' && *p <= '9')) ? JV_NUMBER : JV_ERROR;
    }
}

static const char *json_skip(const char *p, const char *end, int depth);

/* After a member or element: the next one's position, or just past the closing `close` with
   *closed set; NULL on a syntax error. */
static inline const char *json_after_item(const char *p, const char *end, char close,
                                          int *closed) {
    p = json_ws(p, end);
    *closed = 0;
    if (p < end && *p == ',') return json_ws(p + 1, end);
    if (p < end && *p == close) {
        *closed = 1;
        return p + 1;
    }
    return NULL;
}

static inline const char *json_skip_object(const char *p, const char *end, int depth) {
    JsonString key;
    p = json_ws(p + 1, end);
    if (p < end && *p == '}') return p + 1;
    for (;;) {
        if (p >= end || *p != '"') return NULL;
        p = json_string(p, end, &key);
        if (p == NULL) return NULL;
        p = json_ws(p, end);
        if (p >= end || *p != ':') return NULL;
        p = json_skip(json_ws(p + 1, end), end, depth + 1);
        if (p == NULL) return NULL;
        int closed;
        p = json_after_item(p, end, '}', &closed);
        if (p == NULL || closed) return p;
    }
}

static inline const char *json_skip_array(const char *p, const char *end, int depth) {
    p = json_ws(p + 1, end);
    if (p < end && *p == ']') return p + 1;
    for (;;) {
        p = json_skip(p, end, depth + 1);
        if (p == NULL) return NULL;
        int closed;
        p = json_after_item(p, end, ']', &closed);
        if (p == NULL || closed) return p;
    }
}

/* Any value at p (whitespace already skipped), validated; the position after it, or NULL. */
static const char *json_skip(const char *p, const char *end, int depth) {
    JsonString ignored;
    if (depth > JSON_MAX_DEPTH) return NULL;
    switch (json_kind(p, end)) {
    case JV_STRING: return json_string(p, end, &ignored);
    case JV_NUMBER: return json_number(p, end);
    case JV_OBJECT: return json_skip_object(p, end, depth);
    case JV_ARRAY: return json_skip_array(p, end, depth);
    case JV_TRUE: return json_literal(p, end, "true", 4);
    case JV_FALSE: return json_literal(p, end, "false", 5);
    case JV_NULL: return json_literal(p, end, "null", 4);
    default: return NULL;
    }
}

#endif
