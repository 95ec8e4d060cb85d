/* track: turns one Matomo tracking request (query string, form body, or one
 * item of a bulk JSON request) into a validated `struct hit`, and splits bulk
 * JSON bodies into items. Every Matomo tracking parameter is either mapped to
 * a hit field or deliberately ignored; unknown parameters never break a hit.
 *
 * The hit's fields are listed once, in HIT_FIELDS; the store's encodings,
 * segment columns and JSON dumps are generated from that list. */
#ifndef TALLY_TRACK_H
#define TALLY_TRACK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../base/base.h"
#include "../config/config.h"

enum hit_kind {
    HIT_PAGEVIEW = 1,
    HIT_CUSTOM_ACTION,       /* ca=1 with nothing more specific */
    HIT_EVENT,
    HIT_OUTLINK,
    HIT_DOWNLOAD,
    HIT_SITE_SEARCH,
    HIT_CONTENT_IMPRESSION,
    HIT_CONTENT_INTERACTION,
    HIT_GOAL,
    HIT_ECOMMERCE_ORDER,
    HIT_CART_UPDATE,
    HIT_HEARTBEAT,
    HIT_BOT,                 /* a bot's request, kept only to be counted (no bots=1) */
    HIT_KIND_COUNT
};
const char *hit_kind_name(int kind); /* "pageview", "event", ...; "unknown" */
/* Pageviews, downloads, outlinks, site searches, events and content
 * interactions are "actions" (Matomo's nb_actions). */
bool hit_kind_is_action(int kind);

enum hit_flag {
    HIT_FLAG_VISIT_START = 1 << 0,   /* first hit of its visit (set by session) */
    HIT_FLAG_RETURNING = 1 << 1,     /* the visitor had an earlier visit */
    HIT_FLAG_BOT = 1 << 2,           /* bots=1: recorded although it is a bot */
    HIT_FLAG_PRODUCT_VIEW = 1 << 3,  /* pageview carrying _pks/_pkn/_pkc/_pkp */
    HIT_FLAG_TIME_FORCED = 1 << 4,   /* time from an authorised cdt */
    HIT_FLAG_NEW_VISIT = 1 << 5,     /* new_visit=1 was sent */
    HIT_FLAG_ID_COOKIELESS = 1 << 6, /* visitor id from the daily-salted hash */
    HIT_FLAG_ID_USER = 1 << 7,       /* visitor id derived from uid */
};

/* The channel a hit came through. Stored as a number: never renumber. */
enum referrer_type {
    REFERRER_DIRECT = 0,   /* no referrer, or one of the site's own URLs */
    REFERRER_WEBSITE = 1,
    REFERRER_CAMPAIGN = 2,
    REFERRER_SEARCH = 3,
    REFERRER_SOCIAL = 4,
    REFERRER_AI = 5,           /* AI assistants: chatgpt.com, perplexity.ai, ... */
    REFERRER_EMAIL = 6,
    REFERRER_PAID_SEARCH = 7,  /* a click id says so: gclid, msclkid, ... */
    REFERRER_PAID_SOCIAL = 8,  /* fbclid, ttclid, li_fat_id, ... */
};

/* "direct", "website", "campaign", "search", "social", "ai", "email",
 * "paid_search", "paid_social"; "unknown". */
const char *referrer_type_name(int type);

/* X(type, name): type is one of U8 U16 U32 I32 U64 I64 F64 STR.
 * Absent values: STR "" (never NULL), F64 NAN, I32 -1, unsigned 0.
 * New fields go at the end: stored records keep their meaning. */
