/*
 * announce.c - the broker's listeners as DNS-SD services over mDNS, through the Avahi
 * daemon's client library on the broker's own loop (announce_poll.c).
 *
 * One entry group holds a service per listener: _mqtt._tcp (plain), _secure-mqtt._tcp
 * (TLS), _http._tcp or _https._tcp with TXT path=/ (websockets: the console). The daemon
 * may be missing at start, go away and come back: the client is made with
 * AVAHI_CLIENT_NO_FAIL, so it waits for the daemon and tells us when it is back, and
 * when even the D-Bus system bus is missing we try again every RETRY_MS. Each outage is
 * logged once. A name taken on the network gets Avahi's alternative ("iotplot on vm #2").
 *
 * libavahi-client (and the D-Bus and libsystemd below it) is loaded by the first
 * announcement (src/dynlib), not linked: a broker without `announce` never needs it.
 */
#define _DEFAULT_SOURCE /* getifaddrs() is a BSD interface */
#include <arpa/inet.h>
#include <ifaddrs.h>
#include <net/if.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>

#include <avahi-client/client.h>
#include <avahi-client/publish.h>
#include <avahi-common/alternative.h>
#include <avahi-common/domain.h>
#include <avahi-common/error.h>
#include <avahi-common/malloc.h>
#include <avahi-common/timeval.h>

#include "announce.h"
#include "dynlib/dynlib.h"
#include "announce_poll.h"
#include "core.h"
#include "log.h"

#define RETRY_MS 5000

#define AVAHI_FUNCS(X)                                                                 \
    X(avahi_client_new) X(avahi_client_free) X(avahi_client_errno)                     \
    X(avahi_client_get_host_name) X(avahi_client_get_host_name_fqdn)                   \
    X(avahi_entry_group_new) X(avahi_entry_group_free) X(avahi_entry_group_reset)      \
    X(avahi_entry_group_add_service) X(avahi_entry_group_commit)                       \
    X(avahi_entry_group_is_empty) X(avahi_entry_group_get_client)                      \
    X(avahi_alternative_service_name) X(avahi_elapse_time) X(avahi_strerror)           \
    X(avahi_strdup) X(avahi_strdup_printf) X(avahi_free)
static struct {
    AVAHI_FUNCS(IPD_FIELD)
} av;
#define SYM(f) IPD_SYM(av, f)
static const ipd_sym_t av_syms[] = {AVAHI_FUNCS(SYM)};
static ipd_lib_t libavahi = IPD_LIB(AVAHI_SONAME, AVAHI_PACKAGE, av_syms);

struct ipb_announce {
    ipb_broker_t *b;
    ipb_uvpoll_t *poll;
    AvahiClient *client;
    AvahiEntryGroup *group;
    AvahiTimeout *retry;
    char *name;          /* the service name (avahi_malloc), renamed on collisions */
    bool absent_logged;  /* this outage of the daemon is logged */
    char summary[512];   /* "_mqtt._tcp port 1883, ..." for the log line */
};

/* ---- where and as what a listener is announced ------------------------------------- */

static const char *service_type(const ipb_listener_config_t *l)
{
    bool tls = l->certfile[0] || l->psk_hint[0];
    if (l->websockets)
        return tls ? "_https._tcp" : "_http._tcp";
    return tls ? "_secure-mqtt._tcp" : "_mqtt._tcp";
}

/* The interface whose address is a (a listener bound to one address), or AVAHI_IF_UNSPEC. */
static AvahiIfIndex iface_of(int family, const void *a)
{
    struct ifaddrs *all, *i;
    AvahiIfIndex idx = AVAHI_IF_UNSPEC;
    if (getifaddrs(&all) < 0)
        return idx;
    for (i = all; i && idx == AVAHI_IF_UNSPEC; i = i->ifa_next) {
        if (!i->ifa_addr || i->ifa_addr->sa_family != family)
            continue;
        const void *x = family == AF_INET
                            ? (const void *)&((struct sockaddr_in *)i->ifa_addr)->sin_addr
                            : (const void *)&((struct sockaddr_in6 *)i->ifa_addr)->sin6_addr;
        if (!memcmp(x, a, family == AF_INET ? 4 : 16))
            idx = (AvahiIfIndex)if_nametoindex(i->ifa_name);
    }
    freeifaddrs(all);
    return idx ? idx : AVAHI_IF_UNSPEC;
}

/*
 * Announce a listener only where it can be reached: on its bind_interface, on the
 * interface of the address it is bound to, and over IPv4 alone when it listens on IPv4
 * alone (no address and no socket_domain ipv6 is 0.0.0.0, see listener.c).
 */
