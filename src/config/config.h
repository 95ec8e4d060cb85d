/* config: the sites, users, API tokens, goals and funnels kept in
 * DATA/sites.json, DATA/users.json, DATA/tokens.json, DATA/goals.json and
 * DATA/funnels.json, and who may do what with them. Each loaded `struct
 * sites`, `struct users`, `struct tokens`, `struct goals` and `struct
 * funnels` is an immutable snapshot; the server swaps in a new one when
 * its file changes (`tally site add` or `tally goal add` while serving). */
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
/* Replaces every setting of site draft->id with draft's (validated as
 * sites_add does), keeping its creation time; -ENOENT when absent. */
int sites_update(const char *data_dir, const struct site *draft, char *err, size_t errlen);
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
/* The same against a copy of a user's password_hash (NULL: no such user),
 * so that a caller can verify without holding the users snapshot. */
int password_verify(const char *password_hash, const char *password);
/* Replaces the user's password (validated as users_add does). */
int users_set_password(const char *data_dir, const char *name, const char *password, char *err,
                       size_t errlen);
/* Removes the user and every token acting as them. -ENOENT when absent. */
int users_delete(const char *data_dir, const char *name, char *err, size_t errlen);

/* API tokens: 32 lower-case hex characters, shown once; only a BLAKE2b
 * hash is kept, so a stolen tokens.json gives nothing away. A token acts
 * as a user (the user's access, as it is at each request), or, made with
 * `--site N`, has write access to that one site. Each has an id (from 1,
 * never reused), a description, its creation time and, if asked for, a
 * time after which it no longer authenticates. */
#define TOKEN_DESCRIPTION_MAX 100          /* characters, as Matomo */
#define TOKEN_EXPIRE_HOURS_MAX (24 * 3650) /* ten years */

struct tokens;
int tokens_load(const char *data_dir, struct tokens **out, char *err, size_t errlen);
void tokens_free(struct tokens *tokens);

struct token_draft {
    uint32_t site_id;        /* write access to this site, or (exactly one of the two) */
    const char *user;        /* acting as this user */
    const char *description; /* NULL or "": none; a line of TOKEN_DESCRIPTION_MAX characters */
    int64_t expires_ms;      /* 0: never; else in the future */
};
/* Creates a token and writes its hash to tokens.json; the token (32 hex
 * characters and a NUL) is returned in token_out, its id in *id_out
 * (id_out may be NULL). -ENOENT when the site or user does not exist. */
int tokens_create(const char *data_dir, const struct token_draft *draft, char token_out[33],
                  uint32_t *id_out, char *err, size_t errlen);
/* Removes token id, which then authenticates nothing. With user non-NULL,
 * only a token acting as that user: another's gets the same -ENOENT as a
 * missing one, so nobody learns which ids others hold. */
int tokens_delete(const char *data_dir, uint32_t id, const char *user, char *err, size_t errlen);
/* Matomo's createAppSpecificTokenAuth expiry: expireDate ("YYYY-MM-DD" or
 * "YYYY-MM-DD HH:MM:SS", UTC) or, when that is absent or empty,
 * expireHours (whole hours after now, up to TOKEN_EXPIRE_HOURS_MAX;
 * absent, empty or 0: never), as *expires_ms (0: never). -EINVAL with a
 * message when malformed or not after now; the message does not name the
 * parameter, which the caller knows (the date's when it is given). */
int token_expiry_parse(const char *date, const char *hours, int64_t now, int64_t *expires_ms,
                       char *err, size_t errlen);

/* What may be shown of a token: never the token nor its hash. */
struct token_info {
    uint32_t id;
    uint32_t site_id;        /* a --site token's site; 0 for a user's */
    const char *user;        /* the user a token acts as; NULL for a --site token */
    const char *description; /* "" when none */
    int64_t created_ms;      /* 0: not recorded */
    int64_t expires_ms;      /* 0: never */
    int64_t last_used_ms;    /* 0: not since the snapshot's server started (memory only) */
};
/* The tokens of tokens.json in the file's order, one per call (never a
 * dashboard session's): start with *cursor = 0; false at the end. The
 * strings point into tokens. */
bool tokens_next(const struct tokens *tokens, size_t *cursor, struct token_info *out);

/* Dashboard sessions reach the access checks below as tokens that exist
 * only in the server's memory, acting as their user exactly as the user's
 * API tokens do. tokens_add_transient adds one to this snapshot (the token
 * in token_out; only its hash is kept). tokens_carry_over copies what
 * lives only in memory (those tokens, and when each stored token was last
 * used) into a snapshot just loaded from tokens.json. */
