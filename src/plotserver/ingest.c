/*
 * ingest.c - the four iot-plot commands, applied in arrival order by one thread.
 *
 * One thread owns the store's write connection and the map of current series, so no
 * lock is needed for either and the order of messages is the order of the queue. It
 * takes every queued message at once and applies them in one transaction: the busier
 * the broker, the bigger the batches. save_series and plot_series become jobs that are
 * handed to the writer only after the commit, so the writer sees every earlier row.
 */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "server_int.h"

/* ---- the map of current series ----------------------------------------------------- */

static uint32_t hash(const char *session, const char *name)
{
    uint32_t h = 2166136261u; /* FNV-1a over session NUL name */
    for (const char *p = session;; p++) {
        h = (h ^ (uint8_t)*p) * 16777619u;
        if (!*p)
            break;
    }
    for (const char *p = name; *p; p++)
        h = (h ^ (uint8_t)*p) * 16777619u;
    return h % IPP_MAP_BUCKETS;
}

static ipp_entry_t *lookup(ipp_server_t *s, const char *session, const char *name)
{
    size_t sl = strlen(session);
    for (ipp_entry_t *e = s->map[hash(session, name)]; e; e = e->next)
        if (e->session_len == sl && !memcmp(e->key, session, sl + 1) &&
            !strcmp(e->key + sl + 1, name))
            return e;
    return NULL;
}

/* Set the current version of session/name; returns -1 when the map is full. */
static int remember(ipp_server_t *s, const char *session, const char *name,
                    const ipp_series_info_t *info)
{
    ipp_entry_t *e = lookup(s, session, name);
    if (e) {
        e->info = *info;
        return 0;
    }
    if (s->nseries >= IPP_MAX_SERIES)
        return -1;
    size_t sl = strlen(session), nl = strlen(name);
    e = malloc(sizeof *e);
    char *key = malloc(sl + nl + 2);
    if (!e || !key) {
        free(e);
        free(key);
        return -1;
    }
    memcpy(key, session, sl + 1);
    memcpy(key + sl + 1, name, nl + 1);
    e->key = key;
    e->session_len = sl;
    e->info = *info;
    uint32_t h = hash(session, name);
    e->next = s->map[h];
    s->map[h] = e;
    s->nseries++;
    return 0;
}

static void load_cb(void *arg, const char *session, const char *name,
                    const ipp_series_info_t *info)
{
    remember(arg, session, name, info);
}

int ipp__ingest_load(ipp_server_t *s, char *err, size_t errlen)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", s->dir, IPP_DB_NAME);
    s->vals = malloc(sizeof *s->vals * (IPP_MAX_COLS + 2));
    s->strbuf = malloc(s->cfg.max_payload + 1);
    if (!s->vals || !s->strbuf) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    if (ipp__store_open(path, false, &s->store, err, errlen))
        return -1;
    if (ipp__store_each_latest(s->store, load_cb, s)) {
        snprintf(err, errlen, "%s: %s", path, ipp_store_errmsg(s->store));
        return -1;
    }
    return 0;
}

void ipp__ingest_free(ipp_server_t *s)
{
    for (size_t i = 0; i < IPP_MAP_BUCKETS; i++) {
        while (s->map[i]) {
            ipp_entry_t *e = s->map[i];
            s->map[i] = e->next;
            free(e->key);
            free(e);
        }
    }
    while (s->ready) {
        ipp_job_t *j = s->ready;
        s->ready = j->next;
        ipp__job_free(j);
    }
    ipp_store_close(s->store);
    s->store = NULL;
    free(s->vals);
    free(s->strbuf);
}

/* ---- the commands ------------------------------------------------------------------ */

typedef struct {
    ipp_server_t *s;
    const char *session, *topic;
    const char *owner; /* files go below this folder; NULL: the output folder itself */
    ipp_jval_t *v;
    int n;
    double t;
    size_t rows; /* rows stored by this batch so far */
} cmd_t;

