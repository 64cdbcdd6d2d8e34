/*
 * loadgen.c - MQTT load generator for broker benchmarks: raw MQTT 3.1.1 over epoll,
 * packets made and read with the iotplot codec, many connections in one thread.
 *
 *   ipb_loadgen -p PORT -s SCENARIO [-q QOS] [-t SECONDS] [-n CONNS] [--pid BROKER_PID]
 *               [--persistent 1] [--offline 1] [-m MESSAGES] [-b PAYLOAD_BYTES]
 *
 * Scenarios (payloads of -b bytes, 64 unless told; 16 to 65,536):
 *   fanin    100 publishers -> 1 subscriber on a wildcard filter
 *   pairs    100 publisher/subscriber pairs, one topic each
 *   fanout   1 publisher -> 100 subscribers of one topic
 *   latency  1 publisher at 5,000 msg/s -> 1 subscriber; p50/p99/p99.9/max
 *   idle     N (default 10,000) connections that connect and stay idle; RSS of the broker.
 *            Both processes need a descriptor per connection: the generator raises its
 *            own RLIMIT_NOFILE soft limit to the hard one, reads the broker's from
 *            /proc/PID/limits, and connects as many as both allow, saying which limit
 *            stopped it ("limit" in the JSON). One source address has one ephemeral port
 *            range towards the broker, so connections are spread over 127.0.0.1,
 *            127.0.0.2, ... (bind before connect), about 10,000 each.
 *
 * --persistent 1: subscribers connect with clean session 0 (their sessions outlive them);
 * --offline 1 as well: they subscribe and leave, and publishers are paced by their PUBACKs
 * instead, so the figure is messages stored for an offline session and acknowledged per
 * second.
 *
 * -m MESSAGES: the throughput scenarios stop after that many deliveries instead of after
 * SECONDS, counting from the first (no warm-up), for instruction counts of the broker run
 * under a profiler: the difference between two counts is the cost of the messages between.
 *
 * Throughput is closed-loop: a publisher keeps at most a window of messages that its
 * subscribers have not received yet, so no broker has to drop anything and the figure is
 * delivered messages per second. Prints one JSON object on stdout.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>

#include "iotplot/codec.h"

#define PAYLOAD 64        /* bytes of a message's payload unless -b says otherwise */
#define PAYLOAD_MIN 16    /* the publisher's index, sequence and send time */
#define PAYLOAD_MAX 65536
/* Descriptors kept free besides the connections (epoll, stdio, the broker's own). */
#define FD_SPARE 32
/* Idle: connections opened and not answered yet, at most. */
#define IDLE_PENDING 1024

typedef struct {
    int fd;
    int role; /* 0 publisher, 1 subscriber */
    int idx;
    bool connected, subscribed, want_out, gone;
    uint8_t *rb;
    size_t rlen, rcap;
    uint8_t *wb;
    size_t wlen, wcap;
    uint64_t sent, recv, acked;
    uint16_t pid;
} conn_t;

typedef struct {
    int ep;
    conn_t *c;
    int n;
    int npub, nsub;
    int qos;
    const char *scenario;
    int window;
    uint64_t delivered;
    int nconnected, nsubscribed;
    double *lat;
    size_t nlat, lat_cap;
    bool measuring;
    bool persistent, offline;
    uint64_t max_msgs; /* -m: stop after this many deliveries, 0 for none */
    bool lean;         /* idle: buffers are freed once empty, a connection may be refused */
    int ngone;         /* idle: connections the broker closed */
    int per_addr;      /* idle: connections per source address */
    size_t payload;    /* -b: bytes of each message's payload */
} lg_t;

static uint64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static void die(const char *what)
{
    fprintf(stderr, "ipb_loadgen: %s: %s\n", what, strerror(errno));
    exit(1);
}

static void need(uint8_t **buf, size_t *cap, size_t want)
{
    if (want <= *cap)
        return;
    size_t nc = *cap ? *cap : 4096;
    while (nc < want)
        nc *= 2;
    *buf = realloc(*buf, nc);
    if (!*buf)
        die("realloc");
    *cap = nc;
}

