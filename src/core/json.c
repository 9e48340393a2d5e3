/* A strict JSON reader over spans: validation, object members, strings and
 * exact integral numbers. */
#include "core/json.h"

#include <stdio.h>
#include <string.h>

#include "core/utf8.h"
#include "util/hex.h"

/* A position in the input and the first error met. */
struct json_scan {
    const char *s;
    size_t n;
    size_t i;
    const char *why;
    size_t at;
};

static int scan_value(struct json_scan *sc, int depth, enum json_type *type);

static int scan_fail(struct json_scan *sc, const char *why)
{
    if (sc->why == NULL) {
        sc->why = why;
        sc->at = sc->i;
    }
    return -1;
}

static void scan_ws(struct json_scan *sc)
{
    while (sc->i < sc->n) {
        char c = sc->s[sc->i];
        if (c != ' ' && c != '\t' && c != '\n' && c != '\r')
            break;
        sc->i++;
    }
}

/* Reads the 4 hex digits of a \u escape at s[*i]. Returns the unit or -1. */
static long hex4(const char *s, size_t n, size_t *i)
{
    long v = 0;

    if (n - *i < 4)
        return -1;
    for (int k = 0; k < 4; k++) {
        int h = hex_value(s[*i + k]);
        if (h < 0)
            return -1;
        v = v * 16 + h;
    }
    *i += 4;
    return v;
}

/* Reads a \u escape (the backslash and 'u' already read), joining a
 * surrogate pair. Returns the code point or -1 with *why set. */
static long str_unicode(const char *s, size_t n, size_t *i, const char **why)
{
    long hi = hex4(s, n, i), lo;

    *why = "bad \\u escape";
    if (hi < 0)
        return -1;
    if (hi >= 0xdc00 && hi <= 0xdfff) {
        *why = "unpaired surrogate";
        return -1;
    }
    if (hi < 0xd800 || hi > 0xdbff)
        return hi;
    *why = "unpaired surrogate";
    if (n - *i < 2 || s[*i] != '\\' || s[*i + 1] != 'u')
        return -1;
    *i += 2;
    lo = hex4(s, n, i);
    if (lo < 0xdc00 || lo > 0xdfff)
        return -1;
    return 0x10000 + ((hi - 0xd800) << 10) + (lo - 0xdc00);
}

/* Reads one escape, the backslash already read. */
static long str_escape(const char *s, size_t n, size_t *i, const char **why)
{
    static const char from[] = "\"\\/bfnrt";
    static const char to[] = "\"\\/\b\f\n\r\t";
    const char *p;

    *why = "bad escape";
    if (*i >= n)
        return -1;
    if (s[*i] == 'u') {
        (*i)++;
        return str_unicode(s, n, i, why);
    }
    p = s[*i] ? strchr(from, s[*i]) : NULL;
    if (p == NULL)
        return -1;
    (*i)++;
    return (unsigned char)to[p - from];
}

/* Reads one character of a string body at s[*i]. Returns 1 with *cp, 0 at
 * the closing quote (read), or -1 with *why set. */
static int str_next(const char *s, size_t n, size_t *i, uint32_t *cp,
                    const char **why)
{
    unsigned char c;
    size_t len;
    long v;

    if (*i >= n) {
        *why = "unterminated string";
        return -1;
    }
    c = (unsigned char)s[*i];
    if (c == '"') {
        (*i)++;
        return 0;
    }
    if (c < 0x20) {
        *why = "control character in string";
        return -1;
    }
    if (c == '\\') {
        (*i)++;
        v = str_escape(s, n, i, why);
        if (v < 0)
            return -1;
        *cp = (uint32_t)v;
        return 1;
    }
    len = utf8_decode(s + *i, n - *i, cp);
    if (len == 0) {
        *why = "invalid UTF-8";
        return -1;
    }
    *i += len;
    return 1;
}

static int scan_string(struct json_scan *sc)
{
    const char *why = NULL;
    uint32_t cp;
    int rc;

    sc->i++; /* the opening quote */
    do {
        /* Plain ASCII needs no decoding: skip it in one pass. */
        while (sc->i < sc->n) {
            unsigned char c = (unsigned char)sc->s[sc->i];
            if (c < 0x20 || c >= 0x80 || c == '"' || c == '\\')
                break;
            sc->i++;
        }
    } while ((rc = str_next(sc->s, sc->n, &sc->i, &cp, &why)) == 1);
    return rc == 0 ? 0 : scan_fail(sc, why);
}

