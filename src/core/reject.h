/* The rejected-event record of DESIGN §3: {"reason", "field", "raw"}. */
#ifndef ADTALLY_CORE_REJECT_H
#define ADTALLY_CORE_REJECT_H

#include <stddef.h>

#include "core/event.h"
#include "util/buf.h"

/* Appends the JSON record for a refused input `raw`. Raw text that is
 * valid UTF-8 goes in "raw" as a string; anything else goes, losslessly,
 * in "raw_base64" instead. Returns 0 or -1 (the buffer's cap). */
int reject_to_json(struct buf *out, const struct ev_error *err, const char *raw,
                   size_t n);

#endif