static void queue_pkt(conn_t *c, const ipm_packet_t *p)
{
    int64_t sz = ipm_packet_size(p, IPM_PROTO_V311);
    if (sz < 0) {
        fprintf(stderr, "ipb_loadgen: cannot encode: %s\n", ipm_strerror((int)sz));
        exit(1);
    }
    need(&c->wb, &c->wcap, c->wlen + (size_t)sz);
    ipm_encode(p, IPM_PROTO_V311, c->wb + c->wlen, (size_t)sz);
    c->wlen += (size_t)sz;
}

static void set_out(lg_t *g, conn_t *c, bool on)
{
    if (c->want_out == on)
        return;
    c->want_out = on;
    struct epoll_event ev = {.events = EPOLLIN | (on ? EPOLLOUT : 0), .data.ptr = c};
    epoll_ctl(g->ep, EPOLL_CTL_MOD, c->fd, &ev);
}

static void flush(lg_t *g, conn_t *c)
{
    while (c->wlen) {
        ssize_t n = write(c->fd, c->wb, c->wlen);
        if (n < 0) {
            if (errno == EAGAIN || errno == EINTR) {
                set_out(g, c, true);
                return;
            }
            die("write");
        }
        memmove(c->wb, c->wb + n, c->wlen - (size_t)n);
        c->wlen -= (size_t)n;
    }
    set_out(g, c, false);
    if (g->lean) { /* 100,000 idle connections would otherwise keep 4 KiB each */
        free(c->wb);
        c->wb = NULL;
        c->wcap = 0;
    }
}

static int open_conn(lg_t *g, int port, conn_t *c)
{
    c->fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
    if (c->fd < 0 && g->lean)
        return errno; /* EMFILE, ENFILE: the limit that stops the idle scenario */
    if (c->fd < 0)
        die("socket");
    int one = 1;
    setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    if (g->per_addr) {
        /* 127.0.0.(1 + i / per_addr); the port is picked at connect, per 4-tuple. */
        struct sockaddr_in src = {.sin_family = AF_INET};
        src.sin_addr.s_addr = htonl(INADDR_LOOPBACK + (uint32_t)(c->idx / g->per_addr));
        setsockopt(c->fd, IPPROTO_IP, IP_BIND_ADDRESS_NO_PORT, &one, sizeof one);
        if (bind(c->fd, (struct sockaddr *)&src, sizeof src) < 0)
            die("bind");
    }
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (connect(c->fd, (struct sockaddr *)&sa, sizeof sa) < 0 && errno != EINPROGRESS) {
        if (!g->lean)
            die("connect");
        int err = errno; /* EADDRNOTAVAIL: no source port left */
        close(c->fd);
        return err;
    }
    struct epoll_event ev = {.events = EPOLLIN | EPOLLOUT, .data.ptr = c};
    c->want_out = true;
    epoll_ctl(g->ep, EPOLL_CTL_ADD, c->fd, &ev);
    char id[48]; /* the scenario in it: a prober and a flooder on one broker keep apart */
    snprintf(id, sizeof id, "lg-%s-%d-%d", g->scenario, c->role, c->idx);
    ipm_packet_t p = {.type = IPM_CONNECT};
    p.u.connect = (ipm_connect_t){.version = IPM_PROTO_V311,
                                  .clean_start = !(g->persistent && c->role == 1),
                                  .keepalive = 600, .client_id = ipm_str(id)};
    queue_pkt(c, &p);
    return 0;
}

static void send_publish(lg_t *g, conn_t *c, const char *topic)
{
    static uint8_t payload[PAYLOAD_MAX]; /* one thread; the filler written once */
    if (payload[PAYLOAD_MAX - 1] != 'x')
        memset(payload, 'x', sizeof payload);
    uint32_t idx = (uint32_t)c->idx, seq = (uint32_t)c->sent;
    uint64_t ts = now_ns();
    memcpy(payload, &idx, 4);
    memcpy(payload + 4, &seq, 4);
    memcpy(payload + 8, &ts, 8);
    ipm_packet_t p = {.type = IPM_PUBLISH};
    p.u.publish.topic = ipm_str(topic);
    p.u.publish.payload = (ipm_bytes_t){payload, (uint32_t)g->payload}; /* <= PAYLOAD_MAX */
    p.u.publish.qos = (uint8_t)g->qos;
    if (g->qos) {
        if (++c->pid == 0)
            c->pid = 1;
        p.u.publish.packet_id = c->pid;
    }
    queue_pkt(c, &p);
    c->sent++;
}

