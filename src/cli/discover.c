/*
 * discover.c - `-h auto`: browse DNS-SD over mDNS through avahi-daemon for the broker the
 * network announces (iotplot broker's `announce true`, iotplot serve, or any MQTT broker
 * published as _mqtt._tcp), before the client connects.
 *
 * The command has nothing else to do until it knows where to connect, so this runs
 * Avahi's own simple poll loop until the first service resolves or the time is up.
 * libavahi-client is loaded then (src/dynlib), not linked: other commands never need it.
 */
#include <net/if.h>
#include <stdio.h>
#include <string.h>
#include <sys/time.h>

#include <avahi-client/client.h>
#include <avahi-client/lookup.h>
#include <avahi-common/error.h>
#include <avahi-common/simple-watch.h>
#include <avahi-common/timeval.h>

#include "discover.h"
#include "dynlib/dynlib.h"

#define AVAHI_FUNCS(X)                                                                 \
    X(avahi_simple_poll_new) X(avahi_simple_poll_get) X(avahi_simple_poll_loop)        \
    X(avahi_simple_poll_quit) X(avahi_simple_poll_free) X(avahi_client_new)            \
    X(avahi_client_free) X(avahi_client_errno) X(avahi_service_browser_new)            \
    X(avahi_service_browser_get_client) X(avahi_service_resolver_new)                  \
    X(avahi_service_resolver_free) X(avahi_address_snprint) X(avahi_elapse_time)       \
    X(avahi_strerror)
static struct {
    AVAHI_FUNCS(IPD_FIELD)
} av;
#define SYM(f) IPD_SYM(av, f)
static const ipd_sym_t av_syms[] = {AVAHI_FUNCS(SYM)};
static ipd_lib_t libavahi = IPD_LIB(AVAHI_SONAME, AVAHI_PACKAGE, av_syms);

typedef struct {
    cli_mqtt_opts_t *o;
    bool tls, found, failed;
    const char *type;
    AvahiSimplePoll *poll;
    char why[200];
} browse_t;

bool cli_discover_wanted(const cli_mqtt_opts_t *o)
{
    return o->host && !strcmp(o->host, "auto");
}

static void on_resolved(AvahiServiceResolver *r, AvahiIfIndex iface, AvahiProtocol proto,
                        AvahiResolverEvent event, const char *name, const char *type,
                        const char *domain, const char *host_name, const AvahiAddress *a,
                        uint16_t port, AvahiStringList *txt, AvahiLookupResultFlags flags,
                        void *arg)
{
    browse_t *bw = arg;
    (void)proto, (void)type, (void)domain, (void)txt, (void)flags;
    if (event == AVAHI_RESOLVER_FOUND && !bw->found) {
        cli_mqtt_opts_t *o = bw->o;
        char addr[AVAHI_ADDRESS_STR_MAX], ifname[IF_NAMESIZE] = "";
        av.avahi_address_snprint(addr, sizeof addr, a);
        /* A link-local IPv6 address means nothing without its interface. */
        bool scoped = a->proto == AVAHI_PROTO_INET6 && !strncmp(addr, "fe80:", 5) &&
                      if_indextoname((unsigned)iface, ifname);
        if (bw->tls)
            snprintf(o->srvhost, sizeof o->srvhost, "%s", host_name);
        else
            snprintf(o->srvhost, sizeof o->srvhost, "%s%s%s", addr, scoped ? "%" : "", ifname);
        o->host = o->srvhost;
        o->port = port;
        bw->found = true;
        if (o->debug)
            fprintf(stderr, "%s: -h auto: '%s' (%s) at %s port %u\n", o->prog, name, host_name,
                    addr, port);
        av.avahi_simple_poll_quit(bw->poll);
    }
    av.avahi_service_resolver_free(r);
}

static void on_browse(AvahiServiceBrowser *sb, AvahiIfIndex iface, AvahiProtocol proto,
                      AvahiBrowserEvent event, const char *name, const char *type,
                      const char *domain, AvahiLookupResultFlags flags, void *arg)
{
    browse_t *bw = arg;
    (void)flags;
    if (event == AVAHI_BROWSER_FAILURE) {
        snprintf(bw->why, sizeof bw->why, "browsing failed: %s",
                 av.avahi_strerror(av.avahi_client_errno(av.avahi_service_browser_get_client(sb))));
        bw->failed = true;
        av.avahi_simple_poll_quit(bw->poll);
    } else if (event == AVAHI_BROWSER_NEW && !bw->found) {
        /* The address of the family it was seen on: a broker announced over IPv4 alone
         * may listen on IPv4 alone. */
        if (!av.avahi_service_resolver_new(av.avahi_service_browser_get_client(sb), iface,
                                           proto, name, type, domain, proto, 0, on_resolved,
                                           bw) &&
            bw->o->debug)
            fprintf(stderr, "%s: -h auto: cannot resolve '%s'\n", bw->o->prog, name);
    }
}

static void on_timeout(AvahiTimeout *t, void *arg)
{
    browse_t *bw = arg;
    (void)t;
    av.avahi_simple_poll_quit(bw->poll);
}

int cli_discover(cli_mqtt_opts_t *o, bool tls)
{
    browse_t bw = {.o = o, .tls = tls, .type = tls ? "_secure-mqtt._tcp" : "_mqtt._tcp"};
    int err = 0;
    AvahiClient *c = NULL;
    if (ipd_load(&libavahi, bw.why, sizeof bw.why) < 0)
        goto done;
    if (!(bw.poll = av.avahi_simple_poll_new())) {
        snprintf(bw.why, sizeof bw.why, "out of memory");
        goto done;
    }
    const AvahiPoll *api = av.avahi_simple_poll_get(bw.poll);
    /* No NO_FAIL: without a daemon there is nothing to wait for. */
    if (!(c = av.avahi_client_new(api, 0, NULL, NULL, &err))) {
        snprintf(bw.why, sizeof bw.why, "%s",
                 err == AVAHI_ERR_NO_DAEMON ? "no avahi-daemon is running (it browses mDNS)"
                                            : av.avahi_strerror(err));
        goto done;
    }
    if (!av.avahi_service_browser_new(c, AVAHI_IF_UNSPEC, AVAHI_PROTO_UNSPEC, bw.type, NULL, 0,
                                   on_browse, &bw)) {
        snprintf(bw.why, sizeof bw.why, "cannot browse: %s",
                 av.avahi_strerror(av.avahi_client_errno(c)));
        goto done;
    }
    struct timeval tv;
    api->timeout_new(api, av.avahi_elapse_time(&tv, CLI_DISCOVER_MS, 0), on_timeout, &bw);
    av.avahi_simple_poll_loop(bw.poll);
    if (!bw.found && !bw.failed)
        snprintf(bw.why, sizeof bw.why, "no %s broker announced on the local network within %d s",
                 bw.type, CLI_DISCOVER_MS / 1000);
done:
    if (c)
        av.avahi_client_free(c); /* its browser and resolvers with it */
    if (bw.poll)
        av.avahi_simple_poll_free(bw.poll);
    if (!bw.found && !o->quiet)
        fprintf(stderr, "%s: -h auto: %s\n", o->prog, bw.why);
    return bw.found ? 0 : -1;
}
