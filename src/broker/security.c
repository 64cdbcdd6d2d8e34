/*
 * security.c - the broker's TLS contexts and its auth policy (src/broker/auth) behind the auth
 * hook: loaded at start, replaced whole on reload (SIGHUP), so a bad file never leaves
 * the broker half-configured.
 */
#include <stdlib.h>
#include <string.h>

#include "auth/authz.h"
#include "clock.h"
#include "conn.h"
#include "core.h"
#include "log.h"
#include "security.h"

#define RSS_CHECK_MS 100 /* reading the resident size costs a syscall: not per publish */

/* A password hashing on the thread pool for a CONNECT. */
typedef struct login login_t;
struct login {
    uv_work_t req;
    ipb_broker_t *b;        /* NULL once the broker's policy is gone: only free */
    ipb_conn_t *c;          /* an MQTT CONNECT's; NULL once the connection is gone */
    ipb_login_cb done;      /* or an HTTP login's answer (then c is NULL) */
    void *done_arg;
    ipb_authz_check_t *check;
    login_t *next, *prev;
    char user[64], addr[64]; /* for the log line of a lockout */
    unsigned listener;       /* whose policy began the check, and finishes it */
};

struct ipb_security {
    ipb_authz_t *authz;
    /* per_listener_settings: the policy of a listener with a password or ACL file of its
     * own; NULL = authz. */
    ipb_authz_t *own[IPB_MAX_LISTENERS];
    ipb_tls_ctx_t *tls[IPB_MAX_LISTENERS];
    uint64_t rss_at;   /* loop ms of the last reading */
    bool over_memory;  /* the last reading was above memory_limit */
    login_t *logins;   /* hashing now */
};

/* The policy of a listener's clients. */
static ipb_authz_t *policy(const ipb_broker_t *b, unsigned listener)
{
    ipb_authz_t *own = listener < IPB_MAX_LISTENERS ? b->sec->own[listener] : NULL;
    return own ? own : b->sec->authz;
}

/* Is the topic (or filter) within max_topic_length and max_topic_levels? */
static bool topic_fits(const ipb_config_t *cfg, const char *t)
{
    size_t len = strlen(t), levels = 1;
    if (len > cfg->max_topic_length)
        return false;
    for (const char *p = t; (p = strchr(p, '/')) != NULL; p++)
        if (++levels > cfg->max_topic_levels)
            return false;
    return true;
}

static bool over_memory(ipb_broker_t *b)
{
    if (!b->cfg.memory_limit)
        return false;
    uint64_t now = ipb__now(b);
    if (now - b->sec->rss_at >= RSS_CHECK_MS || !b->sec->rss_at) {
        size_t rss = 0;
        b->sec->rss_at = now ? now : 1;
        if (uv_resident_set_memory(&rss) == 0) {
            bool over = rss > b->cfg.memory_limit;
            if (over && !b->sec->over_memory)
                ipb__log(b, IPB_LOG_WARNING,
                         "Memory %zu bytes is above memory_limit: refusing publishes.", rss);
            b->sec->over_memory = over;
        }
    }
    return b->sec->over_memory;
}

static bool uses_identity(const ipb_listener_config_t *l)
{
    return l->use_identity_as_username || l->use_subject_as_username;
}

/* ---- the auth hook -------------------------------------------------------------------- */

/* The failed-login limits count addresses, not ports. */
static void address_of(const ipb_auth_client_t *cl, char *addr, size_t len)
{
    snprintf(addr, len, "%s", cl->peer ? cl->peer : "");
    char *colon = strrchr(addr, ':');
    if (colon)
        *colon = '\0';
}

static void log_lockout(ipb_broker_t *b, int locked, const char *user, const char *addr)
{
    if (locked == IPB_AUTHZ_LOCKED_USER)
        ipb__log(b, IPB_LOG_WARNING,
                 "Too many failed logins of user %s from %s: refusing that user from that "
                 "address for up to %u s (max_login_failures).",
                 user, addr, b->cfg.login_failure_window);
    else if (locked == IPB_AUTHZ_LOCKED_ADDRESS)
        ipb__log(b, IPB_LOG_WARNING,
                 "Too many failed logins from %s (the last as user %s): refusing every login "
                 "from that address for up to %u s (max_address_failures).",
                 addr, user, b->cfg.login_failure_window);
}

