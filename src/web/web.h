/* web: what browsers load from Tally, built from web/ (the dashboard) and
 * tracker/ (the JavaScript tracker) and embedded in the binary, so one file
 * is the whole install. Everything else goes on to the api stage. */
#ifndef TALLY_WEB_H
#define TALLY_WEB_H

#include <stdbool.h>

#include "../api/api.h"

/* Answers the request when it asks for the dashboard (/ without module=,
 * /index.php likewise, /assets/...) or the tracker (/tally.js, and
 * /matomo.js and /piwik.js so Matomo's snippet works by changing its URL)
 * and returns true; returns false for everything else. */
bool web_handle(const struct api_request *req, struct api_response *resp);

#endif
