/*
 * writer.c - save_series and plot_series jobs: read the committed rows, write a
 * temporary file, rename it into the output folder.
 *
 * Its own thread with its own store connection, so a slow render or a slow disk never
 * holds up ingest. A job waiting in the queue absorbs a later request for the same
 * series and file (the later one has every row of the earlier): a device that asks for
 * a plot after every row gets one figure per render, not a growing backlog.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "server_int.h"

void ipp__job_free(ipp_job_t *j)
{
    free(j->session);
    free(j->name);
    free(j->rel);
    ipp_plotopts_free(&j->opts);
    free(j);
}

int ipp__job_push_locked(ipp_server_t *s, ipp_job_t *j)
{
    for (ipp_job_t *q = s->jobs; q; q = q->next) {
        if (q->kind == j->kind && q->id == j->id && !strcmp(q->rel, j->rel)) {
            q->nrows = j->nrows;
            ipp_plotopts_free(&q->opts);
            q->opts = j->opts;
            memset(&j->opts, 0, sizeof j->opts);
            ipp__job_free(j);
            return 0;
        }
    }
    if (s->njobs >= IPP_MAX_JOBS) {
        ipp__job_free(j);
        return -1;
    }
    s->njobs++;
    if (s->jobs_tail)
        s->jobs_tail->next = j;
    else
        s->jobs = j;
    s->jobs_tail = j;
    pthread_cond_signal(&s->job_cv);
    return 0;
}

static int export(ipp_server_t *s, const ipp_job_t *j, const ipp_data_t *d,
                  const char *tmpname, char *err, size_t errlen)
{
    char path[4096];
    /* made here with O_EXCL, so that nothing already under that name (a link left in the
     * folder) is written through; the exporters then open the empty file by its path */
    int fd = openat(s->tmpfd, tmpname, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
    if (fd < 0) {
        snprintf(err, errlen, "%s", strerror(errno));
        return -1;
    }
    close(fd);
    snprintf(path, sizeof path, "%s/%s", s->tmpdir, tmpname);
    ipp_export_opts_t o = {.series = j->name, .excel = j->opts.excel};
    return ipp_export_file(path, d, &o, err, errlen);
}

static int render(ipp_server_t *s, const ipp_job_t *j, const ipp_data_t *d,
                  const char *tmpname, char *err, size_t errlen)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", s->tmpdir, tmpname);
    if (d->ncols == 0) {
        snprintf(err, errlen, "series has no columns");
        return -1;
    }
    return ipp_figure_render(d, &j->opts, 0, path, err, errlen);
}

/* Write one job's file: 0, or -1 after logging why. */
static int run_job(ipp_server_t *s, ipp_store_t *st, const ipp_job_t *j)
{
    char ext[16], tmpname[64], err[256] = "";
    const char *why = NULL, *leaf;
    ipp_data_t d;
    int rc = -1, parent = -1;
    bool tmp_made = false;
    ipp_path_ext(j->rel, ext, sizeof ext);
    memset(&d, 0, sizeof d);
    /* unlike the original, which pickles into any name: a .xyz holding a pickle helps
     * nobody, and the name usually means a format we do not write */
    if (j->kind == IPP_JOB_SAVE && !ipp_export_known(ext)) {
        snprintf(err, sizeof err, "unknown data format '%s%s' (use %s)", ext[0] ? "." : "",
                 ext, ipp_export_list());
        goto done;
    }
    pthread_mutex_lock(&s->mu);
    uint64_t seq = ++s->tmp_seq;
    pthread_mutex_unlock(&s->mu);
    snprintf(tmpname, sizeof tmpname, "%ld-%llu.%s", (long)getpid(), (unsigned long long)seq,
             ext);
    if (ipp_store_read(st, j->id, j->nrows, &d)) {
        snprintf(err, sizeof err, "cannot read the series: %s", ipp_store_errmsg(st));
        goto done;
    }
    /* rows from the store all have arrival times; a series without rows yet gets the
     * `received` column too, so its files have the layout of the later ones */
    if (!d.t && !(d.t = malloc(sizeof *d.t))) {
        snprintf(err, sizeof err, "out of memory");
        goto done;
    }
    tmp_made = true;
    if (j->kind == IPP_JOB_SAVE ? export(s, j, &d, tmpname, err, sizeof err)
                                : render(s, j, &d, tmpname, err, sizeof err))
        goto done;
    parent = ipp__path_open_parent(s->rootfd, j->rel, &leaf, &why);
    if (parent < 0)
        goto done;
    if (renameat(s->tmpfd, tmpname, parent, leaf)) {
        why = strerror(errno);
        goto done;
    }
    tmp_made = false;
    rc = 0;
    ipp__log(s, "session '%s': %s series '%s' (%zu rows) to '%s'", j->session,
             j->kind == IPP_JOB_SAVE ? "saved" : "plotted", j->name, d.nrows, j->rel);
    if (s->cfg.on_file)
        s->cfg.on_file(s->cfg.file_arg, j->session, j->name, j->rel);
done:
    if (rc)
        ipp__log(s, "session '%s': cannot write '%s' of series '%s': %s", j->session, j->rel,
                 j->name, why ? why : err);
    if (tmp_made)
        unlinkat(s->tmpfd, tmpname, 0);
    if (parent >= 0)
        close(parent);
    ipp_data_free(&d);
    return rc;
}

void *ipp__writer_main(void *arg)
{
    ipp_server_t *s = arg;
    char path[4096], err[256];
    ipp_store_t *st = NULL;
    uselocale(s->c_locale);
    snprintf(path, sizeof path, "%s/%s", s->dir, IPP_DB_NAME);
    if (ipp__store_open(path, true, &st, err, sizeof err))
        ipp__log(s, "writer: %s", err);
    pthread_mutex_lock(&s->mu);
    for (;;) {
        while (!s->jobs && !s->ingest_done)
            pthread_cond_wait(&s->job_cv, &s->mu);
        if (!s->jobs)
            break;
        ipp_job_t *j = s->jobs;
        s->jobs = j->next;
        if (!s->jobs)
            s->jobs_tail = NULL;
        s->njobs--;
        s->busy++;
        pthread_mutex_unlock(&s->mu);
        int rc = st ? run_job(s, st, j) : -1;
        ipp__job_free(j);
        pthread_mutex_lock(&s->mu);
        if (rc == 0)
            s->stats.files++;
        s->busy--;
        pthread_cond_broadcast(&s->idle_cv);
    }
    pthread_mutex_unlock(&s->mu);
    ipp_store_close(st);
    return NULL;
}
