/* geo: IP address -> country, region, city and continent, from a
 * MaxMind-format (.mmdb) database read through libmaxminddb.
 *
 * Two record shapes are understood: the flat one of @ip-location-db
 * (`country_code`) and the nested one of GeoIP2/GeoLite2 City and Country
 * (country.iso_code, subdivisions[0].iso_code, city.names.en,
 * continent.code). Continents use Matomo's codes; a database without them
 * gets the continent from the country.
 *
 * The database is mapped read-only and never changes after geo_open, so
 * lookups may run from several threads at once. Internal to src/enrich. */
#ifndef TALLY_GEO_H
#define TALLY_GEO_H

#include <stddef.h>

struct geo_result {
    char country_code[3];   /* ISO 3166-1 alpha-2, lower case ("de"), "" unknown */
    char region_code[8];    /* ISO 3166-2 subdivision without the country ("BY"), "" unknown */
    char city[64];          /* English name (UTF-8), "" unknown */
    char continent_code[4]; /* Matomo's codes: afr amc amn ams ant asi eur oce, "" unknown */
};

struct geo;

/* Where the default database lives below the assets folder (node_modules). */
#define GEO_DEFAULT_DB "@ip-location-db/geo-whois-asn-country-mmdb/geo-whois-asn-country.mmdb"

/* Opens a MaxMind-format database. path NULL means the default,
 * ASSETS_DIR/GEO_DEFAULT_DB. On success *out owns the mapping until
 * geo_close. On failure *out is NULL, err holds a message naming the file and
 * the return is -ENOENT (missing), -EINVAL ("FILE is not a MaxMind database:
 * ..."), -EACCES, -EIO or -ENOMEM. */
int geo_open(const char *assets_dir, const char *path, struct geo **out, char *err,
             size_t errlen);
/* geo_close(NULL) is a no-op. */
void geo_close(struct geo *g);

/* ip: textual IPv4 or IPv6, the raw peer address (::ffff:a.b.c.d counts as
 * IPv4). Fills every field of out; anything not known is "". g may be NULL
 * (no database): everything is unknown. Private, loopback, link-local,
 * multicast and other non-public addresses are not looked up. Never logs,
 * never allocates, keeps nothing of ip. */
void geo_lookup(const struct geo *g, const char *ip, struct geo_result *out);

/* Matomo's continent of a country code ("de" or "DE" -> "eur"); "" when
 * the code is not a known country. */
const char *geo_continent_of(const char *country_code);

#endif