static void on_publish(lg_t *g, conn_t *c, const ipm_publish_t *p)
{
    if (p->payload.len < 16)
        return;
    uint32_t idx;
    uint64_t ts;
    memcpy(&idx, p->payload.data, 4);
    memcpy(&ts, p->payload.data + 8, 8);
    c->recv++;
    if (g->measuring)
        g->delivered++;
    if (!strcmp(g->scenario, "fanin") && (int)idx < g->npub)
        g->c[idx].recv++;
    else if (!strcmp(g->scenario, "pairs"))
        g->c[c->idx].recv++;
    if (!strcmp(g->scenario, "latency") && g->measuring) {
        if (g->nlat == g->lat_cap) {
            g->lat_cap = g->lat_cap ? g->lat_cap * 2 : 65536;
            g->lat = realloc(g->lat, g->lat_cap * sizeof *g->lat);
            if (!g->lat)
                die("realloc");
        }
        g->lat[g->nlat++] = (double)(now_ns() - ts) / 1000.0;
    }
    if (p->qos == 1) {
        ipm_packet_t a = {.type = IPM_PUBACK};
        a.u.ack.packet_id = p->packet_id;
        queue_pkt(c, &a);
    }
}

static void handle(lg_t *g, conn_t *c, const ipm_packet_t *p)
{
    switch (p->type) {
    case IPM_CONNACK:
        if (p->u.connack.reason) {
            fprintf(stderr, "ipb_loadgen: CONNACK %u\n", p->u.connack.reason);
            exit(1);
        }
        c->connected = true;
        g->nconnected++;
        break;
    case IPM_SUBACK:
        c->subscribed = true;
        g->nsubscribed++;
        break;
    case IPM_PUBLISH:
        on_publish(g, c, &p->u.publish);
        break;
    case IPM_PUBACK:
        c->acked++;
        if (g->offline && g->measuring)
            g->delivered++;
        break;
    default:
        break;
    }
}

static void on_readable(lg_t *g, conn_t *c)
{
    for (;;) {
        need(&c->rb, &c->rcap, c->rlen + 65536);
        ssize_t n = read(c->fd, c->rb + c->rlen, c->rcap - c->rlen);
        if (n < 0 && (errno == EAGAIN || errno == EINTR))
            break;
        if (n <= 0 && g->lean) {
            /* Refused (its limit, or max_connections): counted, and the run goes on. */
            epoll_ctl(g->ep, EPOLL_CTL_DEL, c->fd, NULL);
            close(c->fd);
            c->fd = -1;
            c->gone = true;
            c->wlen = 0;
            g->ngone++;
            return;
        }
        if (n <= 0) {
            fprintf(stderr, "ipb_loadgen: connection %d/%d closed by the broker\n", c->role,
                    c->idx);
            exit(1);
        }
        c->rlen += (size_t)n;
        size_t off = 0;
        ipm_frame_t f;
        while (ipm_frame(c->rb + off, c->rlen - off, 0, &f) == IPM_OK) {
            ipm_packet_t p;
            if (ipm_decode(&f, c->rb + off, IPM_PROTO_V311, &p) == IPM_OK)
                handle(g, c, &p);
            off += f.total_len;
        }
        memmove(c->rb, c->rb + off, c->rlen - off);
        c->rlen -= off;
        if ((size_t)n < 65536)
            break;
    }
    if (g->lean && !c->rlen) {
        free(c->rb);
        c->rb = NULL;
        c->rcap = 0;
    }
}

