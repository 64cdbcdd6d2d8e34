/*
 * broker.c - the broker's lifecycle: creation, listeners, the loop hooks that flush
 * output once per turn, the 250 ms tick that times connections, sessions and $SYS, and
 * an orderly close. The top of the stack: it wires the layers together (b->publish) and
 * nothing calls it back by name.
 */
#define _DEFAULT_SOURCE /* initgroups() is a BSD interface */
#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>
#ifdef __GLIBC__
#include <malloc.h>
#endif

#include "announce.h"
#include "bridge.h"
#include "clock.h"
#include "conn.h"
#include "core.h"
#include "listener.h"
#include "local.h"
#include "log.h"
#include "metrics.h"
#include "outq.h"
#include "persist.h"
#include "route.h"
#include "security.h"
#include "session.h"
#include "store.h"
#include "sys.h"
#include "tree.h"

#define IPB_TICK_MS 250
/* Descriptors besides the connections: listeners, the loop's, log and store files. */
#define IPB_FD_SPARE 64

static void on_tick(uv_timer_t *t)
{
    ipb_broker_t *b = t->data;
    uint64_t now = ipb__now(b);
    ipb__conns_tick(b, now);
    ipb__sessions_tick(b, now);
    ipb__sys_tick(b, now);
#ifdef __GLIBC__
    /*
     * Connections are many small allocations; after a crowd leaves, glibc keeps the
     * freed heap unless asked, and the issue is "memory returned after clients leave".
     */
    if (b->closed_since_trim >= 1000 || (b->closed_since_trim && !b->nconns)) {
        b->closed_since_trim = 0;
        malloc_trim(0);
    }
#endif
}

/* Output of a loop turn goes out here, before the loop sleeps and after reads. */
static void on_prepare(uv_prepare_t *p)
{
    ipb_broker_t *b = p->data;
    /* The turn's changes start committing; their acknowledgements wait for it. */
    if (b->persist)
        ipb__persist_turn(b->persist);
    ipb__flush_all(b);
}

static void on_check(uv_check_t *c)
{
    ipb__flush_all(c->data);
    ipb__read_turn_end(c->data);
}

/* log_dest topic: a log line as a QoS 0, not retained, message of $SYS. */
static void log_publish(ipb_broker_t *b, const char *topic, const char *text, size_t len)
{
    ipb_msg_t *m = ipb__msg_new(topic, strlen(topic), (const uint8_t *)text, len, 0, false,
                                NULL, ipb__now(b));
    if (m) {
        ipb__publish(b, m);
        ipb__msg_unref(m);
    }
}

/* pid_file: written before the ids change, as mosquitto does (it may be under /run). */
static int write_pid_file(ipb_broker_t *b)
{
    if (!b->cfg.pid_file[0])
        return 0;
    FILE *f = fopen(b->cfg.pid_file, "w");
    if (!f || fprintf(f, "%ld\n", (long)getpid()) < 0 || fclose(f) != 0) {
        ipb__log(b, IPB_LOG_ERR, "Error: cannot write pid file %s: %s.", b->cfg.pid_file,
                 strerror(errno));
        if (f)
            fclose(f);
        return -1;
    }
    b->pid_written = true;
    return 0;
}

/*
 * user: started as root, become that user once the listeners are bound (ports below 1024)
 * and the certificates, password and log files are open. Groups first: after setuid
 * there is no right left to change them.
 */
static int drop_privileges(ipb_broker_t *b)
{
    const char *name = b->cfg.user;
    if (!name[0] || geteuid() != 0 || !strcmp(name, "root"))
        return 0;
    struct passwd *pw = getpwnam(name);
    if (!pw) {
        ipb__log(b, IPB_LOG_ERR, "Error: user '%s' does not exist.", name);
        return -1;
    }
    if (initgroups(name, pw->pw_gid) != 0 || setgid(pw->pw_gid) != 0 ||
        setuid(pw->pw_uid) != 0) {
        ipb__log(b, IPB_LOG_ERR, "Error: cannot become user '%s': %s.", name, strerror(errno));
        return -1;
    }
    ipb__log(b, IPB_LOG_INFO, "Running as user %s.", name);
    return 0;
}

int ipb_broker_reload(ipb_broker_t *b, char *err, size_t errlen)
{
    /* The log first: logrotate moved the file and waits for us to let go of it. */
    if (ipb__log_reopen(b) < 0)
        fprintf(stderr, "Error: cannot reopen log file %s.\n", b->cfg.log_file);
    return ipb__security_reload(b, err, errlen);
}

