/* Unit tests of the dedup window. */
#include "core/dedup.h"
#include "test.h"

static void make_id(uint8_t id[16], uint32_t n)
{
    memset(id, 0, 16);
    memcpy(id, &n, sizeof(n));
    id[15] = (uint8_t)(n * 7);
}

static void repeat_within_window_is_found(void)
{
    struct dedup d;
    uint8_t id[16];

    CHECK_INT(dedup_init(&d, 1000, 100), 0);
    make_id(id, 1);
    CHECK_INT(dedup_check(&d, id, 10), 0);
    CHECK_INT(dedup_check(&d, id, 500), 1);
    CHECK_INT(dedup_count(&d), 1);
    dedup_free(&d);
}

static void repeat_after_window_is_new(void)
{
    struct dedup d;
    uint8_t id[16], other[16];

    CHECK_INT(dedup_init(&d, 1000, 100), 0);
    make_id(id, 1);
    make_id(other, 2);
    CHECK_INT(dedup_check(&d, id, 0), 0);
    CHECK_INT(dedup_check(&d, other, 1001), 0);
    CHECK_INT(dedup_check(&d, id, 1002), 0);
    dedup_free(&d);
}

static void many_ids_grow_and_stay_exact(void)
{
    struct dedup d;
    uint8_t id[16];
    int news = 0, repeats = 0;

    CHECK_INT(dedup_init(&d, 1000000, 1000000), 0);
    for (uint32_t i = 0; i < 200000; i++) {
        make_id(id, i);
        news += dedup_check(&d, id, i) == 0;
    }
    for (uint32_t i = 0; i < 200000; i += 3) {
        make_id(id, i);
        repeats += dedup_check(&d, id, 200000) == 1;
    }
    CHECK_INT(news, 200000);
    CHECK_INT(repeats, 66667);
    CHECK(dedup_bytes(&d) <= 200000 * DEDUP_BYTES_PER_EVENT);
    dedup_free(&d);
}

static void sliding_window_sweeps_stale_slots(void)
{
    struct dedup d;
    uint8_t id[16];
    int news = 0;

    /* A window of 100 ms with one event per ms: about 100 live at once,
     * a million over time; memory must stay small. */
    CHECK_INT(dedup_init(&d, 100, 1000000), 0);
    for (uint32_t i = 0; i < 1000000; i++) {
        make_id(id, i);
        news += dedup_check(&d, id, i) == 0;
    }
    CHECK_INT(news, 1000000);
    CHECK(dedup_count(&d) <= 102);
    CHECK(dedup_bytes(&d) < 64 * 1024);
    make_id(id, 999950);
    CHECK_INT(dedup_check(&d, id, 1000000), 1);
    dedup_free(&d);
}

static void cap_evicts_oldest_early(void)
{
    struct dedup d;
    uint8_t id[16];

    CHECK_INT(dedup_init(&d, 1000000, 10), 0);
    for (uint32_t i = 0; i < 20; i++) {
        make_id(id, i);
        dedup_check(&d, id, i);
    }
    CHECK_INT(dedup_count(&d), 10);
    CHECK_INT(d.evicted_early, 10);
    make_id(id, 0);
    CHECK_INT(dedup_check(&d, id, 21), 0);
    dedup_free(&d);
}

int main(void)
{
    RUN(repeat_within_window_is_found);
    RUN(repeat_after_window_is_new);
    RUN(many_ids_grow_and_stay_exact);
    RUN(sliding_window_sweeps_stale_slots);
    RUN(cap_evicts_oldest_early);
    return TEST_DONE();
}