static void poll_once(lg_t *g, int timeout_ms)
{
    struct epoll_event evs[256];
    int n = epoll_wait(g->ep, evs, 256, timeout_ms);
    for (int i = 0; i < n; i++) {
        conn_t *c = evs[i].data.ptr;
        if (evs[i].events & (EPOLLIN | EPOLLHUP | EPOLLERR))
            on_readable(g, c);
        if ((evs[i].events & EPOLLOUT) && !c->gone)
            flush(g, c);
    }
    /* Idle: each CONNECT waits for EPOLLOUT; a sweep per poll would cost O(n^2). */
    for (int i = 0; i < g->n && !g->lean; i++)
        if (g->c[i].wlen && !g->c[i].want_out)
            flush(g, &g->c[i]);
}

static void wait_until(lg_t *g, int *counter, int want, const char *what)
{
    uint64_t deadline = now_ns() + 30000000000ull;
    while (*counter < want) {
        poll_once(g, 10);
        if (now_ns() > deadline) {
            fprintf(stderr, "ipb_loadgen: %s: %d of %d\n", what, *counter, want);
            exit(1);
        }
    }
}

static void topic_of(lg_t *g, int pub, char *buf, size_t len)
{
    if (!strcmp(g->scenario, "pairs"))
        snprintf(buf, len, "bench/pair/%d", pub);
    else if (!strcmp(g->scenario, "fanin"))
        snprintf(buf, len, "bench/in/%d", pub);
    else
        snprintf(buf, len, "bench/out");
}

static uint64_t min_recv(lg_t *g)
{
    uint64_t m = UINT64_MAX;
    for (int i = g->npub; i < g->n; i++)
        if (g->c[i].recv < m)
            m = g->c[i].recv;
    return m;
}

/* Let each publisher send what its window allows. */
static void pump(lg_t *g)
{
    char topic[64];
    bool fanout = !strcmp(g->scenario, "fanout");
    uint64_t floor = fanout ? min_recv(g) : 0;
    for (int i = 0; i < g->npub; i++) {
        conn_t *c = &g->c[i];
        uint64_t got = g->offline ? c->acked : fanout ? floor : c->recv;
        topic_of(g, i, topic, sizeof topic);
        while (c->sent - got < (uint64_t)g->window && c->wlen < 65536)
            send_publish(g, c, topic);
    }
}

static void setup(lg_t *g, int port)
{
    for (int i = 0; i < g->n; i++) {
        g->c[i].role = i < g->npub ? 0 : 1;
        g->c[i].idx = i < g->npub ? i : i - g->npub;
        open_conn(g, port, &g->c[i]);
    }
    wait_until(g, &g->nconnected, g->n, "connected");
    for (int i = g->npub; i < g->n; i++) {
        char f[64];
        if (!strcmp(g->scenario, "fanin"))
            snprintf(f, sizeof f, "bench/in/+");
        else if (!strcmp(g->scenario, "pairs"))
            snprintf(f, sizeof f, "bench/pair/%d", g->c[i].idx);
        else
            snprintf(f, sizeof f, "bench/out");
        ipm_sub_t s = {.filter = ipm_str(f), .options = (uint8_t)g->qos};
        ipm_packet_t p = {.type = IPM_SUBSCRIBE};
        p.u.subscribe = (ipm_subscribe_t){.packet_id = 1, .subs = &s, .count = 1};
        queue_pkt(&g->c[i], &p);
    }
    wait_until(g, &g->nsubscribed, g->n - g->npub, "subscribed");
    if (!g->offline)
        return;
    for (int i = g->npub; i < g->n; i++) {
        ipm_packet_t p = {.type = IPM_DISCONNECT};
        queue_pkt(&g->c[i], &p);
        flush(g, &g->c[i]);
        epoll_ctl(g->ep, EPOLL_CTL_DEL, g->c[i].fd, NULL);
        close(g->c[i].fd);
        g->c[i].wlen = 0;
    }
}

