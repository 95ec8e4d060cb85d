/* The files scripts/build-web.sh built, embedded by scripts/embed.pl into a
 * generated C file; only web.c reads them. */
#ifndef TALLY_WEB_ASSETS_H
#define TALLY_WEB_ASSETS_H

#include <stddef.h>

struct web_asset {
    const char *path;               /* URL path, "/index.html", "/assets/app.js" */
    const unsigned char *plain;
    size_t plain_len;
    const unsigned char *gzipped;   /* the same, gzip -9 */
    size_t gzipped_len;
    const char *etag;               /* quoted, from the content */
    const char *etag_gzipped;       /* the same with "-gz": another representation */
};

extern const struct web_asset web_assets[]; /* sorted by path */
extern const size_t web_asset_count;

#endif
