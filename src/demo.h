/* demo: realistic traffic for a site, fed through the real pipeline
 * (api_track), so a new install has something true to show and the
 * benchmarks and tests have varied data. Deterministic for a given seed. */
#ifndef TALLY_DEMO_H
#define TALLY_DEMO_H

#include <stdint.h>

#include "api/api.h"
#include "config/config.h"

struct demo_result {
    uint64_t hits_sent;
    uint64_t hits_stored;
    uint64_t hits_refused;  /* a bug if not 0: the demo only sends valid hits */
};

struct demo_options {
    unsigned visits;    /* total visits to generate */
    unsigned days;      /* spread over the `days` site-local days ending at end_ms */
    /* Older, quieter traffic: history_visits more visits spread over the
       history_days site-local days before those (0: none), so that a year of
       cohorts has first visits and returns in every month. */
    unsigned history_visits, history_days;
    int64_t end_ms;     /* no hit at or after this time; 0: now */
    unsigned catalogue; /* pages beyond the shop's own (articles, teas, recipes), whose
                           popularity falls off as Zipf's law says: 0 for a small site */
    uint64_t seed;
    /* Called, when not NULL, each time the traffic reaches a new day. */
    void (*progress)(const struct demo_result *so_far, int64_t time_ms, void *arg);
    void *progress_arg;
};

/* Generates and tracks the visits, in order of their start, and seals each
 * day (api_maintain) once the traffic has moved past it plus the api's seal
 * grace, so memory stays bounded whatever the volume; the last days are the
 * caller's to seal. Returns 0, or a negative errno when the store failed;
 * err says why. */
/* Defines the demo shop's goals (a newsletter sign-up tracked as idgoal=1,
 * the contact page, blog readers, the brewing guide download) when the
 * site has none yet. */
int demo_goals(const char *data_dir, uint32_t site_id, char *err, size_t errlen);
/* Defines the demo shop's checkout funnel (a product page, the cart, the
 * checkout) when the site has no funnel yet. */
int demo_funnel(const char *data_dir, uint32_t site_id, char *err, size_t errlen);

int demo_run(struct api *api, const struct site *site, const struct demo_options *opts,
             struct demo_result *result, char *err, size_t errlen);

#endif
