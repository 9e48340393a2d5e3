/* libFuzzer target: arbitrary bytes into the CQL frame, RESULT, ERROR and
 * handshake decoders, then the row reader over whatever decoded. */
#include <stddef.h>
#include <stdint.h>

#include "client/cql.h"

#define FUZZ_MAX 65536
#define FUZZ_CELLS 4096 /* values read back from one result */

static void read_cell(const struct cql_result *res, size_t r, size_t c)
{
    struct cql_decimal d;
    struct cql_str s;
    uint8_t u[16];
    char text[64];
    int32_t i;
    int16_t sm;
    int64_t v;
    int b;

    cql_result_is_null(res, r, c);
    cql_result_int(res, r, c, &i);
    cql_result_smallint(res, r, c, &sm);
    cql_result_bigint(res, r, c, &v);
    cql_result_timestamp(res, r, c, &v);
    cql_result_text(res, r, c, &s);
    cql_result_bytes(res, r, c, &s);
    cql_result_uuid(res, r, c, u);
    cql_result_bool(res, r, c, &b);
    if (cql_result_decimal(res, r, c, &d) == CQL_OK)
        cql_decimal_format(&d, text, sizeof(text));
}

static void read_result(const uint8_t *p, size_t n)
{
    struct cql_result res;
    size_t cells = 0;

    if (cql_result_decode(&res, p, n) != CQL_OK)
        return;
    cql_result_has_more(&res);
    cql_result_column(&res, "id");
    for (size_t r = 0; r <= res.nrows && cells < FUZZ_CELLS; r++) {
        for (size_t c = 0; c <= res.meta.ncols && cells < FUZZ_CELLS; c++) {
            read_cell(&res, r, c); /* one past each end, too */
            cells++;
        }
    }
    cql_result_free(&res);
}

static void read_message(uint8_t op, const uint8_t *p, size_t n)
{
    struct cql_error e;
    struct cql_str s;
    char text[256];

    switch (op) {
    case CQL_OP_RESULT:
        read_result(p, n);
        break;
    case CQL_OP_ERROR:
        if (cql_error_decode(&e, p, n) == CQL_OK)
            cql_error_format(&e, text, sizeof(text));
        break;
    case CQL_OP_AUTHENTICATE:
        cql_authenticate_decode(&s, p, n);
        break;
    case CQL_OP_AUTH_SUCCESS:
    case CQL_OP_AUTH_CHALLENGE:
        cql_auth_token_decode(&s, p, n);
        break;
    case CQL_OP_SUPPORTED:
        cql_supported_get(p, n, "COMPRESSION", 1, &s);
        break;
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const uint8_t ops[] = {CQL_OP_RESULT, CQL_OP_ERROR,
                                  CQL_OP_AUTHENTICATE, CQL_OP_AUTH_SUCCESS,
                                  CQL_OP_SUPPORTED};
    struct cql_decimal d;
    struct cql_frame f;
    int64_t v;

    if (size > FUZZ_MAX)
        return 0;
    /* As a whole frame, with a cap below the input for some inputs. */
    if (cql_frame_decode(&f, data, size, FUZZ_MAX / 2) == CQL_OK)
        read_message(f.h.opcode, f.msg, f.len);
    /* As the body of each kind of message. */
    for (size_t i = 0; i < sizeof(ops); i++)
        read_message(ops[i], data, size);
    cql_varint_decode(data, size, &v);
    cql_decimal_parse((const char *)data, size, &d);
    return 0;
}
