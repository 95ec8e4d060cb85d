/* config: the sites, users and API tokens kept in DATA/sites.json,
 * DATA/users.json and DATA/tokens.json, and who may do what with them.
 * Each loaded `struct sites`, `struct users` and `struct tokens` is an
 * immutable snapshot; the server swaps in a new one when its file changes
 * (`tally site add` or `tally user grant` while serving). */
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
    bool anonymous_view;          /* reports readable without a token (default false) */
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

/* ---- who may do what ----
 * Ordered: each level allows everything the lower ones do. */
enum access {
    ACCESS_NONE,
    ACCESS_VIEW,      /* read the site's reports */
    ACCESS_WRITE,     /* and send what rewrites its history (cdt, cip) */
    ACCESS_ADMIN,     /* and manage the site (later issues: settings, goals) */
    ACCESS_SUPERUSER, /* every site, every user */
};
/* "none", "view", "write", "admin", "superuser". */
const char *access_name(enum access access);
/* What a user may be granted on a site: "none", "view", "write" or "admin".
 * Returns -EINVAL for anything else. */
int access_parse(const char *text, enum access *out);

#define USER_NAME_MAX 64
#define USER_PASSWORD_MIN 8     /* characters (code points) */
#define USER_PASSWORD_MAX 1024  /* bytes */

struct user_grant {
    uint32_t site_id;
    enum access access;           /* VIEW, WRITE or ADMIN */
};

struct user {
    char *name;                   /* letters, digits, '.', '_', '-', '@'; 1..USER_NAME_MAX */
    char *password_hash;          /* "$argon2id$v=19$m=65536,t=2,p=1$..." (crypto_pwhash_str) */
    bool superuser;
    struct user_grant *grants;    /* at most one per site */
    size_t grant_count;
    int64_t created_ms;
};

struct users {
    struct user *items;
    size_t count;
};

/* Loads DATA/users.json. A missing file is no users; a malformed one is an
 * error written to err. */
int users_load(const char *data_dir, struct users **out, char *err, size_t errlen);
void users_free(struct users *users);
const struct user *users_find(const struct users *users, const char *name);
/* The user's access to site_id (ACCESS_SUPERUSER for a superuser). */
enum access user_access(const struct user *user, uint32_t site_id);
/* Adds a user whose password is hashed with Argon2id; refuses a taken name
 * (-EEXIST) and a password shorter than USER_PASSWORD_MIN (-EINVAL). */
int users_add(const char *data_dir, const char *name, const char *password, bool superuser,
              char *err, size_t errlen);
/* Sets the user's access to an existing site; ACCESS_NONE removes it. */
int users_grant(const char *data_dir, const char *name, uint32_t site_id, enum access access,
                char *err, size_t errlen);
/* 0 when password is the user's, else -EACCES (an unknown user costs the
 * same time as a wrong password, so timing does not tell which). Slow on
 * purpose: about 0.2 s of one core and 64 MiB (see docs/access.md). */
int users_check_password(const struct users *users, const char *name, const char *password);

/* API tokens: 32 lower-case hex characters, shown once; only a BLAKE2b
 * hash is kept, so a stolen tokens.json gives nothing away. A token acts
 * as a user (the user's access, as it is at each request), or, made with
 * `--site N`, has write access to that one site. */
struct tokens;
int tokens_load(const char *data_dir, struct tokens **out, char *err, size_t errlen);
void tokens_free(struct tokens *tokens);
/* Creates a token with write access to site_id and writes its hash; the
 * token (32 hex characters and a NUL) is returned in token_out. */
int tokens_create(const char *data_dir, uint32_t site_id, char token_out[33],
                  char *err, size_t errlen);
/* Creates a token acting as the user name. */
int tokens_create_for_user(const char *data_dir, const char *name, char token_out[33],
                           char *err, size_t errlen);

/* What token_auth (NULL or "" for none) may do with site_id. A token that
 * matches nothing gets ACCESS_NONE even on an anonymous_view site, so a
 * wrong token is always refused; no token gets ACCESS_VIEW on such a site.
 * A site that does not exist gets ACCESS_NONE except for a superuser.
 * Any of users and tokens may be NULL (none). */
enum access access_for(const struct users *users, const struct tokens *tokens,
                       const struct sites *sites, const char *token_auth, uint32_t site_id);
bool access_is_superuser(const struct users *users, const struct tokens *tokens,
                         const char *token_auth);
/* Writes to out (at most max, in sites.json order) the ids of the sites
 * on which token_auth has at least min (ACCESS_VIEW: the sites it may
 * read); returns how many there are, which may exceed max. */
size_t access_sites(const struct users *users, const struct tokens *tokens,
                    const struct sites *sites, const char *token_auth, enum access min,
                    uint32_t *out, size_t max);

#endif