/* One line naming session, topic and problem; the message is dropped. */
#define REJECT(c, ...)                                                                     \
    do {                                                                                   \
        char why_[512];                                                                    \
        snprintf(why_, sizeof why_, __VA_ARGS__);                                          \
        reject((c), why_);                                                                 \
        return;                                                                            \
    } while (0)

static void reject(cmd_t *c, const char *why)
{
    char t[160];
    size_t j = 0;
    for (const char *p = c->topic; *p && j + 4 < sizeof t; p++)
        t[j++] = (unsigned char)*p < 0x20 || *p == 0x7F ? '?' : *p;
    t[j] = '\0';
    ipp__log(c->s, "session '%s' topic '%s': %s; message dropped", c->session, t, why);
    pthread_mutex_lock(&c->s->mu);
    c->s->stats.dropped++;
    pthread_mutex_unlock(&c->s->mu);
}

static const char *series_name(cmd_t *c)
{
    if (c->n < 1 || c->v[0].type != IPP_JV_STR)
        return NULL;
    if (c->v[0].len == 0 || c->v[0].len > IPP_MAX_NAME)
        return NULL;
    return c->v[0].str;
}

static void cmd_new_series(cmd_t *c)
{
    const char *name = series_name(c);
    const char *cols[IPP_MAX_COLS];
    if (!name)
        REJECT(c, "the first item must be the series name (a string of 1..%d bytes)",
               IPP_MAX_NAME);
    if (c->n < 2)
        REJECT(c, "series '%s' without columns", name);
    for (int i = 1; i < c->n; i++) {
        if (c->v[i].type != IPP_JV_STR || c->v[i].len > IPP_MAX_NAME)
            REJECT(c, "column %d of series '%s' is not a name (string of at most %d bytes)",
                   i, name, IPP_MAX_NAME);
        cols[i - 1] = c->v[i].str;
    }
    ipp_series_info_t info;
    if (!lookup(c->s, c->session, name) && c->s->nseries >= IPP_MAX_SERIES)
        REJECT(c, "too many series (%d)", IPP_MAX_SERIES);
    if (ipp__store_new_series(c->s->store, c->session, name, cols, (size_t)c->n - 1, &info))
        REJECT(c, "store: %s", ipp_store_errmsg(c->s->store));
    if (remember(c->s, c->session, name, &info))
        REJECT(c, "out of memory");
    ipp__log(c->s, "session '%s': new series '%s' (version %lld) with %d columns", c->session,
             name, (long long)info.version, c->n - 1);
}

static void cmd_data(cmd_t *c)
{
    const char *name = series_name(c);
    double row[IPP_MAX_COLS];
    if (!name)
        REJECT(c, "the first item must be the series name");
    ipp_entry_t *e = lookup(c->s, c->session, name);
    if (!e)
        REJECT(c, "unknown series '%s' (no new_series yet)", name);
    if ((size_t)c->n - 1 != e->info.ncols)
        REJECT(c, "series '%s' has %zu columns but the row has %d values", name,
               e->info.ncols, c->n - 1);
    for (int i = 1; i < c->n; i++) {
        if (c->v[i].type == IPP_JV_NUM)
            row[i - 1] = c->v[i].num;
        else if (c->v[i].type == IPP_JV_NULL) /* Python None: a missing value */
            row[i - 1] = NAN;
        else
            REJECT(c, "value %d of series '%s' is not a number", i, name);
    }
    if (ipp__store_append(c->s->store, e->info.id, e->info.nrows, c->t, row, e->info.ncols))
        REJECT(c, "store: %s", ipp_store_errmsg(c->s->store));
    e->info.nrows++;
    c->rows++;
}