static size_t skip_digits(const char *s, size_t n, size_t i)
{
    while (i < n && s[i] >= '0' && s[i] <= '9')
        i++;
    return i;
}

/* The length of the JSON number at s[0..n), or 0 when none starts there. */
static size_t number_len(const char *s, size_t n)
{
    size_t i = 0, j;

    if (i < n && s[i] == '-')
        i++;
    if (i < n && s[i] == '0')
        i++;
    else if (i < n && s[i] >= '1' && s[i] <= '9')
        i = skip_digits(s, n, i);
    else
        return 0;
    if (i < n && s[i] == '.') {
        j = skip_digits(s, n, i + 1);
        if (j == i + 1)
            return 0;
        i = j;
    }
    if (i < n && (s[i] == 'e' || s[i] == 'E')) {
        i++;
        if (i < n && (s[i] == '+' || s[i] == '-'))
            i++;
        j = skip_digits(s, n, i);
        if (j == i)
            return 0;
        i = j;
    }
    return i;
}

static int scan_word(struct json_scan *sc, const char *word)
{
    size_t len = strlen(word);

    if (sc->n - sc->i < len || memcmp(sc->s + sc->i, word, len) != 0)
        return scan_fail(sc, "bad literal");
    sc->i += len;
    return 0;
}

/* Reads "key": value, the key's quote at sc->i, recording the spans of
 * both in m (its key is set as soon as the key has been read). */
static int scan_member(struct json_scan *sc, int depth, struct json_member *m)
{
    size_t start = sc->i;

    if (sc->i >= sc->n || sc->s[sc->i] != '"')
        return scan_fail(sc, "expected a string key");
    if (scan_string(sc) != 0)
        return -1;
    m->key = sc->s + start;
    m->klen = sc->i - start;
    scan_ws(sc);
    if (sc->i >= sc->n || sc->s[sc->i] != ':')
        return scan_fail(sc, "expected ':'");
    sc->i++;
    scan_ws(sc);
    start = sc->i;
    if (scan_value(sc, depth, &m->type) != 0)
        return -1;
    m->val = sc->s + start;
    m->vlen = sc->i - start;
    return 0;
}

/* Reads an object or array, the opening bracket at sc->i. */
static int scan_container(struct json_scan *sc, int depth, char close)
{
    struct json_member m;
    enum json_type t;
    int rc;

    if (depth >= JSON_DEPTH_MAX)
        return scan_fail(sc, "nesting deeper than 32");
    sc->i++;
    scan_ws(sc);
    if (sc->i < sc->n && sc->s[sc->i] == close) {
        sc->i++;
        return 0;
    }
    for (;;) {
        scan_ws(sc);
        if (close == '}')
            rc = scan_member(sc, depth + 1, &m);
        else
            rc = scan_value(sc, depth + 1, &t);
        if (rc != 0)
            return -1;
        scan_ws(sc);
        if (sc->i < sc->n && sc->s[sc->i] == ',') {
            sc->i++;
            continue;
        }
        if (sc->i < sc->n && sc->s[sc->i] == close) {
            sc->i++;
            return 0;
        }
        return scan_fail(sc, close == '}' ? "expected ',' or '}'"
                                          : "expected ',' or ']'");
    }
}

/* Reads one value at sc->i (no leading whitespace). */
static int scan_value(struct json_scan *sc, int depth, enum json_type *type)
{
    size_t len;

    if (sc->i >= sc->n)
        return scan_fail(sc, "unexpected end");
    switch (sc->s[sc->i]) {
    case '{':
        *type = JSON_OBJECT;
        return scan_container(sc, depth, '}');
    case '[':
        *type = JSON_ARRAY;
        return scan_container(sc, depth, ']');
    case '"':
        *type = JSON_STRING;
        return scan_string(sc);
    case 't':
        *type = JSON_TRUE;
        return scan_word(sc, "true");
    case 'f':
        *type = JSON_FALSE;
        return scan_word(sc, "false");
    case 'n':
        *type = JSON_NULL;
        return scan_word(sc, "null");
    }
    len = number_len(sc->s + sc->i, sc->n - sc->i);
    if (len == 0)
        return scan_fail(sc, "expected a value");
    *type = JSON_NUMBER;
    sc->i += len;
    return 0;
}

int json_validate(const char *s, size_t n, char *why, size_t whylen)
{
    struct json_scan sc = {s, n, 0, NULL, 0};
    enum json_type t;

    scan_ws(&sc);
    if (scan_value(&sc, 0, &t) == 0) {
        scan_ws(&sc);
        if (sc.i == n)
            return 0;
        scan_fail(&sc, "trailing data");
    }
    if (whylen)
        snprintf(why, whylen, "%s at byte %zu", sc.why, sc.at);
    return -1;
}

