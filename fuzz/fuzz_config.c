/*
 * fuzz_config.c - the mosquitto.conf parser on arbitrary text. include_dir is skipped:
 * it would make the fuzzer read folders of this machine.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "broker.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const char skip[] = "include_dir";
    for (size_t i = 0; i + sizeof skip - 1 <= size; i++)
        if (!memcmp(data + i, skip, sizeof skip - 1))
            return 0;
    ipb_config_t cfg;
    char err[512];
    ipb_config_init(&cfg);
    ipb_config_parse(&cfg, (const char *)data, size, "fuzz.conf", err, sizeof err);
    return 0;
}
