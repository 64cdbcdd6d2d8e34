/*
 * server.c - the plot server's front door: the bounded message queue, the threads and
 * the lifecycle. What the messages mean is ingest.c; files are writer.c.
 */
/* realpath() is an XSI interface */
#define _XOPEN_SOURCE 700
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "server_int.h"

#define DEFAULT_MAX_PAYLOAD (1u << 20)
#define DEFAULT_MAX_QUEUE ((size_t)256 << 20)

const char *ipp_server_db_name(void)
{
    return IPP_DB_NAME;
}

/* Make the folder and every missing parent (mkdir -p). The path is the operator's. */
static int mkdirs(const char *path)
{
    char buf[4096];
    size_t n = strlen(path);
    if (n == 0 || n >= sizeof buf)
        return -1;
    memcpy(buf, path, n + 1);
    for (size_t i = 1; i <= n; i++) {
        if (buf[i] != '/' && buf[i] != '\0')
            continue;
        char c = buf[i];
        buf[i] = '\0';
        if (mkdir(buf, 0755) && errno != EEXIST)
            return -1;
        buf[i] = c;
    }
    return 0;
}

static int open_dirs(ipp_server_t *s, char *err, size_t errlen)
{
    if (mkdirs(s->cfg.dir)) {
        snprintf(err, errlen, "cannot create %s: %s", s->cfg.dir, strerror(errno));
        return -1;
    }
    s->dir = realpath(s->cfg.dir, NULL);
    if (!s->dir || (s->rootfd = open(s->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0) {
        snprintf(err, errlen, "cannot open %s: %s", s->cfg.dir, strerror(errno));
        return -1;
    }
    if (mkdirat(s->rootfd, IPP_TMP_DIR, 0700) && errno != EEXIST)
        goto fail;
    s->tmpfd = openat(s->rootfd, IPP_TMP_DIR, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (s->tmpfd < 0)
        goto fail;
    size_t n = strlen(s->dir) + sizeof IPP_TMP_DIR + 2;
    s->tmpdir = malloc(n);
    if (!s->tmpdir)
        goto fail;
    snprintf(s->tmpdir, n, "%s/%s", s->dir, IPP_TMP_DIR);
    return 0;
fail:
    snprintf(err, errlen, "cannot make %s/%s: %s", s->dir, IPP_TMP_DIR, strerror(errno));
    return -1;
}

int ipp_server_create(const ipp_server_config_t *cfg, ipp_server_t **out, char *err,
                      size_t errlen)
{
    ipp_server_t *s = calloc(1, sizeof *s);
    if (!s || !cfg->dir) {
        snprintf(err, errlen, s ? "no output folder" : "out of memory");
        free(s);
        return -1;
    }
    s->cfg = *cfg;
    s->rootfd = s->tmpfd = -1;
    if (!s->cfg.max_payload)
        s->cfg.max_payload = DEFAULT_MAX_PAYLOAD;
    if (!s->cfg.max_queue)
        s->cfg.max_queue = DEFAULT_MAX_QUEUE;
    pthread_mutex_init(&s->mu, NULL);
    pthread_mutex_init(&s->log_mu, NULL);
    pthread_cond_init(&s->msg_cv, NULL);
    pthread_cond_init(&s->job_cv, NULL);
    pthread_cond_init(&s->idle_cv, NULL);
    /* numbers are parsed and printed in the C locale whatever the process uses */
    s->c_locale = newlocale(LC_ALL_MASK, "C", (locale_t)0);
    if (!s->c_locale) {
        snprintf(err, errlen, "no C locale");
        goto fail;
    }
    if (open_dirs(s, err, errlen) || ipp__ingest_load(s, err, errlen))
        goto fail;
    snprintf(err, errlen, "cannot start threads");
    if (pthread_create(&s->ingest_thread, NULL, ipp__ingest_main, s))
        goto fail;
    if (pthread_create(&s->writer_thread, NULL, ipp__writer_main, s)) {
        pthread_mutex_lock(&s->mu);
        s->stopping = true;
        pthread_cond_broadcast(&s->msg_cv);
        pthread_mutex_unlock(&s->mu);
        pthread_join(s->ingest_thread, NULL);
        goto fail;
    }
    s->threads_started = true;
    *out = s;
    return 0;
fail:
    ipp_server_destroy(s);
    return -1;
}

/* A topic for a log line: printable, bounded. */
static void printable(char *out, size_t cap, const char *s, size_t n)
{
    size_t j = 0;
    for (size_t i = 0; i < n && j + 4 < cap; i++)
        out[j++] = (unsigned char)s[i] < 0x20 || s[i] == 0x7F ? '?' : s[i];
    if (j + 4 >= cap && n > j)
        memcpy(out + j, "...", 3), j += 3;
    out[j] = '\0';
}

/* A message refused before it is queued: one line naming session, topic and problem. */
static void refuse(ipp_server_t *s, const char *topic, size_t topic_len, const char *why)
{
    char t[128], sess[128];
    size_t end = topic_len; /* the session is everything before the last '/' */
    while (end > 0 && topic[end - 1] != '/')
        end--;
    printable(t, sizeof t, topic, topic_len);
    printable(sess, sizeof sess, topic, end ? end - 1 : 0);
    ipp__log(s, "session '%s' topic '%s': %s; message dropped", sess, t, why);
}

/* Queue one message for the ingest thread. 0, or -1 when it was dropped (logged). */
static int enqueue(ipp_server_t *s, const char *owner, const char *topic, size_t topic_len,
                   const uint8_t *payload, size_t len, uint64_t token,
                   const ipp_qos2_t *q2, ipp_msg_kind_t kind)
{
    size_t olen = owner ? strlen(owner) + 1 : 0;
    size_t clen = q2 && q2->client ? strlen(q2->client) + 1 : 0;
    ipp_msg_t *m = malloc(sizeof *m + topic_len + len + 2 + olen + clen);
    if (m) {
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        m->next = NULL;
        m->t = (double)ts.tv_sec + ts.tv_nsec / 1e9;
        m->topic_len = topic_len;
        m->len = len;
        m->token = token;
        m->qos2_id = q2 ? q2->packet_id : 0;
        m->dup = q2 && q2->dup;
        m->kind = (uint8_t)kind;
        if (topic_len)
            memcpy(m->data, topic, topic_len);
        m->data[topic_len] = '\0';
        if (len)
            memcpy(m->data + topic_len + 1, payload, len);
        m->data[topic_len + 1 + len] = '\0';
        m->owner = owner ? memcpy(m->data + topic_len + len + 2, owner, olen) : NULL;
        m->client = clen ? memcpy(m->data + topic_len + len + 2 + olen, q2->client, clen)
                         : NULL;
    }
    size_t size = sizeof *m + topic_len + len; /* as ingest.c counts it back */
    pthread_mutex_lock(&s->mu);
    if (kind == IPP_MSG_APPLY)
        s->stats.messages++;
    if (!m || s->queued_bytes + size > s->cfg.max_queue || s->stopping) {
        /* a flood must not become a flood of log lines: one a second, with a count */
        double t = m ? m->t : 0;
        bool log = !m || t - s->full_logged_at >= 1.0;
        uint64_t unlogged = s->full_unlogged;
        if (kind == IPP_MSG_APPLY)
            s->stats.dropped++;
        if (log) {
            s->full_logged_at = t;
            s->full_unlogged = 0;
        } else {
            s->full_unlogged++;
        }
        size_t waiting = s->queued_bytes;
        bool stopping = s->stopping;
        pthread_mutex_unlock(&s->mu);
        char why[160];
        if (stopping)
            snprintf(why, sizeof why, "the server is stopping");
        else if (!m)
            snprintf(why, sizeof why, "out of memory");
        else
            snprintf(why, sizeof why, "queue full (%zu bytes waiting; %llu dropped since the last such line)",
                     waiting, (unsigned long long)unlogged);
        if (log)
            refuse(s, topic, topic_len, why);
        free(m);
        return -1;
    }
    s->queued_bytes += size;
    if (s->tail)
        s->tail->next = m;
    else
        s->head = m;
    s->tail = m;
    pthread_cond_signal(&s->msg_cv);
    pthread_mutex_unlock(&s->mu);
    return 0;
}

/* 0 if the payload may be queued; else it is logged, counted and refused as bad input. */
static int check_size(ipp_server_t *s, const char *topic, size_t topic_len, size_t len)
{
    if (len <= s->cfg.max_payload)
        return 0;
    char why[128];
    snprintf(why, sizeof why, "payload of %zu bytes is over the limit of %zu", len,
             s->cfg.max_payload);
    refuse(s, topic, topic_len, why);
    pthread_mutex_lock(&s->mu);
    s->stats.messages++;
    s->stats.dropped++;
    pthread_mutex_unlock(&s->mu);
    return -1;
}

void ipp_server_handle(ipp_server_t *s, const char *topic, size_t topic_len,
                       const uint8_t *payload, size_t len)
{
    ipp_server_handle_owned(s, NULL, topic, topic_len, payload, len);
}

/* An owner is one folder name: not empty, no '/', nothing path.c refuses. */
static bool owner_ok(const char *owner)
{
    const char *why;
    return *owner && !strchr(owner, '/') && ipp_path_check(owner, &why) == 0;
}

/* A publisher whose user name cannot be a folder name: refused, logged and counted. */
static bool owner_refused(ipp_server_t *s, const char *owner, const char *topic,
                          size_t topic_len)
{
    if (!owner || owner_ok(owner))
        return false;
    refuse(s, topic, topic_len, "the publisher's user name cannot be a folder name");
    pthread_mutex_lock(&s->mu);
    s->stats.messages++;
    s->stats.dropped++;
    pthread_mutex_unlock(&s->mu);
    return true;
}

void ipp_server_handle_owned(ipp_server_t *s, const char *owner, const char *topic,
                             size_t topic_len, const uint8_t *payload, size_t len)
{
    if (owner_refused(s, owner, topic, topic_len))
        return;
    if (check_size(s, topic, topic_len, len) == 0)
        (void)enqueue(s, owner, topic, topic_len, payload, len, 0, NULL, IPP_MSG_APPLY);
}

int ipp_server_handle_ack(ipp_server_t *s, const char *topic, size_t topic_len,
                          const uint8_t *payload, size_t len, uint64_t token,
                          uint16_t qos2_id)
{
    /* Refused as too large: never stored, but its token is reported in its turn. */
    if (check_size(s, topic, topic_len, len))
        return ipp_server_skip(s, token);
    ipp_qos2_t q2 = {.packet_id = qos2_id};
    return enqueue(s, NULL, topic, topic_len, payload, len, token, &q2, IPP_MSG_APPLY);
}

int ipp_server_handle_owned_ack(ipp_server_t *s, const char *owner, const char *topic,
                                size_t topic_len, const uint8_t *payload, size_t len,
                                uint64_t token)
{
    return ipp_server_handle_qos2(s, owner, NULL, topic, topic_len, payload, len, token);
}

int ipp_server_handle_qos2(ipp_server_t *s, const char *owner, const ipp_qos2_t *q2,
                           const char *topic, size_t topic_len, const uint8_t *payload,
                           size_t len, uint64_t token)
{
    if (q2 && (!q2->client || !q2->packet_id))
        q2 = NULL; /* nothing to recognise a resend by */
    if (owner_refused(s, owner, topic, topic_len))
        return ipp_server_skip(s, token);
    if (check_size(s, topic, topic_len, len))
        return ipp_server_skip(s, token);
    return enqueue(s, owner, topic, topic_len, payload, len, token, q2, IPP_MSG_APPLY);
}

int ipp_server_skip(ipp_server_t *s, uint64_t token)
{
    return enqueue(s, NULL, "", 0, NULL, 0, token, NULL, IPP_MSG_REFUSED);
}

int ipp_server_release(ipp_server_t *s, uint16_t qos2_id, uint64_t token)
{
    ipp_qos2_t q2 = {.packet_id = qos2_id};
    return enqueue(s, NULL, "", 0, NULL, 0, token, &q2, IPP_MSG_RELEASE);
}

int ipp_server_release_from(ipp_server_t *s, const char *client, uint16_t packet_id,
                            uint64_t token)
{
    if (!client)
        return -1;
    ipp_qos2_t q2 = {.client = client, .packet_id = packet_id};
    return enqueue(s, NULL, "", 0, NULL, 0, token, &q2, IPP_MSG_RELEASE);
}

int ipp_server_sync(ipp_server_t *s, int timeout_ms)
{
    struct timespec end;
    clock_gettime(CLOCK_REALTIME, &end);
    if (timeout_ms >= 0) {
        end.tv_sec += timeout_ms / 1000;
        end.tv_nsec += (long)(timeout_ms % 1000) * 1000000;
        if (end.tv_nsec >= 1000000000)
            end.tv_sec++, end.tv_nsec -= 1000000000;
    }
    int rc = 0;
    pthread_mutex_lock(&s->mu);
    /* without a limit, a store that cannot be written (a full disk) would be a wait
     * forever: say so at once instead */
    while ((s->head || s->jobs || s->busy) && !(timeout_ms < 0 && s->failing)) {
        if (timeout_ms < 0) {
            pthread_cond_wait(&s->idle_cv, &s->mu);
        } else if (pthread_cond_timedwait(&s->idle_cv, &s->mu, &end) == ETIMEDOUT) {
            rc = -1;
            break;
        }
    }
    if (timeout_ms < 0 && s->failing)
        rc = -1;
    pthread_mutex_unlock(&s->mu);
    return rc;
}

void ipp_server_stats(ipp_server_t *s, ipp_server_stats_t *out)
{
    pthread_mutex_lock(&s->mu);
    *out = s->stats;
    pthread_mutex_unlock(&s->mu);
}

void ipp_server_destroy(ipp_server_t *s)
{
    if (!s)
        return;
    if (s->threads_started) {
        /* the ingest thread drains the queue, then the writer drains the jobs */
        pthread_mutex_lock(&s->mu);
        s->stopping = true;
        pthread_cond_broadcast(&s->msg_cv);
        pthread_mutex_unlock(&s->mu);
        pthread_join(s->ingest_thread, NULL);
        pthread_join(s->writer_thread, NULL);
    }
    while (s->head) {
        ipp_msg_t *m = s->head;
        s->head = m->next;
        free(m);
    }
    while (s->jobs) {
        ipp_job_t *j = s->jobs;
        s->jobs = j->next;
        ipp__job_free(j);
    }
    ipp__delivery_free(s); /* its statements go before the store closes */
    ipp__ingest_free(s);
    if (s->rootfd >= 0)
        close(s->rootfd);
    if (s->tmpfd >= 0)
        close(s->tmpfd);
    if (s->c_locale)
        freelocale(s->c_locale);
    free(s->dir);
    free(s->tmpdir);
    pthread_mutex_destroy(&s->mu);
    pthread_mutex_destroy(&s->log_mu);
    pthread_cond_destroy(&s->msg_cv);
    pthread_cond_destroy(&s->job_cv);
    pthread_cond_destroy(&s->idle_cv);
    free(s);
}
