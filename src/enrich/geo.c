/* geo: IP -> location through libmaxminddb. See geo.h.
 *
 * The hot path parses the address itself (inet_pton is cheaper than the
 * getaddrinfo inside MMDB_lookup_string), skips addresses no database can
 * place, walks the search tree over the mmap'd file, and copies at most four
 * short strings out of the record. No allocation, no logging, nothing kept. */
#include "geo.h"

#include <arpa/inet.h>
#include <errno.h>
#include <maxminddb.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "../base/base.h"

struct geo {
    MMDB_s mmdb;
};

/* ---- continents ------------------------------------------------------
 * Matomo's country -> continent table (core/Intl/Data/Resources/
 * countries.php): MaxMind's continents, except that Central America and the
 * Caribbean are their own continent, amc. Every ISO 3166-1 country, plus two
 * codes the default database holds beside them: xk (Kosovo, user-assigned)
 * and an (Netherlands Antilles, withdrawn from ISO 3166-1 in 2010; older
 * Matomo tables mapped it to amc). */
enum geo_continent {
    GEO_CONT_NONE,
    GEO_CONT_AFR,
    GEO_CONT_AMC,
    GEO_CONT_AMN,
    GEO_CONT_AMS,
    GEO_CONT_ANT,
    GEO_CONT_ASI,
    GEO_CONT_EUR,
    GEO_CONT_OCE,
};
static const char *const geo_continent_names[] = {
    "", "afr", "amc", "amn", "ams", "ant", "asi", "eur", "oce",
};

#define GEO_CC(a, b) (((a) - 'a') * 26 + ((b) - 'a'))
#define AFR(a, b) [GEO_CC(a, b)] = GEO_CONT_AFR
#define AMC(a, b) [GEO_CC(a, b)] = GEO_CONT_AMC
#define AMN(a, b) [GEO_CC(a, b)] = GEO_CONT_AMN
#define AMS(a, b) [GEO_CC(a, b)] = GEO_CONT_AMS
#define ANT(a, b) [GEO_CC(a, b)] = GEO_CONT_ANT
#define ASI(a, b) [GEO_CC(a, b)] = GEO_CONT_ASI
#define EUR(a, b) [GEO_CC(a, b)] = GEO_CONT_EUR
#define OCE(a, b) [GEO_CC(a, b)] = GEO_CONT_OCE

