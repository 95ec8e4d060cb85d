/* demo: realistic traffic for a site, fed through the real pipeline
 * (api_track), so a new install has something true to show and the
 * benchmarks and tests have varied data. Deterministic for a given seed. */
#ifndef TALLY_DEMO_H
#define TALLY_DEMO_H

#include <stdint.h>

#include "api/api.h"
#include "config/config.h"

struct demo_options {
    unsigned visits;   /* total visits to generate */
    unsigned days;     /* spread over the last `days` days, ending now */
    uint64_t seed;
};

struct demo_result {
    uint64_t hits_sent;
    uint64_t hits_stored;
    uint64_t hits_refused;  /* a bug if not 0: the demo only sends valid hits */
};

/* Generates and tracks the visits. Returns 0, or a negative errno when the
 * store failed; err says why. */
int demo_run(struct api *api, const struct site *site, const struct demo_options *opts,
             struct demo_result *result, char *err, size_t errlen);

#endif