/* A job for the writer, kept until the batch is committed. */
static void make_job(cmd_t *c, ipp_job_kind_t kind, ipp_entry_t *e, const char *name,
                     char *rel, ipp_plotopts_t *opts)
{
    ipp_job_t *j = calloc(1, sizeof *j);
    if (j) {
        j->session = strdup(c->session);
        j->name = strdup(name);
    }
    if (!j || !j->session || !j->name) {
        free(rel);
        ipp_plotopts_free(opts);
        if (j)
            ipp__job_free(j);
        REJECT(c, "out of memory");
    }
    j->kind = kind;
    j->rel = rel;
    j->id = e->info.id;
    j->nrows = e->info.nrows;
    j->opts = *opts;
    if (c->s->ready_tail)
        c->s->ready_tail->next = j;
    else
        c->s->ready = j;
    c->s->ready_tail = j;
}

/* The output file: as asked, or "<name>.<ext>", in the owner's folder if there is one;
 * confined to the output folder. */
static char *output_name(cmd_t *c, const char *name, const char *asked, const char *ext)
{
    const char *why;
    const char *own = c->owner ? c->owner : "";
    size_t n = strlen(own) + 1 + (asked ? strlen(asked) + 1 : strlen(name) + strlen(ext) + 2);
    char *rel = malloc(n);
    if (!rel)
        return NULL;
    if (asked)
        snprintf(rel, n, "%s%s%s", own, *own ? "/" : "", asked);
    else
        snprintf(rel, n, "%s%s%s.%s", own, *own ? "/" : "", name, ext);
    if (ipp_path_check(rel, &why)) {
        char msg[300];
        snprintf(msg, sizeof msg, "file name refused: %s", why);
        reject(c, msg);
        free(rel);
        return NULL;
    }
    return rel;
}

static void cmd_save_series(cmd_t *c)
{
    const char *name = series_name(c);
    ipp_plotopts_t none = {0};
    if (!name)
        REJECT(c, "the first item must be the series name");
    if (c->n > 2)
        REJECT(c, "expected [name, filename]");
    ipp_entry_t *e = lookup(c->s, c->session, name);
    if (!e)
        REJECT(c, "unknown series '%s'", name);
    const char *asked = NULL;
    if (c->n == 2 && c->v[1].type == IPP_JV_STR)
        asked = c->v[1].len ? c->v[1].str : NULL; /* "" means the default, as originally */
    else if (c->n == 2 && c->v[1].type != IPP_JV_NULL)
        REJECT(c, "the file name is neither a string nor null");
    char *rel = output_name(c, name, asked, "pkl");
    if (rel)
        make_job(c, IPP_JOB_SAVE, e, name, rel, &none);
}

static void cmd_plot_series(cmd_t *c)
{
    const char *name = series_name(c);
    char err[256], ext[16];
    ipp_plotopts_t o;
    if (!name)
        REJECT(c, "the first item must be the series name");
    if (c->n > 2 || (c->n == 2 && c->v[1].type != IPP_JV_NESTED && c->v[1].type != IPP_JV_NULL))
        REJECT(c, "expected [name, {options}]");
    ipp_entry_t *e = lookup(c->s, c->session, name);
    if (!e)
        REJECT(c, "unknown series '%s'", name);
    bool has = c->n == 2 && c->v[1].type == IPP_JV_NESTED;
    if (ipp_plotopts_parse(has ? c->v[1].str : NULL, has ? c->v[1].len : 0, &o, err,
                           sizeof err))
        REJECT(c, "%s", err);
    char *rel = output_name(c, name, o.filename && *o.filename ? o.filename : NULL, "pdf");
    if (!rel) {
        ipp_plotopts_free(&o);
        return;
    }
    ipp_path_ext(rel, ext, sizeof ext);
    if (strcmp(ext, "pdf") && strcmp(ext, "png") && strcmp(ext, "svg")) {
        ipp_plotopts_free(&o);
        free(rel);
        REJECT(c, "plot file must end in .pdf, .png or .svg");
    }
    /* kept so `iotplot plot --db` can draw the same figure again */
    if (has && ipp__store_plot(c->s->store, e->info.id, c->v[1].str, c->v[1].len))
        ipp__log(c->s, "store: cannot keep the plot options: %s",
                 ipp_store_errmsg(c->s->store));
    make_job(c, IPP_JOB_PLOT, e, name, rel, &o);
}