/* A login's verdict, counted when it refuses (the metrics' login failures). */
static int counted(ipb_broker_t *b, int rc)
{
    if (rc && rc != IPB_AUTHZ_PENDING && rc != IPB__LOGIN_PENDING)
        b->st.login_failures++;
    return rc;
}

/* The hook's synchronous form, hashing on the loop; ipb__security_login does not. */
static uint8_t on_connect(void *ctx, const ipb_auth_client_t *cl, const ipm_connect_t *c)
{
    ipb_broker_t *b = ctx;
    if (uses_identity(&b->cfg.listeners[cl->listener]))
        return cl->username ? 0 : IPM_RC_NOT_AUTHORIZED; /* the certificate vouched */
    char addr[64];
    address_of(cl, addr, sizeof addr);
    ipb_authz_check_t *check;
    int locked;
    uint64_t now = ipb__now(b) / 1000;
    ipb_authz_t *a = policy(b, cl->listener);
    int rc = ipb_authz_login_start(a, cl->anonymous_allowed, addr, now, cl->username,
                                   c->password.data, c->password.len, c->has_password, &check,
                                   &locked);
    if (rc == IPB_AUTHZ_PENDING) {
        ipb_authz_check_run(check);
        rc = ipb_authz_login_finish(a, check, now, &locked);
    }
    log_lockout(b, locked, cl->username, addr);
    return (uint8_t)rc;
}

static uint8_t check(ipb_broker_t *b, const ipb_auth_client_t *cl, const char *topic, int access)
{
    return ipb_authz_allows(policy(b, cl->listener), cl->username, cl->client_id, topic,
                            strlen(topic), access)
               ? 0
               : IPM_RC_NOT_AUTHORIZED;
}

static uint8_t on_publish(void *ctx, const ipb_auth_client_t *cl, const char *topic, uint8_t qos,
                          bool retain)
{
    ipb_broker_t *b = ctx;
    (void)qos;
    (void)retain;
    if (!topic_fits(&b->cfg, topic))
        return IPM_RC_TOPIC_NAME_INVALID;
    if (over_memory(b))
        return IPM_RC_QUOTA_EXCEEDED;
    return check(b, cl, topic, IPB_ACL_WRITE);
}

static uint8_t on_subscribe(void *ctx, const ipb_auth_client_t *cl, const char *filter,
                            uint8_t qos)
{
    ipm_bytes_t group, inner;
    (void)qos;
    if (!topic_fits(&((ipb_broker_t *)ctx)->cfg, filter))
        return IPM_RC_TOPIC_FILTER_INVALID;
    /* A shared subscription reads what its filter matches: check that filter. */
    if (ipm_shared_split((const uint8_t *)filter, strlen(filter), &group, &inner) == 1) {
        char f[IPM_MAX_STRING_LEN + 1];
        memcpy(f, inner.data, inner.len);
        f[inner.len] = '\0';
        return check(ctx, cl, f, IPB_ACL_SUBSCRIBE);
    }
    return check(ctx, cl, filter, IPB_ACL_SUBSCRIBE);
}

static uint8_t on_deliver(void *ctx, const ipb_auth_client_t *cl, const char *topic)
{
    return check(ctx, cl, topic, IPB_ACL_READ);
}

static const ipb_auth_t hook = {on_connect, on_publish, on_subscribe, on_deliver};

/* ---- logins off the loop -------------------------------------------------------------- */

static void unlink_login(ipb_security_t *sec, login_t *l)
{
    if (l->prev)
        l->prev->next = l->next;
    else
        sec->logins = l->next;
    if (l->next)
        l->next->prev = l->prev;
}

static void hash_work(uv_work_t *req)
{
    login_t *l = req->data;
    ipb_authz_check_run(l->check); /* touches nothing but the check */
}

