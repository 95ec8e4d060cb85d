/* Time zones from TZif files (RFC 8536), version 2 and later.
 *
 * Only the 64-bit section is read. Past the last transition the footer's
 * POSIX TZ string ("CET-1CEST,M3.5.0,M10.5.0/3") decides, which matters for
 * "slim" zone files whose tables stop in the past; when a footer is absent
 * or not understood, the last transition's offset holds beyond the table. */
#include "query.h"

#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "../base/base.h"

#define TZ_DIR "/usr/share/zoneinfo/"

/* A POSIX TZ rule date: Mm.w.d (month, week 1..5, weekday 0..6), Jn (1..365,
 * no Feb 29) or n (0..365). */
struct tz_rule_date {
    char kind; /* 'M', 'J' or 'n' */
    int month, week, weekday, yday;
    int64_t time_s; /* local time of day of the change, may be negative or > 24h */
};

struct tz {
    int64_t *trans;     /* transition instants, UTC seconds, ascending */
    uint8_t *trans_idx; /* local time type after each transition */
    size_t trans_count;
    int32_t *type_off; /* utoff per local time type, seconds */
    size_t type_count;
    /* footer rule */
    bool has_rule;
    bool rule_dst; /* false: a fixed offset (std_off) */
    int32_t std_off, dst_off;
    struct tz_rule_date start, end;
};

