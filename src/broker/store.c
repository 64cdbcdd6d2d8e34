/*
 * store.c - the persistence seam: where a store plugs in, and how what it kept is
 * replayed into a broker before it starts listening; and the broker's own store
 * (`persistence true`, persist.c) behind that seam.
 */
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "clock.h"
#include "conn.h"
#include "core.h"
#include "handlers.h"
#include "log.h"
#include "msg.h"
#include "persist.h"
#include "retain.h"
#include "session.h"
#include "store.h"
#include "tree.h"

void ipb_broker_set_store(ipb_broker_t *b, const ipb_store_t *store, void *ctx)
{
    b->store = store;
    b->store_ctx = ctx;
}

int ipb_broker_restore_retained(ipb_broker_t *b, const char *topic, const uint8_t *payload,
                                size_t len, uint8_t qos)
{
    ipb_msg_t *m;
    int rc = ipb__msg_local(b, topic, payload, len, qos, true, &m);
    if (rc)
        return rc;
    ipb__retain_put(b, m, false);
    ipb__msg_unref(m);
    return 0;
}

int ipb_broker_restore_session(ipb_broker_t *b, const char *client_id, uint32_t expiry_interval)
{
    if (!b || !client_id || !*client_id || !expiry_interval)
        return IPM_EINVALID;
    ipb_session_t *s = ipb__session_find(b, client_id);
    if (!s && !(s = ipb__session_new(b, client_id)))
        return IPM_ENOMEM;
    s->expiry = expiry_interval;
    s->expire_at = expiry_interval == IPM_SESSION_EXPIRY_NEVER
                       ? 0
                       : ipb__deadline(b, ipb__now(b), expiry_interval);
    if (s->expire_at)
        ipb__session_set_offline(b, s, true);
    return 0;
}

int ipb_broker_restore_sub(ipb_broker_t *b, const char *client_id, const char *filter,
                           uint8_t options, uint32_t subid)
{
    if (!b || !client_id || !filter)
        return IPM_EINVALID;
    ipb_session_t *s = ipb__session_find(b, client_id);
    if (!s)
        return IPM_EINVALID;
    size_t len = strlen(filter);
    ipm_bytes_t g, f;
    int shared = ipm_shared_split((const uint8_t *)filter, len, &g, &f);
    if (shared < 0 || (!shared && !ipm_topic_filter_valid((const uint8_t *)filter, len)) ||
        (options & IPM_SUBOPT_RESERVED_MASK) || (options & IPM_SUBOPT_QOS_MASK) > 2)
        return IPM_EBAD_FILTER;
    bool isnew;
    return ipb__sub_add(b, s, NULL, NULL, filter, len, options, subid, &isnew) ? 0 : IPM_ENOMEM;
}

/* ---- the broker's own store: the seam's calls, written through persist.c ------------------ */

static int own_session_set(void *ctx, const char *client_id, uint32_t expiry)
{
    ipb_broker_t *b = ctx;
    ipb_session_t *s = ipb__session_find(b, client_id);
    if (!s)
        return IPM_EINVALID;
    s->stored = true;
    ipb__persist_session(b->persist, s->id, s->username, s->conn ? s->conn->version : 0,
                         expiry, 0);
    return 0;
}

static int own_session_del(void *ctx, const char *client_id)
{
    ipb_broker_t *b = ctx;
    ipb__persist_session_del(b->persist, client_id);
    return 0;
}

static int own_sub_set(void *ctx, const char *client_id, const char *filter, uint8_t options,
                       uint32_t subid)
{
    ipb_broker_t *b = ctx;
    ipb__persist_sub(b->persist, client_id, filter, options, subid);
    return 0;
}

static int own_sub_del(void *ctx, const char *client_id, const char *filter)
{
    ipb_broker_t *b = ctx;
    ipb__persist_sub_del(b->persist, client_id, filter);
    return 0;
}

/* Retained messages are written by retain.c itself: the seam's call carries no properties. */
static const ipb_store_t own_store = {
    .session_set = own_session_set,
    .session_del = own_session_del,
    .sub_set = own_sub_set,
    .sub_del = own_sub_del,
};

/* ---- replaying the persistence file ------------------------------------------------------ */

typedef struct {
    ipb_broker_t *b;
    int64_t wall;
    uint64_t now;
    unsigned sessions, expired, subs, retained, queued, dropped, wills, ended_wills;
    /* Sessions that expired while the broker was down: restored whole (their wills come
     * later in the replay), then ended as expiry ends them. */
    ipb_session_t **ended;
    size_t nended, endcap;
    ipb_msg_t *last; /* deliveries of one message come together: it is built once */
    uint64_t last_id;
} replay_t;