static void throughput(lg_t *g, int port, double seconds)
{
    setup(g, port);
    uint64_t warm = now_ns() + (g->max_msgs ? 0 : 500000000ull);
    while (now_ns() < warm) {
        pump(g);
        poll_once(g, 1);
    }
    g->measuring = true;
    uint64_t t0 = now_ns(), end = t0 + (uint64_t)(seconds * 1e9);
    while (g->max_msgs ? g->delivered < g->max_msgs : now_ns() < end) {
        pump(g);
        poll_once(g, 1);
    }
    double dt = (double)(now_ns() - t0) / 1e9;
    printf("{\"scenario\":\"%s\",\"qos\":%d,\"delivered\":%llu,\"delivered_per_s\":%.0f}\n",
           g->scenario, g->qos, (unsigned long long)g->delivered, (double)g->delivered / dt);
}

static int cmp_d(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static void latency(lg_t *g, int port, double seconds)
{
    setup(g, port);
    const double rate = 5000;
    /* A 200 us timer paces the publisher, so the generator sleeps between sends. */
    int tfd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK);
    struct itimerspec its = {.it_interval = {0, 200000}, .it_value = {0, 200000}};
    timerfd_settime(tfd, 0, &its, NULL);
    struct epoll_event ev = {.events = EPOLLIN, .data.ptr = NULL};
    epoll_ctl(g->ep, EPOLL_CTL_ADD, tfd, &ev);
    uint64_t t0 = now_ns(), warm = t0 + 500000000ull, end = warm + (uint64_t)(seconds * 1e9);
    uint64_t due = 0;
    char topic[] = "bench/out";
    for (;;) {
        uint64_t t = now_ns();
        if (t >= end)
            break;
        g->measuring = t >= warm;
        uint64_t want = (uint64_t)((double)(t - t0) / 1e9 * rate);
        while (due < want) {
            send_publish(g, &g->c[0], topic);
            due++;
        }
        flush(g, &g->c[0]);
        struct epoll_event evs[16];
        int n = epoll_wait(g->ep, evs, 16, 10);
        for (int i = 0; i < n; i++) {
            conn_t *c = evs[i].data.ptr;
            if (!c) {
                uint64_t ticks;
                if (read(tfd, &ticks, sizeof ticks) < 0 && errno != EAGAIN)
                    die("timerfd");
                continue;
            }
            if (evs[i].events & (EPOLLIN | EPOLLHUP | EPOLLERR))
                on_readable(g, c);
            if (evs[i].events & EPOLLOUT)
                flush(g, c);
        }
        flush(g, &g->c[1]);
    }
    close(tfd);
    qsort(g->lat, g->nlat, sizeof *g->lat, cmp_d);
    double p50 = g->nlat ? g->lat[g->nlat / 2] : 0;
    double p99 = g->nlat ? g->lat[(size_t)((double)g->nlat * 0.99)] : 0;
    double p999 = g->nlat ? g->lat[(size_t)((double)g->nlat * 0.999)] : 0;
    double max = g->nlat ? g->lat[g->nlat - 1] : 0;
    printf("{\"scenario\":\"latency\",\"qos\":%d,\"samples\":%zu,\"p50_us\":%.1f,"
           "\"p99_us\":%.1f,\"p999_us\":%.1f,\"max_us\":%.1f}\n",
           g->qos, g->nlat, p50, p99, p999, max);
}

static long rss_kib(int pid)
{
    char path[64], line[256];
    snprintf(path, sizeof path, "/proc/%d/status", pid);
    FILE *f = fopen(path, "r");
    long kb = -1;
    while (f && fgets(line, sizeof line, f))
        if (!strncmp(line, "VmRSS:", 6))
            kb = strtol(line + 6, NULL, 10);
    if (f)
        fclose(f);
    return kb;
}

/* The soft RLIMIT_NOFILE of process pid (/proc/PID/limits), -1 if unknown or unlimited. */
static long nofile_of(int pid)
{
    char path[64], line[256];
    snprintf(path, sizeof path, "/proc/%d/limits", pid);
    FILE *f = fopen(path, "r");
    long soft = -1;
    while (f && fgets(line, sizeof line, f))
        if (!strncmp(line, "Max open files", 14))
            soft = strtol(line + 14, NULL, 10); /* "unlimited" reads as 0: unknown */
    if (f)
        fclose(f);
    return soft > 0 ? soft : -1;
}

