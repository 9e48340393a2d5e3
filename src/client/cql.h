/* Cassandra client: CQL native protocol v4 frames, values and connections. */
#ifndef ADTALLY_CLIENT_CQL_H
#define ADTALLY_CLIENT_CQL_H

#include <stddef.h>
#include <stdint.h>

#include "util/buf.h"

/*
 * Every call returns CQL_OK or one of these. Calls that take an errbuf
 * fill it on every error; for CQL_ERR_SERVER it holds the server's own
 * message, unchanged, after the error's name and code.
 */
enum cql_rc {
    CQL_OK = 0,
    CQL_ERR_PROTO = -1,     /* a malformed, truncated or unexpected message */
    CQL_ERR_LIMIT = -2,     /* over a size cap: body, buffer or count */
    CQL_ERR_NOMEM = -3,     /* out of memory */
    CQL_ERR_SERVER = -4,    /* the server answered with an ERROR */
    CQL_ERR_IO = -5,        /* no connection, or it broke; it is closed */
    CQL_ERR_TIMEOUT = -6,   /* no answer within the time allowed */
    CQL_ERR_BUSY = -7,      /* every stream id of the connection is taken */
    CQL_ERR_NULL = -8,      /* row reader: the value is null or empty */
    CQL_ERR_TYPE = -9,      /* row reader: the column has another type */
    CQL_ERR_RANGE = -10,    /* no such row or column; number out of range */
    CQL_ERR_NOTFOUND = -11, /* a lookup found nothing */
    CQL_ERR_ARG = -12       /* a bad setting or argument */
};

#define CQL_HEADER_LEN 9
#define CQL_VERSION_REQ 0x04
#define CQL_VERSION_RESP 0x84
#define CQL_BODY_CAP ((size_t)256 << 20) /* the protocol's own frame limit */
#define CQL_STREAMS 256                  /* stream ids used per connection */
#define CQL_TYPE_DEPTH 8                 /* nesting of collection types */

enum cql_opcode {
    CQL_OP_ERROR = 0x00,
    CQL_OP_STARTUP = 0x01,
    CQL_OP_READY = 0x02,
    CQL_OP_AUTHENTICATE = 0x03,
    CQL_OP_OPTIONS = 0x05,
    CQL_OP_SUPPORTED = 0x06,
    CQL_OP_QUERY = 0x07,
    CQL_OP_RESULT = 0x08,
    CQL_OP_PREPARE = 0x09,
    CQL_OP_EXECUTE = 0x0A,
    CQL_OP_REGISTER = 0x0B,
    CQL_OP_EVENT = 0x0C,
    CQL_OP_BATCH = 0x0D,
    CQL_OP_AUTH_CHALLENGE = 0x0E,
    CQL_OP_AUTH_RESPONSE = 0x0F,
    CQL_OP_AUTH_SUCCESS = 0x10
};

/* Frame header flags. */
#define CQL_FLAG_COMPRESSED 0x01
#define CQL_FLAG_TRACING 0x02
#define CQL_FLAG_PAYLOAD 0x04
#define CQL_FLAG_WARNING 0x08

enum cql_consistency {
    CQL_ANY = 0x00,
    CQL_ONE = 0x01,
    CQL_TWO = 0x02,
    CQL_THREE = 0x03,
    CQL_QUORUM = 0x04,
    CQL_ALL = 0x05,
    CQL_LOCAL_QUORUM = 0x06,
    CQL_EACH_QUORUM = 0x07,
    CQL_SERIAL = 0x08,
    CQL_LOCAL_SERIAL = 0x09,
    CQL_LOCAL_ONE = 0x0A
};

/* Column type option ids. */
enum cql_type {
    CQL_T_CUSTOM = 0x00,
    CQL_T_ASCII = 0x01,
    CQL_T_BIGINT = 0x02,
    CQL_T_BLOB = 0x03,
    CQL_T_BOOLEAN = 0x04,
    CQL_T_COUNTER = 0x05,
    CQL_T_DECIMAL = 0x06,
    CQL_T_DOUBLE = 0x07,
    CQL_T_FLOAT = 0x08,
    CQL_T_INT = 0x09,
    CQL_T_TIMESTAMP = 0x0B,
    CQL_T_UUID = 0x0C,
    CQL_T_VARCHAR = 0x0D,
    CQL_T_VARINT = 0x0E,
    CQL_T_TIMEUUID = 0x0F,
    CQL_T_INET = 0x10,
    CQL_T_DATE = 0x11,
    CQL_T_TIME = 0x12,
    CQL_T_SMALLINT = 0x13,
    CQL_T_TINYINT = 0x14,
    CQL_T_LIST = 0x20,
    CQL_T_MAP = 0x21,
    CQL_T_SET = 0x22,
    CQL_T_UDT = 0x30,
    CQL_T_TUPLE = 0x31
};

