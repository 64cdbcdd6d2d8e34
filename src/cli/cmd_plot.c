/*
 * cmd_plot.c - `iotplot plot`: render (or convert) stored series offline, with the same
 * options a device sends in plot_series.
 *
 *   iotplot plot FILE.{csv,json,pkl} -o OUT.{pdf,png,svg,csv,json,pkl,xlsx,mat} [options]
 *   iotplot plot --db DIR --session S --series NAME [--version N] -o OUT [options]
 *   iotplot plot --db DIR --all -o FOLDER      every series, as FOLDER/<session>/<name>.csv
 *
 * A damaged store gives everything still readable, and says what it could not read.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "commands.h"
#include "iotplot/plotserver.h"

static void usage(FILE *out)
{
    fprintf(out,
            "usage: iotplot plot FILE.{csv,json,pkl} -o OUT [options]\n"
            "       iotplot plot --db DIR --session S --series NAME [--version N] -o OUT "
            "[options]\n"
            "       iotplot plot --db DIR --list\n"
            "       iotplot plot --db DIR --all -o FOLDER   (FOLDER/<session>/<series>.csv)\n\n"
            "OUT ends in .pdf, .png or .svg (a figure) or .csv, .json, .pkl, .xlsx, .mat\n"
            "(the data). FILE - reads standard input (JSON if it starts with '{', a\n"
            "pickle if with byte 0x80, else CSV).\n"
            "  --title T, --xlabel T, --ylabel T   text, TeX math between $...$\n"
            "  --format F       matplotlib format of the next line (repeat: r-- bs g^ ...)\n"
            "  --figsize W H    inches (default 5 3)    --dpi N   PNG resolution (100)\n"
            "  --xlog, --ylog   logarithmic axes        --hist    histogram of every column\n"
            "  --no-grid        no grid lines\n"
            "  --x received     every column against its arrival time (date axis);\n"
            "  --x first        the first column as x. Default: arrival time when there is\n"
            "                   one column, or the first one goes backwards somewhere\n"
            "  --utc            dates in UTC (default: the local time zone)\n"
            "  --excel          OUT.csv starts with a UTF-8 byte order mark, so that Excel\n"
            "                   reads names such as 'Temperatur °C' right\n"
            "  --options JSON   the options object of a plot_series message, e.g.\n"
            "                   '{\"xlabel\": \"t\", \"format\": [\"r--\"]}'; the flags above win\n");
}

typedef struct {
    const char *file, *out, *db, *session, *series;
    long version;
    bool list, all, no_grid, has_options, excel;
    double dpi;
    ipp_plotopts_t o;    /* from the flags; strings point into argv */
    ipp_plotopts_t json; /* from --options; owns its strings */
    size_t fcap;
} args_t;

static int add_format(args_t *a, const char *f)
{
    if (a->o.nformats == a->fcap) {
        size_t cap = a->fcap ? a->fcap * 2 : 8;
        char **p = realloc(a->o.formats, cap * sizeof *p);
        if (!p)
            return -1;
        a->o.formats = p;
        a->fcap = cap;
    }
    a->o.formats[a->o.nformats++] = (char *)f;
    return 0;
}

/* The flags win over --options, key by key. */
static void merge(args_t *a)
{
    const ipp_plotopts_t *j = &a->json;
    ipp_plotopts_t *o = &a->o;
    if (!o->title)
        o->title = j->title;
    if (!o->xlabel)
        o->xlabel = j->xlabel;
    if (!o->ylabel)
        o->ylabel = j->ylabel;
    if (!(o->width_in > 0)) {
        o->width_in = j->width_in;
        o->height_in = j->height_in;
    }
    if (!o->nformats) {
        free(o->formats);
        o->formats = j->formats; /* borrowed: not freed through o */
        o->nformats = j->nformats;
        a->fcap = 0;
    }
    o->xlog |= j->xlog;
    o->ylog |= j->ylog;
    o->hist |= j->hist;
    o->grid = !a->no_grid && j->grid;
    if (o->x == IPP_X_AUTO)
        o->x = j->x;
    o->utc |= j->utc;
}

