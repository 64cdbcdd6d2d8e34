/*
 * files.c - the broker's static file server: files of the console compiled into the
 * binary, of a listener's http_dir, or of the plot folder, each kind with its
 * Content-Security-Policy. Answers are built here; layered.c sends them and closes.
 */
/* realpath() is X/Open. */
#define _XOPEN_SOURCE 700

#include <fcntl.h>
#include <stdbool.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "assets.h"
#include "files.h"

static const char *status_text(int status)
{
    switch (status) {
    case 400: return "Bad Request";
    case 401: return "Unauthorized";
    case 403: return "Forbidden";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    case 426: return "Upgrade Required";
    case 431: return "Request Header Fields Too Large";
    case 503: return "Service Unavailable";
    default: return "Internal Server Error";
    }
}

size_t ipb_http_error(int status, char *buf, size_t len)
{
    const char *text = status_text(status);
    int n = snprintf(buf, len,
                     "HTTP/1.1 %d %s\r\nContent-Type: text/plain; charset=utf-8\r\n"
                     "Content-Length: %zu\r\nX-Content-Type-Options: nosniff\r\n%s"
                     "Connection: close\r\n\r\n%s\n",
                     status, text, strlen(text) + 1,
                     status == 426   ? "Sec-WebSocket-Version: 13\r\n"
                     : status == 401 ? "WWW-Authenticate: Basic realm=\"iotplot\", charset=\"UTF-8\"\r\n"
                                     : "",
                     text);
    if (n < 0)
        return 0;
    return (size_t)n < len ? (size_t)n : len - 1;
}

/*
 * The plot server keeps its working files in the folder it writes: the series store
 * (iotplot-series.db and its -wal, -shm and -journal files share that prefix) and a
 * temporary folder (.iotplot-tmp). Neither is ever served, nor any other dot file.
 * The name must match IPP_DB_NAME (src/plotserver; a unit test checks they agree).
 */
static bool hidden(const char *comp, size_t n)
{
    static const char db[] = IPB_HTTP_PLOT_STORE;
    return (n && comp[0] == '.') || (n >= sizeof db - 1 && !memcmp(comp, db, sizeof db - 1));
}

/* Is any component of the relative path rel hidden? */
static bool any_hidden(const char *rel)
{
    for (const char *p = rel; p;) {
        const char *slash = strchr(p, '/');
        if (hidden(p, slash ? (size_t)(slash - p) : strlen(p)))
            return true;
        p = slash ? slash + 1 : NULL;
    }
    return false;
}

/*
 * Read `rel` below `root`, refusing anything whose real path leaves root (403) and, for
 * the plot folder (`plots`), the plot server's own files and, when `owner` is set,
 * anything outside the folder of that name (404 for both: their names stay unknown).
 * The file is opened without blocking and without following a link that replaced it
 * since realpath(); anything but a regular file (a FIFO would block the loop) is 404.
 */
static uint8_t *read_below(const char *root, const char *rel, bool plots, const char *owner,
                           size_t *len, int *status)
{
    char want[PATH_MAX], real_root[PATH_MAX], real[PATH_MAX];
    struct stat st;
    *status = 404;
    if (!root || !realpath(root, real_root) ||
        snprintf(want, sizeof want, "%s/%s", real_root, rel) >= (int)sizeof want ||
        !realpath(want, real))
        return NULL;
    size_t rl = strlen(real_root);
    if (strncmp(real, real_root, rl) || real[rl] != '/') {
        *status = 403; /* a symlink out of the folder */
        return NULL;
    }
    const char *inside = real + rl + 1;
    size_t ol = owner ? strlen(owner) : 0;
    if (plots && (any_hidden(rel) || any_hidden(inside) ||
                  (owner && (strncmp(inside, owner, ol) || inside[ol] != '/'))))
        return NULL;
    int fd = open(real, O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOFOLLOW);
    if (fd < 0)
        return NULL;
    uint8_t *data = NULL;
    if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && (uint64_t)st.st_size <= IPB_HTTP_MAX_FILE &&
        (data = malloc((size_t)st.st_size + 1)) != NULL) {
        /* A blocking read: static files are small and in the page cache. */
        ssize_t got = read(fd, data, (size_t)st.st_size);
        if (got != st.st_size) {
            free(data);
            data = NULL;
        }
        *len = (size_t)st.st_size;
    }
    close(fd);
    return data;
}

/*
 * Content-Security-Policy per kind of file: the console gets the policy it is tested
 * under (MQTT.js keeps its timers in a blob: worker); plot files, which hold text that
 * devices chose, may run nothing at all. Files of http_dir are the operator's business.
 */
static const char CSP_CONSOLE[] =
    "Content-Security-Policy: default-src 'self'; connect-src 'self' ws: wss:; "
    "img-src 'self' data: blob:; style-src 'self'; script-src 'self'; "
    "worker-src 'self' blob:; object-src 'none'; base-uri 'none'; frame-ancestors 'none'\r\n";
static const char CSP_PLOTS[] =
    "Content-Security-Policy: default-src 'none'; img-src 'self' data:; "
    "style-src 'unsafe-inline'; sandbox\r\n";

bool ipb_http_wants_plots(const ipb_http_req_t *req)
{
    char rel[1024];
    return ipb_http_path(&req->target, rel, sizeof rel) == 0 && !strncmp(rel, "plots/", 6);
}

int ipb_http_file(const ipb_http_req_t *req, const ipb_http_site_t *site, ipb_http_file_t *out)
{
    char rel[1024];
    const char *root = site->http_dir;
    const char *file = rel;
    memset(out, 0, sizeof *out);
    if (ipb_http_path(&req->target, rel, sizeof rel))
        return 400;
    bool plots = !strncmp(rel, "plots/", 6);
    if (plots) {
        root = site->plots_dir;
        file = rel + 6;
        /* A user name that is not one folder name owns no folder. */
        if (site->plots_private && !site->user)
            return 401;
        if (site->plots_private && (!site->user[0] || strchr(site->user, '/') ||
                                    hidden(site->user, strlen(site->user))))
            return 404;
    }
    int status = 404;
    const ipb_asset_t *asset = NULL;
    if (root) {
        out->owned = read_below(root, file, plots, site->plots_private ? site->user : NULL,
                                &out->body_len, &status);
        out->body = out->owned;
    } else if (file == rel && (asset = ipb_console_find(rel)) != NULL) {
        out->body = asset->data; /* no http_dir: the console compiled into the binary */
        out->body_len = asset->len;
    }
    if (!out->owned && !asset)
        return status;
    int n = snprintf(out->head, sizeof out->head,
                     "HTTP/1.1 200 OK\r\nContent-Type: %s\r\nContent-Length: %zu\r\n"
                     "X-Content-Type-Options: nosniff\r\nCache-Control: no-cache\r\n%s%s%s"
                     "Connection: close\r\n\r\n",
                     ipb_http_content_type(file), out->body_len,
                     asset ? CSP_CONSOLE : file != rel ? CSP_PLOTS : "",
                     /* The console reads these to know that /plots/ needs its login, and
                      * that it may ask /api/ for the stored series. */
                     site->plots_private ? "X-Iotplot-Plots: private\r\n" : "",
                     site->store_api ? "X-Iotplot-Store: api\r\n" : "");
    out->head_len = (size_t)n;
    return 200;
}

void ipb_http_file_free(ipb_http_file_t *f)
{
    free(f->owned);
    f->owned = NULL;
    f->body = NULL;
}
