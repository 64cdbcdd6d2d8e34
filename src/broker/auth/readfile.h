/*
 * readfile.h - read a whole configuration file into memory, with a size cap.
 */
#ifndef IPB_AUTH_READFILE_H
#define IPB_AUTH_READFILE_H

#include <stddef.h>

/*
 * The contents of `path` (NUL-terminated, caller frees) and their length, or NULL with
 * "path: reason" in err when it cannot be read or is larger than `max` bytes.
 */
char *ipb__read_file(const char *path, size_t max, size_t *len, char *err, size_t errlen);

/*
 * Walk text[0..len) line by line: calls fn with each line (NUL-terminated, without its
 * newline and trailing white space) and its 1-based number; stops at the first non-NULL
 * reason fn returns and writes "name:line: reason" into err. A NUL byte in the text is an
 * error. The text is modified in place. Returns 0 or -1.
 */
typedef const char *(*ipb__line_fn)(void *ctx, char *line, size_t lineno);
int ipb__each_line(char *text, size_t len, const char *name, ipb__line_fn fn, void *ctx,
                   char *err, size_t errlen);

#endif