static const uint8_t geo_continent_table[26 * 26] = {
    AFR('a', 'o'), AFR('b', 'f'), AFR('b', 'i'), AFR('b', 'j'), AFR('b', 'w'), AFR('c', 'd'),
    AFR('c', 'f'), AFR('c', 'g'), AFR('c', 'i'), AFR('c', 'm'), AFR('c', 'v'), AFR('d', 'j'),
    AFR('d', 'z'), AFR('e', 'g'), AFR('e', 'h'), AFR('e', 'r'), AFR('e', 't'), AFR('g', 'a'),
    AFR('g', 'h'), AFR('g', 'm'), AFR('g', 'n'), AFR('g', 'q'), AFR('g', 'w'), AFR('k', 'e'),
    AFR('k', 'm'), AFR('l', 'r'), AFR('l', 's'), AFR('l', 'y'), AFR('m', 'a'), AFR('m', 'g'),
    AFR('m', 'l'), AFR('m', 'r'), AFR('m', 'u'), AFR('m', 'w'), AFR('m', 'z'), AFR('n', 'a'),
    AFR('n', 'e'), AFR('n', 'g'), AFR('r', 'e'), AFR('r', 'w'), AFR('s', 'c'), AFR('s', 'd'),
    AFR('s', 'h'), AFR('s', 'l'), AFR('s', 'n'), AFR('s', 'o'), AFR('s', 's'), AFR('s', 't'),
    AFR('s', 'z'), AFR('t', 'd'), AFR('t', 'g'), AFR('t', 'n'), AFR('t', 'z'), AFR('u', 'g'),
    AFR('y', 't'), AFR('z', 'a'), AFR('z', 'm'), AFR('z', 'w'),
    AMC('a', 'g'), AMC('a', 'i'), AMC('a', 'w'), AMC('b', 'b'), AMC('b', 'l'), AMC('b', 'm'),
    AMC('b', 'q'), AMC('b', 's'), AMC('b', 'z'), AMC('c', 'r'), AMC('c', 'u'), AMC('c', 'w'),
    AMC('d', 'm'), AMC('d', 'o'), AMC('g', 'd'), AMC('g', 'p'), AMC('g', 't'), AMC('h', 'n'),
    AMC('h', 't'), AMC('j', 'm'), AMC('k', 'n'), AMC('k', 'y'), AMC('l', 'c'), AMC('m', 'f'),
    AMC('m', 'q'), AMC('m', 's'), AMC('n', 'i'), AMC('p', 'a'), AMC('p', 'r'), AMC('s', 'v'),
    AMC('s', 'x'), AMC('t', 'c'), AMC('t', 't'), AMC('v', 'c'), AMC('v', 'g'), AMC('v', 'i'),
    AMN('c', 'a'), AMN('g', 'l'), AMN('m', 'x'), AMN('p', 'm'), AMN('u', 's'),
    AMS('a', 'r'), AMS('b', 'o'), AMS('b', 'r'), AMS('c', 'l'), AMS('c', 'o'), AMS('e', 'c'),
    AMS('f', 'k'), AMS('g', 'f'), AMS('g', 'y'), AMS('p', 'e'), AMS('p', 'y'), AMS('s', 'r'),
    AMS('u', 'y'), AMS('v', 'e'),
    ANT('a', 'q'), ANT('b', 'v'), ANT('g', 's'), ANT('h', 'm'), ANT('t', 'f'),
    ASI('a', 'e'), ASI('a', 'f'), ASI('a', 'm'), ASI('a', 'z'), ASI('b', 'd'), ASI('b', 'h'),
    ASI('b', 'n'), ASI('b', 't'), ASI('c', 'c'), ASI('c', 'n'), ASI('c', 'x'), ASI('g', 'e'),
    ASI('h', 'k'), ASI('i', 'd'), ASI('i', 'l'), ASI('i', 'n'), ASI('i', 'o'), ASI('i', 'q'),
    ASI('i', 'r'), ASI('j', 'o'), ASI('j', 'p'), ASI('k', 'g'), ASI('k', 'h'), ASI('k', 'p'),
    ASI('k', 'r'), ASI('k', 'w'), ASI('k', 'z'), ASI('l', 'a'), ASI('l', 'b'), ASI('l', 'k'),
    ASI('m', 'm'), ASI('m', 'n'), ASI('m', 'o'), ASI('m', 'v'), ASI('m', 'y'), ASI('n', 'p'),
    ASI('o', 'm'), ASI('p', 'h'), ASI('p', 'k'), ASI('p', 's'), ASI('q', 'a'), ASI('s', 'a'),
    ASI('s', 'g'), ASI('s', 'y'), ASI('t', 'h'), ASI('t', 'j'), ASI('t', 'l'), ASI('t', 'm'),
    ASI('t', 'w'), ASI('u', 'z'), ASI('v', 'n'), ASI('y', 'e'),
    EUR('a', 'd'), EUR('a', 'l'), EUR('a', 't'), EUR('a', 'x'), EUR('b', 'a'), EUR('b', 'e'),
    EUR('b', 'g'), EUR('b', 'y'), EUR('c', 'h'), EUR('c', 'y'), EUR('c', 'z'), EUR('d', 'e'),
    EUR('d', 'k'), EUR('e', 'e'), EUR('e', 's'), EUR('f', 'i'), EUR('f', 'o'), EUR('f', 'r'),
    EUR('g', 'b'), EUR('g', 'g'), EUR('g', 'i'), EUR('g', 'r'), EUR('h', 'r'), EUR('h', 'u'),
    EUR('i', 'e'), EUR('i', 'm'), EUR('i', 's'), EUR('i', 't'), EUR('j', 'e'), EUR('l', 'i'),
    EUR('l', 't'), EUR('l', 'u'), EUR('l', 'v'), EUR('m', 'c'), EUR('m', 'd'), EUR('m', 'e'),
    EUR('m', 'k'), EUR('m', 't'), EUR('n', 'l'), EUR('n', 'o'), EUR('p', 'l'), EUR('p', 't'),
    EUR('r', 'o'), EUR('r', 's'), EUR('r', 'u'), EUR('s', 'e'), EUR('s', 'i'), EUR('s', 'j'),
    EUR('s', 'k'), EUR('s', 'm'), EUR('t', 'r'), EUR('u', 'a'), EUR('v', 'a'),
    OCE('a', 's'), OCE('a', 'u'), OCE('c', 'k'), OCE('f', 'j'), OCE('f', 'm'), OCE('g', 'u'),
    OCE('k', 'i'), OCE('m', 'h'), OCE('m', 'p'), OCE('n', 'c'), OCE('n', 'f'), OCE('n', 'r'),
    OCE('n', 'u'), OCE('n', 'z'), OCE('p', 'f'), OCE('p', 'g'), OCE('p', 'n'), OCE('p', 'w'),
    OCE('s', 'b'), OCE('t', 'k'), OCE('t', 'o'), OCE('t', 'v'), OCE('u', 'm'), OCE('v', 'u'),
    OCE('w', 'f'), OCE('w', 's'),
    EUR('x', 'k'), AMC('a', 'n'),
};