void json_iter_init(struct json_iter *it, const char *s, size_t n)
{
    it->s = s;
    it->n = n;
    it->pos = 0;
    it->state = 0;
    it->why = NULL;
    it->at = 0;
}

/* Iterator states. */
enum { IT_START, IT_MEMBER, IT_CLOSED, IT_END, IT_FAILED };

static int iter_fail(struct json_iter *it, struct json_scan *sc)
{
    it->state = IT_FAILED;
    it->why = sc->why;
    it->at = sc->at;
    return -1;
}

/* Reads the opening brace; returns 1 when members follow, 0 for "{}". */
static int iter_open(struct json_iter *it, struct json_scan *sc)
{
    scan_ws(sc);
    if (sc->i >= sc->n || sc->s[sc->i] != '{')
        return scan_fail(sc, "not a JSON object");
    sc->i++;
    scan_ws(sc);
    if (sc->i < sc->n && sc->s[sc->i] == '}') {
        sc->i++;
        it->state = IT_CLOSED;
        return 0;
    }
    it->state = IT_MEMBER;
    return 1;
}

/* Reads one member and what follows it: ',' or the closing brace. */
static int iter_member(struct json_iter *it, struct json_scan *sc,
                       struct json_member *m)
{
    scan_ws(sc);
    if (scan_member(sc, 1, m) != 0)
        return -1;
    scan_ws(sc);
    if (sc->i < sc->n && sc->s[sc->i] == ',') {
        sc->i++;
        return 0;
    }
    if (sc->i < sc->n && sc->s[sc->i] == '}') {
        sc->i++;
        it->state = IT_CLOSED;
        return 0;
    }
    m->key = NULL;
    return scan_fail(sc, "expected ',' or '}'");
}

int json_iter_next(struct json_iter *it, struct json_member *m)
{
    struct json_scan sc = {it->s, it->n, it->pos, NULL, 0};
    int rc;

    m->key = NULL;
    m->klen = 0;
    if (it->state == IT_FAILED)
        return -1;
    if (it->state == IT_START) {
        rc = iter_open(it, &sc);
        if (rc < 0)
            return iter_fail(it, &sc);
    }
    if (it->state == IT_MEMBER) {
        if (iter_member(it, &sc, m) != 0)
            return iter_fail(it, &sc);
        it->pos = sc.i;
        return 1;
    }
    if (it->state == IT_CLOSED) {
        scan_ws(&sc);
        if (sc.i != sc.n) {
            scan_fail(&sc, "trailing data");
            return iter_fail(it, &sc);
        }
        it->state = IT_END;
    }
    it->pos = sc.i;
    return 0;
}

/* Compares the decoded key raw[0..n) with the C string `key`. */
static int key_equals(const char *raw, size_t n, const char *key)
{
    char tmp[4];
    const char *why;
    size_t i = 1, k = 0;
    uint32_t cp;
    int rc;

    while ((rc = str_next(raw, n, &i, &cp, &why)) == 1) {
        size_t len = utf8_encode(cp, tmp);
        if (strncmp(key + k, tmp, len) != 0 || memchr(tmp, 0, len))
            return 0;
        k += len;
    }
    return rc == 0 && key[k] == '\0';
}

int json_object_get(const char *s, size_t n, const char *key,
                    enum json_type *type, const char **val, size_t *vlen)
{
    struct json_iter it;
    struct json_member m, found = {0};
    int rc, have = 0;

    json_iter_init(&it, s, n);
    while ((rc = json_iter_next(&it, &m)) == 1) {
        if (!have && key_equals(m.key, m.klen, key)) {
            found = m;
            have = 1;
        }
    }
    if (rc < 0)
        return -1;
    if (!have)
        return 1;
    *type = found.type;
    *val = found.val;
    *vlen = found.vlen;
    return 0;
}