static void hash_done(uv_work_t *req, int status)
{
    login_t *l = req->data;
    ipb_broker_t *b = l->b;
    (void)status; /* never cancelled */
    if (!b) {
        ipb_authz_check_free(l->check);
        free(l);
        return;
    }
    unlink_login(b->sec, l);
    int locked;
    int rc = counted(b, ipb_authz_login_finish(policy(b, l->listener), l->check,
                                               ipb__now(b) / 1000, &locked));
    log_lockout(b, locked, l->user, l->addr);
    ipb_conn_t *c = l->c;
    ipb_login_cb done = l->done;
    void *done_arg = l->done_arg;
    free(l);
    if (done)
        done(done_arg, (uint8_t)rc);
    if (!c)
        return;
    c->login_wait = false;
    c->login_ready = true;
    c->login_verdict = (uint8_t)rc;
    b->resume(c);
}

/*
 * The broker's policy for a login: 0 or a reason code at once (the embedder's own hook,
 * anonymous, locked out, a pair verified before), or IPB__LOGIN_PENDING with *out the
 * hash queued on libuv's thread pool; the caller then says who waits for it.
 */
static int check_off_loop(ipb_broker_t *b, const ipb_auth_client_t *cl, const ipm_connect_t *p,
                          login_t **out)
{
    if (!b->auth || !b->auth->connect)
        return 0;
    if (b->auth != &hook || !b->sec)
        return counted(b, b->auth->connect(b->auth_ctx, cl, p));
    char addr[64];
    ipb_authz_check_t *check;
    int locked;
    address_of(cl, addr, sizeof addr);
    int rc = ipb_authz_login_start(policy(b, cl->listener), cl->anonymous_allowed, addr,
                                   ipb__now(b) / 1000, cl->username, p->password.data,
                                   p->password.len, p->has_password, &check, &locked);
    log_lockout(b, locked, cl->username, addr);
    if (rc != IPB_AUTHZ_PENDING)
        return counted(b, rc);
    login_t *l = calloc(1, sizeof *l);
    if (!l) {
        ipb_authz_check_free(check);
        return IPM_RC_SERVER_BUSY;
    }
    l->req.data = l;
    l->b = b;
    l->check = check;
    l->listener = cl->listener;
    snprintf(l->user, sizeof l->user, "%s", cl->username);
    snprintf(l->addr, sizeof l->addr, "%s", addr);
    if (uv_queue_work(b->loop, &l->req, hash_work, hash_done) < 0) {
        ipb_authz_check_free(check);
        free(l);
        return IPM_RC_SERVER_BUSY;
    }
    l->next = b->sec->logins;
    if (l->next)
        l->next->prev = l;
    b->sec->logins = l;
    *out = l;
    return IPB__LOGIN_PENDING;
}

int ipb__security_login(ipb_conn_t *c, const ipb_auth_client_t *cl, const ipm_connect_t *p)
{
    ipb_broker_t *b = c->b;
    if (c->login_ready) {
        c->login_ready = false;
        return c->login_verdict;
    }
    if (b->auth && b->auth->connect && uses_identity(&b->cfg.listeners[cl->listener]))
        return counted(b, b->auth->connect(b->auth_ctx, cl, p)); /* the certificate vouched */
    login_t *l;
    int rc = check_off_loop(b, cl, p, &l);
    if (rc == IPB__LOGIN_PENDING) {
        l->c = c;
        c->login_wait = true;
    }
    return rc;
}

int ipb__security_check(ipb_broker_t *b, const ipb_auth_client_t *cl, const ipm_connect_t *p,
                        ipb_login_cb done, void *arg)
{
    login_t *l;
    int rc = check_off_loop(b, cl, p, &l);
    if (rc == IPB__LOGIN_PENDING) {
        l->done = done;
        l->done_arg = arg;
    }
    return rc;
}

void ipb__security_cancel(ipb_broker_t *b, void *arg)
{
    if (!b->sec)
        return;
    for (login_t *l = b->sec->logins; l; l = l->next)
        if (l->done && l->done_arg == arg)
            l->done = NULL;
}