static void reach(const ipb_listener_config_t *l, AvahiIfIndex *iface, AvahiProtocol *proto)
{
    unsigned char a[16];
    *iface = AVAHI_IF_UNSPEC;
    *proto = l->socket_domain == IPB_DOMAIN_IPV6 ? AVAHI_PROTO_UNSPEC : AVAHI_PROTO_INET;
    if (l->bind_interface[0] && if_nametoindex(l->bind_interface))
        *iface = (AvahiIfIndex)if_nametoindex(l->bind_interface);
    if (inet_pton(AF_INET, l->address, a) == 1) {
        *proto = AVAHI_PROTO_INET;
        if (memcmp(a, "\0\0\0\0", 4) && *iface == AVAHI_IF_UNSPEC)
            *iface = iface_of(AF_INET, a);
    } else if (inet_pton(AF_INET6, l->address, a) == 1) {
        *proto = AVAHI_PROTO_UNSPEC; /* "::" takes IPv4 too */
        if (memcmp(a, &in6addr_any, 16)) {
            *proto = AVAHI_PROTO_INET6;
            if (*iface == AVAHI_IF_UNSPEC)
                *iface = iface_of(AF_INET6, a);
        }
    } else if (l->address[0]) {
        *proto = AVAHI_PROTO_UNSPEC; /* a host name: whatever it resolved to */
    }
}

/* ---- the services ------------------------------------------------------------------ */

static void on_group(AvahiEntryGroup *g, AvahiEntryGroupState state, void *arg);

static void log_absent(ipb_announce_t *a, const char *why)
{
    if (a->absent_logged)
        return;
    a->absent_logged = true;
    ipb__log(a->b, IPB_LOG_NOTICE,
             "Not announced over mDNS (%s): announced once avahi-daemon runs.", why);
}

/* Put every listener's service in the group and commit it; 0 or an AVAHI_ERR_*. */
static int add_services(ipb_announce_t *a, AvahiClient *c)
{
    ipb_broker_t *b = a->b;
    if (!a->name) {
        a->name = b->cfg.announce_name[0]
                      ? av.avahi_strdup(b->cfg.announce_name)
                      : av.avahi_strdup_printf("iotplot on %s", av.avahi_client_get_host_name(c));
        if (!a->name)
            return AVAHI_ERR_NO_MEMORY;
    }
    if (!a->group && !(a->group = av.avahi_entry_group_new(c, on_group, a)))
        return av.avahi_client_errno(c);
    size_t at = 0;
    a->summary[0] = 0;
    for (unsigned i = 0; i < b->cfg.n_listeners; i++) {
        const ipb_listener_config_t *l = &b->cfg.listeners[i];
        if (!b->listeners[i].open || b->listeners[i].unix_socket)
            continue;
        const char *type = service_type(l);
        /* A second listener of a type needs a name of its own: the port tells them apart. */
        bool again = false;
        for (unsigned j = 0; j < i; j++)
            again |= b->listeners[j].open && !b->listeners[j].unix_socket &&
                     !strcmp(service_type(&b->cfg.listeners[j]), type);
        char name[AVAHI_LABEL_MAX];
        snprintf(name, sizeof name, again ? "%s (%u)" : "%s", a->name, b->listeners[i].port);
        AvahiIfIndex iface;
        AvahiProtocol proto;
        reach(l, &iface, &proto);
        int rc = av.avahi_entry_group_add_service(a->group, iface, proto, 0, name, type, NULL,
                                                  NULL, b->listeners[i].port,
                                                  l->websockets ? "path=/" : NULL, NULL);
        if (rc < 0)
            return rc;
        int w = snprintf(a->summary + at, sizeof a->summary - at, "%s%s port %u%s",
                         at ? ", " : "", type, b->listeners[i].port,
                         l->websockets ? " path=/" : "");
        if (w > 0 && (size_t)w < sizeof a->summary - at)
            at += (size_t)w;
    }
    if (av.avahi_entry_group_is_empty(a->group)) {
        ipb__log(b, IPB_LOG_NOTICE, "Not announced over mDNS: no TCP listener.");
        return 0;
    }
    return av.avahi_entry_group_commit(a->group);
}

/*
 * The name is taken on the network: Avahi's alternative, and the services again. A
 * collision among our own daemon's services shows at once, so the next alternative is
 * tried then; one on the network comes back later through on_group.
 */
static void rename_and_retry(ipb_announce_t *a, AvahiClient *c)
{
    int rc = AVAHI_ERR_COLLISION;
    for (int tries = 0; rc == AVAHI_ERR_COLLISION && tries < 16; tries++) {
        char *alt = av.avahi_alternative_service_name(a->name);
        if (!alt)
            return;
        ipb__log(a->b, IPB_LOG_NOTICE,
                 "mDNS: the name '%s' is taken on the network; using '%s'.", a->name, alt);
        av.avahi_free(a->name);
        a->name = alt;
        av.avahi_entry_group_reset(a->group);
        rc = add_services(a, c);
    }
    if (rc < 0)
        ipb__log(a->b, IPB_LOG_WARNING, "Warning: mDNS announcement failed: %s.",
                 av.avahi_strerror(rc));
}

static void publish(ipb_announce_t *a, AvahiClient *c)
{
    int rc = add_services(a, c);
    if (rc == AVAHI_ERR_COLLISION)
        rename_and_retry(a, c);
    else if (rc < 0)
        ipb__log(a->b, IPB_LOG_WARNING, "Warning: mDNS announcement failed: %s.",
                 av.avahi_strerror(rc));
}