int json_key_decode(const char *raw, size_t n, char *out, size_t outlen)
{
    const char *why;
    size_t i = 1, k = 0;
    uint32_t cp;
    int rc;

    if (n < 2 || raw[0] != '"' || outlen == 0)
        return -1;
    /* The usual key is plain ASCII without escapes: copy it whole. */
    while (i < n - 1 && (unsigned char)raw[i] >= 0x20 &&
           (unsigned char)raw[i] < 0x80 && raw[i] != '"' && raw[i] != '\\')
        i++;
    if (i == n - 1 && raw[i] == '"' && i - 1 < outlen) {
        memcpy(out, raw + 1, i - 1);
        out[i - 1] = '\0';
        return (int)(i - 1);
    }
    i = 1;
    while ((rc = str_next(raw, n, &i, &cp, &why)) == 1) {
        char tmp[4];
        size_t len = utf8_encode(cp, tmp);
        if (len >= outlen - k)
            return -1;
        memcpy(out + k, tmp, len);
        k += len;
    }
    if (rc != 0 || i != n)
        return -1;
    out[k] = '\0';
    return (int)k;
}

int json_string_decode(const char *raw, size_t n, struct buf *out)
{
    size_t start = out->len, i = 1, run;
    const char *why;
    uint32_t cp;
    int rc = 1;
    char tmp[4];

    if (n < 2 || raw[0] != '"')
        return -1;
    while (rc == 1) {
        for (run = i;
             run < n && raw[run] != '"' && raw[run] != '\\' &&
             (unsigned char)raw[run] >= 0x20 && (unsigned char)raw[run] < 0x80;
             run++)
            ;
        if (run > i && buf_append(out, raw + i, run - i) != 0)
            goto fail;
        i = run;
        rc = str_next(raw, n, &i, &cp, &why);
        if (rc == 1 && buf_append(out, tmp, utf8_encode(cp, tmp)) != 0)
            goto fail;
    }
    if (rc == 0 && i == n)
        return 0;
fail:
    out->len = start;
    if (out->data)
        out->data[start] = '\0';
    return -1;
}

int json_number_valid(const char *raw, size_t n)
{
    return n > 0 && number_len(raw, n) == n;
}

/* A JSON number split into its digit runs and decimal exponent. */
struct json_num {
    const char *ip, *fp; /* integer and fraction digits */
    size_t il, fl;
    int64_t exp; /* clamped to +-1000000 */
    int neg;
};

static void number_split(const char *s, size_t n, struct json_num *nm)
{
    size_t i = 0;
    int eneg = 0;

    memset(nm, 0, sizeof(*nm));
    nm->neg = s[0] == '-';
    i = (size_t)nm->neg;
    nm->ip = s + i;
    nm->il = skip_digits(s, n, i) - i;
    i += nm->il;
    if (i < n && s[i] == '.') {
        nm->fp = s + i + 1;
        nm->fl = skip_digits(s, n, i + 1) - (i + 1);
        i += 1 + nm->fl;
    }
    if (i < n) {
        i++;
        if (s[i] == '+' || s[i] == '-')
            eneg = s[i++] == '-';
        for (; i < n; i++)
            if (nm->exp < 1000000)
                nm->exp = nm->exp * 10 + (s[i] - '0');
        if (eneg)
            nm->exp = -nm->exp;
    }
}

/* Digit k of the integer digits followed by the fraction digits. */
static int number_digit(const struct json_num *nm, int64_t k)
{
    if (k < 0 || (size_t)k >= nm->il + nm->fl)
        return 0;
    if ((size_t)k < nm->il)
        return nm->ip[k] - '0';
    return nm->fp[k - (int64_t)nm->il] - '0';
}

int json_number_int64(const char *raw, size_t n, int64_t *out)
{
    struct json_num nm;
    int64_t len, first = -1, last = -1, point;
    uint64_t v = 0, limit;

    if (!json_number_valid(raw, n))
        return -1;
    number_split(raw, n, &nm);
    len = (int64_t)(nm.il + nm.fl);
    for (int64_t k = 0; k < len; k++) {
        if (number_digit(&nm, k) != 0) {
            if (first < 0)
                first = k;
            last = k;
        }
    }
    if (first < 0) {
        *out = 0;
        return 0;
    }
    point = (int64_t)nm.il + nm.exp; /* digits before the decimal point */
    if (last >= point)
        return -1;
    if (point - first > 19)
        return -2;
    for (int64_t k = first; k < point; k++)
        v = v * 10 + (uint64_t)number_digit(&nm, k);
    limit = nm.neg ? (uint64_t)INT64_MAX + 1 : (uint64_t)INT64_MAX;
    if (v > limit)
        return -2;
    if (nm.neg)
        *out = v == limit ? INT64_MIN : -(int64_t)v;
    else
        *out = (int64_t)v;
    return 0;
}

int json_number_integral(const char *raw, size_t n, int64_t *out)
{
    return json_number_int64(raw, n, out) == 0 ? 0 : -1;
}
