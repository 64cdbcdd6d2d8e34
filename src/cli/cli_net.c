/*
 * cli_net.c - the ways `iotplot pub` / `iotplot sub` reach a broker that the library's
 * host client does not offer: a unix-domain socket (--unix), a SOCKS5 proxy (--proxy,
 * RFC 1928 with RFC 1929 user names), a chosen source address (-A), and DNS SRV records
 * (-S). The first three are one transport whose open() differs; send, recv and close are
 * the TCP transport's own, since all end up with a connected, non-blocking stream socket.
 * With TLS, the library's TLS transport runs over that same socket (its connect_fd).
 */
#define _DEFAULT_SOURCE /* res_query() and the ns_* parser are BSD interfaces */
#include <arpa/inet.h>
#include <arpa/nameser.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <resolv.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "cli_net.h"

#define NET_RX (16u << 20)
#define NET_TX (16u << 20)
#define NET_STORE (16u << 20)
#define NET_SUBS (64u << 10)
#define NET_QOS2 1024u
#define NET_ALIASES (16u << 10)

/* The client and everything it uses, in one allocation (as ipm_client_new() makes). */
typedef struct {
    ipm_client_t client; /* first: the ipm_client_t * handed out is this struct */
    ipm_transport_t tr;
    ipm_transport_t tcp_tr;
    ipm_tcp_t tcp;
    ipm_tls_t tls; /* with TLS: tr is its transport, over the socket net_open() made */
    bool use_tls;
    const cli_mqtt_opts_t *o;
    uint16_t qos2[NET_QOS2];
    uint8_t bytes[]; /* rx, tx, store, subs, aliases */
} net_client_t;

static int unix_open(net_client_t *n)
{
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    if (strlen(n->o->unix_path) >= sizeof sa.sun_path)
        return IPM_EINVALID;
    strcpy(sa.sun_path, n->o->unix_path);
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return IPM_EIO;
    /* A local connect completes or fails at once: only then go non-blocking. */
    if (connect(fd, (struct sockaddr *)&sa, sizeof sa) < 0 ||
        fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK) < 0) {
        close(fd);
        return IPM_EIO;
    }
    n->tcp.fd = fd;
    return IPM_OK;
}

/* -A: connect from a given local address; each of host's addresses of the same family. */
static int bound_open(net_client_t *n, const char *host, uint16_t port, uint32_t timeout_ms)
{
    struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM}, *to, *from;
    char service[8];
    snprintf(service, sizeof service, "%u", (unsigned)port);
    if (getaddrinfo(host, service, &hints, &to) != 0)
        return IPM_ERESOLVE;
    hints.ai_flags = AI_PASSIVE;
    if (getaddrinfo(n->o->bind_address, NULL, &hints, &from) != 0) {
        freeaddrinfo(to);
        return IPM_ERESOLVE;
    }
    int rc = IPM_EIO, one = 1;
    for (const struct addrinfo *a = to; a && rc != IPM_OK; a = a->ai_next) {
        const struct addrinfo *b = from;
        while (b && b->ai_family != a->ai_family)
            b = b->ai_next;
        int fd = b ? socket(a->ai_family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0) : -1;
        if (fd < 0)
            continue;
        struct pollfd p = {.fd = fd, .events = POLLOUT};
        int err = 0;
        socklen_t len = sizeof err;
        if (bind(fd, b->ai_addr, b->ai_addrlen) == 0 &&
            (connect(fd, a->ai_addr, a->ai_addrlen) == 0 ||
             (errno == EINPROGRESS && poll(&p, 1, (int)timeout_ms) == 1 &&
              getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) == 0 && err == 0))) {
            (void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
            n->tcp.fd = fd;
            rc = IPM_OK;
        } else {
            close(fd);
        }
    }
    freeaddrinfo(to);
    freeaddrinfo(from);
    return rc;
}

static int tcp_open(net_client_t *n, const char *host, uint16_t port, uint32_t timeout_ms)
{
    if (n->o->bind_address)
        return bound_open(n, host, port, timeout_ms);
    return n->tcp_tr.open(&n->tcp, host, port, timeout_ms);
}

static int send_all(net_client_t *n, const uint8_t *b, size_t len, uint32_t ms)
{
    return n->tcp_tr.send(&n->tcp, b, len, ms);
}

static int recv_exact(net_client_t *n, uint8_t *b, size_t len, uint32_t ms)
{
    for (size_t got = 0; got < len;) {
        int r = n->tcp_tr.recv(&n->tcp, b + got, len - got, ms);
        if (r < 0)
            return r;
        if (r == 0)
            return IPM_ETIMEOUT;
        got += (size_t)r;
    }
    return IPM_OK;
}