void ipb__security_forget(ipb_conn_t *c)
{
    if (!c->login_wait || !c->b->sec)
        return;
    for (login_t *l = c->b->sec->logins; l; l = l->next)
        if (l->c == c)
            l->c = NULL;
    c->login_wait = false;
}

int ipb__tls_identity(ipb_conn_t *c)
{
    const ipb_listener_config_t *l = &c->b->cfg.listeners[c->listener];
    char id[512];
    if (!uses_identity(l))
        return 0;
    free(c->username);
    c->username = NULL;
    if (!c->tr->vt->identity ||
        c->tr->vt->identity(c->tr, l->use_subject_as_username, id, sizeof id) < 0)
        return IPM_RC_NOT_AUTHORIZED;
    c->username = strdup(id);
    return c->username ? 0 : IPM_RC_SERVER_BUSY;
}

/* ---- loading -------------------------------------------------------------------------- */

static void free_contexts(ipb_tls_ctx_t **tls)
{
    for (unsigned i = 0; i < IPB_MAX_LISTENERS; i++) {
        ipb_tls_ctx_free(tls[i]);
        tls[i] = NULL;
    }
}

/* Every TLS listener's context, all or nothing. */
static int load_contexts(const ipb_config_t *cfg, ipb_tls_ctx_t **out, char *err, size_t errlen)
{
    for (unsigned i = 0; i < cfg->n_listeners; i++) {
        const ipb_listener_config_t *l = &cfg->listeners[i];
        if (!l->certfile[0] && !l->keyfile[0] && !l->psk_hint[0])
            continue;
        ipb_tls_config_t t = {
            .certfile = l->certfile[0] ? l->certfile : NULL,
            .keyfile = l->keyfile[0] ? l->keyfile : NULL,
            .cafile = l->cafile[0] ? l->cafile : NULL,
            .capath = l->capath[0] ? l->capath : NULL,
            .require_certificate = l->require_certificate || uses_identity(l),
            .tls_version = l->tls_version[0] ? l->tls_version : NULL,
            .ciphers = l->ciphers[0] ? l->ciphers : NULL,
            .ciphersuites = l->ciphersuites[0] ? l->ciphersuites : NULL,
            .crlfile = l->crlfile[0] ? l->crlfile : NULL,
            .psk_hint = l->psk_hint[0] ? l->psk_hint : NULL,
            .psk_file = cfg->per_listener_settings && l->psk_file[0] ? l->psk_file
                        : cfg->psk_file[0]                           ? cfg->psk_file
                                                                     : NULL,
        };
        char why[400];
        if (!(out[i] = ipb_tls_ctx_new(&t, why, sizeof why))) {
            snprintf(err, errlen, "listener %u: %s", l->port, why);
            free_contexts(out);
            return -1;
        }
    }
    return 0;
}

/* Does listener i have a policy of its own (per_listener_settings and a file of its own)? */
static bool has_own(const ipb_config_t *cfg, unsigned i)
{
    const ipb_listener_config_t *l = &cfg->listeners[i];
    return cfg->per_listener_settings && (l->password_file[0] || l->acl_file[0]);
}

/* The broker-wide policy (l NULL), or a listener's: its files, else the broker-wide ones. */
static ipb_authz_t *load_authz(const ipb_config_t *cfg, const ipb_listener_config_t *l,
                               char *err, size_t errlen)
{
    ipb_authz_config_t a;
    ipb_authz_config_init(&a);
    const char *pw = l && l->password_file[0] ? l->password_file : cfg->password_file;
    const char *acl = l && l->acl_file[0] ? l->acl_file : cfg->acl_file;
    a.password_file = pw[0] ? pw : NULL;
    a.acl_file = acl[0] ? acl : NULL;
    a.max_login_failures = cfg->max_login_failures;
    a.max_address_failures = cfg->max_address_failures;
    a.failure_window_s = cfg->login_failure_window;
    return ipb_authz_new(&a, err, errlen);
}