int ipb_broker_new(uv_loop_t *loop, const ipb_config_t *cfg, ipb_broker_t **out)
{
    ipb_broker_t *b = calloc(1, sizeof *b);
    if (!b)
        return IPM_ENOMEM;
    b->loop = loop;
    b->cfg = *cfg;
    b->publish = ipb__publish;
    b->resume = ipb__conn_resume;
    b->metrics_text = ipb__metrics_text;
    b->log_publish = log_publish;
    if (ipb__tree_init(&b->tree) < 0 || ipb__log_open(b) < 0) {
        ipb__tree_free(&b->tree);
        free(b);
        return IPM_ENOMEM;
    }
    uv_timer_init(loop, &b->tick);
    uv_prepare_init(loop, &b->prep);
    uv_check_init(loop, &b->check);
    b->tick.data = b->prep.data = b->check.data = b;
    b->open_handles = 3;
    b->start_ms = ipb__now(b);
    *out = b;
    return 0;
}

/*
 * Each connection is a descriptor, and a process starts with a soft RLIMIT_NOFILE of
 * 1024 on most systems: raise it towards the hard limit as far as max_connections needs
 * (all the way when unlimited), as an operator who sets max_connections expects. Only the
 * soft limit moves, which needs no privilege. mosquitto leaves the limit as it finds it.
 */
static void raise_nofile(ipb_broker_t *b)
{
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) < 0 || rl.rlim_cur == RLIM_INFINITY)
        return;
    int mc = b->cfg.max_connections;
    rlim_t want = mc < 0 ? rl.rlim_max : (rlim_t)mc + IPB_FD_SPARE;
    if (want > rl.rlim_max)
        want = rl.rlim_max;
    rlim_t old = rl.rlim_cur;
    if (old < want) {
        rl.rlim_cur = want;
        if (setrlimit(RLIMIT_NOFILE, &rl) == 0)
            ipb__log(b, IPB_LOG_NOTICE, "Open files limit raised from %llu to %llu.",
                     (unsigned long long)old, (unsigned long long)want);
        else
            rl.rlim_cur = old;
    }
    if (mc >= 0 && rl.rlim_cur < (rlim_t)mc + IPB_FD_SPARE)
        ipb__log(b, IPB_LOG_WARNING,
                 "Warning: the open files limit (%llu, hard %llu) allows fewer than "
                 "max_connections %d.",
                 (unsigned long long)rl.rlim_cur, (unsigned long long)rl.rlim_max, mc);
}

int ipb_broker_start(ipb_broker_t *b)
{
    raise_nofile(b);
    char err[512];
    if (ipb__security_open(b, err, sizeof err)) {
        ipb__log(b, IPB_LOG_ERR, "Error: %s.", err);
        return UV_EINVAL;
    }
    if (ipb__store_open(b, err, sizeof err)) {
        ipb__log(b, IPB_LOG_ERR, "Error: %s.", err);
        return UV_EINVAL;
    }
    for (unsigned i = 0; i < b->cfg.n_listeners; i++) {
        int rc = ipb__listener_open(b, i);
        if (rc < 0) {
            ipb__log(b, IPB_LOG_ERR, "Error: cannot listen on %s:%u: %s.",
                     b->cfg.listeners[i].address[0] ? b->cfg.listeners[i].address : "*",
                     b->cfg.listeners[i].port, uv_strerror(rc));
            return rc;
        }
    }
    if (write_pid_file(b) < 0 || drop_privileges(b) < 0)
        return UV_EPERM;
    if (ipb__bridges_start(b) < 0)
        return UV_ENOMEM;
    if (b->bridges)
        b->open_handles++; /* released by on_bridges_closed */
    uv_timer_start(&b->tick, on_tick, IPB_TICK_MS, IPB_TICK_MS);
    uv_prepare_start(&b->prep, on_prepare);
    uv_check_start(&b->check, on_check);
    b->next_sys = ipb__now(b);
    ipb__sys_tick(b, b->next_sys);
    ipb__log(b, IPB_LOG_NOTICE, "iotplot broker running.");
    ipb__announce_open(b); /* after binding: ephemeral ports are known */
    return 0;
}

uint16_t ipb_broker_port(const ipb_broker_t *b, unsigned i)
{
    return i < b->cfg.n_listeners ? b->listeners[i].port : 0;
}

void ipb_broker_set_auth(ipb_broker_t *b, const ipb_auth_t *auth, void *ctx)
{
    b->auth = auth;
    b->auth_ctx = ctx;
}

void ipb_broker_set_api(ipb_broker_t *b, ipb_api_fn fn, void *ctx)
{
    b->api = fn;
    b->api_ctx = ctx;
}

void ipb_broker_stats(const ipb_broker_t *b, ipb_stats_t *out)
{
    *out = b->st;
}

void ipb_broker_set_metrics(ipb_broker_t *b, ipb_metrics_fn fn, void *arg)
{
    b->metrics_extra = fn;
    b->metrics_extra_arg = arg;
}

/* ---- closing ---------------------------------------------------------------------- */

