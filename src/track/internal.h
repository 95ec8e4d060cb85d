/* Helpers shared by the track stage's files; not part of its contract. */
#ifndef TALLY_TRACK_INTERNAL_H
#define TALLY_TRACK_INTERNAL_H

#include <stddef.h>

/* The longest single parameter value (or name) a request may carry. */
#define TRACK_VALUE_MAX (64u * 1024u)

/* Copies at most 64 bytes of s[0..len) into out for an error message:
 * anything but printable ASCII becomes '?', and "..." marks a cut, so a
 * hostile name or value cannot smuggle control bytes into a reply or a log. */
void track_safe_text(char *out, size_t outlen, const char *s, size_t len);

/* Replaces, in place, every byte of s that is not printable ASCII with
 * '?': jansson's messages quote the input they choked on. */
void track_tame(char *s);

/* Writes "not enough memory for this request" style reasons and returns
 * -ENOMEM: the request is too large for the caller's arena. */
int track_err_nomem(char *err, size_t errlen);

#endif
