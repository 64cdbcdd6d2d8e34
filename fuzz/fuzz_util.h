/*
 * fuzz_util.h - checks shared by the harnesses.
 */
#ifndef IOTPLOT_FUZZ_UTIL_H
#define IOTPLOT_FUZZ_UTIL_H

#include <string.h>

/* A relative path with no empty, "." or ".." segment cannot leave its root folder. */
static inline int fuzz_path_inside(const char *path)
{
    if (path[0] == '/' || path[0] == '\0')
        return 0;
    for (const char *seg = path; seg;) {
        const char *slash = strchr(seg, '/');
        size_t n = slash ? (size_t)(slash - seg) : strlen(seg);
        if (n == 0 || (n == 1 && seg[0] == '.') || (n == 2 && seg[0] == '.' && seg[1] == '.'))
            return 0;
        seg = slash ? slash + 1 : NULL;
    }
    return 1;
}

#endif