static void free_retained(ipb_node_t *n)
{
    for (ipb_node_t *c = n->child; c; c = c->next)
        free_retained(c);
    if (n->retained) {
        ipb__msg_unref(n->retained);
        n->retained = NULL;
    }
}

static void free_local_subs(ipb_broker_t *b, ipb_node_t *n)
{
    ipb_node_t *c = n->child;
    while (c) {
        ipb_node_t *next = c->next;
        free_local_subs(b, c);
        c = next;
    }
    while (n->subs) {
        ipb_sub_t *s = n->subs;
        n->subs = s->next;
        free(s);
    }
    while (n->groups) {
        ipb_group_t *g = n->groups;
        n->groups = g->next;
        while (g->members) {
            ipb_sub_t *s = g->members;
            g->members = s->next;
            free(s);
        }
        free(g);
    }
}

static void finish(ipb_broker_t *b)
{
    b->log_publish = NULL; /* the tree goes below; the last lines go elsewhere */
    void (*cb)(void *) = b->closed_cb;
    void *arg = b->closed_arg;
    /* The store is closed first: freeing sessions here is the broker ending, not them. */
    ipb__store_close(b);
    /* Sessions first (they unlink their subscriptions), then what is left in the tree. */
    ipb__sessions_free_all(b);
    free_retained(b->tree.root);
    free_local_subs(b, b->tree.root);
    ipb__tree_free(&b->tree);
    ipb__local_free(b);
    for (size_t i = 0; i < b->ndeferred; i++)
        ipb__msg_unref(b->deferred[i]);
    free(b->deferred);
    free(b->fan_v);
    free(b->fan_local);
    ipb__out_spares_free(b);
    ipb__security_close(b);
    /* A unix socket's file outlives its socket: leave none behind for the next start. */
    for (unsigned i = 0; i < b->cfg.n_listeners; i++)
        if (b->listeners[i].unix_socket)
            unlink(b->cfg.listeners[i].address);
    if (b->pid_written && unlink(b->cfg.pid_file) != 0)
        ipb__log(b, IPB_LOG_WARNING, "Warning: cannot remove pid file %s: %s.", b->cfg.pid_file,
                 strerror(errno));
    ipb__log(b, IPB_LOG_NOTICE, "iotplot broker terminated.");
    ipb__log_close(b);
    free(b);
    if (cb)
        cb(arg);
}

static void on_handle_closed(uv_handle_t *h)
{
    ipb_broker_t *b = h->data;
    if (--b->open_handles == 0 && !b->conns)
        finish(b);
}

/* Connections close asynchronously; the broker finishes when the last one has. */
static void on_drain_check(uv_timer_t *t)
{
    ipb_broker_t *b = t->data;
    ipb__flush_all(b);
    if (b->persist)
        ipb__persist_turn(b->persist);
    /* Store reads of the HTTP API still running hold their socket: wait for them too. */
    if (!b->conns && !b->api_jobs && !(b->persist && ipb__persist_busy(b->persist))) {
        uv_close((uv_handle_t *)&b->tick, on_handle_closed);
        uv_close((uv_handle_t *)&b->prep, on_handle_closed);
        uv_close((uv_handle_t *)&b->check, on_handle_closed);
        ipb__local_close(b, on_handle_closed);
        uv_timer_stop(t);
        return;
    }
    for (ipb_conn_t *c = b->conns; c; c = c->next)
        if (c->state != IPB_CONN_CLOSED) {
            c->state = IPB_CONN_CLOSED;
            c->tr->vt->close(c->tr);
        }
}

static void on_bridges_closed(ipb_broker_t *b)
{
    if (--b->open_handles == 0 && !b->conns)
        finish(b);
}

void ipb_broker_close(ipb_broker_t *b, void (*cb)(void *arg), void *arg)
{
    if (b->closing)
        return;
    b->closing = true;
    b->closed_cb = cb;
    b->closed_arg = arg;
    ipb__announce_close(b); /* devices stop finding a broker that is going */
    for (unsigned i = 0; i < b->cfg.n_listeners; i++)
        if (b->listeners[i].open) {
            b->listeners[i].h.handle.data = b;
            uv_close(&b->listeners[i].h.handle, on_handle_closed);
        }
    /* Bridges first: their local sides end like clients whose sockets closed. */
    if (b->bridges)
        ipb__bridges_close(b, on_bridges_closed);
    /* Wills of clients cut off by a shutdown are not sent: the broker ends, not they. */
    for (ipb_conn_t *c = b->conns; c; c = c->next) {
        c->will_on_close = false;
        ipb__conn_kick(c, IPM_RC_SERVER_SHUTTING_DOWN, NULL);
    }
    ipb__flush_all(b);
    uv_timer_stop(&b->tick);
    /* Give the DISCONNECTs a turn of the loop to leave, then close what remains. */
    uv_timer_start(&b->tick, on_drain_check, 50, 50);
}
