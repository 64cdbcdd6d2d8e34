/*
 * reader.c - read a series file for `iotplot plot`: mapped (read when it cannot be),
 * handed to the reader its extension names: csv_in.c, json_file.c, pickle_in.c. The
 * readers' reasons say what is wrong ("line 3: 'x' is not a number"); ipp_read_file()
 * names the file in front of them.
 */
#define _GNU_SOURCE /* MAP_POPULATE */
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "plot_internal.h"

/* ---- by extension ------------------------------------------------------------------- */

/* Largest data file read. */
#define MAX_FILE ((size_t)2 << 30)

/* The whole of fd (a pipe, a terminal...: what cannot be mapped) into *buf. */
static int read_all(int fd, char **buf, size_t *len)
{
    size_t cap = 0;
    *buf = NULL;
    *len = 0;
    for (;;) {
        if (*len == cap) {
            cap = cap ? cap * 2 : 65536;
            char *nb = cap <= MAX_FILE ? realloc(*buf, cap) : NULL;
            if (!nb) {
                errno = EFBIG;
                return -1;
            }
            *buf = nb;
        }
        ssize_t n = read(fd, *buf + *len, cap - *len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return -1;
        if (n == 0)
            return 0;
        *len += (size_t)n;
    }
}

/* The format of standard input, which has no name to go by: by its first byte (after a
 * byte order mark and blanks): '{' JSON, 0x80 a pickle (the PROTO opcode of protocols
 * 2-5), anything else CSV. */
static const char *sniff(const char *buf, size_t len)
{
    size_t i = len >= 3 && !memcmp(buf, "\xef\xbb\xbf", 3) ? 3 : 0;
    while (i < len && (buf[i] == ' ' || buf[i] == '\t' || buf[i] == '\r' || buf[i] == '\n'))
        i++;
    if (i < len && buf[i] == '{')
        return "json";
    return len && (unsigned char)buf[0] == 0x80 ? "pkl" : "csv";
}

int ipp_read_file(const char *path, ipp_data_t *d, char *err, size_t errlen)
{
    char ext[16], why[300];
    int rc = -1;
    char *buf = NULL;
    void *map = MAP_FAILED;
    size_t len = 0;
    struct stat sb;
    memset(d, 0, sizeof *d);
    bool in = !strcmp(path, "-");
    int fd = in ? dup(0) : open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0 || fstat(fd, &sb)) {
        snprintf(err, errlen, "%s: %s", path, strerror(errno));
        goto done;
    }
    /* a regular file is mapped, not copied: the readers parse it in place, and its pages
     * come from the page cache without a copy (populated in one go, not fault by fault) */
    if (S_ISREG(sb.st_mode) && sb.st_size > 0 && (uint64_t)sb.st_size <= MAX_FILE) {
        len = (size_t)sb.st_size;
        map = mmap(NULL, len, PROT_READ, MAP_PRIVATE | MAP_POPULATE, fd, 0);
    }
    if (map != MAP_FAILED) {
        buf = map;
    } else if (S_ISREG(sb.st_mode) && (uint64_t)sb.st_size > MAX_FILE) {
        snprintf(err, errlen, "%s: too large", path);
        goto done;
    } else if (read_all(fd, &buf, &len)) {
        snprintf(err, errlen, "%s: %s", path,
                 errno == EFBIG ? "too large or out of memory" : strerror(errno));
        goto done;
    }
    if (in)
        snprintf(ext, sizeof ext, "%s", sniff(buf ? buf : "", len));
    else
        ipp_path_ext(path, ext, sizeof ext);
    if (!strcmp(ext, "csv"))
        rc = ipp_read_csv(buf ? buf : "", len, d, why, sizeof why);
    else if (!strcmp(ext, "json"))
        rc = ipp_read_json(buf ? buf : "", len, d, why, sizeof why);
    else if (!strcmp(ext, "pkl") || !strcmp(ext, "pickle"))
        rc = ipp_read_pickle((const uint8_t *)(buf ? buf : ""), len, d, why, sizeof why);
    else
        snprintf(why, sizeof why, "unknown data format (use .csv, .json or .pkl)");
    if (rc)
        snprintf(err, errlen, "%s: %s", in ? "standard input" : path, why);
done:
    if (map != MAP_FAILED)
        munmap(map, len);
    else
        free(buf);
    if (fd >= 0)
        close(fd);
    return rc;
}