#define HIT_FIELDS(X)                                                                  \
    /* identity and time (store, track, session) */                                    \
    X(U64, seq)                    /* global append order, set by store_append */      \
    X(U32, site_id)                                                                    \
    X(I64, time_ms)                /* UTC; server clock or authorised cdt */           \
    X(U8, kind)                    /* enum hit_kind */                                 \
    X(U16, flags)                  /* enum hit_flag */                                 \
    X(U64, visitor_id)                                                                 \
    X(U64, visit_id)               /* from session's counter, never reused */                \
    X(U32, visit_count)            /* 1 for a visitor's first visit */                 \
    X(I32, days_since_last_visit)  /* -1 on a first visit */                           \
    X(I32, days_since_first_visit)                                                     \
    /* page */                                                                         \
    X(STR, url)                                                                        \
    X(STR, action_name)                                                                \
    X(STR, urlref)                                                                     \
    X(STR, pv_id)                                                                      \
    /* events, outlinks and downloads (target in `target_url`), site search */         \
    X(STR, event_category)                                                             \
    X(STR, event_action)                                                               \
    X(STR, event_name)                                                                 \
    X(F64, event_value)                                                                \
    X(STR, target_url)                                                                 \
    X(STR, search_keyword)                                                             \
    X(STR, search_category)                                                            \
    X(I32, search_count)                                                               \
    /* content tracking */                                                             \
    X(STR, content_name)                                                               \
    X(STR, content_piece)                                                              \
    X(STR, content_target)                                                             \
    X(STR, content_interaction)                                                        \
    /* goals and ecommerce */                                                          \
    X(I32, goal_id)                /* -1 none, 0 ecommerce, >0 goal */                 \
    X(F64, revenue)                                                                    \
    X(STR, order_id)                                                                   \
    X(STR, items)                  /* ec_items, normalised JSON array */               \
    X(F64, subtotal)                                                                   \
    X(F64, tax)                                                                        \
    X(F64, shipping)                                                                   \
    X(F64, discount)                                                                   \
    X(STR, product_sku)                                                                \
    X(STR, product_name)                                                               \
    X(STR, product_category)       /* JSON array when several were sent */             \
    X(F64, product_price)                                                              \
    /* page timings in ms */                                                           \
    X(I32, pf_net)                                                                     \
    X(I32, pf_srv)                                                                     \
    X(I32, pf_tfr)                                                                     \
    X(I32, pf_dm1)                                                                     \
    X(I32, pf_dm2)                                                                     \
    X(I32, pf_onl)                                                                     \
    /* visitor context */                                                              \
    X(STR, dimensions)             /* {"1":"value",...} from dimensionN */             \
    X(STR, user_id)                                                                    \
    X(U16, screen_width)                                                               \
    X(U16, screen_height)                                                              \
    X(I32, local_time_s)           /* h:m:s as seconds since midnight */               \
    X(STR, language)               /* "de" */                                          \
    X(STR, locale)                 /* "de-at" */                                       \
    X(STR, ip_anon)                /* anonymised before anything is kept */            \
    X(STR, browser)                                                                    \
    X(STR, browser_version)                                                            \
    X(STR, os)                                                                         \
    X(STR, os_version)                                                                 \
    X(STR, device_type)                                                                \
    X(STR, device_model)                                                               \
    /* acquisition of this hit (a visit's = its first hit's) */                        \
    X(U8, referrer_type)           /* enum referrer_type */                            \
    X(STR, referrer_name)          /* host, engine or network */                       \
    X(STR, referrer_url)                                                               \
    X(STR, campaign_name)                                                              \
    X(STR, campaign_keyword)                                                           \
    X(STR, campaign_source)                                                            \
    X(STR, campaign_medium)                                                            \
    X(STR, campaign_content)                                                           \
    X(STR, campaign_id)                                                                \
    /* enrichment, issue 3 */                                                          \
    X(STR, browser_engine)                                                             \
    X(STR, device_brand)                                                               \
    X(STR, country_code)           /* ISO 3166-1 alpha-2, lower case: "de" */          \
    X(STR, region_code)            /* ISO 3166-2 subdivision code without country */   \
    X(STR, city)                                                                       \
    X(STR, continent_code)         /* Matomo's: afr amc amn ams ant asi eur oce */     \
    X(STR, referrer_keyword)       /* search keyword when the referrer shows it */     \
    X(STR, campaign_group)                                                             \
    X(STR, campaign_placement)

#define HIT_CTYPE_U8 uint8_t
#define HIT_CTYPE_U16 uint16_t
#define HIT_CTYPE_U32 uint32_t
#define HIT_CTYPE_I32 int32_t
#define HIT_CTYPE_U64 uint64_t
#define HIT_CTYPE_I64 int64_t
#define HIT_CTYPE_F64 double
#define HIT_CTYPE_STR const char *

struct hit {
#define HIT_DECLARE(type, name) HIT_CTYPE_##type name;
    HIT_FIELDS(HIT_DECLARE)
#undef HIT_DECLARE
};

/* Sets every field to its absent value. */
void hit_clear(struct hit *hit);

/* One decoded name=value pair. Names and values are NUL-terminated, already
 * percent-decoded, and point into memory owned by the params' creator. */
struct track_param {
    const char *name;
    const char *value;
};

/* Parameters of one tracking request. Strings and the item array live in
 * the arena the caller passed to track_params_init, so they are freed with it. */