/* Server error codes. */
enum cql_error_code {
    CQL_E_SERVER = 0x0000,
    CQL_E_PROTOCOL = 0x000A,
    CQL_E_AUTH = 0x0100,
    CQL_E_UNAVAILABLE = 0x1000,
    CQL_E_OVERLOADED = 0x1001,
    CQL_E_BOOTSTRAPPING = 0x1002,
    CQL_E_TRUNCATE = 0x1003,
    CQL_E_WRITE_TIMEOUT = 0x1100,
    CQL_E_READ_TIMEOUT = 0x1200,
    CQL_E_READ_FAILURE = 0x1300,
    CQL_E_FUNCTION_FAILURE = 0x1400,
    CQL_E_WRITE_FAILURE = 0x1500,
    CQL_E_SYNTAX = 0x2000,
    CQL_E_UNAUTHORIZED = 0x2100,
    CQL_E_INVALID = 0x2200,
    CQL_E_CONFIG = 0x2300,
    CQL_E_ALREADY_EXISTS = 0x2400,
    CQL_E_UNPREPARED = 0x2500
};

/* Bytes inside a received body: not NUL-terminated, valid while the body
 * is. p is NULL for an absent or null value. */
struct cql_str {
    const char *p;
    size_t n;
};

/* ---- Values ---- */

/* An exact decimal: unscaled * 10^-scale. */
struct cql_decimal {
    int64_t unscaled;
    int32_t scale;
};

enum cql_vkind {
    CQL_V_NULL,
    CQL_V_UNSET, /* leaves the column as it is */
    CQL_V_INT,
    CQL_V_BIGINT,
    CQL_V_SMALLINT,
    CQL_V_DECIMAL,
    CQL_V_TEXT, /* also varchar and ascii */
    CQL_V_BLOB,
    CQL_V_TIMESTAMP, /* ms since the Unix epoch */
    CQL_V_UUID,      /* also timeuuid */
    CQL_V_BOOL
};

/* One bound value. Text and blob bytes are not copied: they must outlive
 * the call that encodes them. */
struct cql_value {
    enum cql_vkind kind;
    union {
        int64_t i; /* int, bigint, smallint, timestamp, bool */
        struct cql_decimal dec;
        struct {
            const void *p;
            size_t n;
        } bytes;
        uint8_t uuid[16];
    } u;
};

struct cql_value cql_value_null(void);
struct cql_value cql_value_unset(void);
struct cql_value cql_value_int(int32_t v);
struct cql_value cql_value_bigint(int64_t v);
struct cql_value cql_value_smallint(int16_t v);
struct cql_value cql_value_decimal(int64_t unscaled, int32_t scale);
struct cql_value cql_value_text(const char *s, size_t n);
struct cql_value cql_value_blob(const void *p, size_t n);
struct cql_value cql_value_timestamp(int64_t ms);
struct cql_value cql_value_uuid(const uint8_t uuid[16]);
struct cql_value cql_value_bool(int v);

/* Appends `v` as a [value]: an int length (-1 null, -2 not set), then its
 * bytes. Returns CQL_OK, or CQL_ERR_LIMIT when `out` would pass its cap
 * (out is then unchanged). */
int cql_value_encode(struct buf *out, const struct cql_value *v);

/* Writes the shortest two's complement big-endian form of v into out and
 * returns its length (1 to 8). */
size_t cql_varint_encode(int64_t v, uint8_t out[8]);

/* Reads a varint of n bytes. Returns CQL_OK; CQL_ERR_NULL for n == 0;
 * CQL_ERR_RANGE when it does not fit 64 bits. */
int cql_varint_decode(const uint8_t *p, size_t n, int64_t *out);