/* The SOCKS5 greeting, optional user/password step and CONNECT to host:port. */
static int socks5(net_client_t *n, const char *host, uint16_t port, uint32_t ms)
{
    const cli_mqtt_opts_t *o = n->o;
    uint8_t b[600];
    size_t k = 0;
    bool user = o->proxy_user != NULL;
    b[k++] = 5;
    b[k++] = user ? 2 : 1;
    b[k++] = 0; /* no authentication */
    if (user)
        b[k++] = 2; /* user name and password */
    int rc = send_all(n, b, k, ms);
    if (rc == IPM_OK)
        rc = recv_exact(n, b, 2, ms);
    if (rc != IPM_OK)
        return rc;
    if (b[0] != 5 || (b[1] != 0 && !(user && b[1] == 2)))
        return IPM_EIO;
    if (b[1] == 2) {
        const char *pw = o->proxy_pass ? o->proxy_pass : "";
        size_t ul = strlen(o->proxy_user), pl = strlen(pw);
        if (ul > 255 || pl > 255)
            return IPM_EINVALID;
        k = 0;
        b[k++] = 1;
        b[k++] = (uint8_t)ul;
        memcpy(b + k, o->proxy_user, ul);
        k += ul;
        b[k++] = (uint8_t)pl;
        memcpy(b + k, pw, pl);
        k += pl;
        if ((rc = send_all(n, b, k, ms)) != IPM_OK || (rc = recv_exact(n, b, 2, ms)) != IPM_OK)
            return rc;
        if (b[1] != 0)
            return IPM_EDENIED;
    }
    /* An address literal goes as an address; a name is resolved by the proxy (socks5h). */
    k = 0;
    b[k++] = 5;
    b[k++] = 1; /* CONNECT */
    b[k++] = 0;
    if (inet_pton(AF_INET, host, b + k + 1) == 1) {
        b[k] = 1;
        k += 5;
    } else if (inet_pton(AF_INET6, host, b + k + 1) == 1) {
        b[k] = 4;
        k += 17;
    } else {
        size_t hl = strlen(host);
        if (hl > 255)
            return IPM_EINVALID;
        b[k++] = 3;
        b[k++] = (uint8_t)hl;
        memcpy(b + k, host, hl);
        k += hl;
    }
    b[k++] = (uint8_t)(port >> 8);
    b[k++] = (uint8_t)port;
    if ((rc = send_all(n, b, k, ms)) != IPM_OK || (rc = recv_exact(n, b, 5, ms)) != IPM_OK)
        return rc;
    if (b[0] != 5 || b[1] != 0)
        return IPM_EIO;
    /* The bound address: 4 or 16 bytes, or a length and a name; then the port. */
    size_t rest = b[3] == 1 ? 3 + 2 : b[3] == 4 ? 15 + 2 : b[3] == 3 ? (size_t)b[4] + 2 : 0;
    if (!rest)
        return IPM_EIO;
    return recv_exact(n, b, rest, ms);
}

static int net_open(void *ctx, const char *host, uint16_t port, uint32_t timeout_ms)
{
    net_client_t *n = ctx;
    if (n->o->unix_path)
        return unix_open(n);
    if (!n->o->proxy_host)
        return tcp_open(n, host, port, timeout_ms);
    int rc = tcp_open(n, n->o->proxy_host, (uint16_t)n->o->proxy_port, timeout_ms);
    return rc == IPM_OK ? socks5(n, host, port, timeout_ms) : rc;
}

static int net_send(void *ctx, const uint8_t *buf, size_t len, uint32_t timeout_ms)
{
    net_client_t *n = ctx;
    return n->tcp_tr.send(&n->tcp, buf, len, timeout_ms);
}

static int net_recv(void *ctx, uint8_t *buf, size_t cap, uint32_t timeout_ms)
{
    net_client_t *n = ctx;
    return n->tcp_tr.recv(&n->tcp, buf, cap, timeout_ms);
}

static void net_close(void *ctx)
{
    net_client_t *n = ctx;
    n->tcp_tr.close(&n->tcp);
}

/* TLS's connect_fd: the same socket as without TLS, handed over to the TLS transport. */
static int tls_connect_fd(void *ctx, const char *host, uint16_t port, uint32_t timeout_ms,
                          int *fd)
{
    net_client_t *n = ctx;
    int rc = net_open(n, host, port, timeout_ms);
    if (rc == IPM_OK) {
        *fd = n->tcp.fd;
        n->tcp.fd = -1;
    }
    return rc;
}

