/*
 * ingest.c - the four iot-plot commands, applied in arrival order by one thread.
 *
 * One thread owns the store's write connection and the map of current series, so no
 * lock is needed for either and the order of messages is the order of the queue. It
 * takes every queued message at once and applies them in one transaction: the busier
 * the broker, the bigger the batches (and a transaction short of work waits a little for
 * more, gather()). save_series and plot_series become jobs that are
 * handed to the writer only after the commit, so the writer sees every earlier row.
 *
 * A write that fails for a reason that can pass (a full disk, above all) loses nothing:
 * the transaction is rolled back, the map is read back from the store, and the messages
 * since the last commit are applied again after a short backoff until the write succeeds.
 * Meanwhile no more is taken from the queue, so its bound (max_queue) pushes back on the
 * producer, and every figure counted is one the store holds.
 */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

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

static void forget_all(ipp_server_t *s)
{
    for (size_t i = 0; i < IPP_MAP_BUCKETS; i++) {
        while (s->map[i]) {
            ipp_entry_t *e = s->map[i];
            s->map[i] = e->next;
            free(e->key);
            free(e);
        }
    }
    s->nseries = 0;
}

/* The map as the store has it: at the start, and after a rolled back transaction. */
static int load_map(ipp_server_t *s)
{
    forget_all(s);
    return ipp__store_each_latest(s->store, load_cb, s);
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
    if (ipp__store_check(s, path, err, errlen) ||
        ipp__store_open(path, false, &s->store, err, errlen))
        return -1;
    if (load_map(s)) {
        snprintf(err, errlen, "%s: %s", path, ipp_store_errmsg(s->store));
        return -1;
    }
    return 0;
}

void ipp__ingest_free(ipp_server_t *s)
{
    forget_all(s);
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
    bool failed; /* the store could not be written: the batch is retried */
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
    if (!c->s->quiet)
        ipp__log(c->s, "session '%s' topic '%s': %s; message dropped", c->session, t, why);
    c->s->batch_dropped++;
}

/* A failed store call: retried with the whole batch when the cause may pass, else the
 * message is dropped with the reason. */
#define STORE_FAILED(c)                                                                    \
    do {                                                                                   \
        if (ipp__store_transient((c)->s->store)) {                                         \
            (c)->failed = true;                                                            \
            return;                                                                        \
        }                                                                                  \
        REJECT(c, "store: %s", ipp_store_errmsg((c)->s->store));                           \
    } while (0)

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
    if (c->n - 1 > IPP_MAX_COLS) /* cols[] holds that many; so does every row later */
        REJECT(c, "series '%s' has %d columns, over the limit of %d", name, c->n - 1,
               IPP_MAX_COLS);
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
        STORE_FAILED(c);
    if (remember(c->s, c->session, name, &info))
        REJECT(c, "out of memory");
    if (!c->s->quiet)
        ipp__log(c->s, "session '%s': new series '%s' (version %lld) with %d columns",
                 c->session, name, (long long)info.version, c->n - 1);
}