#undef AFR
#undef AMC
#undef AMN
#undef AMS
#undef ANT
#undef ASI
#undef EUR
#undef OCE

/* cc: two lower-case ASCII letters (callers check). */
static enum geo_continent geo_continent_index(const char cc[2])
{
    return (enum geo_continent)geo_continent_table[GEO_CC(cc[0], cc[1])];
}

const char *geo_continent_of(const char *country_code)
{
    if (!country_code) return "";
    char cc[2];
    for (int i = 0; i < 2; i++) {
        char c = country_code[i];
        if (c >= 'A' && c <= 'Z') c = (char)(c - 'A' + 'a');
        if (c < 'a' || c > 'z') return "";
        cc[i] = c;
    }
    if (country_code[2] != '\0') return "";
    return geo_continent_names[geo_continent_index(cc)];
}

/* MaxMind's two-letter continent codes. NA covers Central America and the
 * Caribbean, which Matomo reports apart, so the country decides there. */
static enum geo_continent geo_continent_from_maxmind(const char *code, uint32_t len,
                                                     const char *country)
{
    if (len != 2) return GEO_CONT_NONE;
    switch ((unsigned char)code[0] << 8 | (unsigned char)code[1]) {
    case 'A' << 8 | 'F': return GEO_CONT_AFR;
    case 'A' << 8 | 'N': return GEO_CONT_ANT;
    case 'A' << 8 | 'S': return GEO_CONT_ASI;
    case 'E' << 8 | 'U': return GEO_CONT_EUR;
    case 'O' << 8 | 'C': return GEO_CONT_OCE;
    case 'S' << 8 | 'A': return GEO_CONT_AMS;
    case 'N' << 8 | 'A':
        if (country[0] && geo_continent_index(country) == GEO_CONT_AMC) return GEO_CONT_AMC;
        return GEO_CONT_AMN;
    default: return GEO_CONT_NONE;
    }
}

/* ---- open / close ---------------------------------------------------- */

int geo_open(const char *assets_dir, const char *path, struct geo **out, char *err,
             size_t errlen)
{
    char default_path[4096];
    struct stat st;

    *out = NULL;
    if (errlen) err[0] = '\0';
    if (!path) {
        if (!assets_dir) {
            snprintf(err, errlen, "geo: no database given and no assets folder");
            return -EINVAL;
        }
        int n = snprintf(default_path, sizeof default_path, "%s/%s", assets_dir, GEO_DEFAULT_DB);
        if (n < 0 || (size_t)n >= sizeof default_path) {
            snprintf(err, errlen, "geo: assets folder path too long: %.200s", assets_dir);
            return -EINVAL;
        }
        path = default_path;
    }

    /* libmaxminddb reports a missing file, a folder and a junk file alike
     * as "error opening the file" or "invalid metadata"; stat first so the
     * operator learns which it is. */
    if (stat(path, &st) != 0) {
        int e = errno;
        if (e == ENOENT && path == default_path)
            snprintf(err, errlen,
                     "%s: no such file; run scripts/assets.sh to install the default geo "
                     "database, or pass --geoip FILE",
                     path);
        else
            snprintf(err, errlen, "%s: %s", path, strerror(e));
        return e == ENOENT || e == ENOTDIR ? -ENOENT : -e;
    }
    if (!S_ISREG(st.st_mode)) {
        snprintf(err, errlen, "%s is not a MaxMind database: not a regular file", path);
        return -EINVAL;
    }
    if (st.st_size == 0) { /* libmaxminddb would call this an open error */
        snprintf(err, errlen, "%s is not a MaxMind database: the file is empty", path);
        return -EINVAL;
    }

    struct geo *g = calloc(1, sizeof *g);
    if (!g) {
        snprintf(err, errlen, "%s: out of memory", path);
        return -ENOMEM;
    }
    int status = MMDB_open(path, MMDB_MODE_MMAP, &g->mmdb);
    if (status == MMDB_SUCCESS) {
        *out = g;
        return 0;
    }
    int saved_errno = errno;
    free(g);
    switch (status) {
    case MMDB_FILE_OPEN_ERROR:
        snprintf(err, errlen, "%s: %s", path, strerror(saved_errno ? saved_errno : EIO));
        return saved_errno == EACCES ? -EACCES : -EIO;
    case MMDB_IO_ERROR:
        snprintf(err, errlen, "%s: read error: %s", path, MMDB_strerror(status));
        return -EIO;
    case MMDB_OUT_OF_MEMORY_ERROR:
        snprintf(err, errlen, "%s: out of memory", path);
        return -ENOMEM;
    default:
        snprintf(err, errlen, "%s is not a MaxMind database: %s", path, MMDB_strerror(status));
        return -EINVAL;
    }
}