static const struct {
    const char *name;
    void (*run)(cmd_t *c);
} commands[] = {
    {"new_series", cmd_new_series},
    {"data", cmd_data},
    {"save_series", cmd_save_series},
    {"plot_series", cmd_plot_series},
};

static void apply(ipp_server_t *s, ipp_msg_t *m, size_t *rows)
{
    char *topic = m->data;
    const char *payload = m->data + m->topic_len + 1;
    char *slash = strrchr(topic, '/');
    cmd_t c = {.s = s, .topic = topic, .session = "", .t = m->t, .v = s->vals,
               .owner = m->owner};
    if (!slash || memchr(topic, '\0', m->topic_len)) {
        reject(&c, "topic is not <session>/<command>");
        return;
    }
    char session[512];
    size_t sl = (size_t)(slash - topic);
    if (sl == 0 || sl >= sizeof session) {
        reject(&c, "empty or too long session");
        return;
    }
    memcpy(session, topic, sl);
    session[sl] = '\0';
    c.session = session;
    const char *cmd = slash + 1, *why;
    size_t k = 0;
    while (k < sizeof commands / sizeof commands[0] && strcmp(commands[k].name, cmd))
        k++;
    if (k == sizeof commands / sizeof commands[0]) {
        reject(&c, "unknown command (nothing from the network is executed)");
        return;
    }
    c.n = ipp_json_array(payload, m->len, s->vals, IPP_MAX_COLS + 2, s->strbuf,
                         s->cfg.max_payload + 1, &why);
    if (c.n < 0) {
        char msg[128];
        snprintf(msg, sizeof msg, "invalid payload: %s", why);
        reject(&c, msg);
        return;
    }
    commands[k].run(&c);
    *rows += c.rows;
}

/* Commit the batch, then hand its jobs to the writer. */
static void commit(ipp_server_t *s, size_t rows)
{
    if (ipp__store_commit(s->store))
        ipp__log(s, "store: commit failed: %s", ipp_store_errmsg(s->store));
    size_t refused = 0;
    pthread_mutex_lock(&s->mu);
    s->stats.rows += rows;
    while (s->ready) {
        ipp_job_t *j = s->ready;
        s->ready = j->next;
        j->next = NULL;
        if (ipp__job_push_locked(s, j))
            refused++;
    }
    s->ready_tail = NULL;
    s->stats.dropped += refused;
    pthread_mutex_unlock(&s->mu);
    if (refused)
        ipp__log(s, "%zu save/plot requests refused: %d files already waiting to be written",
                 refused, IPP_MAX_JOBS);
}

void *ipp__ingest_main(void *arg)
{
    ipp_server_t *s = arg;
    uselocale(s->c_locale);
    pthread_mutex_lock(&s->mu);
    for (;;) {
        while (!s->head && !s->stopping)
            pthread_cond_wait(&s->msg_cv, &s->mu);
        if (!s->head)
            break;
        ipp_msg_t *batch = s->head;
        s->head = s->tail = NULL;
        s->busy++;
        pthread_mutex_unlock(&s->mu);

        size_t rows = 0, freed = 0;
        ipp__store_begin(s->store);
        while (batch) {
            ipp_msg_t *m = batch;
            batch = m->next;
            apply(s, m, &rows);
            freed += sizeof *m + m->topic_len + m->len;
            free(m);
            if (rows >= IPP_BATCH_ROWS || s->ready) {
                commit(s, rows);
                rows = 0;
                ipp__store_begin(s->store);
            }
        }
        commit(s, rows);

        pthread_mutex_lock(&s->mu);
        s->queued_bytes -= freed;
        s->busy--;
        pthread_cond_broadcast(&s->idle_cv);
    }
    s->ingest_done = true;
    pthread_cond_broadcast(&s->job_cv);
    pthread_mutex_unlock(&s->mu);
    return NULL;
}