int tokens_add_transient(struct tokens *tokens, const char *user, char token_out[33]);
void tokens_remove_transient(struct tokens *tokens, const char *token);
void tokens_carry_over(const struct tokens *from, struct tokens *to);

/* What token_auth (NULL or "" for none) may do with site_id. A token that
 * matches nothing, or has expired, gets ACCESS_NONE even on an
 * anonymous_view site, so a wrong token is always refused; no token gets
 * ACCESS_VIEW on such a site. A site that does not exist gets ACCESS_NONE
 * except for a superuser. Any of users and tokens may be NULL (none).
 * These checks note when each token that authenticates was last used: the
 * one thing they change in a snapshot, held in memory only. */
enum access access_for(const struct users *users, const struct tokens *tokens,
                       const struct sites *sites, const char *token_auth, uint32_t site_id);
bool access_is_superuser(const struct users *users, const struct tokens *tokens,
                         const char *token_auth);
/* The name of the user token_auth acts as, or NULL (none, unknown, or a
 * --site token); points into users. */
const char *access_user_name(const struct users *users, const struct tokens *tokens,
                             const char *token_auth);
/* Writes to out (at most max, in sites.json order) the ids of the sites
 * on which token_auth has at least min (ACCESS_VIEW: the sites it may
 * read); returns how many there are, which may exceed max. */
size_t access_sites(const struct users *users, const struct tokens *tokens,
                    const struct sites *sites, const char *token_auth, enum access min,
                    uint32_t *out, size_t max);

/* ---- goals ----
 * A goal is a definition only: what a conversion is. Conversions are found
 * for all the stored data whenever goals change, so a goal added today also
 * counts in last year's data. */
enum goal_match {
    GOAL_MATCH_URL,            /* a pageview's full URL */
    GOAL_MATCH_TITLE,          /* a pageview's title */
    GOAL_MATCH_EVENT_CATEGORY,
    GOAL_MATCH_EVENT_ACTION,
    GOAL_MATCH_EVENT_NAME,
    GOAL_MATCH_OUTLINK,        /* the URL of a click to another site */
    GOAL_MATCH_DOWNLOAD,       /* the URL of a downloaded file */
    GOAL_MATCH_MANUAL,         /* only tracked conversions (idgoal=ID); no pattern */
};
enum goal_pattern {
    GOAL_PATTERN_NONE,         /* manual goals only */
    GOAL_PATTERN_EXACT,
    GOAL_PATTERN_CONTAINS,
    GOAL_PATTERN_STARTS_WITH,
    GOAL_PATTERN_ENDS_WITH,
    GOAL_PATTERN_REGEX,        /* PCRE2, UTF mode; compiles when the goal is saved */
};

#define GOAL_NAME_MAX 200           /* characters */
#define GOAL_DESCRIPTION_MAX 1000   /* characters */
#define GOAL_PATTERN_MAX 1000       /* bytes */
#define GOAL_REVENUE_MAX 1e12
#define GOALS_PER_SITE_MAX 1000

struct goal {
    uint32_t site_id;
    uint32_t id;                   /* per site, from 1, never reused (not even after delete) */
    char *name;
    char *description;             /* "" when none */
    enum goal_match match;
    enum goal_pattern pattern_type;
    char *pattern;                 /* "" for a manual goal */
    bool case_sensitive;
    bool allow_multiple;           /* every match converts, not only the visit's first */
    double revenue;                /* default revenue of a conversion, >= 0 */
    int64_t created_ms;
};

/* "url", "title", "event_category", "event_action", "event_name",
 * "outlink", "download", "manual"; goal_match_parse returns -EINVAL for
 * anything else. */
const char *goal_match_name(enum goal_match match);
int goal_match_parse(const char *text, enum goal_match *out);
/* "exact", "contains", "starts_with", "ends_with", "regex" ("" for NONE). */
const char *goal_pattern_name(enum goal_pattern type);
int goal_pattern_parse(const char *text, enum goal_pattern *out);

struct goals;
/* Loads DATA/goals.json. A missing file is no goals; a malformed one (or a
 * goal the CLI would refuse) is an error written to err. */