static void on_group(AvahiEntryGroup *g, AvahiEntryGroupState state, void *arg)
{
    ipb_announce_t *a = arg;
    AvahiClient *c = av.avahi_entry_group_get_client(g);
    a->group = g; /* the callback may run before avahi_entry_group_new returns */
    switch (state) {
    case AVAHI_ENTRY_GROUP_ESTABLISHED:
        ipb__log(a->b, IPB_LOG_NOTICE, "Announced over mDNS as '%s' on %s: %s.", a->name,
                 av.avahi_client_get_host_name_fqdn(c), a->summary);
        break;
    case AVAHI_ENTRY_GROUP_COLLISION:
        rename_and_retry(a, c);
        break;
    case AVAHI_ENTRY_GROUP_FAILURE:
        ipb__log(a->b, IPB_LOG_WARNING, "Warning: mDNS announcement failed: %s.",
                 av.avahi_strerror(av.avahi_client_errno(c)));
        break;
    default:
        break;
    }
}

/* ---- the client and the daemon ----------------------------------------------------- */

static void connect_daemon(ipb_announce_t *a);

static void on_retry(AvahiTimeout *t, void *arg)
{
    ipb_announce_t *a = arg;
    (void)t;
    if (a->client) { /* failed: a new client (it cannot be freed in its own callback) */
        av.avahi_client_free(a->client);
        a->client = NULL;
        a->group = NULL;
    }
    connect_daemon(a);
}

static void retry_in(ipb_announce_t *a, unsigned ms)
{
    struct timeval tv;
    av.avahi_elapse_time(&tv, ms, 0);
    ipb__uvpoll_api(a->poll)->timeout_update(a->retry, &tv);
}

static void on_client(AvahiClient *c, AvahiClientState state, void *arg)
{
    ipb_announce_t *a = arg;
    switch (state) {
    case AVAHI_CLIENT_S_RUNNING:
        a->absent_logged = false;
        if (!a->group || av.avahi_entry_group_is_empty(a->group))
            publish(a, c);
        break;
    case AVAHI_CLIENT_S_COLLISION:
    case AVAHI_CLIENT_S_REGISTERING:
        /* The host name changes: the services follow once it is RUNNING again. */
        if (a->group)
            av.avahi_entry_group_reset(a->group);
        break;
    case AVAHI_CLIENT_CONNECTING:
        /* No daemon yet, or it went away: what it held of ours is gone with it. */
        if (a->group) {
            av.avahi_entry_group_free(a->group);
            a->group = NULL;
        }
        log_absent(a, "no avahi-daemon is running");
        break;
    case AVAHI_CLIENT_FAILURE:
        /* The daemon (or the bus) went away: a new client waits for it to be back. */
        a->group = NULL;
        log_absent(a, av.avahi_client_errno(c) == AVAHI_ERR_DISCONNECTED
                          ? "avahi-daemon went away"
                          : av.avahi_strerror(av.avahi_client_errno(c)));
        retry_in(a, 0);
        break;
    }
}

static void connect_daemon(ipb_announce_t *a)
{
    int err = 0;
    a->client = av.avahi_client_new(ipb__uvpoll_api(a->poll), AVAHI_CLIENT_NO_FAIL, on_client,
                                    a, &err);
    if (a->client)
        return;
    /* Without the D-Bus system bus even NO_FAIL gives up: try again later. */
    log_absent(a, err == AVAHI_ERR_NO_DAEMON ? "no avahi-daemon is reachable: no D-Bus "
                                               "system bus"
                                             : av.avahi_strerror(err));
    retry_in(a, RETRY_MS);
}

void ipb__announce_open(ipb_broker_t *b)
{
    if (!b->cfg.announce || b->announce)
        return;
    char err[320];
    if (ipd_load(&libavahi, err, sizeof err) < 0) {
        ipb__log(b, IPB_LOG_WARNING, "Warning: not announced over mDNS: %s.", err);
        return;
    }
    ipb_announce_t *a = calloc(1, sizeof *a);
    if (!a || !(a->poll = ipb__uvpoll_new(b->loop))) {
        free(a);
        ipb__log(b, IPB_LOG_WARNING, "Warning: not announced over mDNS: out of memory.");
        return;
    }
    a->b = b;
    a->retry = ipb__uvpoll_api(a->poll)->timeout_new(ipb__uvpoll_api(a->poll), NULL, on_retry, a);
    if (!a->retry) {
        ipb__uvpoll_free(a->poll);
        free(a);
        ipb__log(b, IPB_LOG_WARNING, "Warning: not announced over mDNS: out of memory.");
        return;
    }
    b->announce = a;
    connect_daemon(a);
}

void ipb__announce_close(ipb_broker_t *b)
{
    ipb_announce_t *a = b->announce;
    if (!a)
        return;
    b->announce = NULL;
    if (a->client)
        av.avahi_client_free(a->client); /* its entry group with it: the services leave */
    ipb__uvpoll_api(a->poll)->timeout_free(a->retry);
    ipb__uvpoll_free(a->poll);
    av.avahi_free(a->name);
    free(a);
}
