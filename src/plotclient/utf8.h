/*
 * utf8.h - one well-formed UTF-8 sequence, shared by the JSON writer (device side) and
 * the payload parser (server side).
 */
#ifndef IOTPLOT_PLOT_UTF8_H
#define IOTPLOT_PLOT_UTF8_H

#include <stddef.h>

/* Length (1..4) of the well-formed UTF-8 sequence at s[0..avail), or 0 if there is none:
 * no overlong forms, no surrogates, nothing above U+10FFFF. */
size_t ipp__utf8_seq(const unsigned char *s, size_t avail);

#endif
