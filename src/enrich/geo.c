#include "geo.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <maxminddb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>

#define GEO_DEFAULT "@ip-location-db/geo-whois-asn-country-mmdb/geo-whois-asn-country.mmdb"

struct geo {
    MMDB_s mmdb;
    /* Continent by country, indexed by the two letters: a lookup per hit
     * must not scan the country lists. Index into `continents` + 1. */
    uint8_t continent_by_country[26][26];
};

/* Matomo's continents by ISO country; Central America and the Caribbean
 * (amc) are apart from North America (amn). */
static const struct {
    const char *code;
    const char *countries;
} continents[] = {
    {"afr", "ao bf bi bj bw cd cf cg ci cm cv dj dz eg eh er et ga gh gm gn gq gw ke km lr ls ly ma "
            "mg ml mr mu mw mz na ne ng re rw sc sd sh sl sn so ss st sz td tg tn tz ug yt za zm zw"},
    {"amc", "ag ai aw bb bl bq bs bz cr cu cw dm do gd gp gt hn ht jm kn ky lc mf mq ms ni pa pr sv "
            "sx tc tt vc vg vi"},
    {"amn", "bm ca gl mx pm um us"},
    {"ams", "ar bo br cl co ec fk gf gs gy pe py sr uy ve"},
    {"ant", "aq bv hm tf"},
    {"asi", "ae af am az bd bh bn bt cc cn cx cy ge hk id il in io iq ir jo jp kg kh kp kr kw kz la "
            "lb lk mm mn mo mv my np om ph pk ps qa sa sg sy th tj tl tm tr tw uz vn ye"},
    {"eur", "ad al at ax ba be bg by ch cz de dk ee es fi fo fr gb gg gi gr hr hu ie im is it je li "
            "lt lu lv mc md me mk mt nl no pl pt ro rs ru se si sj sk sm ua va xk"},
    {"oce", "as au ck fj fm gu ki mh mp nc nf nr nu nz pf pg pn pw sb tk to tv vu wf ws"},
};

static void index_continents(struct geo *g)
{
    for (size_t i = 0; i < sizeof continents / sizeof *continents; i++)
        for (const char *p = continents[i].countries; *p; p += p[2] ? 3 : 2)
            g->continent_by_country[p[0] - 'a'][p[1] - 'a'] = (uint8_t)(i + 1);
}

static const char *continent_of(const struct geo *g, const char *country)
{
    unsigned a = (unsigned)(country[0] - 'a'), b = (unsigned)(country[1] - 'a');
    if (a >= 26 || b >= 26) return "";
    uint8_t i = g->continent_by_country[a][b];
    return i ? continents[i - 1].code : "";
}

int geo_open(const char *assets_dir, const char *path, struct geo **out, char *err,
             size_t errlen)
{
    *out = NULL;
    char fallback[PATH_MAX];
    if (!path) {
        snprintf(fallback, sizeof fallback, "%s/%s", assets_dir ? assets_dir : ".", GEO_DEFAULT);
        path = fallback;
    }
    struct stat st;
    if (stat(path, &st) || !S_ISREG(st.st_mode)) {
        snprintf(err, errlen, "geo database %s does not exist (run scripts/assets.sh, or give "
                              "--geoip FILE)", path);
        return -ENOENT;
    }
    struct geo *g = calloc(1, sizeof *g);
    if (!g) return -ENOMEM;
    int status = MMDB_open(path, MMDB_MODE_MMAP, &g->mmdb);
    if (status != MMDB_SUCCESS) {
        snprintf(err, errlen, "%s is not a MaxMind database: %s", path, MMDB_strerror(status));
        free(g);
        return -EINVAL;
    }
    index_continents(g);
    *out = g;
    return 0;
}

void geo_close(struct geo *g)
{
    if (!g) return;
    MMDB_close(&g->mmdb);
    free(g);
}

/* Copies a UTF-8 string value at the path into out (at most outlen - 1
 * bytes, cut on a character boundary); false when there is none. */
static bool geo_string(MMDB_entry_s *entry, char *out, size_t outlen, const char *const *path)
{
    MMDB_entry_data_s data;
    if (MMDB_aget_value(entry, &data, path) != MMDB_SUCCESS || !data.has_data ||
        data.type != MMDB_DATA_TYPE_UTF8_STRING || data.data_size == 0)
        return false;
    size_t n = data.data_size < outlen - 1 ? data.data_size : outlen - 1;
    while (n > 0 && n < data.data_size && ((unsigned char)data.utf8_string[n] & 0xc0) == 0x80)
        n--;
    memcpy(out, data.utf8_string, n);
    out[n] = '\0';
    return true;
}

/* A database's own continent, when the country is unknown. */
static const char *continent_from_code(const char *code)
{
    static const char *const map[][2] = {{"AF", "afr"}, {"AN", "ant"}, {"AS", "asi"},
                                         {"EU", "eur"}, {"NA", "amn"}, {"OC", "oce"},
                                         {"SA", "ams"}};
    for (size_t i = 0; i < sizeof map / sizeof *map; i++)
        if (strcmp(code, map[i][0]) == 0) return map[i][1];
    return "";
}

void geo_lookup(const struct geo *g, const char *ip, struct geo_result *out)
{
    memset(out, 0, sizeof *out);
    if (!g || !ip || !*ip) return;
    /* inet_pton, not MMDB_lookup_string's getaddrinfo: numeric only (no
     * name is ever resolved) and several times cheaper per hit. */
    struct sockaddr_storage sa = {0};
    struct sockaddr_in *v4 = (struct sockaddr_in *)&sa;
    struct sockaddr_in6 *v6 = (struct sockaddr_in6 *)&sa;
    if (inet_pton(AF_INET, ip, &v4->sin_addr) == 1)
        v4->sin_family = AF_INET;
    else if (inet_pton(AF_INET6, ip, &v6->sin6_addr) == 1)
        v6->sin6_family = AF_INET6;
    else
        return;
    int mmdb_error = 0;
    MMDB_lookup_result_s r =
        MMDB_lookup_sockaddr((MMDB_s *)&g->mmdb, (struct sockaddr *)&sa, &mmdb_error);
    if (mmdb_error != MMDB_SUCCESS || !r.found_entry) return;

    static const char *const flat_country[] = {"country_code", NULL};
    static const char *const country[] = {"country", "iso_code", NULL};
    static const char *const region[] = {"subdivisions", "0", "iso_code", NULL};
    static const char *const city[] = {"city", "names", "en", NULL};
    static const char *const continent[] = {"continent", "code", NULL};
    char code[8];
    if (geo_string(&r.entry, code, sizeof code, flat_country) ||
        geo_string(&r.entry, code, sizeof code, country)) {
        if (strlen(code) == 2 && isalpha((unsigned char)code[0]) &&
            isalpha((unsigned char)code[1])) {
            out->country_code[0] = (char)tolower((unsigned char)code[0]);
            out->country_code[1] = (char)tolower((unsigned char)code[1]);
            out->country_code[2] = '\0';
        }
    }
    geo_string(&r.entry, out->region_code, sizeof out->region_code, region);
    geo_string(&r.entry, out->city, sizeof out->city, city);
    const char *cont = out->country_code[0] ? continent_of(g, out->country_code) : "";
    if (!*cont && geo_string(&r.entry, code, sizeof code, continent)) cont = continent_from_code(code);
    snprintf(out->continent_code, sizeof out->continent_code, "%s", cont);
}