static uint32_t be32(const unsigned char *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static int64_t be64s(const unsigned char *p)
{
    return (int64_t)((uint64_t)be32(p) << 32 | be32(p + 4));
}

/* ---- POSIX TZ string --------------------------------------------------- */

static const char *posix_name(const char *p)
{
    if (*p == '<') {
        while (*p && *p != '>')
            p++;
        return *p == '>' ? p + 1 : NULL;
    }
    const char *start = p;
    while (isalpha((unsigned char)*p))
        p++;
    return p - start >= 3 ? p : NULL;
}

/* [+-]hh[:mm[:ss]] into seconds. */
static const char *posix_time(const char *p, int64_t *out)
{
    int sign = 1;
    if (*p == '+' || *p == '-') sign = *p++ == '-' ? -1 : 1;
    if (!isdigit((unsigned char)*p)) return NULL;
    int64_t parts[3] = {0, 0, 0};
    for (int i = 0; i < 3; i++) {
        if (!isdigit((unsigned char)*p)) return NULL;
        while (isdigit((unsigned char)*p))
            parts[i] = parts[i] * 10 + (*p++ - '0');
        if (parts[i] > 167) return NULL;
        if (*p != ':' || i == 2) break;
        p++;
    }
    *out = sign * (parts[0] * 3600 + parts[1] * 60 + parts[2]);
    return p;
}

static const char *posix_date(const char *p, struct tz_rule_date *d)
{
    char *end;
    d->time_s = 7200; /* default 02:00 */
    if (*p == 'M') {
        d->kind = 'M';
        d->month = (int)strtol(p + 1, &end, 10);
        if (*end != '.') return NULL;
        d->week = (int)strtol(end + 1, &end, 10);
        if (*end != '.') return NULL;
        d->weekday = (int)strtol(end + 1, &end, 10);
        if (d->month < 1 || d->month > 12 || d->week < 1 || d->week > 5 || d->weekday < 0 ||
            d->weekday > 6)
            return NULL;
    } else if (*p == 'J' || isdigit((unsigned char)*p)) {
        d->kind = *p == 'J' ? 'J' : 'n';
        d->yday = (int)strtol(p + (*p == 'J'), &end, 10);
        if (d->yday < (d->kind == 'J') || d->yday > 365) return NULL;
    } else {
        return NULL;
    }
    p = end;
    if (*p == '/') p = posix_time(p + 1, &d->time_s);
    return p;
}

static bool posix_parse(const char *s, struct tz *tz)
{
    int64_t off;
    const char *p = posix_name(s);
    if (!p || !(p = posix_time(p, &off))) return false;
    tz->std_off = (int32_t)-off; /* POSIX counts west of Greenwich as positive */
    if (!*p) {
        tz->has_rule = true;
        return true;
    }
    if (!(p = posix_name(p))) return false;
    tz->dst_off = tz->std_off + 3600;
    if (*p && *p != ',') {
        if (!(p = posix_time(p, &off))) return false;
        tz->dst_off = (int32_t)-off;
    }
    if (*p != ',' || !(p = posix_date(p + 1, &tz->start))) return false;
    if (*p != ',' || !(p = posix_date(p + 1, &tz->end))) return false;
    if (*p) return false;
    tz->rule_dst = true;
    tz->has_rule = true;
    return true;
}

static bool is_leap(int64_t y)
{
    return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

/* Local seconds (counted like UTC seconds from 1970) at which d happens in year. */
static int64_t rule_local_s(const struct tz_rule_date *d, int year)
{
    int64_t day;
    if (d->kind == 'M') {
        int64_t first = days_from_civil(year, d->month, 1);
        int first_wday = (int)(((first % 7) + 11) % 7); /* 1970-01-01 was a Thursday (4) */
        int64_t mday = 1 + (d->weekday - first_wday + 7) % 7 + (int64_t)(d->week - 1) * 7;
        int next_month = d->month == 12 ? 1 : d->month + 1;
        int64_t month_len =
            days_from_civil(d->month == 12 ? year + 1 : year, next_month, 1) - first;
        while (mday > month_len)
            mday -= 7; /* week 5 means "last" */
        day = first + mday - 1;
    } else if (d->kind == 'J') {
        /* J1..J365 never count Feb 29. */
        day = days_from_civil(year, 1, 1) + d->yday - 1 + (is_leap(year) && d->yday >= 60);
    } else {
        day = days_from_civil(year, 1, 1) + d->yday;
    }
    return day * 86400 + d->time_s;
}

static int32_t rule_offset(const struct tz *tz, int64_t t)
{
    if (!tz->rule_dst) return tz->std_off;
    int y, m, d;
    int64_t local = t + tz->std_off;
    civil_from_days(local >= 0 ? local / 86400 : -((-local + 86399) / 86400), &y, &m, &d);
    /* The year of t in local standard time; rules near New Year are the
     * only ones that could straddle, and those are evaluated for that year. */
    int64_t start = rule_local_s(&tz->start, y) - tz->std_off; /* starts in standard time */
    int64_t end = rule_local_s(&tz->end, y) - tz->dst_off;     /* ends in daylight time */
    bool dst = start < end ? (t >= start && t < end) : !(t >= end && t < start);
    return dst ? tz->dst_off : tz->std_off;
}

/* ---- loading ------------------------------------------------------------- */

static int tz_parse(const unsigned char *data, size_t len, struct tz *tz)
{
    if (len < 44 || memcmp(data, "TZif", 4) != 0 || data[4] < '2') return -EINVAL;
    /* Skip the version 1 (32-bit) block. */
    const unsigned char *h = data + 20;
    uint64_t isut = be32(h), isstd = be32(h + 4), leap = be32(h + 8), timecnt = be32(h + 12),
             typecnt = be32(h + 16), charcnt = be32(h + 20);
    uint64_t v1 = timecnt * 5 + typecnt * 6 + charcnt + leap * 8 + isstd + isut;
    if (44 + v1 + 44 > len) return -EINVAL;
    const unsigned char *p = data + 44 + v1;
    if (memcmp(p, "TZif", 4) != 0) return -EINVAL;
    h = p + 20;
    isut = be32(h), isstd = be32(h + 4), leap = be32(h + 8), timecnt = be32(h + 12),
    typecnt = be32(h + 16), charcnt = be32(h + 20);
    p += 44;
    uint64_t v2 = timecnt * 9 + typecnt * 6 + charcnt + leap * 12 + isstd + isut;
    if (typecnt == 0 || typecnt > 256 || (size_t)(p - data) + v2 > len) return -EINVAL;

    tz->trans_count = timecnt;
    tz->type_count = typecnt;
    tz->trans = calloc(timecnt ? timecnt : 1, sizeof *tz->trans);
    tz->trans_idx = calloc(timecnt ? timecnt : 1, 1);
    tz->type_off = calloc(typecnt, sizeof *tz->type_off);
    if (!tz->trans || !tz->trans_idx || !tz->type_off) return -ENOMEM;
    for (size_t i = 0; i < timecnt; i++) {
        tz->trans[i] = be64s(p + i * 8);
        if (i && tz->trans[i] <= tz->trans[i - 1]) return -EINVAL;
    }
    p += timecnt * 8;
    for (size_t i = 0; i < timecnt; i++) {
        if (p[i] >= typecnt) return -EINVAL;
        tz->trans_idx[i] = p[i];
    }
    p += timecnt;
    for (size_t i = 0; i < typecnt; i++) {
        int32_t off = (int32_t)be32(p + i * 6);
        if (off <= -26 * 3600 || off >= 26 * 3600) return -EINVAL;
        tz->type_off[i] = off;
    }
    p += typecnt * 6 + charcnt + leap * 12 + isstd + isut;

    /* Footer: "\n" TZ "\n". An empty or unknown one leaves the table alone. */
    const unsigned char *end = data + len;
    if (p < end && *p == '\n') {
        const unsigned char *nl = memchr(p + 1, '\n', (size_t)(end - p - 1));
        if (nl && nl - p - 1 > 0 && nl - p - 1 < 128) {
            char footer[128];
            memcpy(footer, p + 1, (size_t)(nl - p - 1));
            footer[nl - p - 1] = '\0';
            if (!posix_parse(footer, tz)) tz->has_rule = false;
        }
    }
    return 0;
}

int tz_load(const char *name, struct tz **out)
{
    *out = NULL;
    if (!name || !*name) name = "UTC";
    /* Names are IANA paths; refuse anything that could walk out of the folder. */
    if (name[0] == '/' || strstr(name, "..") || strlen(name) > 200) return -EINVAL;
    struct tz *tz = calloc(1, sizeof *tz);
    if (!tz) return -ENOMEM;

    char path[256];
    strcpy(path, TZ_DIR);
    strcat(path, name);
    struct buf b;
    buf_init(&b);
    int rc = file_read_all(path, &b);
    if (rc == -ENOENT && (strcmp(name, "UTC") == 0 || strcmp(name, "Etc/UTC") == 0)) {
        /* UTC works on machines without tzdata. */
        tz->has_rule = true;
        buf_free(&b);
        *out = tz;
        return 0;
    }
    if (rc == 0) rc = tz_parse((const unsigned char *)b.data, b.len, tz);
    buf_free(&b);
    if (rc < 0) {
        tz_free(tz);
        return rc;
    }
    *out = tz;
    return 0;
}

void tz_free(struct tz *tz)
{
    if (!tz) return;
    free(tz->trans);
    free(tz->trans_idx);
    free(tz->type_off);
    free(tz);
}

static int64_t floor_div(int64_t a, int64_t b)
{
    int64_t q = a / b;
    return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q;
}

int64_t tz_offset_ms(const struct tz *tz, int64_t utc_ms)
{
    int64_t t = floor_div(utc_ms, 1000);
    if (tz->trans_count == 0 || t >= tz->trans[tz->trans_count - 1]) {
        if (tz->has_rule) return (int64_t)rule_offset(tz, t) * 1000;
        if (tz->trans_count == 0) return tz->type_count ? (int64_t)tz->type_off[0] * 1000 : 0;
        return (int64_t)tz->type_off[tz->trans_idx[tz->trans_count - 1]] * 1000;
    }
    if (t < tz->trans[0]) return (int64_t)tz->type_off[0] * 1000; /* RFC 8536: type 0 */
    size_t lo = 0, hi = tz->trans_count - 1;                      /* trans[lo] <= t < trans[hi] */
    while (hi - lo > 1) {
        size_t mid = lo + (hi - lo) / 2;
        if (tz->trans[mid] <= t)
            lo = mid;
        else
            hi = mid;
    }
    return (int64_t)tz->type_off[tz->trans_idx[lo]] * 1000;
}

int64_t tz_local_day(const struct tz *tz, int64_t utc_ms)
{
    return floor_div(utc_ms + tz_offset_ms(tz, utc_ms), MS_PER_DAY);
}

/* The first instant of the local day: local midnight where it exists (the
 * earlier one when clocks fall back over midnight), else the transition
 * that skipped it (zones that spring forward at 00:00). */
int64_t tz_day_start_ms(const struct tz *tz, int64_t local_day)
{
    int64_t midnight = local_day * MS_PER_DAY;
    int64_t offsets[3] = {tz_offset_ms(tz, midnight - MS_PER_DAY), tz_offset_ms(tz, midnight),
                          tz_offset_ms(tz, midnight + MS_PER_DAY)};
    int64_t best = INT64_MAX;
    for (int i = 0; i < 3; i++) {
        int64_t u = midnight - offsets[i];
        if (u + tz_offset_ms(tz, u) == midnight && u < best) best = u;
    }
    if (best != INT64_MAX) return best;

    /* Midnight was skipped: find the first instant whose local day is this
     * one, between the two offsets' readings of midnight. */
    int64_t lo = midnight - 26 * 3600 * 1000LL, hi = midnight + 26 * 3600 * 1000LL;
    for (int i = 0; i < 3; i++) {
        int64_t u = midnight - offsets[i];
        if (tz_local_day(tz, u) >= local_day && u < hi) hi = u;
        if (tz_local_day(tz, u) < local_day && u > lo) lo = u;
    }
    while (hi - lo > 1) {
        int64_t mid = lo + (hi - lo) / 2;
        if (tz_local_day(tz, mid) >= local_day)
            hi = mid;
        else
            lo = mid;
    }
    return hi;
}
