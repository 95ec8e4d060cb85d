/* libFuzzer harness: a Cookie header, as any client may send it, through
 * login_cookie_session (the dashboard's session cookie). Checks: a value
 * found is exactly 64 lower-case hex characters and was in the header
 * after "tally_session=". */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../src/api/internal.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    /* Headers reach the api as C strings: no NUL inside. */
    char *header = malloc(size + 1);
    if (!header) abort();
    memcpy(header, data, size);
    header[size] = '\0';
    char id[65];
    if (login_cookie_session(header, id) == 0) {
        char pair[80] = "tally_session=";
        strcat(pair, id);
        if (strlen(id) != 64 || strspn(id, "0123456789abcdef") != 64 || !strstr(header, pair))
            abort();
    }
    free(header);
    return 0;
}
