/* enrich: derives what a hit keeps from what it must not keep. The peer IP
 * becomes an anonymised IP (and, from issue 3, a location); the user agent
 * and client hints become browser, OS and device; the referrer and landing
 * URL become a channel and campaign; Accept-Language becomes a language.
 * After enrich_hit the request's raw values are no longer needed. */
#ifndef TALLY_ENRICH_H
#define TALLY_ENRICH_H

#include <stdint.h>

#include "../base/base.h"
#include "../track/track.h"

#define ENRICH_IP_TEXT_MAX 46

/* Zeroes the low bytes of an IPv4 address (v4_bytes of 4) or low bits of an
 * IPv6 one (v6_bits of 128) and writes the textual result ("203.0.0.0",
 * "2001:db8::"). -EINVAL when ip is not an address. */
int enrich_anonymize_ip(const char *ip, unsigned v4_bytes, unsigned v6_bits,
                        char out[ENRICH_IP_TEXT_MAX]);

/* Where the build installed the npm data (the Makefile passes its own
 * node_modules/); `tally serve --assets DIR` overrides it. */
#ifndef TALLY_ASSETS_DIR
#define TALLY_ASSETS_DIR "node_modules"
#endif

struct enrich_options {
    const char *assets_dir;  /* node_modules holding the npm data (scripts/assets.sh) */
    const char *geoip_path;  /* a MaxMind database; NULL for the default in assets_dir */
};

/* The data enrichment reads: uap-core's regexes, bot patterns, referrer
 * lists and a geo database, loaded once. Missing or corrupt data is an
 * error naming the file, except the geo database: without it Tally logs
 * the reason and runs with locations unknown. */
struct enrich;
int enrich_create(const struct enrich_options *opts, struct enrich **out, char *err,
                  size_t errlen);
void enrich_destroy(struct enrich *enrich);

/* Fills hit.ip_anon, language, locale, browser*, os*, device_*, the
 * location, referrer_*, campaign_* and the normalised url from the request
 * and its site, and req->bot / bot_name. Strings it creates live in arena.
 * Not thread-safe (a result cache): the caller serialises. */
void enrich_hit(struct enrich *enrich, struct track_request *req, struct arena *arena);

/* ---- tree levels and buckets, for reports ------------------------------ */

#define ENRICH_MAX_LEVELS 16

/* The path of a (normalised) page URL as tree levels:
 * "https://shop.example.com/shop/mugs/blue?x=1" -> "shop", "mugs", "blue".
 * The root page is one level, "/". Levels beyond max - 1 stay joined in the
 * last one, so nothing is lost. Returns the number of levels; the strings
 * live in arena. */
size_t enrich_path_levels(const char *url, struct arena *arena, const char **levels, size_t max);

/* A page title split on " / " (Matomo's title hierarchy): "Shop / Mugs /
 * Blue Mug" -> "Shop", "Mugs", "Blue Mug". Same rules as the path. */
size_t enrich_title_levels(const char *title, struct arena *arena, const char **levels,
                           size_t max);

/* The screen-width class of a resolution, as layouts are designed:
 * "< 640", "640-1023", "1024-1279", "1280-1439", "1440-1919", "1920-2559",
 * "2560+"; "" when unknown (width 0). */
const char *enrich_resolution_bucket(unsigned width);

#endif
