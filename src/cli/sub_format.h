/*
 * sub_format.h - how `iotplot sub` prints a message: mosquitto_sub's plain and -v output,
 * and its -F format (% message fields, @ strftime fields, \ escapes), byte for byte.
 */
#ifndef IOTPLOT_CLI_SUB_FORMAT_H
#define IOTPLOT_CLI_SUB_FORMAT_H

#include <stdbool.h>
#include <stddef.h>

#include "iotplot/client.h"

typedef struct {
    const char *format; /* -F, or NULL for the plain / -v output */
    bool verbose;       /* -v: "topic payload" */
    bool eol;           /* a newline after each message (off with -N) */
    bool pretty;        /* --pretty: indented %j / %J */
    bool quiet;         /* --quiet: no error lines on stderr */
} cli_sub_format_t;

/* Print one message on stdout and flush. Never fails (a message %J cannot show is
 * reported on stderr and the rest of the format still printed, as mosquitto_sub does). */
void cli_sub_print(const cli_sub_format_t *f, const ipm_msg_t *m);

/* Check a -F format when it is given, as mosquitto_sub does: 0, or -1 with the reason
 * ("Invalid format specifier 'Z'.") in why. */
int cli_sub_format_check(const char *format, char *why, size_t cap);

#endif /* IOTPLOT_CLI_SUB_FORMAT_H */
