/* http: the HTTP/1.1 front (libmicrohttpd, one epoll thread). It applies
 * limits (URL length 414, body size 413, methods 405), collects the request
 * and hands it to api_handle, answering on the final callback so keep-alive
 * stays on. */
#ifndef TALLY_HTTP_H
#define TALLY_HTTP_H

#include <stddef.h>

#include "../api/api.h"

#define HTTP_MAX_BODY (8u << 20)   /* bulk requests larger than 8 MiB: 413 */

struct http_server;
/* listen: "HOST:PORT" ("127.0.0.1:8080", "[::1]:8080", ":8080"). */
int http_start(const char *listen, struct api *api, struct http_server **out, char *err,
               size_t errlen);
void http_stop(struct http_server *server);

#endif
