/*
 * api.c - the routes of GET /api/... and their parameters, checked before anything
 * reads the store, then the embedder's reader run on libuv's thread pool and its answer
 * framed as HTTP. The reader only ever sees decoded, length-checked text without
 * control characters, and a user name it must confine the answer to.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api.h"
#include "files.h"

bool ipb_http_wants_api(const ipb_http_req_t *req)
{
    return req->target.n >= 5 && !memcmp(req->target.p, "/api/", 5);
}

static int hexval(int c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    c |= 0x20;
    return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

/* Decode p[0..n) of a query (%XX, '+' for a space) into out[0..cap) as a C string;
 * -1 for a bad escape, a control character (NUL among them) or what does not fit. */
static int unescape(const char *p, size_t n, char *out, size_t cap)
{
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        int c = (unsigned char)p[i];
        if (c == '%') {
            int hi = i + 2 < n ? hexval(p[i + 1]) : -1;
            int lo = hi >= 0 ? hexval(p[i + 2]) : -1;
            if (hi < 0 || lo < 0)
                return -1;
            c = hi << 4 | lo;
            i += 2;
        } else if (c == '+') {
            c = ' ';
        }
        if (c < 0x20 || c == 0x7F || k + 1 >= cap)
            return -1;
        out[k++] = (char)c;
    }
    out[k] = '\0';
    return 0;
}

/* A session is levels of a topic: none may be empty, "." or "..", so no reader that
 * ever takes it for a path can climb with it. */
static bool levels_ok(const char *s)
{
    for (const char *seg = s; seg;) {
        const char *slash = strchr(seg, '/');
        size_t n = slash ? (size_t)(slash - seg) : strlen(seg);
        if (n == 0 || (n == 1 && seg[0] == '.') || (n == 2 && seg[0] == '.' && seg[1] == '.'))
            return false;
        seg = slash ? slash + 1 : NULL;
    }
    return true;
}

/* A count: decimal digits only, at most 18 of them (no sign, no overflow). */
static int count(const char *s, int64_t *out)
{
    size_t n = strlen(s);
    int64_t v = 0;
    if (n == 0 || n > 18)
        return -1;
    for (size_t i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return -1;
        v = v * 10 + (s[i] - '0');
    }
    *out = v;
    return 0;
}

static const char *const KEYS[] = {"session", "name", "since", "limit", "version"};

/* The value of a known key into out (strings one after the other in buf[*used..len)). */
static int param(int key, const char *v, size_t vl, ipb_api_req_t *out, char *buf,
                 size_t len, size_t *used)
{
    char *val = buf + *used;
    if (*used >= len || unescape(v, vl, val, len - *used))
        return -1;
    *used += strlen(val) + 1;
    switch (key) {
    case 0:
        out->session = val;
        return strlen(val) > IPB_HTTP_API_MAX_SESSION || !levels_ok(val) ? -1 : 0;
    case 1:
        out->name = val;
        return !val[0] || strlen(val) > IPB_HTTP_API_MAX_NAME || !strcmp(val, ".") ||
                       !strcmp(val, "..")
                   ? -1
                   : 0;
    case 2: return count(val, &out->since);
    case 3: return count(val, &out->limit);
    default: return count(val, &out->version);
    }
}

/* The parameters of a query string q[0..n); keys we do not know (a cache-buster) are
 * skipped, whatever their length. */
static int params(const char *q, size_t n, ipb_api_req_t *out, char *buf, size_t len)
{
    size_t used = 0;
    for (size_t i = 0; i < n;) {
        size_t end = i;
        while (end < n && q[end] != '&')
            end++;
        const char *eq = memchr(q + i, '=', end - i);
        size_t kl = eq ? (size_t)(eq - (q + i)) : end - i;
        const char *v = eq ? eq + 1 : q + end;
        char k[16];
        int key = -1;
        if (unescape(q + i, kl, k, sizeof k) == 0)
            for (int j = 0; j < (int)(sizeof KEYS / sizeof KEYS[0]); j++)
                if (!strcmp(k, KEYS[j]))
                    key = j;
        if (key >= 0 && param(key, v, (size_t)(q + end - v), out, buf, len, &used))
            return 400;
        i = end + 1;
    }
    return 0;
}

