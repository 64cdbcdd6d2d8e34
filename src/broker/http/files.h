/*
 * files.h - the broker's static file server: the answer to a GET or HEAD of a file of the
 * compiled-in console, of a listener's http_dir, or of the plot folder (under /plots/),
 * with the Content-Security-Policy of each kind. Bytes out only: the caller sends them.
 */
#ifndef IPB_HTTP_FILES_H
#define IPB_HTTP_FILES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "http.h"

#define IPB_HTTP_MAX_FILE (64u << 20) /* largest static file served */

/* A 200 answer: its head (status line and headers) and its body. */
typedef struct {
    char head[1024];
    size_t head_len;
    const uint8_t *body; /* the file; not sent for HEAD */
    size_t body_len;
    uint8_t *owned;      /* the body when read from disk (freed by ipb_http_file_free) */
} ipb_http_file_t;

/* The plot server's store file name (its -wal, -shm, -journal share the prefix). */
#define IPB_HTTP_PLOT_STORE "iotplot-series.db"

/* Where files come from, and who asks. */
typedef struct {
    const char *http_dir;  /* the listener's folder; NULL: the console compiled in */
    const char *plots_dir; /* served under /plots/; NULL: none */
    bool plots_private;    /* each user reads only /plots/<user>/... (a login is needed);
                              every answer says so (X-Iotplot-Plots: private) */
    const char *user;      /* the request's verified user name, or NULL */
    bool store_api;        /* GET /api/ answers: every answer says so (X-Iotplot-Store: api) */
} ipb_http_site_t;

/*
 * Answer a request for a file. Returns 200 with *out filled (free it with
 * ipb_http_file_free), or the error status to answer with: 400 (a bad path), 401 (a
 * private plot folder and no user), 403 (a symlink out of the folder), 404 (missing, not
 * a regular file, the plot server's own files, or another user's).
 */
int ipb_http_file(const ipb_http_req_t *req, const ipb_http_site_t *site, ipb_http_file_t *out);
/* Does the request ask for something under /plots/? */
bool ipb_http_wants_plots(const ipb_http_req_t *req);
void ipb_http_file_free(ipb_http_file_t *f);

/* An error answer for status (text/plain, Connection: close) in buf; its length. */
size_t ipb_http_error(int status, char *buf, size_t len);

#endif