void geo_close(struct geo *g)
{
    if (!g) return;
    MMDB_close(&g->mmdb);
    free(g);
}

/* ---- lookup ------------------------------------------------------------ */

/* Addresses that no database places and that real peers behind a proxy or
 * on a LAN often have: private, shared (CGNAT), loopback, link-local,
 * benchmarking, multicast, reserved. Documentation ranges (192.0.2.0/24,
 * 198.51.100.0/24, 203.0.113.0/24, 2001:db8::/32) are looked up: public
 * databases hold nothing there, and test databases use them. */
static bool geo_v4_is_local(const unsigned char a[4])
{
    uint32_t x = (uint32_t)a[0] << 24 | (uint32_t)a[1] << 16 | (uint32_t)a[2] << 8 | a[3];
    return (x >> 24) == 0           /* 0.0.0.0/8 */
           || (x >> 24) == 10       /* 10.0.0.0/8 */
           || (x >> 22) == 0x191    /* 100.64.0.0/10 */
           || (x >> 24) == 127      /* 127.0.0.0/8 */
           || (x >> 16) == 0xa9fe   /* 169.254.0.0/16 */
           || (x >> 20) == 0xac1    /* 172.16.0.0/12 */
           || (x >> 8) == 0xc00000  /* 192.0.0.0/24 */
           || (x >> 16) == 0xc0a8   /* 192.168.0.0/16 */
           || (x >> 17) == 0x6309   /* 198.18.0.0/15 */
           || (x >> 28) >= 0xe;     /* 224.0.0.0/4 multicast, 240.0.0.0/4 and broadcast */
}

static bool geo_v6_is_local(const unsigned char a[16])
{
    return a[0] == 0x00                      /* ::/8: unspecified, loopback, v4-compatible */
           || (a[0] & 0xfe) == 0xfc          /* fc00::/7 unique local */
           || (a[0] == 0xfe && a[1] >= 0x80) /* fe80::/10 link-local, fec0::/10 site-local */
           || a[0] == 0xff;                  /* ff00::/8 multicast */
}

/* The string at path in the record, or false when it is missing or not a
 * string (a foreign or damaged database). */
static bool geo_string_at(MMDB_entry_s *entry, const char *const *path, const char **s,
                          uint32_t *len)
{
    MMDB_entry_data_s data;
    if (MMDB_aget_value(entry, &data, path) != MMDB_SUCCESS) return false;
    if (!data.has_data || data.type != MMDB_DATA_TYPE_UTF8_STRING) return false;
    *s = data.utf8_string;
    *len = data.data_size;
    return true;
}

/* Two ASCII letters, stored lower case; anything else stays unknown. */
static void geo_set_country(struct geo_result *out, const char *s, uint32_t len)
{
    if (len != 2) return;
    char cc[2];
    for (int i = 0; i < 2; i++) {
        char c = s[i];
        if (c >= 'A' && c <= 'Z') c = (char)(c - 'A' + 'a');
        if (c < 'a' || c > 'z') return;
        cc[i] = c;
    }
    out->country_code[0] = cc[0];
    out->country_code[1] = cc[1];
    out->country_code[2] = '\0';
}

/* ISO 3166-2 subdivision parts are one to three letters or digits; the
 * field allows a little more, never anything else. */
