/* config: the sites and API tokens kept in DATA/sites.json and
 * DATA/tokens.json. A `struct sites` is an immutable snapshot; the server
 * swaps in a new one when the file changes (`tally site add` while serving). */
#ifndef TALLY_CONFIG_H
#define TALLY_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define SITE_MAX_URLS 16
#define SITE_MAX_EXCLUDED_PARAMS 32

struct site {
    uint32_t id;                  /* from 1, never reused */
    char *name;
    char *urls[SITE_MAX_URLS];    /* "https://example.com", normalised: lower-case host, no trailing '/' */
    size_t url_count;
    char *timezone;               /* IANA name, e.g. "Europe/Paris"; default "UTC" */
    char *currency;               /* ISO 4217, default "USD" */
    char *excluded_params[SITE_MAX_EXCLUDED_PARAMS];
    size_t excluded_param_count;
    bool honour_dnt;              /* drop hits sent with DNT: 1 or Sec-GPC: 1 (default true) */
    uint8_t ipv4_mask_bytes;      /* bytes of IPv4 zeroed, 0..4, default 2 */
    uint8_t ipv6_mask_bits;       /* low bits of IPv6 zeroed, 0..128, default 80 */
    int64_t created_ms;
};

struct sites {
    struct site *items;
    size_t count;
};

/* Loads DATA/sites.json. A missing file is an empty registry; a malformed
 * one is an error written to err. */
int sites_load(const char *data_dir, struct sites **out, char *err, size_t errlen);
void sites_free(struct sites *sites);
const struct site *sites_find(const struct sites *sites, uint32_t id);
/* Adds a site (id = highest + 1), validating every field; writes the file
 * atomically. The new id is returned through id_out. */
int sites_add(const char *data_dir, const struct site *draft, uint32_t *id_out,
              char *err, size_t errlen);
/* True when the IANA zone exists on this machine (a TZif file). */
bool timezone_valid(const char *name);

/* API tokens: 32 lower-case hex characters, shown once; only a BLAKE2b
 * hash is kept, so a stolen tokens.json gives nothing away. */
struct tokens;
int tokens_load(const char *data_dir, struct tokens **out, char *err, size_t errlen);
void tokens_free(struct tokens *tokens);
/* True when token grants access to site_id. */
bool tokens_allow(const struct tokens *tokens, const char *token, uint32_t site_id);
/* Creates a token for site_id and writes its hash; the token (33 bytes with
 * NUL) is returned in token_out. */
int tokens_create(const char *data_dir, uint32_t site_id, char token_out[33],
                  char *err, size_t errlen);

#endif