/* Descriptors process pid has open now, -1 if unknown. */
static long fds_of(int pid)
{
    char path[64];
    snprintf(path, sizeof path, "/proc/%d/fd", pid);
    DIR *d = opendir(path);
    if (!d)
        return -1;
    long n = 0;
    for (struct dirent *e; (e = readdir(d));)
        n += e->d_name[0] != '.';
    closedir(d);
    return n;
}

/*
 * How many of the asked connections both processes can hold; *limit says which limit
 * stopped it ("none" when none did).
 */
static int idle_room(int asked, int pid, long own_soft, char *limit, size_t len)
{
    int room = asked;
    snprintf(limit, len, "none");
    if (own_soft > 0 && own_soft - FD_SPARE < room) {
        room = (int)(own_soft - FD_SPARE);
        snprintf(limit, len, "load generator RLIMIT_NOFILE %ld (its hard limit)", own_soft);
    }
    long bsoft = pid ? nofile_of(pid) : -1, bfds = pid ? fds_of(pid) : -1;
    if (bsoft > 0 && bfds >= 0 && bsoft - bfds - FD_SPARE / 4 < room) {
        room = (int)(bsoft - bfds - FD_SPARE / 4);
        snprintf(limit, len, "broker RLIMIT_NOFILE %ld", bsoft);
    }
    if (room < asked)
        fprintf(stderr, "ipb_loadgen: %d idle connections asked; %s allows %d\n", asked, limit,
                room);
    return room < 0 ? 0 : room;
}

/*
 * Connections per source address: three quarters of half the ephemeral port range.
 * connect() takes ports of one parity first (Linux leaves the other half to bind()); past
 * that half, each connect searches the whole range and 20,000 connections take seconds.
 */
static int ports_per_addr(void)
{
    FILE *f = fopen("/proc/sys/net/ipv4/ip_local_port_range", "r");
    int lo = 32768, hi = 60999;
    if (f) {
        if (fscanf(f, "%d %d", &lo, &hi) != 2)
            lo = 32768, hi = 60999;
        fclose(f);
    }
    return (hi - lo + 1) / 2 * 3 / 4;
}

static void idle(lg_t *g, int port, int pid, int asked, long own_soft)
{
    char limit[160];
    g->lean = true;
    g->n = idle_room(asked, pid, own_soft, limit, sizeof limit);
    g->per_addr = ports_per_addr();
    if (g->n <= g->per_addr)
        g->per_addr = 0; /* one address is enough: no bind, as before */
    long before = rss_kib(pid);
    uint64_t t0 = now_ns();
    int opened = 0;
    for (; opened < g->n; opened++) {
        g->c[opened].role = 1;
        g->c[opened].idx = opened;
        int err = open_conn(g, port, &g->c[opened]);
        if (err) {
            snprintf(limit, sizeof limit, "load generator: %s after %d", strerror(err), opened);
            fprintf(stderr, "ipb_loadgen: %s\n", limit);
            break;
        }
        /* At most IDLE_PENDING handshakes at a time: more would overflow the broker's
         * listen backlog, and the dropped SYNs would measure TCP's retry timer. */
        if (opened % 256 == 255)
            poll_once(g, 0);
        while (opened + 1 - g->nconnected - g->ngone >= IDLE_PENDING)
            poll_once(g, 1);
    }
    g->n = opened;
    uint64_t deadline = now_ns() + 60000000000ull;
    while (g->nconnected + g->ngone < opened && now_ns() < deadline)
        poll_once(g, 10);
    double dt = (double)(now_ns() - t0) / 1e9;
    if (g->ngone && !strcmp(limit, "none"))
        snprintf(limit, sizeof limit, "the broker closed %d connections", g->ngone);
    /* Let the broker settle (free what connecting needed) before measuring. */
    for (int i = 0; i < 50; i++)
        poll_once(g, 10);
    long full = rss_kib(pid);
    for (int i = 0; i < g->n; i++)
        if (!g->c[i].gone)
            close(g->c[i].fd);
    usleep(1500000);
    long after = rss_kib(pid);
    int n = g->nconnected;
    printf("{\"scenario\":\"idle\",\"asked\":%d,\"connections\":%d,\"refused\":%d,"
           "\"limit\":\"%s\",\"source_addresses\":%d,\"connects_per_s\":%.0f,"
           "\"rss_before_kib\":%ld,\"rss_full_kib\":%ld,\"rss_after_kib\":%ld,"
           "\"bytes_per_conn\":%.0f}\n",
           asked, n, g->ngone, limit, g->per_addr ? (opened - 1) / g->per_addr + 1 : 1,
           (double)n / dt, before, full, after,
           n ? (double)(full - before) * 1024.0 / n : 0.0);
}