struct track_params {
    struct track_param *items;
    size_t count;
    size_t cap;
    struct arena *arena;
};
void track_params_init(struct track_params *p, struct arena *arena);
/* Adds a pair; copies both strings into the arena. -ENOMEM past the arena's limit. */
int track_params_add(struct track_params *p, const char *name, const char *value);
/* Last value of name, or NULL. */
const char *track_params_get(const struct track_params *p, const char *name);
/* Parses "a=1&b=%20x" (a leading '?' or a full "http://host/path?..." URL is
 * accepted) and adds its pairs. '+' is a space. Malformed percent escapes are
 * an error (-EINVAL) and leave a message in err. */
int track_params_parse_query(struct track_params *p, const char *query, size_t len,
                             char *err, size_t errlen);

/* What the HTTP request itself says, beyond its parameters. These values are
 * transient: they never reach disk. */
struct track_context {
    const char *ip;               /* peer address, textual IPv4 or IPv6 */
    const char *user_agent;       /* User-Agent header, may be "" */
    const char *accept_language;  /* header or "" */
    const char *sec_ch_ua;        /* Sec-CH-UA header or "" */
    const char *sec_ch_ua_mobile;
    const char *sec_ch_ua_platform;
    const char *sec_ch_ua_platform_version;
    const char *sec_ch_ua_model;
    bool do_not_track;            /* DNT: 1 or Sec-GPC: 1 */
    int64_t now_ms;               /* arrival time */
    const char *token_auth;       /* bulk-level token, applies when the item has none */
    bool trusted;                 /* in-process callers (tally demo): cdt/cip allowed without a token */
};

/* A parsed request: the hit plus what enrichment and sessionizing need and
 * must not keep (IP, user agent, client hints, raw visitor ids). All strings
 * point into the params, the context or the arena given to track_parse. */
struct track_request {
    struct hit hit;
    const struct site *site;
    const struct track_context *ctx; /* the request's headers (Accept-Language, Sec-CH-UA-*) */
    const char *ip;               /* cip when authorised, else the peer */
    const char *user_agent;       /* ua parameter or header */
    const char *uadata;           /* JSON client hints from the JS tracker, or "" */
    const char *visitor_hex;      /* _id (16 hex) or "" */
    const char *forced_visitor_hex; /* cid (16 hex) or "" */
    const char *cookie_campaign_name;    /* _rcn: the tracker's remembered campaign, or "" */
    const char *cookie_campaign_keyword; /* _rck, or "" */
    bool dropped_for_privacy;     /* DNT/GPC honoured: answer 204, store nothing */
    bool bot;                     /* set by enrich: a crawler, headless browser or monitor */
    const char *bot_name;         /* set by enrich, "" for humans */
    bool send_image;              /* false when send_image=0: answer 204, not a GIF */
};

enum track_result {
    TRACK_OK = 0,
    TRACK_INVALID = -1,           /* err says why: answer 400 / list as invalid */
};

/* Validates params against the sites and fills out; cdt and cip need a
 * token_auth with write access to the site (users and tokens may be NULL:
 * none). On TRACK_INVALID, err holds a reason fit to show the client
 * ("idsite 7 is not a known site", "rec=1 is missing", "cdt needs a
 * valid token_auth"). */
int track_parse(const struct track_params *params, const struct track_context *ctx,
                const struct sites *sites, const struct users *users,
                const struct tokens *tokens, struct arena *arena, struct track_request *out,
                char *err, size_t errlen);

/* A bulk JSON body {"requests":[...], "token_auth":"..."}; each item is a
 * query string ("?idsite=1&..."), an absolute URL, or a JSON object of
 * parameters. Items are turned into params one by one so a bad item only
 * invalidates itself. */
struct track_bulk;
/* Returns -EINVAL with a reason in err when body is not such a JSON object. */
int track_bulk_open(const char *body, size_t len, struct track_bulk **out, char *err,
                    size_t errlen);
void track_bulk_free(struct track_bulk *bulk);
size_t track_bulk_count(const struct track_bulk *bulk);
const char *track_bulk_token(const struct track_bulk *bulk); /* "" when absent */
/* Fills p (initialised by the caller) with item i's parameters; -EINVAL and
 * a reason when the item is not a string or an object of scalars (numbers
 * and booleans become their text: true -> "1"). */
int track_bulk_item(const struct track_bulk *bulk, size_t i, struct track_params *p, char *err,
                    size_t errlen);
/* True when body looks like JSON (first non-space byte is '{'). Clients label
 * bulk bodies as form data, so the body decides, not the header. */
bool track_body_is_json(const char *body, size_t len);

#endif
