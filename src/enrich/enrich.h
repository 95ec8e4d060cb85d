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

/* Fills hit.ip_anon, language, locale, browser, browser_version, os,
 * os_version, device_type, device_model, referrer_* and campaign_* from the
 * request and its site. Strings it creates live in arena. */
void enrich_hit(struct track_request *req, struct arena *arena);

#endif
