/* session: who is this visitor, and which visit does this hit belong to?
 *
 * Identity, strongest first: cid (forced visitor id), uid (a hash of it, so
 * one user is one visitor across devices), _id (the tracker's cookie), and
 * otherwise the cookieless id: keyed BLAKE2b of site, anonymised IP and user
 * agent under a secret salt that rotates each UTC day. Only the current
 * day's salt exists (DATA/salt, mode 0600); yesterday's is overwritten, so
 * yesterday's ids cannot be recomputed or linked to today's.
 *
 * A hit joins the visitor's open visit unless 30 minutes passed since that
 * visit's last hit, new_visit=1 was sent, or it brings a campaign or an
 * external referrer other than the one that started the visit. */
#ifndef TALLY_SESSION_H
#define TALLY_SESSION_H

#include <stddef.h>
#include <stdint.h>

#include "../track/track.h"

#define SESSION_TIMEOUT_MS (30 * 60 * 1000LL)

struct session;

/* Loads or creates DATA/salt. */
int session_create(const char *data_dir, struct session **out, char *err, size_t errlen);
void session_destroy(struct session *session);

/* Feeds one stored hit back at start so visitor history (visit counts, open
 * visits, the next visit id) survives restarts. Order does not matter. */
void session_restore(struct session *session, const struct hit *hit);

/* Sets req->hit's visitor_id, visit_id, visit_count, days_since_last_visit,
 * days_since_first_visit and the VISIT_START / RETURNING / ID_* flags.
 * Rotates the salt when now_ms is on a new UTC day (writes DATA/salt);
 * returns a negative errno only when that write fails. Returns
 * SESSION_IGNORED, changing nothing, for a heartbeat (ping=1) that belongs
 * to no open visit: there is nothing to extend, so it is not stored. Needs
 * hit.ip_anon, referrer and campaign fields already set by enrich. */
#define SESSION_IGNORED 1
int session_assign(struct session *session, struct track_request *req, int64_t now_ms);

/* Visitors the session remembers: every visitor with a tracker cookie or
 * a user id, and today's cookieless ones (forgotten when the salt rotates). */
size_t session_visitor_count(const struct session *session);

#endif
