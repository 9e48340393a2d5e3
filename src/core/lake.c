/* The lake's partition key: event hour and a bucket from the event id. */
#include "core/lake.h"

int64_t lake_hour_ms(int64_t time_ms)
{
    int64_t h = 3600000;

    return time_ms - ((time_ms % h) + h) % h;
}

int lake_bucket(const uint8_t uuid[16])
{
    /* FNV-1a over the bytes: simple to restate in any language. */
    uint32_t x = 2166136261u;

    for (int i = 0; i < 16; i++) {
        x ^= uuid[i];
        x *= 16777619u;
    }
    return (int)(x % LAKE_BUCKETS);
}