int main(int argc, char **argv)
{
    lg_t g = {.scenario = "fanin"};
    int port = 1883, pid = 0, n = 10000;
    double seconds = 3;
    for (int i = 1; i + 1 < argc; i += 2) {
        if (!strcmp(argv[i], "-p"))
            port = atoi(argv[i + 1]);
        else if (!strcmp(argv[i], "-s"))
            g.scenario = argv[i + 1];
        else if (!strcmp(argv[i], "-q"))
            g.qos = atoi(argv[i + 1]);
        else if (!strcmp(argv[i], "-t"))
            seconds = atof(argv[i + 1]);
        else if (!strcmp(argv[i], "-n"))
            n = atoi(argv[i + 1]);
        else if (!strcmp(argv[i], "--pid"))
            pid = atoi(argv[i + 1]);
        else if (!strcmp(argv[i], "--persistent"))
            g.persistent = atoi(argv[i + 1]) != 0;
        else if (!strcmp(argv[i], "-m"))
            g.max_msgs = strtoull(argv[i + 1], NULL, 10);
        else if (!strcmp(argv[i], "--offline"))
            g.persistent = g.offline = atoi(argv[i + 1]) != 0;
        else if (!strcmp(argv[i], "-b"))
            g.payload = strtoul(argv[i + 1], NULL, 10);
    }
    if (!g.payload)
        g.payload = PAYLOAD;
    if (g.payload < PAYLOAD_MIN || g.payload > PAYLOAD_MAX) {
        fprintf(stderr, "ipb_loadgen: -b %zu: a payload is %d to %d bytes\n", g.payload,
                PAYLOAD_MIN, PAYLOAD_MAX);
        return 2;
    }
    /* Soft to hard: the idle scenario needs a descriptor per connection. */
    struct rlimit rl;
    long own_soft = -1;
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0) {
        rlim_t want = rl.rlim_max;
        rl.rlim_cur = want;
        if (setrlimit(RLIMIT_NOFILE, &rl) < 0 || getrlimit(RLIMIT_NOFILE, &rl) < 0)
            rl.rlim_cur = 0;
        own_soft = rl.rlim_cur == RLIM_INFINITY ? -1 : (long)rl.rlim_cur;
    }
    g.ep = epoll_create1(0);
    if (g.ep < 0)
        die("epoll_create1");
    if (!strcmp(g.scenario, "fanin")) {
        g.npub = 100;
        g.nsub = 1;
        g.window = g.qos ? 8 : 64;
    } else if (!strcmp(g.scenario, "pairs")) {
        g.npub = 100;
        g.nsub = 100;
        g.window = g.qos ? 16 : 64;
    } else if (!strcmp(g.scenario, "fanout")) {
        g.npub = 1;
        g.nsub = 100;
        g.window = g.qos ? 16 : 64;
    } else if (!strcmp(g.scenario, "latency")) {
        g.npub = 1;
        g.nsub = 1;
    } else if (!strcmp(g.scenario, "idle")) {
        g.nsub = n;
    } else {
        fprintf(stderr, "ipb_loadgen: unknown scenario %s\n", g.scenario);
        return 2;
    }
    g.n = g.npub + g.nsub;
    g.c = calloc((size_t)g.n, sizeof *g.c);
    if (!g.c)
        die("calloc");
    if (!strcmp(g.scenario, "idle"))
        idle(&g, port, pid, n, own_soft);
    else if (!strcmp(g.scenario, "latency"))
        latency(&g, port, seconds);
    else
        throughput(&g, port, seconds);
    return 0;
}