int goals_load(const char *data_dir, struct goals **out, char *err, size_t errlen);
void goals_free(struct goals *goals);
/* The site's goals in id order, one per call: start with *cursor = 0;
 * NULL at the end. goals may be NULL (none).
 *   for (size_t c = 0; (g = goals_for_site(goals, site, &c));) ... */
const struct goal *goals_for_site(const struct goals *goals, uint32_t site_id, size_t *cursor);
const struct goal *goals_find(const struct goals *goals, uint32_t site_id, uint32_t goal_id);
/* Checks every field of draft (site_id and id are ignored) without saving:
 * 0, or -EINVAL with a message that names what to fix. */
int goal_validate(const struct goal *draft, char *err, size_t errlen);
/* The goal's pattern as PCRE2 code, whatever its type (the literal ones
 * anchored as they say), caseless unless case_sensitive, for subjects that
 * may be invalid UTF-8. *out is NULL for a manual goal. -EINVAL with a
 * message when a regex does not compile. Free with pcre2_code_free. */
struct pcre2_real_code_8;
int goal_compile(const struct goal *g, struct pcre2_real_code_8 **out, char *err, size_t errlen);
/* The one way a pattern becomes PCRE2 code, for goals and funnel steps
 * alike (goal_compile is this on the goal's fields). */
int pattern_compile(enum goal_pattern type, const char *pattern, bool case_sensitive,
                    struct pcre2_real_code_8 **out, char *err, size_t errlen);
/* The site's goals, deep-copied (a snapshot outlives a reload), in id
 * order; free with goal_array_free. */
int goals_copy_site(const struct goals *goals, uint32_t site_id, struct goal **out, size_t *count);
void goal_array_free(struct goal *goals, size_t count);
/* Adds a goal to draft->site_id (which must exist: else -ENOENT) with the
 * next id of that site; writes goals.json atomically. */
int goals_add(const char *data_dir, const struct goal *draft, uint32_t *id_out, char *err,
              size_t errlen);
/* Replaces every field of goal (site_id, id) with draft's, keeping its
 * creation time; -ENOENT when there is no such goal. */
int goals_update(const char *data_dir, const struct goal *draft, char *err, size_t errlen);
/* Removes a goal; its id is never given again. -ENOENT when absent. */
int goals_delete(const char *data_dir, uint32_t site_id, uint32_t goal_id, char *err,
                 size_t errlen);

/* ---- funnels ----
 * A funnel is a definition only: an ordered list of steps a visit goes
 * through, each a condition on one of its actions. Reports evaluate it at
 * query time over any range (src/query/report_funnels.c). */
enum funnel_match {
    FUNNEL_MATCH_URL,            /* a pageview's full URL */
    FUNNEL_MATCH_PATH,           /* a pageview's path, from '/', without query or fragment */
    FUNNEL_MATCH_TITLE,          /* a pageview's title */
    FUNNEL_MATCH_EVENT_CATEGORY,
    FUNNEL_MATCH_EVENT_ACTION,
    FUNNEL_MATCH_EVENT_NAME,
    FUNNEL_MATCH_SITE_SEARCH,    /* a site search's keyword */
    FUNNEL_MATCH_GOAL,           /* a conversion of the goal whose id is the pattern */
};

#define FUNNEL_NAME_MAX 200        /* characters, for the funnel and each step */
#define FUNNEL_STEPS_MAX 20
#define FUNNELS_PER_SITE_MAX 200

struct funnel_step {
    char *name;
    enum funnel_match match;
    enum goal_pattern pattern_type; /* never NONE; always EXACT for a goal step */
    char *pattern;                  /* at most GOAL_PATTERN_MAX bytes; a goal id for a goal step */
    bool case_sensitive;
    bool required;                  /* must be reached for the steps after it to count */
};

struct funnel {
    uint32_t site_id;
    uint32_t id;                    /* per site, from 1, never reused (not even after delete) */
    char *name;
    uint32_t goal_id;               /* the goal the funnel leads to; 0: none */
    struct funnel_step steps[FUNNEL_STEPS_MAX];
    size_t step_count;              /* 1 to FUNNEL_STEPS_MAX */
    int64_t created_ms;
};

/* "url", "path", "title", "event_category", "event_action", "event_name",
 * "site_search", "goal"; funnel_match_parse returns -EINVAL otherwise. */
const char *funnel_match_name(enum funnel_match match);
int funnel_match_parse(const char *text, enum funnel_match *out);

struct funnels;
/* Loads DATA/funnels.json. A missing file is no funnels; a malformed one (or
 * a funnel the CLI would refuse) is an error written to err. A step or
 * funnel naming a goal deleted since is kept: it never matches. */
