/*
 * announce_poll.c - AvahiPoll over libuv: a watch is a uv_poll_t, a timeout a uv_timer_t.
 *
 * libuv allows one poll handle per descriptor, and D-Bus watches the same socket twice
 * (one watch to read, one to write). So handles are per descriptor (fdpoll_t) and each
 * carries the list of Avahi watches on it, polling for the union of their events.
 * Avahi may free any watch from inside a callback, even the one running: a watch freed
 * while its descriptor dispatches is only marked and swept once the dispatch is over.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/time.h>

#include <avahi-common/timeval.h>

#include "announce_poll.h"

typedef struct fdpoll fdpoll_t;

struct AvahiWatch {
    fdpoll_t *fp;
    AvahiWatchEvent events, revents; /* wanted; what the running callback was told */
    AvahiWatchCallback cb;
    void *userdata;
    bool dead;
    AvahiWatch *next;
};

struct fdpoll {
    uv_poll_t h;
    ipb_uvpoll_t *p;
    int fd;
    int dispatching;
    AvahiWatch *watches;
    fdpoll_t *next;
};

struct AvahiTimeout {
    uv_timer_t h;
    AvahiTimeoutCallback cb;
    void *userdata;
};

struct ipb_uvpoll {
    AvahiPoll api; /* first: api.userdata is p */
    uv_loop_t *loop;
    fdpoll_t *fds;
};

static void free_handle(uv_handle_t *h)
{
    free(h->data);
}

static int uv_events(AvahiWatchEvent e)
{
    return (e & AVAHI_WATCH_IN ? UV_READABLE : 0) | (e & AVAHI_WATCH_OUT ? UV_WRITABLE : 0);
}

static void on_poll(uv_poll_t *h, int status, int events);

/* Poll for the union of what the live watches want. */
static void fdpoll_start(fdpoll_t *fp)
{
    int want = 0;
    for (AvahiWatch *w = fp->watches; w; w = w->next)
        if (!w->dead)
            want |= uv_events(w->events);
    if (want)
        uv_poll_start(&fp->h, want, on_poll);
    else
        uv_poll_stop(&fp->h);
}

/* Free the dead watches; close the handle when none is left. */
static void fdpoll_sync(fdpoll_t *fp)
{
    AvahiWatch **pw = &fp->watches;
    while (*pw) {
        AvahiWatch *w = *pw;
        if (w->dead) {
            *pw = w->next;
            free(w);
        } else {
            pw = &w->next;
        }
    }
    if (fp->watches) {
        fdpoll_start(fp);
        return;
    }
    for (fdpoll_t **pp = &fp->p->fds; *pp; pp = &(*pp)->next)
        if (*pp == fp) {
            *pp = fp->next;
            break;
        }
    uv_close((uv_handle_t *)&fp->h, free_handle);
}

static void on_poll(uv_poll_t *h, int status, int events)
{
    fdpoll_t *fp = h->data;
    AvahiWatchEvent got = (events & UV_READABLE ? AVAHI_WATCH_IN : 0) |
                          (events & UV_WRITABLE ? AVAHI_WATCH_OUT : 0) |
                          (events & UV_DISCONNECT ? AVAHI_WATCH_HUP : 0);
    if (status < 0) /* the descriptor failed: every watch on it hears of it */
        got = AVAHI_WATCH_ERR;
    fp->dispatching++;
    for (AvahiWatch *w = fp->watches; w; w = w->next) {
        AvahiWatchEvent e = got & (w->events | AVAHI_WATCH_ERR | AVAHI_WATCH_HUP);
        if (w->dead || !e)
            continue;
        w->revents = e;
        w->cb(w, fp->fd, e, w->userdata);
        w->revents = 0;
    }
    if (--fp->dispatching == 0)
        fdpoll_sync(fp);
}