/* Parses "-12.3400" (sign, digits, an optional point and digits; at most
 * 18 digits) keeping the scale as written. CQL_OK or CQL_ERR_ARG. */
int cql_decimal_parse(const char *s, size_t n, struct cql_decimal *d);

/* Writes d as plain text ("0.0001", "-1.4", "1000") with its NUL.
 * CQL_OK, or CQL_ERR_LIMIT when `n` bytes are not enough. */
int cql_decimal_format(const struct cql_decimal *d, char *out, size_t n);

/* ---- Requests: each appends one whole frame to `out` ---- */

/* Options of a QUERY or EXECUTE (and, for the consistencies and the
 * timestamp, a BATCH). A zeroed struct means consistency ANY, no values,
 * no paging: set `consistency`. */
struct cql_params {
    enum cql_consistency consistency;
    const struct cql_value *values; /* positional */
    size_t nvalues;                 /* at most 65535 */
    int32_t page_size;              /* > 0: rows per page */
    const void *paging_state;       /* from the previous page, or NULL */
    size_t paging_state_len;
    enum cql_consistency serial; /* CQL_SERIAL or CQL_LOCAL_SERIAL; 0: none */
    int64_t timestamp_us;        /* default write time; 0: the server's */
    int skip_metadata;           /* rows come without column specs */
};

enum cql_batch_type { CQL_BATCH_LOGGED = 0, CQL_BATCH_UNLOGGED = 1 };

/* One statement of a BATCH: a prepared id, or a query when id is NULL. */
struct cql_batch_item {
    const uint8_t *id;
    size_t idlen;
    const char *query;
    const struct cql_value *values;
    size_t nvalues;
};

/*
 * The encoders below append one request frame with stream id `stream` to
 * `out`. Each returns CQL_OK, or CQL_ERR_LIMIT when the frame would pass
 * out's cap or a count or length overflows its field; `out` is then as it
 * was before the call. `params` may be NULL for LOCAL_QUORUM and nothing
 * else.
 */
int cql_encode_startup(struct buf *out, int16_t stream);
int cql_encode_options(struct buf *out, int16_t stream);
/* SASL PLAIN for PasswordAuthenticator: the token "\0user\0password". */
int cql_encode_auth_response(struct buf *out, int16_t stream, const char *user,
                             const char *password);
int cql_encode_query(struct buf *out, int16_t stream, const char *cql,
                     const struct cql_params *params);
int cql_encode_prepare(struct buf *out, int16_t stream, const char *cql);
int cql_encode_execute(struct buf *out, int16_t stream, const uint8_t *id,
                       size_t idlen, const struct cql_params *params);
/* Uses params' consistency, serial and timestamp_us only. */
int cql_encode_batch(struct buf *out, int16_t stream, enum cql_batch_type type,
                     const struct cql_batch_item *items, size_t nitems,
                     const struct cql_params *params);

/* ---- Responses ---- */

struct cql_header {
    uint8_t version;
    uint8_t flags;
    int16_t stream;
    uint8_t opcode;
    uint32_t length; /* of the body */
};

/* Decodes the 9 header bytes at p. Returns CQL_OK; CQL_ERR_PROTO when n <
 * 9, the version is not 0x84 or the body is compressed (never asked for);
 * CQL_ERR_LIMIT when the body is longer than `cap` (0: CQL_BODY_CAP). */
int cql_header_decode(struct cql_header *h, const uint8_t *p, size_t n,
                      size_t cap);

/* A whole response frame, with the message located past the optional
 * tracing id, warnings and custom payload. Points into the input. */
struct cql_frame {
    struct cql_header h;
    const uint8_t *msg; /* the message body proper */
    size_t len;
    size_t nwarnings;
    struct cql_str warning; /* the first warning, if any */
};

/* Decodes one frame from exactly n bytes (header and body). Returns
 * CQL_OK, CQL_ERR_PROTO (truncated, trailing bytes, bad prefix) or
 * CQL_ERR_LIMIT (body over cap). */
int cql_frame_decode(struct cql_frame *f, const uint8_t *p, size_t n,
                     size_t cap);

/* An ERROR message. Fields past `message` are set for the codes that
 * carry them and zero otherwise. Points into the body. */