/* Milliseconds left before a wall-clock deadline: -1 passed, 0 none. */
static int64_t left_ms(const replay_t *x, int64_t wall)
{
    if (!wall)
        return 0;
    return wall > x->wall ? wall - x->wall : -1;
}

static void on_session(void *arg, const ipb__persist_row_t *r)
{
    replay_t *x = arg;
    ipb_broker_t *b = x->b;
    int64_t left = left_ms(x, r->expire_wall);
    if (!r->num) {
        ipb__persist_session_del(b->persist, r->client);
        x->expired++;
        return;
    }
    ipb_session_t *s = ipb__session_find(b, r->client);
    if (!s && !(s = ipb__session_new(b, r->client)))
        return;
    s->expiry = r->num;
    s->stored = true;
    if (r->str && !s->username)
        s->username = strdup(r->str);
    if (left < 0) {
        if (x->nended == x->endcap) {
            size_t nc = x->endcap ? x->endcap * 2 : 16;
            ipb_session_t **n = realloc(x->ended, nc * sizeof *n);
            if (!n) {
                ipb__session_free(b, s); /* ends without its will */
                return;
            }
            x->ended = n;
            x->endcap = nc;
        }
        x->ended[x->nended++] = s;
        x->expired++;
        return;
    }
    if (r->num != IPM_SESSION_EXPIRY_NEVER) {
        /* Online when the broker stopped: its expiry runs from now, and that is written. */
        uint32_t secs = left ? (uint32_t)((left + 999) / 1000) : r->num;
        s->expire_at = ipb__deadline(b, x->now, secs);
        ipb__session_set_offline(b, s, true);
        if (!left)
            ipb__persist_session_offline(b->persist, s->id, x->wall + (int64_t)secs * 1000);
    }
    x->sessions++;
}

static void on_sub(void *arg, const ipb__persist_row_t *r)
{
    replay_t *x = arg;
    if (ipb_broker_restore_sub(x->b, r->client, r->str, r->opts, r->num) == 0)
        x->subs++;
}

static void on_rx(void *arg, const ipb__persist_row_t *r)
{
    replay_t *x = arg;
    ipb_session_t *s = ipb__session_find(x->b, r->client);
    if (s && !ipb__session_rx_has(s, r->pid))
        ipb__session_rx_add(s, r->pid);
}

static ipb_msg_t *message(replay_t *x, const ipb__persist_row_t *r, bool retain)
{
    return ipb__persist_msg(r, retain, x->now, x->wall);
}

/* A delayed will: it goes out when its delay (counted on the wall clock) has run, at the
 * first tick if that was while the broker was down. */
static void on_will(void *arg, const ipb__persist_row_t *r)
{
    replay_t *x = arg;
    ipb_session_t *s = ipb__session_find(x->b, r->client);
    ipm_props_t props = {.raw = {r->props, (uint32_t)r->props_len}};
    ipb_msg_t *m = s ? ipb__msg_new(r->str, strlen(r->str), r->payload, r->payload_len, r->qos,
                                    r->retain, r->props_len ? &props : NULL, x->now)
                     : NULL;
    if (!m)
        return;
    int64_t left = left_ms(x, r->expire_wall);
    m->will_delay = r->num;
    ipb__msg_unref(s->will);
    s->will = m;
    s->will_at = ipb__deadline(x->b, x->now, left > 0 ? (uint32_t)((left + 999) / 1000) : 0);
    ipb__session_set_offline(x->b, s, true);
    x->wills++;
}

static void on_retained(void *arg, const ipb__persist_row_t *r)
{
    replay_t *x = arg;
    if (left_ms(x, r->expire_wall) < 0)
        return; /* expired while the broker was down */
    ipb_msg_t *m = message(x, r, true);
    if (!m)
        return;
    ipb__retain_put(x->b, m, false);
    ipb__msg_unref(m);
    x->retained++;
}

static void on_dlv(void *arg, const ipb__persist_row_t *r)
{
    replay_t *x = arg;
    ipb_session_t *s = ipb__session_find(x->b, r->client);
    if (!s || left_ms(x, r->expire_wall) < 0) {
        ipb__persist_dlv_del(x->b->persist, r->seq, NULL);
        ipb__persist_msg_gc(x->b->persist, r->id);
        x->dropped++;
        return;
    }
    if (!x->last || x->last_id != r->id) {
        ipb__msg_unref(x->last);
        x->last = message(x, r, r->retain);
        x->last_id = r->id;
        if (!x->last)
            return;
    }
    if (ipb__session_restore_dlv(x->b, s, x->last, r->qos, r->retain, r->state, r->pid,
                                 r->subids, r->nsubids, r->seq)) {
        ipb__persist_dlv_restored(x->last, r->id);
        x->queued++;
    }
}

