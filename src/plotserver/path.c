/*
 * path.c - file names from the network, confined to the output folder.
 *
 * A name is checked as text first (relative, no "." or ".." component, no control
 * characters, not the store's own files), then opened one folder at a time with
 * openat(O_NOFOLLOW | O_DIRECTORY) from the output folder's descriptor. No symbolic
 * link is ever followed, so neither a link planted in the folder nor a race between
 * check and use can lead outside it. Files are finally put in place with renameat(),
 * which replaces a link at the destination instead of writing through it.
 */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "plot_internal.h"

static bool reserved(const char *comp, size_t n)
{
    size_t db = strlen(IPP_DB_NAME), tmp = strlen(IPP_TMP_DIR);
    /* the store's -wal, -shm and -journal files share its prefix */
    return (n >= db && !memcmp(comp, IPP_DB_NAME, db)) ||
           (n == tmp && !memcmp(comp, IPP_TMP_DIR, tmp));
}

int ipp_path_check(const char *rel, const char **why)
{
    size_t n = strlen(rel);
    if (n == 0) {
        *why = "empty file name";
        return -1;
    }
    if (n > IPP_MAX_PATH) {
        *why = "file name too long";
        return -1;
    }
    if (rel[0] == '/') {
        *why = "absolute path refused";
        return -1;
    }
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)rel[i];
        if (c < 0x20 || c == 0x7F) {
            *why = "control character in file name";
            return -1;
        }
    }
    const char *p = rel;
    bool first = true;
    for (;;) {
        const char *slash = strchr(p, '/');
        size_t len = slash ? (size_t)(slash - p) : strlen(p);
        if (len == 0) {
            *why = slash ? "empty path component" : "file name ends with '/'";
            return -1;
        }
        if ((len == 1 && p[0] == '.') || (len == 2 && p[0] == '.' && p[1] == '.')) {
            *why = "'.' or '..' in file name refused";
            return -1;
        }
        if (len > 255) {
            *why = "path component too long";
            return -1;
        }
        if (first && reserved(p, len)) {
            *why = "file name of the server's own store refused";
            return -1;
        }
        first = false;
        if (!slash)
            break;
        p = slash + 1;
    }
    return 0;
}

int ipp__path_open_parent(int rootfd, const char *rel, const char **leaf, const char **why)
{
    if (ipp_path_check(rel, why))
        return -1;
    int fd = dup(rootfd);
    if (fd < 0) {
        *why = "cannot open the output folder";
        return -1;
    }
    const char *p = rel;
    const char *slash;
    while ((slash = strchr(p, '/'))) {
        char comp[256];
        size_t len = (size_t)(slash - p);
        memcpy(comp, p, len);
        comp[len] = '\0';
        if (mkdirat(fd, comp, 0755) && errno != EEXIST) {
            *why = "cannot create a folder";
            goto fail;
        }
        int next = openat(fd, comp, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (next < 0) {
            *why = errno == ELOOP || errno == ENOTDIR
                       ? "symbolic link or non-folder in the path refused"
                       : "cannot open a folder";
            goto fail;
        }
        close(fd);
        fd = next;
        p = slash + 1;
    }
    *leaf = p;
    return fd;
fail:
    close(fd);
    return -1;
}

void ipp_path_ext(const char *name, char *ext, size_t cap)
{
    const char *slash = strrchr(name, '/');
    const char *base = slash ? slash + 1 : name;
    const char *dot = strrchr(base, '.');
    size_t i = 0;
    if (dot && dot != base) {
        for (dot++; *dot && i + 1 < cap; dot++, i++)
            ext[i] = (char)(*dot >= 'A' && *dot <= 'Z' ? *dot - 'A' + 'a' : *dot);
    }
    ext[i] = '\0';
}