struct cql_error {
    int32_t code;
    struct cql_str message;
    uint16_t consistency;      /* unavailable, timeouts, failures */
    int32_t required;          /* unavailable */
    int32_t alive;             /* unavailable */
    int32_t received;          /* timeouts and failures */
    int32_t blockfor;          /* timeouts and failures */
    int32_t numfailures;       /* failures */
    int data_present;          /* read timeout and failure */
    struct cql_str write_type; /* write timeout and failure */
    struct cql_str keyspace;   /* already exists, function failure */
    struct cql_str table;      /* already exists; function name */
    struct cql_str id;         /* unprepared: the unknown statement id */
};

/* Decodes an ERROR body. CQL_OK or CQL_ERR_PROTO. */
int cql_error_decode(struct cql_error *e, const uint8_t *p, size_t n);

/* Writes "<name> (0x<code>): <message>[ (<details>)]" into buf. */
void cql_error_format(const struct cql_error *e, char *buf, size_t n);

/* The short name of a server error code, "Invalid", or "Unknown". */
const char *cql_error_name(int32_t code);

/* AUTHENTICATE: the authenticator's class name. CQL_OK or CQL_ERR_PROTO. */
int cql_authenticate_decode(struct cql_str *cls, const uint8_t *p, size_t n);

/* AUTH_SUCCESS and AUTH_CHALLENGE: the token (p NULL when null). */
int cql_auth_token_decode(struct cql_str *token, const uint8_t *p, size_t n);

/* SUPPORTED: the i-th value listed for `key`. CQL_OK; CQL_ERR_NOTFOUND
 * when the key or that many values are absent; CQL_ERR_PROTO. */
int cql_supported_get(const uint8_t *p, size_t n, const char *key, size_t i,
                      struct cql_str *val);

/* ---- RESULT ---- */

enum cql_result_kind {
    CQL_RESULT_NONE = 0, /* nothing decoded */
    CQL_RESULT_VOID = 1,
    CQL_RESULT_ROWS = 2,
    CQL_RESULT_SET_KEYSPACE = 3,
    CQL_RESULT_PREPARED = 4,
    CQL_RESULT_SCHEMA_CHANGE = 5
};

#define CQL_META_GLOBAL 0x0001
#define CQL_META_MORE_PAGES 0x0002
#define CQL_META_NO_METADATA 0x0004

/* A column type; elem holds the element ids of a list or set (elem[0])
 * or a map (key, value). Nested types are checked but not kept. */
struct cql_coltype {
    uint16_t id;
    uint16_t elem[2];
    struct cql_str custom; /* the class name of a Custom type */
};

struct cql_column {
    struct cql_str keyspace;
    struct cql_str table;
    struct cql_str name;
    struct cql_coltype type;
};

struct cql_meta {
    int32_t flags;
    size_t ncols;
    struct cql_column *cols;     /* NULL with CQL_META_NO_METADATA */
    struct cql_str paging_state; /* p NULL on the last page */
    size_t npk;                  /* prepared: partition key bind markers */
};

struct cql_cell;

/*
 * A decoded RESULT. Strings point into the body, which the result owns
 * when it came from a connection. Initialise with cql_result_init (the
 * connection calls do it for you); free with cql_result_free.
 */
struct cql_result {
    enum cql_result_kind kind;
    struct cql_meta meta; /* rows; for a prepared statement, its result */
    size_t nrows;
    struct cql_str keyspace; /* set_keyspace; schema_change */
    struct cql_str change;   /* schema_change: CREATED ... */
    struct cql_str target;   /* schema_change: KEYSPACE, TABLE ... */
    struct cql_str name;     /* schema_change: table, type, ... */
    struct cql_str id;       /* prepared: the statement id */
    struct cql_meta bind;    /* prepared: the bind markers */
    int32_t error_code;      /* set with CQL_ERR_SERVER */
    struct cql_cell *cells;  /* private: nrows * ncols */
    const uint8_t *base;     /* private: what cells point into */
    uint8_t *owned;          /* private: the body, when owned */
};

void cql_result_init(struct cql_result *res);

/* Releases what the result holds, and leaves it initialised. NULL-safe. */
void cql_result_free(struct cql_result *res);