/* A client's queue stays on disk; one whose session is gone goes (with its messages). */
static void on_queue(void *arg, const ipb__persist_row_t *r)
{
    replay_t *x = arg;
    ipb_session_t *s = ipb__session_find(x->b, r->client);
    if (!s) {
        ipb__persist_session_del(x->b->persist, r->client);
        x->dropped += r->num;
        return;
    }
    ipb__session_restore_queue(x->b, s, r->num, r->seq, r->id);
    x->queued += r->num;
}

/* A held acknowledgement goes to the handler of its packet. */
static void release(ipb_broker_t *b, ipb_conn_t *c, uint8_t type, uint16_t pid, uint8_t reason,
                    bool stored)
{
    if (type == IPM_SUBACK)
        ipb__subscribe_release(b, c, stored);
    else
        ipb__publish_release(b, c, type, pid, reason, stored);
}

/* Kept, the id would make the client's resend look stored already: it is acknowledged and
 * never routed. Forgotten, the resend is routed and written again. */
static void rx_lost(ipb_broker_t *b, const char *client, uint16_t pid)
{
    ipb_session_t *s = ipb__session_find(b, client);
    if (s)
        ipb__session_rx_release(s, pid);
}

/*
 * The sessions that expired while the broker was down end now, before it listens, as if
 * it had been running: each delayed will goes out (its delay, or the session, ran out),
 * to the sessions restored, then the session goes with its rows.
 */
static void end_expired(replay_t *x)
{
    ipb_broker_t *b = x->b;
    for (size_t i = 0; i < x->nended; i++) {
        ipb_session_t *s = x->ended[i];
        ipb_msg_t *will = s->will;
        s->will = NULL;
        ipb__session_free(b, s);
        if (will) {
            b->publish(b, will);
            ipb__msg_unref(will);
            x->ended_wills++;
        }
    }
    free(x->ended);
    x->ended = NULL;
    x->nended = 0;
}

static void store_path(const ipb_config_t *cfg, char *path, size_t len)
{
    const char *file = cfg->persistence_file[0] ? cfg->persistence_file : "iotplot.db";
    const char *dir = cfg->persistence_location;
    size_t dl = strlen(dir);
    if (!dl)
        snprintf(path, len, "%s", file);
    else
        snprintf(path, len, "%s%s%s", dir, dir[dl - 1] == '/' ? "" : "/", file);
}

int ipb__store_open(ipb_broker_t *b, char *err, size_t errlen)
{
    if (!b->cfg.persistence)
        return 0;
    char path[2 * IPB_PATH_MAX + 2];
    store_path(&b->cfg, path, sizeof path);
    ipb_persist_t *p;
    if (ipb__persist_open(b, path, b->cfg.persistence_sync == IPB_PERSIST_SYNC_FULL,
                          release, &p, err, errlen) < 0)
        return -1;
    b->persist = p;
    replay_t x = {.b = b, .wall = ipb__wall_ms(), .now = ipb__now(b)};
    static const ipb__persist_load_t fn = {.session = on_session, .sub = on_sub, .rx = on_rx,
                                           .will = on_will, .retained = on_retained,
                                           .dlv = on_dlv, .queue = on_queue};
    int rc = ipb__persist_load(p, &fn, &x, err, errlen);
    ipb__msg_unref(x.last);
    if (rc < 0) {
        free(x.ended);
        b->persist = NULL;
        ipb__persist_close(p);
        return -1;
    }
    ipb_broker_set_store(b, &own_store, b);
    ipb__persist_set_wake(p, ipb__session_pump);
    ipb__persist_set_rx_lost(p, rx_lost);
    end_expired(&x);
    ipb__log(b, IPB_LOG_NOTICE, "Restored from %s: %u sessions (%u expired, %u wills of those "
             "published), %u subscriptions, %u retained, %u queued or in flight, %u delayed "
             "wills.", path, x.sessions, x.expired, x.ended_wills, x.subs, x.retained,
             x.queued, x.wills - x.ended_wills);
    return 0;
}

int64_t ipb__store_file_bytes(const ipb_broker_t *b)
{
    if (!b->persist)
        return -1;
    char path[2 * IPB_PATH_MAX + 8];
    store_path(&b->cfg, path, sizeof path - 4);
    struct stat st;
    int64_t n = stat(path, &st) == 0 ? (int64_t)st.st_size : 0;
    /* What is committed and not yet checkpointed lives in the WAL beside it. */
    strcat(path, "-wal");
    if (stat(path, &st) == 0)
        n += (int64_t)st.st_size;
    return n;
}

void ipb__store_close(ipb_broker_t *b)
{
    if (!b->persist)
        return;
    ipb__persist_close(b->persist);
    b->persist = NULL;
    if (b->store == &own_store)
        ipb_broker_set_store(b, NULL, NULL);
}