int ipb_http_api_parse(const ipb_http_req_t *req, const char *user, ipb_api_req_t *out,
                       char *buf, size_t len)
{
    char rel[64];
    memset(out, 0, sizeof *out);
    out->user = user;
    out->max_body = IPB_HTTP_API_MAX_BODY;
    /* The path obeys the rules of every other path (no NUL, no "..", however spelt). */
    if (ipb_http_path(&req->target, rel, sizeof rel))
        return 400;
    if (!strcmp(rel, "api/series"))
        out->route = IPB_API_SERIES;
    else if (!strcmp(rel, "api/rows"))
        out->route = IPB_API_ROWS;
    else
        return 404;
    const char *q = memchr(req->target.p, '?', req->target.n);
    size_t qn = 0;
    if (q) {
        q++;
        while (q + qn < req->target.p + req->target.n && q[qn] != '#')
            qn++;
    }
    int status = q ? params(q, qn, out, buf, len) : 0;
    if (status)
        return status;
    if (out->route == IPB_API_ROWS && (!out->session || !out->name))
        return 400;
    return 0;
}

/* ---- on the thread pool --------------------------------------------------------------- */

typedef struct {
    uv_work_t work;
    ipb_api_fn fn;
    void *ctx;
    ipb_api_req_t req;
    bool head, private;
    ipb_http_api_done_cb done;
    void *arg;
    int status;
    char *body;
    size_t len;
    char strings[]; /* user, session, name */
} job_t;

static void run(uv_work_t *w)
{
    job_t *j = w->data;
    j->status = j->fn(j->ctx, &j->req, &j->body, &j->len);
    if (j->status == 200 && (!j->body || j->len > j->req.max_body))
        j->status = 500; /* the reader broke its promise: say so rather than send it */
    if (j->status != 200) {
        free(j->body);
        j->body = NULL;
    }
}

static void after(uv_work_t *w, int status)
{
    job_t *j = w->data;
    char head[300];
    (void)status; /* never cancelled */
    size_t hn;
    if (j->status == 200) {
        hn = (size_t)snprintf(head, sizeof head,
                              "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
                              "Content-Length: %zu\r\nX-Content-Type-Options: nosniff\r\n"
                              "Cache-Control: no-store\r\n%sConnection: close\r\n\r\n",
                              j->len, j->private ? "X-Iotplot-Plots: private\r\n" : "");
    } else {
        hn = ipb_http_error(j->status, head, sizeof head);
    }
    size_t bn = j->status == 200 && !j->head ? j->len : 0;
    char *out = malloc(hn + bn);
    if (out) {
        memcpy(out, head, hn);
        if (bn)
            memcpy(out + hn, j->body, bn);
    }
    j->done(j->arg, out, out ? hn + bn : 0);
    free(out);
    free(j->body);
    free(j);
}

static char *keep(char **at, const char *s)
{
    if (!s)
        return NULL;
    size_t n = strlen(s) + 1;
    char *p = memcpy(*at, s, n);
    *at += n;
    return p;
}

int ipb_http_api_run(uv_loop_t *loop, ipb_api_fn fn, void *ctx, const ipb_api_req_t *req,
                     bool head, bool private, ipb_http_api_done_cb done, void *arg)
{
    size_t n = 0;
    const char *s[3] = {req->user, req->session, req->name};
    for (int i = 0; i < 3; i++)
        n += s[i] ? strlen(s[i]) + 1 : 0;
    job_t *j = calloc(1, sizeof *j + n);
    if (!j)
        return -1;
    j->work.data = j;
    j->fn = fn;
    j->ctx = ctx;
    j->req = *req;
    char *at = j->strings;
    j->req.user = keep(&at, req->user);
    j->req.session = keep(&at, req->session);
    j->req.name = keep(&at, req->name);
    j->head = head;
    j->private = private;
    j->done = done;
    j->arg = arg;
    if (uv_queue_work(loop, &j->work, run, after) < 0) {
        free(j);
        return -1;
    }
    return 0;
}
