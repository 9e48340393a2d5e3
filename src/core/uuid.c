/* Version-1 UUIDs (RFC 4122): the event id whose time is the event time. */
#include "core/uuid.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <sys/random.h>

#include "util/hex.h"

/* Ticks from 1582-10-15 to 1970-01-01. */
#define UUID_UNIX_TICKS 0x01b21dd213814000ULL

int uuid_parse(const char *s, size_t n, uint8_t out[16], const char **why)
{
    size_t i = 0;

    *why = "not a UUID";
    if (n != 36)
        return -1;
    for (int k = 0; k < 16; k++) {
        int hi, lo;

        if (i == 8 || i == 13 || i == 18 || i == 23) {
            if (s[i] != '-')
                return -1;
            i++;
        }
        hi = hex_value(s[i]);
        lo = hex_value(s[i + 1]);
        if (hi < 0 || lo < 0)
            return -1;
        out[k] = (uint8_t)(hi << 4 | lo);
        i += 2;
    }
    if ((out[6] >> 4) != 1) {
        *why = "not a version-1 UUID";
        return -1;
    }
    if ((out[8] & 0xc0) != 0x80) {
        *why = "not an RFC 4122 UUID";
        return -1;
    }
    return 0;
}

void uuid_format(const uint8_t u[16], char out[37])
{
    static const char hex[] = "0123456789abcdef";
    size_t j = 0;

    /* By hand rather than snprintf: this runs for every event. */
    for (int i = 0; i < 16; i++) {
        if (i == 4 || i == 6 || i == 8 || i == 10)
            out[j++] = '-';
        out[j++] = hex[u[i] >> 4];
        out[j++] = hex[u[i] & 15];
    }
    out[j] = '\0';
}

uint64_t uuid_ticks(const uint8_t u[16])
{
    uint64_t low = (uint64_t)u[0] << 24 | (uint64_t)u[1] << 16 |
                   (uint64_t)u[2] << 8 | u[3];
    uint64_t mid = (uint64_t)u[4] << 8 | u[5];
    uint64_t high = (uint64_t)(u[6] & 0x0f) << 8 | u[7];

    return high << 48 | mid << 32 | low;
}

int64_t uuid_time_ms(const uint8_t u[16])
{
    uint64_t t = uuid_ticks(u);

    if (t >= UUID_UNIX_TICKS)
        return (int64_t)((t - UUID_UNIX_TICKS) / 10000);
    return -(int64_t)((UUID_UNIX_TICKS - t + 9999) / 10000);
}

/* Fills p[0..n) from the kernel's random source. Returns 0 or -1. */
static int random_fill_os(void *p, size_t n)
{
    size_t got = 0;

    while (got < n) {
        ssize_t r = getrandom((char *)p + got, n - got, 0);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            return -1;
        got += (size_t)r;
    }
    return 0;
}

/* Random bytes come from the kernel 4 KiB at a time, per thread; a fork
 * empties every pool so that parent and child never share bytes. */
static __thread uint8_t pool[4096];
static __thread size_t pool_left;
static __thread unsigned pool_gen;
static atomic_uint pool_forks;
static pthread_once_t pool_once = PTHREAD_ONCE_INIT;

static void pool_on_fork(void)
{
    atomic_fetch_add(&pool_forks, 1);
}

static void pool_init(void)
{
    pthread_atfork(NULL, NULL, pool_on_fork);
}

static int random_fill(void *p, size_t n)
{
    unsigned gen;

    pthread_once(&pool_once, pool_init);
    gen = atomic_load(&pool_forks);
    if (gen != pool_gen) {
        pool_left = 0;
        pool_gen = gen;
    }
    if (n > sizeof(pool))
        return random_fill_os(p, n);
    if (pool_left < n) {
        if (random_fill_os(pool, sizeof(pool)) != 0)
            return -1;
        pool_left = sizeof(pool);
    }
    memcpy(p, pool + sizeof(pool) - pool_left, n);
    memset(pool + sizeof(pool) - pool_left, 0, n); /* used bytes go */
    pool_left -= n;
    return 0;
}

int uuid_make_v1(int64_t ms, uint8_t out[16])
{
    uint8_t rnd[11];
    uint64_t t;
    unsigned extra;

    if (ms < 0 || ms >= UUID_V1_MS_END)
        return -1;
    if (random_fill(rnd, sizeof(rnd)) != 0)
        return -1;
    extra = ((unsigned)rnd[0] << 16 | (unsigned)rnd[1] << 8 | rnd[2]) % 10000;
    t = UUID_UNIX_TICKS + (uint64_t)ms * 10000 + extra;
    out[0] = (uint8_t)(t >> 24);
    out[1] = (uint8_t)(t >> 16);
    out[2] = (uint8_t)(t >> 8);
    out[3] = (uint8_t)t;
    out[4] = (uint8_t)(t >> 40);
    out[5] = (uint8_t)(t >> 32);
    out[6] = (uint8_t)(0x10 | ((t >> 56) & 0x0f));
    out[7] = (uint8_t)(t >> 48);
    out[8] = (uint8_t)(0x80 | (rnd[3] & 0x3f));
    out[9] = rnd[4];
    for (int k = 0; k < 6; k++)
        out[10 + k] = rnd[5 + k];
    out[10] |= 0x01;
    return 0;
}