/* Parse argv into a; 0, or 2 (usage error, message printed). */
static int parse(int argc, char **argv, args_t *a)
{
    a->json.grid = true;
    for (int i = 1; i < argc; i++) {
        const char *k = argv[i];
        bool more = i + 1 < argc;
#define VALUE() (more ? argv[++i] : NULL)
        if (!strcmp(k, "-o") || !strcmp(k, "--output"))
            a->out = VALUE();
        else if (!strcmp(k, "--db"))
            a->db = VALUE();
        else if (!strcmp(k, "--session") || !strcmp(k, "-s"))
            a->session = VALUE();
        else if (!strcmp(k, "--series"))
            a->series = VALUE();
        else if (!strcmp(k, "--version") && more)
            a->version = strtol(argv[++i], NULL, 10);
        else if (!strcmp(k, "--title"))
            a->o.title = VALUE();
        else if (!strcmp(k, "--xlabel"))
            a->o.xlabel = VALUE();
        else if (!strcmp(k, "--ylabel"))
            a->o.ylabel = VALUE();
        else if (!strcmp(k, "--format") && more) {
            if (add_format(a, argv[++i]))
                return 2;
        } else if (!strcmp(k, "--figsize") && i + 2 < argc) {
            a->o.width_in = strtod(argv[++i], NULL);
            a->o.height_in = strtod(argv[++i], NULL);
            if (!(a->o.width_in > 0 && a->o.height_in > 0)) {
                fprintf(stderr, "iotplot plot: --figsize needs two positive numbers\n");
                return 2;
            }
        } else if (!strcmp(k, "--dpi") && more)
            a->dpi = strtod(argv[++i], NULL);
        else if (!strcmp(k, "--list"))
            a->list = true;
        else if (!strcmp(k, "--all"))
            a->all = true;
        else if (!strcmp(k, "--xlog"))
            a->o.xlog = true;
        else if (!strcmp(k, "--ylog"))
            a->o.ylog = true;
        else if (!strcmp(k, "--hist"))
            a->o.hist = true;
        else if (!strcmp(k, "--no-grid"))
            a->no_grid = true;
        else if (!strcmp(k, "--x") && more) {
            const char *x = argv[++i];
            if (strcmp(x, "received") && strcmp(x, "first")) {
                fprintf(stderr, "iotplot plot: --x is 'received' or 'first'\n");
                return 2;
            }
            a->o.x = !strcmp(x, "received") ? IPP_X_RECEIVED : IPP_X_FIRST;
        } else if (!strcmp(k, "--utc"))
            a->o.utc = true;
        else if (!strcmp(k, "--excel"))
            a->excel = true;
        else if (!strcmp(k, "--options") && more) {
            char err[256];
            ipp_plotopts_free(&a->json);
            a->has_options = true;
            if (ipp_plotopts_parse(argv[i + 1], strlen(argv[i + 1]), &a->json, err,
                                   sizeof err)) {
                fprintf(stderr, "iotplot plot: --options: %s\n", err);
                return 2;
            }
            if (a->json.unknown)
                fprintf(stderr, "iotplot plot: --options: unknown option %s ignored\n",
                        a->json.unknown);
            i++;
        }
        else if ((k[0] != '-' || !strcmp(k, "-")) && !a->file)
            a->file = k; /* "-": standard input */
        else {
            fprintf(stderr, "iotplot plot: unknown or incomplete option '%s'\n\n", k);
            usage(stderr);
            return 2;
        }
#undef VALUE
    }
    merge(a);
    if (a->list && a->db)
        return 0;
    if (a->all && a->db && a->out)
        return 0;
    if (!a->out || (!a->file && !a->db) || (a->db && (!a->session || !a->series))) {
        usage(stderr);
        return 2;
    }
    return 0;
}