int funnels_load(const char *data_dir, struct funnels **out, char *err, size_t errlen);
void funnels_free(struct funnels *funnels);
/* The site's funnels in id order, one per call, as goals_for_site. */
const struct funnel *funnels_for_site(const struct funnels *funnels, uint32_t site_id,
                                      size_t *cursor);
const struct funnel *funnels_find(const struct funnels *funnels, uint32_t site_id, uint32_t id);
/* Checks every field of draft (site_id and id are ignored) without saving:
 * 0, or -EINVAL with a message that names what to fix. With goals, the
 * goals draft names must be goals of draft->site_id; NULL skips that. */
int funnel_validate(const struct funnel *draft, const struct goals *goals, char *err,
                    size_t errlen);
/* Parses a JSON array of steps, [{"name":..,"match":..,"pattern_type":..,
 * "pattern":..,"case_sensitive":..,"required":..}], into draft->steps (heap
 * strings; funnel_clear frees them). Not validated beyond the names of
 * match and pattern_type; a goal step may leave pattern_type out. */
int funnel_steps_parse(const char *json, struct funnel *draft, char *err, size_t errlen);
/* Frees the strings of a funnel filled by funnel_steps_parse or
 * funnel_copy; leaves it zeroed. */
void funnel_clear(struct funnel *f);
/* out: a heap-owned copy of in (absent strings become ""), e.g. for a
 * report that outlives a reload of funnels.json; free with funnel_clear. */
void funnel_copy(const struct funnel *in, struct funnel *out);
/* Adds a funnel to draft->site_id (which must exist: else -ENOENT) with the
 * next id of that site; writes funnels.json atomically. */
int funnels_add(const char *data_dir, const struct funnel *draft, uint32_t *id_out, char *err,
                size_t errlen);
/* Replaces every field of funnel (site_id, id) with draft's, keeping its
 * creation time; -ENOENT when there is no such funnel. */
int funnels_update(const char *data_dir, const struct funnel *draft, char *err, size_t errlen);
/* Removes a funnel; its id is never given again. -ENOENT when absent. */
int funnels_delete(const char *data_dir, uint32_t site_id, uint32_t funnel_id, char *err,
                   size_t errlen);

/* ---- saved segments ----
 * A name for a segment string, saved by a user for one site (or every
 * site) and seen by that user only, or by every user who may view the
 * site when shared. DATA/segments.json; SegmentEditor in the API. */
#define SAVED_SEGMENT_NAME_MAX 200          /* characters */
#define SAVED_SEGMENT_DEFINITION_MAX 4096   /* bytes */
#define SAVED_SEGMENTS_MAX 10000

struct saved_segment {
    uint32_t id;           /* from 1, never reused (not even after delete) */
    char *name;
    char *definition;      /* the segment string, as segment_parse reads it */
    uint32_t site_id;      /* 0: every site */
    char *login;           /* who saved it; kept by updates */
    bool shared;           /* Matomo's enable_all_users */
    int64_t created_ms;
};

struct saved_segments;
/* Loads DATA/segments.json; a missing file is none, a malformed one an
 * error written to err. */
int saved_segments_load(const char *data_dir, struct saved_segments **out, char *err,
                        size_t errlen);
void saved_segments_free(struct saved_segments *segments);
size_t saved_segments_count(const struct saved_segments *segments);
/* The i-th in the file's order, or NULL past the end. */
const struct saved_segment *saved_segments_get(const struct saved_segments *segments, size_t i);
const struct saved_segment *saved_segments_find(const struct saved_segments *segments,
                                                uint32_t id);
/* Checks name and the definition's size and text (not its grammar, which
 * is the segment parser's): 0, or -EINVAL with a message. */
int saved_segment_validate(const struct saved_segment *draft, char *err, size_t errlen);
/* Adds draft (its id and created_ms are given here) and returns the id. */
int saved_segments_add(const char *data_dir, const struct saved_segment *draft, uint32_t *id_out,
                       char *err, size_t errlen);
/* Replaces name, definition, site_id and shared of segment draft->id,
 * keeping its login and creation time; -ENOENT when absent. */
int saved_segments_update(const char *data_dir, const struct saved_segment *draft, char *err,
                          size_t errlen);
/* -ENOENT when absent. */
int saved_segments_delete(const char *data_dir, uint32_t id, char *err, size_t errlen);

#endif
