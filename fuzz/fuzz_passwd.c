/*
 * fuzz_passwd.c - the password file parser on arbitrary text, then a check of the first
 * user (hash parsing included). Iteration counts are capped so one input stays fast.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "auth/passwd.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char err[256];
    /* A $7$ line may ask for 10^8 iterations: fine for a broker, too slow for a fuzzer. */
    for (size_t i = 0; i + 3 < size; i++) {
        if (memcmp(data + i, "$7$", 3))
            continue;
        size_t digits = 0;
        while (i + 3 + digits < size && data[i + 3 + digits] >= '0' && data[i + 3 + digits] <= '9')
            digits++;
        if (digits > 2) /* up to 99 iterations: the parser is what is under test */
            return 0;
    }
    ipb_passwd_t *pw = ipb_passwd_parse((const char *)data, size, "fuzz", err, sizeof err);
    if (!pw)
        return 0;
    ipb_passwd_check(pw, "alice", (const uint8_t *)"secret", 6);
    ipb_passwd_free(pw);
    return 0;
}
