/* The hit record: absent values and kind names. */
#include <math.h>

#include "track.h"

#define HIT_ABSENT_U8 0
#define HIT_ABSENT_U16 0
#define HIT_ABSENT_U32 0
#define HIT_ABSENT_U64 0
#define HIT_ABSENT_I32 (-1)
#define HIT_ABSENT_I64 0
#define HIT_ABSENT_F64 NAN
#define HIT_ABSENT_STR ""

void hit_clear(struct hit *hit)
{
#define HIT_SET_ABSENT(type, name) hit->name = HIT_ABSENT_##type;
    HIT_FIELDS(HIT_SET_ABSENT)
#undef HIT_SET_ABSENT
}

const char *hit_kind_name(int kind)
{
    switch (kind) {
    case HIT_PAGEVIEW:
        return "pageview";
    case HIT_CUSTOM_ACTION:
        return "custom_action";
    case HIT_EVENT:
        return "event";
    case HIT_OUTLINK:
        return "outlink";
    case HIT_DOWNLOAD:
        return "download";
    case HIT_SITE_SEARCH:
        return "site_search";
    case HIT_CONTENT_IMPRESSION:
        return "content_impression";
    case HIT_CONTENT_INTERACTION:
        return "content_interaction";
    case HIT_GOAL:
        return "goal";
    case HIT_ECOMMERCE_ORDER:
        return "ecommerce_order";
    case HIT_CART_UPDATE:
        return "cart_update";
    case HIT_HEARTBEAT:
        return "heartbeat";
    case HIT_BOT:
        return "bot";
    default:
        return "unknown";
    }
}

bool hit_kind_is_action(int kind)
{
    switch (kind) {
    case HIT_PAGEVIEW:
    case HIT_DOWNLOAD:
    case HIT_OUTLINK:
    case HIT_SITE_SEARCH:
    case HIT_EVENT:
    case HIT_CONTENT_INTERACTION:
        return true;
    default:
        return false;
    }
}

const char *referrer_type_name(int type)
{
    static const char *const names[] = {
        [REFERRER_DIRECT] = "direct",     [REFERRER_WEBSITE] = "website",
        [REFERRER_CAMPAIGN] = "campaign", [REFERRER_SEARCH] = "search",
        [REFERRER_SOCIAL] = "social",     [REFERRER_AI] = "ai",
        [REFERRER_EMAIL] = "email",       [REFERRER_PAID_SEARCH] = "paid_search",
        [REFERRER_PAID_SOCIAL] = "paid_social",
    };
    return type >= 0 && (size_t)type < sizeof names / sizeof *names ? names[type] : "unknown";
}
