/*
 * readfile.c - whole-file reads and line splitting shared by the password and ACL files.
 */
#include "readfile.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

char *ipb__read_file(const char *path, size_t max, size_t *len, char *err, size_t errlen)
{
    FILE *f = fopen(path, "rb");
    char *text = NULL;
    long size = -1;
    if (!f) {
        snprintf(err, errlen, "%s: %s", path, strerror(errno));
        return NULL;
    }
    if (fseek(f, 0, SEEK_END) == 0)
        size = ftell(f);
    if (size < 0 || (unsigned long)size > max || fseek(f, 0, SEEK_SET) != 0) {
        snprintf(err, errlen, "%s: unreadable or larger than %zu bytes", path, max);
    } else if (!(text = malloc((size_t)size + 1))) {
        snprintf(err, errlen, "%s: out of memory", path);
    } else if (fread(text, 1, (size_t)size, f) != (size_t)size) {
        snprintf(err, errlen, "%s: read failed", path);
        free(text);
        text = NULL;
    } else {
        text[size] = '\0';
        *len = (size_t)size;
    }
    fclose(f);
    return text;
}

int ipb__each_line(char *text, size_t len, const char *name, ipb__line_fn fn, void *ctx,
                   char *err, size_t errlen)
{
    const char *nul = memchr(text, '\0', len);
    size_t lineno = 0;
    for (char *line = text; line < text + len;) {
        lineno++;
        char *end = memchr(line, '\n', (size_t)(text + len - line));
        if (!end)
            end = text + len;
        if (nul && nul < end) {
            snprintf(err, errlen, "%s:%zu: NUL byte in line", name, lineno);
            return -1;
        }
        char *next = end + 1;
        while (end > line && (end[-1] == ' ' || end[-1] == '\t' || end[-1] == '\r'))
            end--;
        *end = '\0';
        const char *why = fn(ctx, line, lineno);
        if (why) {
            snprintf(err, errlen, "%s:%zu: %s", name, lineno, why);
            return -1;
        }
        line = next;
    }
    return 0;
}