static void geo_set_region(struct geo_result *out, const char *s, uint32_t len)
{
    if (len == 0 || len >= sizeof out->region_code) return;
    for (uint32_t i = 0; i < len; i++) {
        char c = s[i];
        if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'))) return;
    }
    memcpy(out->region_code, s, len);
    out->region_code[len] = '\0';
}

/* Valid UTF-8 without control characters; a name longer than the field is
 * cut at a character boundary rather than dropped. */
static void geo_set_city(struct geo_result *out, const char *s, uint32_t len)
{
    for (uint32_t i = 0; i < len; i++)
        if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f) return;
    if (!utf8_valid(s, len)) return;
    size_t n = len;
    if (n >= sizeof out->city) {
        n = sizeof out->city - 1;
        while (n > 0 && ((unsigned char)s[n] & 0xc0) == 0x80) n--;
    }
    memcpy(out->city, s, n);
    out->city[n] = '\0';
}

static const char *const geo_path_flat_country[] = {"country_code", NULL};
static const char *const geo_path_country[] = {"country", "iso_code", NULL};
static const char *const geo_path_continent[] = {"continent", "code", NULL};
static const char *const geo_path_region[] = {"subdivisions", "0", "iso_code", NULL};
static const char *const geo_path_city[] = {"city", "names", "en", NULL};

void geo_lookup(const struct geo *g, const char *ip, struct geo_result *out)
{
    out->country_code[0] = '\0';
    out->region_code[0] = '\0';
    out->city[0] = '\0';
    out->continent_code[0] = '\0';
    if (!g || !ip) return;

    union {
        struct sockaddr sa;
        struct sockaddr_in v4;
        struct sockaddr_in6 v6;
    } addr;
    memset(&addr, 0, sizeof addr);
    if (!strchr(ip, ':')) {
        if (inet_pton(AF_INET, ip, &addr.v4.sin_addr) != 1) return;
        addr.v4.sin_family = AF_INET;
    } else {
        if (inet_pton(AF_INET6, ip, &addr.v6.sin6_addr) != 1) return;
        addr.v6.sin6_family = AF_INET6;
        /* A dual-stack socket reports IPv4 peers as ::ffff:a.b.c.d. As
         * IPv4 they reach the IPv4 data of any database, also one without
         * the ::ffff:0:0/96 alias or an IPv4-only one. */
        const unsigned char *b = addr.v6.sin6_addr.s6_addr;
        static const unsigned char v4_mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
        if (memcmp(b, v4_mapped, sizeof v4_mapped) == 0) {
            struct in_addr a4;
            memcpy(&a4, b + 12, 4);
            memset(&addr, 0, sizeof addr);
            addr.v4.sin_family = AF_INET;
            addr.v4.sin_addr = a4;
        }
    }
    if (addr.sa.sa_family == AF_INET ? geo_v4_is_local((const unsigned char *)&addr.v4.sin_addr)
                                     : geo_v6_is_local(addr.v6.sin6_addr.s6_addr))
        return;

    /* An IPv6 address in an IPv4-only database is an error here, not a
     * crash: the location just stays unknown. */
    int mmdb_error = MMDB_SUCCESS;
    MMDB_lookup_result_s r = MMDB_lookup_sockaddr(&g->mmdb, &addr.sa, &mmdb_error);
    if (mmdb_error != MMDB_SUCCESS || !r.found_entry) return;

    const char *s;
    uint32_t len;
    if (geo_string_at(&r.entry, geo_path_flat_country, &s, &len)) {
        geo_set_country(out, s, len);
    } else {
        if (geo_string_at(&r.entry, geo_path_country, &s, &len)) geo_set_country(out, s, len);
        if (geo_string_at(&r.entry, geo_path_region, &s, &len)) geo_set_region(out, s, len);
        if (geo_string_at(&r.entry, geo_path_city, &s, &len)) geo_set_city(out, s, len);
        if (geo_string_at(&r.entry, geo_path_continent, &s, &len)) {
            enum geo_continent c = geo_continent_from_maxmind(s, len, out->country_code);
            if (c != GEO_CONT_NONE) {
                strcpy(out->continent_code, geo_continent_names[c]);
                return;
            }
        }
    }
    if (out->country_code[0])
        strcpy(out->continent_code, geo_continent_names[geo_continent_index(out->country_code)]);
}