static int load_db(args_t *a, ipp_data_t *d, char *err, size_t errlen)
{
    ipp_store_t *st;
    ipp_series_info_t info;
    int64_t missing = 0;
    if (ipp_store_open(a->db, &st, err, errlen))
        return -1;
    int rc = ipp_store_find(st, a->session, a->series, a->version, &info);
    if (rc == 1)
        snprintf(err, errlen, "no series '%s' in session '%s'", a->series, a->session);
    else if (rc < 0)
        snprintf(err, errlen, "%s", ipp_store_errmsg(st));
    else if ((rc = ipp_store_read_readable(st, info.id, -1, d, &missing)))
        snprintf(err, errlen, "%s", ipp_store_errmsg(st));
    else if (missing) /* a damaged store: everything still readable, and say so */
        fprintf(stderr, "iotplot plot: the store is damaged: %s%lld rows of series '%s' "
                        "could not be read; writing the %zu that could\n",
                missing < 0 ? "some of the " : "", missing < 0 ? (long long)info.nrows
                                                                : (long long)missing,
                a->series, d->nrows);
    if (rc == 0 && !a->has_options) {
        /* without --options, the options of the device's last plot_series */
        char *json = ipp_store_last_plot(st, info.id);
        if (json && ipp_plotopts_parse(json, strlen(json), &a->json, err, errlen) == 0)
            merge(a);
        free(json);
    }
    ipp_store_close(st);
    return rc ? -1 : 0;
}

static void list_cb(void *arg, const char *session, const char *name,
                    const ipp_series_info_t *info, const char *columns, double created)
{
    (void)arg;
    char when[32] = "";
    time_t t = (time_t)created;
    struct tm tm;
    if (gmtime_r(&t, &tm))
        strftime(when, sizeof when, "%Y-%m-%d %H:%M:%S", &tm);
    printf("%-12s %-16s %7lld %9lld  %s UTC  %s\n", session, name, (long long)info->version,
           (long long)info->nrows, when, columns);
}

/* `--list`: every version of every series in the store. */
static int list_db(const args_t *a, char *err, size_t errlen)
{
    ipp_store_t *st;
    if (ipp_store_open(a->db, &st, err, errlen))
        return -1;
    printf("%-12s %-16s %7s %9s  %-23s  %s\n", "session", "series", "version", "rows",
           "created", "columns");
    int rc = ipp_store_list(st, list_cb, NULL);
    if (rc)
        snprintf(err, errlen, "%s", ipp_store_errmsg(st));
    ipp_store_close(st);
    return rc;
}

/* ---- --all: every series of a store, whatever is readable ---------------------------- */

typedef struct {
    char *session, *name;
    int64_t id, nrows;
} listed_t;

typedef struct {
    listed_t *v;
    size_t n, cap;
    bool nomem;
} listing_t;

static void collect_cb(void *arg, const char *session, const char *name,
                       const ipp_series_info_t *info, const char *columns, double created)
{
    (void)columns, (void)created;
    listing_t *l = arg;
    /* versions come in order: a later one of the same series replaces the earlier */
    if (l->n && !strcmp(l->v[l->n - 1].session, session) && !strcmp(l->v[l->n - 1].name, name)) {
        l->v[l->n - 1].id = info->id;
        l->v[l->n - 1].nrows = info->nrows;
        return;
    }
    if (l->n == l->cap) {
        size_t cap = l->cap ? l->cap * 2 : 64;
        listed_t *p = realloc(l->v, cap * sizeof *p);
        if (!p) {
            l->nomem = true;
            return;
        }
        l->v = p;
        l->cap = cap;
    }
    listed_t *e = &l->v[l->n];
    e->session = strdup(session);
    e->name = strdup(name);
    e->id = info->id;
    e->nrows = info->nrows;
    if (!e->session || !e->name) {
        free(e->session);
        free(e->name);
        l->nomem = true;
        return;
    }
    l->n++;
}

/* One series to FOLDER/<session>/<name>.csv: 0 whole, 1 in part or not at all. */
static int export_one(const args_t *a, ipp_store_t *st, const listed_t *e)
{
    char rel[1100], path[4200];
    const char *why;
    ipp_data_t d;
    int64_t missing;
    snprintf(rel, sizeof rel, "%s/%s.csv", e->session, e->name);
    if (ipp_path_check(rel, &why)) { /* names come from the devices */
        fprintf(stderr, "iotplot plot: series '%s' of session '%s' not written: %s\n",
                e->name, e->session, why);
        return 1;
    }
    if (ipp_store_read_readable(st, e->id, -1, &d, &missing)) {
        fprintf(stderr, "iotplot plot: series '%s' of session '%s' could not be read: %s\n",
                e->name, e->session, ipp_store_errmsg(st));
        return 1;
    }
    snprintf(path, sizeof path, "%s/%s", a->out, e->session);
    mkdir(path, 0755);
    snprintf(path, sizeof path, "%s/%s", a->out, rel);
    FILE *f = fopen(path, "wb");
    int rc = f ? ipp_write_csv(f, &d) : -1;
    if (f && fclose(f))
        rc = -1;
    if (rc)
        fprintf(stderr, "iotplot plot: cannot write %s: %s\n", path, strerror(errno));
    else if (missing)
        fprintf(stderr, "iotplot plot: the store is damaged: %s: %zu rows written, %s%lld "
                        "could not be read\n",
                path, d.nrows, missing < 0 ? "some of the " : "",
                missing < 0 ? (long long)e->nrows : (long long)missing);
    else
        printf("%s: %zu rows, %zu columns\n", path, d.nrows, d.ncols);
    ipp_data_free(&d);
    return rc || missing ? 1 : 0;
}