/* Point each listener's layer options at the current contexts. */
static void set_layers(ipb_broker_t *b)
{
    for (unsigned i = 0; i < b->cfg.n_listeners; i++) {
        const ipb_listener_config_t *l = &b->cfg.listeners[i];
        ipb_listener_t *ls = &b->listeners[i];
        ls->layer.tls = b->sec->tls[i];
        ls->layer.websockets = l->websockets;
        ls->layer.http_dir = l->http_dir[0] ? l->http_dir : NULL;
        ls->layer.plots_dir = b->cfg.plots_dir[0] ? b->cfg.plots_dir : NULL;
        ls->layer.handshake_timeout_ms = b->cfg.connect_timeout_ms;
        ls->layered = ls->layer.tls || ls->layer.websockets;
    }
}

int ipb__security_open(ipb_broker_t *b, char *err, size_t errlen)
{
    if (!(b->sec = calloc(1, sizeof *b->sec))) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    if (load_contexts(&b->cfg, b->sec->tls, err, errlen) ||
        !(b->sec->authz = load_authz(&b->cfg, NULL, err, errlen))) {
        ipb__security_close(b);
        return -1;
    }
    for (unsigned i = 0; i < b->cfg.n_listeners; i++) {
        char why[400];
        if (has_own(&b->cfg, i) &&
            !(b->sec->own[i] = load_authz(&b->cfg, &b->cfg.listeners[i], why, sizeof why))) {
            snprintf(err, errlen, "listener %u: %s", b->cfg.listeners[i].port, why);
            ipb__security_close(b);
            return -1;
        }
    }
    set_layers(b);
    b->auth = &hook;
    b->auth_ctx = b;
    return 0;
}

void ipb__security_close(ipb_broker_t *b)
{
    if (!b->sec)
        return;
    /* Hashes still running finish on their own and are freed then. */
    for (login_t *l = b->sec->logins; l; l = l->next) {
        l->b = NULL;
        if (l->c)
            l->c->login_wait = false;
    }
    free_contexts(b->sec->tls);
    ipb_authz_free(b->sec->authz);
    for (unsigned i = 0; i < IPB_MAX_LISTENERS; i++)
        ipb_authz_free(b->sec->own[i]);
    free(b->sec);
    b->sec = NULL;
}

/*
 * Every policy read again, all or none: the listeners' files are tried first (loaded and
 * dropped), so that a bad one fails the reload before any policy has changed. Policies
 * are reloaded in place because hashes still running hold them.
 */
static int reload_policies(ipb_broker_t *b, char *err, size_t errlen)
{
    for (unsigned i = 0; i < b->cfg.n_listeners; i++) {
        if (!b->sec->own[i])
            continue;
        ipb_authz_t *trial = load_authz(&b->cfg, &b->cfg.listeners[i], err, errlen);
        if (!trial)
            return -1;
        ipb_authz_free(trial);
    }
    if (ipb_authz_reload(b->sec->authz, err, errlen))
        return -1;
    for (unsigned i = 0; i < b->cfg.n_listeners; i++)
        if (b->sec->own[i] && ipb_authz_reload(b->sec->own[i], err, errlen))
            return -1;
    return 0;
}

int ipb__security_reload(ipb_broker_t *b, char *err, size_t errlen)
{
    ipb_tls_ctx_t *tls[IPB_MAX_LISTENERS] = {0};
    if (!b->sec) {
        snprintf(err, errlen, "broker not started");
        return -1;
    }
    if (load_contexts(&b->cfg, tls, err, errlen) ||
        (reload_policies(b, err, errlen) && (free_contexts(tls), 1))) {
        ipb__log(b, IPB_LOG_ERR, "Reload failed: %s; keeping the current configuration.", err);
        return -1;
    }
    /* Connections already made keep their own reference to the old contexts. */
    free_contexts(b->sec->tls);
    memcpy(b->sec->tls, tls, sizeof tls);
    set_layers(b);
    ipb__log(b, IPB_LOG_NOTICE, "Reloaded certificates, password file and ACL file.");
    return 0;
}