/* Decodes a RESULT message body (after the frame's prefix). The result
 * points into p, which must outlive it. Returns CQL_OK, CQL_ERR_PROTO
 * (malformed, never reading past p + n), CQL_ERR_LIMIT or CQL_ERR_NOMEM;
 * on error res holds nothing. */
int cql_result_decode(struct cql_result *res, const uint8_t *p, size_t n);

/* 1 when a further page can be asked for with res->meta.paging_state. */
int cql_result_has_more(const struct cql_result *res);

/* The index of the column called `name`, or CQL_ERR_NOTFOUND. */
int cql_result_column(const struct cql_result *res, const char *name);

/*
 * The row reader. Each returns CQL_OK with the value in *out;
 * CQL_ERR_NULL for a null value (or an empty one, but for text, which is
 * then ""); cql_result_is_null returns 1 or 0; CQL_ERR_TYPE when the column's
 * type (if the result carries metadata) or the value's size does not
 * match; CQL_ERR_RANGE for a row or column out of range (and, for the
 * decimal, an unscaled value past 64 bits).
 */
int cql_result_is_null(const struct cql_result *res, size_t row, size_t col);
int cql_result_int(const struct cql_result *res, size_t row, size_t col,
                   int32_t *out);
int cql_result_smallint(const struct cql_result *res, size_t row, size_t col,
                        int16_t *out);
/* bigint and counter */
int cql_result_bigint(const struct cql_result *res, size_t row, size_t col,
                      int64_t *out);
/* text, varchar and ascii; the bytes are not NUL-terminated */
int cql_result_text(const struct cql_result *res, size_t row, size_t col,
                    struct cql_str *out);
/* any column type: its raw bytes */
int cql_result_bytes(const struct cql_result *res, size_t row, size_t col,
                     struct cql_str *out);
int cql_result_decimal(const struct cql_result *res, size_t row, size_t col,
                       struct cql_decimal *out);
int cql_result_timestamp(const struct cql_result *res, size_t row, size_t col,
                         int64_t *ms);
/* uuid and timeuuid */
int cql_result_uuid(const struct cql_result *res, size_t row, size_t col,
                    uint8_t out[16]);
int cql_result_bool(const struct cql_result *res, size_t row, size_t col,
                    int *out);

/* ---- Connections ---- */

/* 1 when name can be a keyspace or table name: 1 to 48 letters, digits
 * or underscores. Such names are safe to put inside double quotes. */
int cql_name_valid(const char *name);

struct cql_settings {
    const char *contact_points; /* "host:port,host:port"; NULL: local */
    const char *user;           /* NULL: the server must not ask */
    const char *password;
    const char *keyspace;   /* NULL: none; else USE it on each connection */
    int connect_timeout_ms; /* 0: 5000 */
    int request_timeout_ms; /* 0: 12000 */
    size_t body_cap;        /* 0: CQL_BODY_CAP; larger bodies are refused */
};

#define CQL_DEFAULT_CONTACT "127.0.0.1:9042"
#define CQL_DEFAULT_PORT 9042

/* A statement prepared through a client. Its id is replaced when a node
 * that lost it prepares it again. */
struct cql_prepared {
    char *query;
    uint8_t *id;
    size_t idlen;
    size_t nbind; /* bind markers */
};

/* Frees a prepared statement. NULL-safe. */
void cql_prepared_free(struct cql_prepared *ps);

/*
 * One connection to one node, with up to CQL_STREAMS requests in flight.
 * A connection and its client are used by one thread at a time.
 */
struct cql_conn;

/* Connects to host:port within connect_timeout_ms, sends STARTUP,
 * authenticates when the server asks, and USEs the keyspace if set. The
 * settings' strings are not kept. Returns CQL_OK with *out set, or an
 * error with errbuf filled (the server's text for a refused login). */
int cql_conn_open(struct cql_conn **out, const char *host, const char *port,
                  const struct cql_settings *s, char *err, size_t errlen);

/* Closes the connection and frees it. NULL-safe. */
void cql_conn_close(struct cql_conn *c);

/* 1 while the connection is usable; 0 after it broke. */
int cql_conn_alive(const struct cql_conn *c);

/* "host:port" of the peer. */
const char *cql_conn_peer(const struct cql_conn *c);