static void cmd_data(cmd_t *c)
{
    const char *name = series_name(c);
    double row[IPP_MAX_COLS];
    if (!name)
        REJECT(c, "the first item must be the series name");
    if (c->n - 1 > IPP_MAX_COLS) /* row[] holds that many, whatever the store says */
        REJECT(c, "row of %d values for series '%s' is over the limit of %d columns",
               c->n - 1, name, IPP_MAX_COLS);
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
        STORE_FAILED(c);
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
    ipp_plotopts_t o = {0};
    char err[256];
    if (!name)
        REJECT(c, "the first item must be the series name");
    if (c->n > 3 || (c->n == 3 && c->v[2].type != IPP_JV_NESTED))
        REJECT(c, "expected [name, filename] or [name, filename, {options}]");
    ipp_entry_t *e = lookup(c->s, c->session, name);
    if (!e)
        REJECT(c, "unknown series '%s'", name);
    const char *asked = NULL;
    if (c->n >= 2 && c->v[1].type == IPP_JV_STR)
        asked = c->v[1].len ? c->v[1].str : NULL; /* "" means the default, as originally */
    else if (c->n >= 2 && c->v[1].type != IPP_JV_NULL)
        REJECT(c, "the file name is neither a string nor null");
    /* options such as {"excel": true}, read by the same parser as plot_series' */
    if (c->n == 3 && ipp_plotopts_parse(c->v[2].str, c->v[2].len, &o, err, sizeof err))
        REJECT(c, "%s", err);
    char *rel = output_name(c, name, asked, "pkl");
    if (rel)
        make_job(c, IPP_JOB_SAVE, e, name, rel, &o);
    else
        ipp_plotopts_free(&o);
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
    if (o.unknown && !c->s->quiet) /* drawn anyway, as the rest of the options still make sense */
        ipp__log(c->s, "session '%s': plot_series of '%s': unknown option %s ignored",
                 c->session, name, o.unknown);
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
    if (has && ipp__store_plot(c->s->store, e->info.id, c->v[1].str, c->v[1].len)) {
        if (ipp__store_transient(c->s->store)) {
            ipp_plotopts_free(&o);
            free(rel);
            c->failed = true;
            return;
        }
        ipp__log(c->s, "store: cannot keep the plot options: %s",
                 ipp_store_errmsg(c->s->store));
    }
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

/* Apply one message: 0, or -1 when the store could not be written (retry the batch). */
static int apply(ipp_server_t *s, ipp_msg_t *m, size_t *rows)
{
    char *topic = m->data;
    const char *payload = m->data + m->topic_len + 1;
    char *slash = strrchr(topic, '/');
    cmd_t c = {.s = s, .topic = topic, .session = "", .t = m->t, .v = s->vals,
               .owner = m->owner};
    if (!slash || memchr(topic, '\0', m->topic_len)) {
        reject(&c, "topic is not <session>/<command>");
        return 0;
    }
    char session[512];
    size_t sl = (size_t)(slash - topic);
    if (sl == 0 || sl >= sizeof session) {
        reject(&c, "empty or too long session");
        return 0;
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
        return 0;
    }
    c.n = ipp_json_array(payload, m->len, s->vals, IPP_MAX_COLS + 2, s->strbuf,
                         s->cfg.max_payload + 1, &why);
    if (c.n < 0) {
        char msg[128];
        snprintf(msg, sizeof msg, "invalid payload: %s", why);
        reject(&c, msg);
        return 0;
    }
    commands[k].run(&c);
    *rows += c.rows;
    return c.failed ? -1 : 0;
}

static double mono_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static void free_msgs(ipp_msg_t *m)
{
    while (m) {
        ipp_msg_t *next = m->next;
        free(m);
        m = next;
    }
}

static size_t msg_size(const ipp_msg_t *m)
{
    return sizeof *m + m->topic_len + m->len; /* what ipp_server_handle() counted */
}

/*
 * Commit the open transaction: 0, or -1 (nothing changed, the caller retries). A
 * success is the one place where messages become stored: their rows and refusals are
 * counted, their bytes leave the queue and their save/plot jobs go to the writer.
 */
/* A commit's duration into the statistics' histogram (under s->mu). */
static void count_commit(ipp_server_stats_t *st, double took)
{
    static const double bounds[IPP_COMMIT_BUCKETS] = IPP_COMMIT_BOUNDS;
    st->commits++;
    st->commit_seconds += took;
    for (int i = 0; i < IPP_COMMIT_BUCKETS; i++)
        if (took <= bounds[i]) {
            st->commit_counts[i]++;
            break;
        }
}

static int commit(ipp_server_t *s, size_t rows)
{
    double t0 = mono_s();
    if (ipp__store_commit(s->store))
        return -1; /* not acknowledged: the messages are applied again (run_batch) */
    double took = mono_s() - t0;
    free_msgs(s->pending);
    size_t bytes = s->pending_bytes, refused = 0;
    s->pending = s->pending_tail = NULL;
    s->pending_bytes = 0;
    if (s->fail_since) {
        ipp__log(s, "store: writing again after %.0f s; nothing was lost",
                 mono_s() - s->fail_since);
        s->fail_since = s->fail_logged_at = 0;
    }
    pthread_mutex_lock(&s->mu);
    s->stats.rows += rows;
    count_commit(&s->stats, took);
    s->stats.dropped += s->batch_dropped;
    s->queued_bytes -= bytes;
    s->failing = false;
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
    s->batch_dropped = 0;
    if (refused)
        ipp__log(s, "%zu save/plot requests refused: %d files already waiting to be written",
                 refused, IPP_MAX_JOBS);
    /* Acknowledged means committed, and counted: a feeder that reads the stats after its
     * acknowledgement finds its rows there. */
    ipp__delivery_committed(s, true);
    return 0;
}

/* Keep an applied message until its transaction commits. */
static void keep(ipp_server_t *s, ipp_msg_t *m)
{
    m->next = NULL;
    if (s->pending_tail)
        s->pending_tail->next = m;
    else
        s->pending = m;
    s->pending_tail = m;
    s->pending_bytes += msg_size(m);
}

/*
 * After a failed write: undo the transaction and what it did in memory, and put its
 * messages back in front of *todo. Returns how many were put back (applied again
 * quietly: their problems were logged the first time).
 */
static size_t undo(ipp_server_t *s, ipp_msg_t **todo, const char *why)
{
    size_t n = 0;
    ipp__store_rollback(s->store);
    while (s->ready) {
        ipp_job_t *j = s->ready;
        s->ready = j->next;
        ipp__job_free(j);
    }
    s->ready_tail = NULL;
    s->batch_dropped = 0;
    for (ipp_msg_t *m = s->pending; m; m = m->next)
        n++;
    if (s->pending) {
        s->pending_tail->next = *todo;
        *todo = s->pending;
    }
    s->pending = s->pending_tail = NULL;
    s->pending_bytes = 0;
    double now = mono_s();
    if (!s->fail_since)
        s->fail_since = now;
    if (!s->fail_logged_at || now - s->fail_logged_at >= IPP_FAIL_LOG_S) {
        s->fail_logged_at = now;
        size_t waiting = 0;
        for (ipp_msg_t *m = *todo; m; m = m->next)
            waiting++;
        ipp__log(s, "store: cannot write (%s) for %.0f s; %zu messages kept and retried, "
                    "new messages wait in the queue (at most %zu bytes, then refused)",
                 why, now - s->fail_since, waiting, s->cfg.max_queue);
    }
    if (load_map(s)) /* read only: works on a full disk; else the next try fails again */
        ipp__log(s, "store: cannot read the series back: %s", ipp_store_errmsg(s->store));
    pthread_mutex_lock(&s->mu);
    s->failing = true;
    pthread_cond_broadcast(&s->idle_cv); /* ipp_server_sync() says so instead of waiting */
    pthread_mutex_unlock(&s->mu);
    return n;
}

/* Sleep before the next try; false when a stopping server gives up on the messages
 * (IPP_STOP_GRACE_S after the first failure it saw while stopping, for all batches). */
static bool backoff(ipp_server_t *s, int *delay_ms)
{
    struct timespec ts = {*delay_ms / 1000, (long)(*delay_ms % 1000) * 1000000};
    nanosleep(&ts, NULL);
    *delay_ms = *delay_ms * 2 > IPP_RETRY_MAX_MS ? IPP_RETRY_MAX_MS : *delay_ms * 2;
    pthread_mutex_lock(&s->mu);
    bool stopping = s->stopping;
    pthread_mutex_unlock(&s->mu);
    if (!stopping)
        return true;
    if (!s->stop_deadline)
        s->stop_deadline = mono_s() + IPP_STOP_GRACE_S;
    return mono_s() < s->stop_deadline;
}

/* Stopping with a store that still cannot be written: say what is lost, count it. */
static void give_up(ipp_server_t *s, ipp_msg_t *todo)
{
    size_t n = 0, bytes = 0;
    for (ipp_msg_t *m = todo; m; m = m->next)
        n++, bytes += msg_size(m);
    free_msgs(todo);
    ipp__log(s, "store: still cannot write at stop: %zu messages not stored", n);
    pthread_mutex_lock(&s->mu);
    s->stats.dropped += n;
    s->queued_bytes -= bytes;
    pthread_mutex_unlock(&s->mu);
}

/*
 * Before committing a transaction short of work: what was queued meanwhile, and, while
 * the transaction has run for less than the last commit took, what comes within that
 * time (at most IPP_GATHER_MAX_S). Why: a commit costs about as much for a few rows as
 * for hundreds (the WAL frames of every page it touched), and a feeder that acknowledges
 * after the commit (`iotplot serve`, `iotplot plotserver`) sends more only once it is
 * done, so committing every trickle as it came would spend the thread on commits (with
 * `iotplot serve`'s hundred devices, a commit every dozen rows). While messages keep
 * coming, a commit is then at most about half of the thread's time; a quiet feeder's
 * message waits at most one commit's time longer.
 */
static ipp_msg_t *gather(ipp_server_t *s, double began, double commit_s)
{
    pthread_mutex_lock(&s->mu);
    double wait = began + (commit_s < IPP_GATHER_MAX_S ? commit_s : IPP_GATHER_MAX_S);
    wait -= mono_s();
    if (!s->head && !s->stopping && wait > 0) {
        /* A sleep, not a wait on msg_cv: woken by each message, the thread would take
         * them one by one, a context switch each. */
        pthread_mutex_unlock(&s->mu);
        struct timespec ts = {0, (long)(wait * 1e9)};
        nanosleep(&ts, NULL);
        pthread_mutex_lock(&s->mu);
    }
    ipp_msg_t *m = s->head;
    s->head = s->tail = NULL;
    pthread_mutex_unlock(&s->mu);
    return m;
}

/*
 * Apply messages in order in transactions of at most IPP_BATCH_ROWS rows, committing
 * before every save/plot so the writer sees every earlier row. A failed write goes back
 * to the last commit and tries again until it succeeds. *commit_s: how long the last
 * commit took (gather()).
 */
static void run_batch(ipp_server_t *s, ipp_msg_t *todo, double *commit_s)
{
    size_t rows = 0, replay = 0;
    bool open = false;
    double began = 0;
    int delay_ms = IPP_RETRY_MIN_MS;
    while (todo) {
        int rc = 0;
        if (!open && (rc = ipp__store_begin(s->store)) == 0) {
            open = true;
            began = mono_s();
        }
        if (rc == 0) {
            ipp_msg_t *m = todo;
            todo = m->next;
            s->quiet = replay > 0;
            replay -= replay > 0;
            if (ipp__delivery_begin(s, m)) /* a QoS 2 copy already stored is not */
                rc = apply(s, m, &rows);
            keep(s, m);
            s->quiet = false;
        }
        if (rc == 0 && !todo && rows < IPP_BATCH_ROWS && !s->ready)
            todo = gather(s, began, *commit_s);
        if (rc == 0 && todo && rows < IPP_BATCH_ROWS && !s->ready)
            continue;
        double t0 = mono_s();
        if (rc == 0 && commit(s, rows) == 0) {
            *commit_s = mono_s() - t0;
            rows = 0;
            open = false;
            delay_ms = IPP_RETRY_MIN_MS;
            continue;
        }
        char why[256];
        snprintf(why, sizeof why, "%s", ipp_store_errmsg(s->store));
        replay = undo(s, &todo, why);
        rows = 0;
        open = false;
        if (!backoff(s, &delay_ms)) {
            give_up(s, todo);
            return;
        }
    }
}

void *ipp__ingest_main(void *arg)
{
    ipp_server_t *s = arg;
    uselocale(s->c_locale);
    double commit_s = 0;
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
        run_batch(s, batch, &commit_s);
        pthread_mutex_lock(&s->mu);
        s->busy--;
        pthread_cond_broadcast(&s->idle_cv);
    }
    s->ingest_done = true;
    pthread_cond_broadcast(&s->job_cv);
    pthread_mutex_unlock(&s->mu);
    return NULL;
}
