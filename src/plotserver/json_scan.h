/*
 * json_scan.h - pieces of the payload parser (json_in.c) that the JSON file reader
 * (json_file.c) shares.
 */
#ifndef IOTPLOT_JSON_SCAN_H
#define IOTPLOT_JSON_SCAN_H

#include <stddef.h>

/* The JSON string at s (its opening quote) decoded as UTF-8 into out[0..cap), NUL
 * ended. Returns the byte after the closing quote, or NULL with *why (bad escape, not
 * UTF-8, longer than cap - 1...). */
const char *ipp__json_string(const char *s, const char *end, char *out, size_t cap,
                             const char **why);

#endif