/*
 * Sends a request without waiting for its answer. Returns the stream id
 * (>= 0) to give to cql_conn_wait, or an error (CQL_ERR_BUSY when
 * CQL_STREAMS requests are already in flight). Values are encoded before
 * the call returns; `ps` must stay alive until the wait, which may
 * prepare it again.
 */
int cql_conn_send_query(struct cql_conn *c, const char *cql,
                        const struct cql_params *params, char *err,
                        size_t errlen);
int cql_conn_send_prepare(struct cql_conn *c, const char *cql, char *err,
                          size_t errlen);
int cql_conn_send_execute(struct cql_conn *c, struct cql_prepared *ps,
                          const struct cql_params *params, char *err,
                          size_t errlen);
int cql_conn_send_batch(struct cql_conn *c, enum cql_batch_type type,
                        const struct cql_batch_item *items, size_t nitems,
                        const struct cql_params *params, char *err,
                        size_t errlen);

/*
 * Waits for the answer on `stream` until request_timeout_ms after the
 * request was sent (so that the waits of requests sent together end
 * together), keeping any other answers that arrive meanwhile. An EXECUTE
 * refused as UNPREPARED is prepared again and re-sent once (its time then
 * runs from the re-send). Returns CQL_OK with the result in
 * `res` (which may be NULL), CQL_ERR_SERVER with the server's text in
 * errbuf and res->error_code set, or another error. `res` is initialised
 * first, so cql_result_free is always safe. After a time-out the stream
 * stays reserved until its late answer arrives.
 */
int cql_conn_wait(struct cql_conn *c, int stream, struct cql_result *res,
                  char *err, size_t errlen);

/* Prepares ps->query on this connection and stores the id (and the
 * number of bind markers) in ps. CQL_OK or an error with errbuf. */
int cql_conn_prepare(struct cql_conn *c, struct cql_prepared *ps, char *err,
                     size_t errlen);

/* ---- Client: a small pool over the contact points ---- */

struct cql_client;

/* Checks the settings and copies them; connects lazily on first use.
 * Returns NULL with errbuf filled for bad contact points or no memory. */
struct cql_client *cql_client_create(const struct cql_settings *s, char *err,
                                     size_t errlen);

/* Closes every connection and frees the client. NULL-safe. */
void cql_client_destroy(struct cql_client *cl);

/*
 * A live connection, taking turns over the contact points. A broken one
 * is dropped and opened again; hosts that failed are retried after a
 * growing pause while another host is up, and at once when none is.
 * Returns NULL with errbuf filled when no node can be reached. The
 * connection stays owned by the client.
 */
struct cql_conn *cql_client_conn(struct cql_client *cl, char *err,
                                 size_t errlen);

/*
 * Synchronous calls on a connection from cql_client_conn. A request on a
 * connection that broke fails with CQL_ERR_IO; the next call reconnects.
 * `res` may be NULL; when given it is initialised first and must be freed
 * with cql_result_free.
 */
int cql_client_query(struct cql_client *cl, const char *cql,
                     const struct cql_params *params, struct cql_result *res,
                     char *err, size_t errlen);

/* Prepares `cql`; *out is the caller's, freed with cql_prepared_free. */
int cql_client_prepare(struct cql_client *cl, const char *cql,
                       struct cql_prepared **out, char *err, size_t errlen);

int cql_client_execute(struct cql_client *cl, struct cql_prepared *ps,
                       const struct cql_params *params, struct cql_result *res,
                       char *err, size_t errlen);

/* Runs ps once per element of params[0..n-1], many in flight at once on
 * one connection. Returns CQL_OK when all succeeded, else the first error
 * (with its text in errbuf) after every answer has been collected. */
int cql_client_execute_many(struct cql_client *cl, struct cql_prepared *ps,
                            const struct cql_params *params, size_t n,
                            char *err, size_t errlen);

/* One statement of a client batch: prepared (ps) or plain (query). */
struct cql_batch_entry {
    struct cql_prepared *ps;
    const char *query;
    const struct cql_value *values;
    size_t nvalues;
};

/* Sends one BATCH; statements unknown to the node are prepared again and
 * the batch re-sent once. `params` as for cql_encode_batch. */
int cql_client_batch(struct cql_client *cl, enum cql_batch_type type,
                     const struct cql_batch_entry *entries, size_t n,
                     const struct cql_params *params, char *err, size_t errlen);

#endif
