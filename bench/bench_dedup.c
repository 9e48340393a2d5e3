/* Memory of the dedup window: fills it with one hour of events at a given
 * rate and reports the process's peak RSS against the ids' own bytes. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#include "core/dedup.h"

static double bench_now(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
    long rate = argc > 1 ? atol(argv[1]) : 20000;
    long secs = argc > 2 ? atol(argv[2]) : 3600;
    long n = rate * secs;
    struct dedup d;
    struct rusage ru;
    uint8_t id[16] = {0};
    double t0;

    if (dedup_init(&d, secs * 1000, (size_t)n + 1) != 0)
        return 1;
    t0 = bench_now();
    for (long i = 0; i < n; i++) {
        uint64_t x = (uint64_t)i * 0x9e3779b97f4a7c15ULL;
        memcpy(id, &x, 8);
        memcpy(id + 8, &i, sizeof(i));
        if (dedup_check(&d, id, i * 1000 / rate) != 0) {
            fprintf(stderr, "bench_dedup: unexpected repeat or no memory\n");
            return 1;
        }
    }
    getrusage(RUSAGE_SELF, &ru);
    printf("dedup_events %ld\n", n);
    printf("dedup_inserts_per_s %.0f\n", (double)n / (bench_now() - t0));
    printf("dedup_peak_rss_bytes %ld\n", ru.ru_maxrss * 1024L);
    printf("dedup_bytes_per_event %.1f\n",
           (double)ru.ru_maxrss * 1024.0 / (double)n);
    dedup_free(&d);
    return 0;
}
