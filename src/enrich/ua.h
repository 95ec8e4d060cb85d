/* ua: user agent and client hints -> browser, engine, OS, device; and the
 * bot verdict. Data comes from npm packages read once at open: uap-core's
 * regexes.yaml (compiled with PCRE2 + JIT) and crawler-user-agents' JSON.
 * Nothing is copied from the user agent except recognised names, digits of
 * versions and the device model uap-core extracts, all as printable ASCII.
 *
 * A parser owns a result cache and one PCRE2 match block, so it is not
 * thread-safe: use one parser per thread (or serialise calls). */
#ifndef TALLY_ENRICH_UA_H
#define TALLY_ENRICH_UA_H

#include <stdbool.h>
#include <stddef.h>

struct ua_hints {       /* client hints; "" (or NULL) when absent */
    const char *uadata; /* the JS tracker's uadata JSON:
                           {"fullVersionList":[{"brand":..,"version":..}],"mobile":bool,"model":..,"platform":..,"platformVersion":..}
                         */
    const char *sec_ch_ua, *sec_ch_ua_mobile, *sec_ch_ua_platform, *sec_ch_ua_platform_version,
        *sec_ch_ua_model;
};

struct ua_result {
    char browser[64], browser_version[32], engine[32];
    char os[64], os_version[32];
    char
        device_type[24]; /* desktop smartphone tablet phablet feature phone console tv car browser
                            smart display wearable camera portable media player peripheral, or "" */
    char device_brand[48], device_model[64];
    bool bot; /* crawler, headless browser, monitoring agent */
    char bot_name[64];
};

struct ua_parser;

/* Loads ASSETS_DIR/uap-core/regexes.yaml and
 * ASSETS_DIR/crawler-user-agents/crawler-user-agents.json (assets_dir is the
 * node_modules folder). On failure returns a negative errno code, *out is
 * NULL and err says which file is missing or corrupt. */
int ua_parser_open(const char *assets_dir, struct ua_parser **out, char *err, size_t errlen);
void ua_parser_close(struct ua_parser *p); /* NULL is a no-op */

/* Fills *out for user_agent (NULL is read as "") and hints (may be NULL).
 * Never allocates: repeated (user agent, hints) pairs are answered from a
 * bounded cache. */
void ua_parse(struct ua_parser *p, const char *user_agent, const struct ua_hints *hints,
              struct ua_result *out);

/* Cache statistics since open, for the bench and tests. */
void ua_parser_stats(const struct ua_parser *p, unsigned long long *hits,
                     unsigned long long *misses);

#endif
