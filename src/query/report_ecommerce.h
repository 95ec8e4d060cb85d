/* report_ecommerce: the product reports (Matomo's Goals.getItemsSku,
 * getItemsName, getItemsCategory, for orders or abandoned carts) and
 * Tally's Customers.get (buyers by lifecycle stage and value tier). */
#ifndef TALLY_QUERY_REPORT_ECOMMERCE_H
#define TALLY_QUERY_REPORT_ECOMMERCE_H

#include "report.h"

enum ecommerce_report {
    ER_ITEMS_SKU,
    ER_ITEMS_NAME,
    ER_ITEMS_CATEGORY,
    ER_CUSTOMERS,
};

/* -EINVAL with a message in ctx->err for a parameter it cannot use
 * (lapsedDays). */
int ecommerce_report(const struct report_query *q, struct report_context *ctx,
                     enum ecommerce_report which, struct arena *arena, struct report_table **out);

#endif
