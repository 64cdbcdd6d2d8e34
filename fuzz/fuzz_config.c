/*
 * fuzz_config.c - the mosquitto.conf parser on arbitrary text (through a file, as the
 * broker reads it). Directives that reach outside the file (include_dir, log_dest file)
 * are skipped: they would make the fuzzer read or write elsewhere.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "broker.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int contains(const uint8_t *data, size_t size, const char *word)
{
    size_t n = strlen(word);
    for (size_t i = 0; i + n <= size; i++)
        if (!memcmp(data + i, word, n))
            return 1;
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static char path[64];
    if (!path[0])
        snprintf(path, sizeof path, "/tmp/fuzz-config-%d.conf", (int)getpid());
    if (contains(data, size, "include_dir") || contains(data, size, "log_dest") ||
        contains(data, size, "_file"))
        return 0;
    FILE *f = fopen(path, "wb");
    if (!f)
        abort();
    fwrite(data, 1, size, f);
    fclose(f);
    ipb_config_t cfg;
    char err[512];
    ipb_config_init(&cfg);
    ipb_config_load(&cfg, path, err, sizeof err);
    return 0;
}