bool cli_net_needed(const cli_mqtt_opts_t *o)
{
    return o->unix_path || o->proxy_host || o->bind_address;
}

ipm_client_t *cli_net_client_new(const cli_mqtt_opts_t *o, const ipm_client_config_t *cfg,
                                 const ipm_tls_opts_t *tls, const char **why)
{
    size_t total = (size_t)NET_RX + NET_TX + NET_STORE + NET_SUBS + NET_ALIASES;
    net_client_t *n = calloc(1, sizeof *n + total); /* mapped lazily: idle pages cost nothing */
    if (!n)
        return NULL;
    n->o = o;
    ipm_tcp_init(&n->tcp, &n->tcp_tr);
    n->tr = (ipm_transport_t){.ctx = n, .open = net_open, .send = net_send, .recv = net_recv,
                              .close = net_close};
    if (tls) {
        ipm_tls_opts_t t = *tls;
        t.connect_fd = tls_connect_fd;
        t.connect_ctx = n;
        n->use_tls = true;
        if (ipm_tls_init(&n->tls, &t, &n->tr) != IPM_OK) {
            static char err[sizeof n->tls.error];
            snprintf(err, sizeof err, "%s", ipm_tls_error(&n->tls));
            *why = err;
            ipm_tls_free(&n->tls);
            free(n);
            return NULL;
        }
    }
    uint8_t *b = n->bytes;
    ipm_client_mem_t mem = {
        .rx_buf = b, .rx_cap = NET_RX,
        .tx_buf = b + NET_RX, .tx_cap = NET_TX,
        .store = b + NET_RX + NET_TX, .store_cap = NET_STORE,
        .subs = b + NET_RX + NET_TX + NET_STORE, .subs_cap = NET_SUBS,
        .qos2_ids = n->qos2, .qos2_cap = NET_QOS2,
        .aliases = b + NET_RX + NET_TX + NET_STORE + NET_SUBS, .aliases_cap = NET_ALIASES,
    };
    ipm_client_config_t c = *cfg;
    c.transport = &n->tr;
    ipm_net_platform(&c.platform);
    if (ipm_client_init(&n->client, &c, &mem) != IPM_OK) {
        if (n->use_tls)
            ipm_tls_free(&n->tls);
        free(n);
        return NULL;
    }
    return &n->client;
}

void cli_net_client_free(ipm_client_t *c)
{
    if (!c)
        return;
    net_client_t *n = (net_client_t *)c;
    ipm_client_close(c);
    if (n->use_tls)
        ipm_tls_free(&n->tls);
    free(n);
}

const char *cli_net_tls_error(const ipm_client_t *c)
{
    const net_client_t *n = (const net_client_t *)c;
    return n->use_tls ? ipm_tls_error(&n->tls) : "";
}

int cli_net_srv(const char *domain, bool tls, char *host, size_t cap, int *port)
{
    char name[NS_MAXDNAME];
    unsigned char ans[NS_PACKETSZ * 4];
    snprintf(name, sizeof name, "%s.%s", tls ? "_secure-mqtt._tcp" : "_mqtt._tcp", domain);
    int len = res_query(name, ns_c_in, ns_t_srv, ans, sizeof ans);
    ns_msg msg;
    if (len < 0 || ns_initparse(ans, len, &msg) < 0)
        return -1;
    /* The record with the lowest priority, and of those the highest weight. */
    int best_prio = 1 << 17, best_weight = -1;
    for (int i = 0; i < ns_msg_count(msg, ns_s_an); i++) {
        ns_rr rr;
        if (ns_parserr(&msg, ns_s_an, i, &rr) < 0 || ns_rr_type(rr) != ns_t_srv ||
            ns_rr_rdlen(rr) < 7)
            continue;
        const unsigned char *d = ns_rr_rdata(rr);
        int prio = ns_get16(d), weight = ns_get16(d + 2), p = ns_get16(d + 4);
        char target[NS_MAXDNAME];
        if (dn_expand(ns_msg_base(msg), ns_msg_end(msg), d + 6, target, sizeof target) < 0)
            continue;
        if (prio < best_prio || (prio == best_prio && weight > best_weight)) {
            best_prio = prio;
            best_weight = weight;
            snprintf(host, cap, "%s", target);
            *port = p;
        }
    }
    return best_weight < 0 ? -1 : 0;
}
