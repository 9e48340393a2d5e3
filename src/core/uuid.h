/* Version-1 (time-based) UUIDs: parsing, canonical text, time, making. */
#ifndef ADTALLY_CORE_UUID_H
#define ADTALLY_CORE_UUID_H

#include <stddef.h>
#include <stdint.h>

/* The first ms (since the Unix epoch) that a 60-bit timestamp cannot
 * hold, in the year 5236; uuid_make_v1 needs a time before it. */
#define UUID_V1_MS_END 103072857660684LL

/* Parses 8-4-4-4-12 hex digits (either case) that must be a version-1,
 * RFC 4122 variant UUID. Returns 0 with the 16 bytes in out, or -1 with a
 * short reason in *why. */
int uuid_parse(const char *s, size_t n, uint8_t out[16], const char **why);

/* Writes the lower-case 8-4-4-4-12 text and a NUL. */
void uuid_format(const uint8_t u[16], char out[37]);

/* The 60-bit timestamp of a version-1 UUID: 100 ns ticks since the start
 * of the Gregorian calendar, 1582-10-15 00:00 UTC. */
uint64_t uuid_ticks(const uint8_t u[16]);

/* The time of a version-1 UUID in ms since the Unix epoch, rounded down
 * (negative before 1970). */
int64_t uuid_time_ms(const uint8_t u[16]);

/* Makes a version-1 UUID for the time `ms` (since the Unix epoch): the
 * timestamp is ms * 10000 ticks plus a random 0..9999, the clock sequence
 * 14 random bits, the node 48 random bits with the multicast bit set (RFC
 * 4122 §4.5). Returns 0, or -1 when the time does not fit the 60-bit
 * timestamp or the system gave no random bytes. */
int uuid_make_v1(int64_t ms, uint8_t out[16]);

#endif