static AvahiWatch *watch_new(const AvahiPoll *api, int fd, AvahiWatchEvent event,
                             AvahiWatchCallback cb, void *userdata)
{
    ipb_uvpoll_t *p = api->userdata;
    AvahiWatch *w = calloc(1, sizeof *w);
    if (!w)
        return NULL;
    fdpoll_t *fp = p->fds;
    while (fp && fp->fd != fd)
        fp = fp->next;
    if (!fp) {
        if (!(fp = calloc(1, sizeof *fp)) || uv_poll_init(p->loop, &fp->h, fd) < 0) {
            free(fp);
            free(w);
            return NULL;
        }
        fp->h.data = fp;
        fp->p = p;
        fp->fd = fd;
        fp->next = p->fds;
        p->fds = fp;
    }
    w->fp = fp;
    w->events = event;
    w->cb = cb;
    w->userdata = userdata;
    w->next = fp->watches;
    fp->watches = w;
    if (!fp->dispatching)
        fdpoll_start(fp);
    return w;
}

static void watch_update(AvahiWatch *w, AvahiWatchEvent event)
{
    w->events = event;
    if (!w->fp->dispatching)
        fdpoll_start(w->fp);
}

static AvahiWatchEvent watch_get_events(AvahiWatch *w)
{
    return w->revents;
}

static void watch_free(AvahiWatch *w)
{
    w->dead = true;
    if (!w->fp->dispatching)
        fdpoll_sync(w->fp);
}

/* Milliseconds from now until the absolute time tv (0 if it has passed), rounded up.
 * Avahi's times are gettimeofday()'s (avahi_elapse_time), so now is too. */
static uint64_t ms_until(const struct timeval *tv)
{
    struct timeval now;
    gettimeofday(&now, NULL);
    int64_t us = ((int64_t)tv->tv_sec - now.tv_sec) * 1000000 + (tv->tv_usec - now.tv_usec);
    return us <= 0 ? 0 : (uint64_t)((us + 999) / 1000);
}

static void on_timer(uv_timer_t *h)
{
    AvahiTimeout *t = h->data;
    t->cb(t, t->userdata); /* one shot: re-armed only by timeout_update */
}

static void timeout_update(AvahiTimeout *t, const struct timeval *tv)
{
    if (tv)
        uv_timer_start(&t->h, on_timer, ms_until(tv), 0);
    else
        uv_timer_stop(&t->h);
}

static AvahiTimeout *timeout_new(const AvahiPoll *api, const struct timeval *tv,
                                 AvahiTimeoutCallback cb, void *userdata)
{
    ipb_uvpoll_t *p = api->userdata;
    AvahiTimeout *t = calloc(1, sizeof *t);
    if (!t || uv_timer_init(p->loop, &t->h) < 0) {
        free(t);
        return NULL;
    }
    t->h.data = t;
    t->cb = cb;
    t->userdata = userdata;
    timeout_update(t, tv);
    return t;
}

static void timeout_free(AvahiTimeout *t)
{
    uv_timer_stop(&t->h);
    uv_close((uv_handle_t *)&t->h, free_handle);
}

ipb_uvpoll_t *ipb__uvpoll_new(uv_loop_t *loop)
{
    ipb_uvpoll_t *p = calloc(1, sizeof *p);
    if (!p)
        return NULL;
    p->loop = loop;
    p->api = (AvahiPoll){.userdata = p,
                         .watch_new = watch_new,
                         .watch_update = watch_update,
                         .watch_get_events = watch_get_events,
                         .watch_free = watch_free,
                         .timeout_new = timeout_new,
                         .timeout_update = timeout_update,
                         .timeout_free = timeout_free};
    return p;
}

const AvahiPoll *ipb__uvpoll_api(ipb_uvpoll_t *p)
{
    return &p->api;
}

void ipb__uvpoll_free(ipb_uvpoll_t *p)
{
    /* Whatever a client left behind is closed here, so no handle outlives the loop. */
    while (p->fds) {
        for (AvahiWatch *w = p->fds->watches; w; w = w->next)
            w->dead = true;
        fdpoll_sync(p->fds);
    }
    free(p);
}
