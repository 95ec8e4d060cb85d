/* geo: IP address -> country, region, city and continent, from a
 * MaxMind-format database read with libmaxminddb (mmapped). Two schemas:
 * flat (`country_code`, as npm @ip-location-db's databases) and nested
 * (GeoIP2 / GeoLite2 City: country.iso_code, subdivisions, city, continent).
 * The lookup happens on the raw IP before anonymisation; only the result
 * is kept. Internal to src/enrich. */
#ifndef TALLY_ENRICH_GEO_H
#define TALLY_ENRICH_GEO_H

#include <stddef.h>

struct geo_result {
    char country_code[3];   /* ISO 3166-1 alpha-2, lower case ("de"), "" unknown */
    char region_code[8];    /* ISO 3166-2 subdivision without the country ("BY"), "" unknown */
    char city[64];          /* English name, "" unknown */
    char continent_code[4]; /* Matomo's codes: afr amc amn ams ant asi eur oce, "" unknown */
};

struct geo;
/* path: a MaxMind-format database; NULL for the default,
 * ASSETS_DIR/@ip-location-db/geo-whois-asn-country-mmdb/geo-whois-asn-country.mmdb.
 * -ENOENT or -EINVAL with a message naming the file when it is missing or
 * not a MaxMind database. */
int geo_open(const char *assets_dir, const char *path, struct geo **out, char *err,
             size_t errlen);
void geo_close(struct geo *geo);
/* ip: textual IPv4 or IPv6. Unknown, private or malformed: empty fields. */
void geo_lookup(const struct geo *geo, const char *ip, struct geo_result *out);

#endif
