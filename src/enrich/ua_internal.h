/* ua internals shared by ua.c (data files, regexes, cache, bots) and
 * ua_rules.c (names, engines, device types, client hints). */
#ifndef TALLY_ENRICH_UA_INTERNAL_H
#define TALLY_ENRICH_UA_INTERNAL_H

#include "ua.h"

/* What the client hints say, read from uadata first and the Sec-CH-UA-*
 * headers second. Strings are printable ASCII; "" when not said. */
struct ua_hint_values {
    char brand[48];            /* already mapped: "Google Chrome" -> "Chrome" */
    char version[16];          /* major */
    int mobile;                /* 1, 0, or -1 when not said */
    char platform[32];         /* "Windows", "macOS", "Android", ... */
    char platform_version[32]; /* "15.0.0" */
    char model[48];
};

void ua_hints_read(const struct ua_hints *h, struct ua_hint_values *v);

/* uap-core's families mapped to the names Tally reports: the mobile
 * flavours of a browser are the same browser ("Chrome Mobile" -> "Chrome"),
 * since the device type already says mobile; OS names follow their vendors
 * ("Mac OS X" -> "macOS"). Returns family itself when no mapping applies. */
const char *ua_browser_name(const char *family);
const char *ua_os_name(const char *family);

/* Writes the leading digits of v (at most outlen - 1) into out. */
void ua_copy_major(const char *v, char *out, size_t outlen);

/* Sets r->engine from r->browser, its version and r->os, falling back on
 * the engine tokens of ua. */
void ua_engine(struct ua_result *r, const char *ua);

/* Sets r->device_type from the user agent, what uap-core found (brand,
 * model, OS) and the client hints' mobile flag (-1 when absent). */
void ua_device_type(struct ua_result *r, const char *ua, int hint_mobile);

#endif
