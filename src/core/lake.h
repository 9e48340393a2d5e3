/* Where an event lives in the raw lake (DESIGN §5): its hour and bucket. */
#ifndef ADTALLY_CORE_LAKE_H
#define ADTALLY_CORE_LAKE_H

#include <stdint.h>

#define LAKE_BUCKETS 8 /* partitions per hour: spreads writes, bounds reads */

/* The start of the event's hour, in ms since the Unix epoch, UTC. */
int64_t lake_hour_ms(int64_t time_ms);

/* The bucket of an event id (create_time): a hash of all 16 bytes, modulo
 * LAKE_BUCKETS, the same on every writer and reader. */
int lake_bucket(const uint8_t uuid[16]);

#endif
