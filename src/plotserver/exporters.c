/*
 * exporters.c - the one table of data formats save_series and `iotplot plot -o` write,
 * by extension, and writing a file through it. Apart from export.c so that what only
 * parses (the fuzzers) links no workbook or MAT-file library.
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include "plot_internal.h"

static int put_stream(const char *path, const ipp_data_t *d, const ipp_export_opts_t *o,
                      int (*write)(FILE *, const ipp_data_t *, const ipp_export_opts_t *),
                      char *err, size_t errlen)
{
    FILE *f = fopen(path, "wb");
    if (!f) {
        snprintf(err, errlen, "%s", strerror(errno));
        return -1;
    }
    int rc = write(f, d, o);
    int saved = errno;
    if (fclose(f) && !rc) {
        rc = -1;
        saved = errno;
    }
    if (rc)
        snprintf(err, errlen, "write error: %s", strerror(saved));
    return rc;
}

static int to_pickle(FILE *f, const ipp_data_t *d, const ipp_export_opts_t *o)
{
    (void)o;
    return ipp_write_pickle(f, d);
}

static int to_csv(FILE *f, const ipp_data_t *d, const ipp_export_opts_t *o)
{
    if (o->excel)
        fputs("\xef\xbb\xbf", f);
    return ipp_write_csv(f, d);
}

static int to_json(FILE *f, const ipp_data_t *d, const ipp_export_opts_t *o)
{
    return ipp_write_json(f, o->series ? o->series : "", d);
}

static const struct {
    const char *ext;
    int (*stream)(FILE *, const ipp_data_t *, const ipp_export_opts_t *);
    int (*file)(const char *, const char *, const ipp_data_t *, char *, size_t);
} exporters[] = {
    {"pkl", to_pickle, NULL},
    {"csv", to_csv, NULL},
    {"json", to_json, NULL},
    {"xlsx", NULL, ipp_write_xlsx},
    {"mat", NULL, ipp_write_mat},
};

#define NEXPORTERS (sizeof exporters / sizeof exporters[0])

static int find_exporter(const char *ext)
{
    for (size_t i = 0; i < NEXPORTERS; i++)
        if (!strcmp(exporters[i].ext, ext))
            return (int)i;
    return -1;
}

bool ipp_export_known(const char *ext)
{
    return find_exporter(ext) >= 0;
}

static char export_list[NEXPORTERS * 8 + 8];
static pthread_once_t export_list_once = PTHREAD_ONCE_INIT;

static void make_export_list(void)
{
    size_t n = 0;
    for (size_t i = 0; i < NEXPORTERS; i++)
        n += (size_t)snprintf(export_list + n, sizeof export_list - n, "%s.%s",
                              i == 0 ? "" : i + 1 < NEXPORTERS ? ", " : " or ",
                              exporters[i].ext);
}

const char *ipp_export_list(void)
{
    pthread_once(&export_list_once, make_export_list);
    return export_list;
}

int ipp_export_file(const char *path, const ipp_data_t *d, const ipp_export_opts_t *o,
                    char *err, size_t errlen)
{
    static const ipp_export_opts_t none = {0};
    char ext[16];
    ipp_path_ext(path, ext, sizeof ext);
    int i = find_exporter(ext);
    if (!o)
        o = &none;
    if (i < 0) {
        snprintf(err, errlen, "unknown data format '%s%s' (use %s)", ext[0] ? "." : "", ext,
                 ipp_export_list());
        return -1;
    }
    if (exporters[i].stream)
        return put_stream(path, d, o, exporters[i].stream, err, errlen);
    return exporters[i].file(path, o->series ? o->series : "", d, err, errlen);
}