static int export_all(const args_t *a, char *err, size_t errlen)
{
    ipp_store_t *st;
    listing_t l = {0};
    if (mkdir(a->out, 0755) && errno != EEXIST) {
        snprintf(err, errlen, "cannot make %s: %s", a->out, strerror(errno));
        return -1;
    }
    if (ipp_store_open(a->db, &st, err, errlen))
        return -1;
    int rc = ipp_store_list(st, collect_cb, &l);
    if (rc)
        fprintf(stderr, "iotplot plot: the list of series is damaged (%s); writing the %zu "
                        "series listed before the damage\n",
                ipp_store_errmsg(st), l.n);
    int bad = 0;
    for (size_t i = 0; i < l.n; i++) {
        bad += export_one(a, st, &l.v[i]);
        free(l.v[i].session);
        free(l.v[i].name);
    }
    free(l.v);
    ipp_store_close(st);
    if (rc || bad || l.nomem) {
        snprintf(err, errlen, "%d of %zu series written in part or not at all%s", bad, l.n,
                 rc ? ", and the list of series is damaged" : "");
        return -1;
    }
    return 0;
}

static int write_data(const args_t *a, const ipp_data_t *d, char *err, size_t errlen)
{
    char why[256];
    ipp_export_opts_t o = {.series = a->series ? a->series : "", .excel = a->excel};
    if (ipp_export_file(a->out, d, &o, why, sizeof why)) {
        snprintf(err, errlen, "%s: %s", a->out, why);
        return -1;
    }
    return 0;
}

static int render(const args_t *a, const ipp_data_t *d, char *err, size_t errlen)
{
    if (d->ncols == 0) {
        snprintf(err, errlen, "the data has no columns");
        return -1;
    }
    return ipp_figure_render(d, &a->o, a->dpi, a->out, err, errlen);
}

int cmd_plot(int argc, char **argv)
{
    args_t a = {0};
    ipp_data_t d = {0};
    char err[512] = "", ext[16];
    int rc = 1;
    if (argc > 1 && (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h"))) {
        usage(stdout);
        return 0;
    }
    if ((rc = parse(argc, argv, &a)))
        goto done;
    rc = 1;
    if (a.list) {
        if (list_db(&a, err, sizeof err) == 0)
            rc = 0;
        goto done;
    }
    if (a.all) {
        if (export_all(&a, err, sizeof err) == 0)
            rc = 0;
        goto done;
    }
    if (a.db ? load_db(&a, &d, err, sizeof err) : ipp_read_file(a.file, &d, err, sizeof err))
        goto done;
    ipp_path_ext(a.out, ext, sizeof ext);
    if (ipp_export_known(ext)) {
        if (write_data(&a, &d, err, sizeof err))
            goto done;
    } else if (!strcmp(ext, "pdf") || !strcmp(ext, "png") || !strcmp(ext, "svg")) {
        if (render(&a, &d, err, sizeof err))
            goto done;
    } else {
        snprintf(err, sizeof err, "%s: use .pdf, .png, .svg, %s", a.out, ipp_export_list());
        goto done;
    }
    printf("%s: %zu rows, %zu columns\n", a.out, d.nrows, d.ncols);
    rc = 0;
done:
    if (rc == 1)
        fprintf(stderr, "iotplot plot: %s\n", err);
    if (a.o.formats != a.json.formats)
        free(a.o.formats);
    ipp_plotopts_free(&a.json);
    ipp_data_free(&d);
    return rc;
}
