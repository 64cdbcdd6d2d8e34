/*
 * files.h - the broker's static file server: the answer to a GET or HEAD of a file of the
 * compiled-in console, of a listener's http_dir, or of the plot folder (under /plots/),
 * with the Content-Security-Policy of each kind. Bytes out only: the caller sends them.
 */
#ifndef IPB_HTTP_FILES_H
#define IPB_HTTP_FILES_H

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

/*
 * Answer a request for a file. http_dir: the listener's folder (NULL: the console
 * compiled in); plots_dir: served under /plots/ (NULL: none). Returns 200 with *out
 * filled (free it with ipb_http_file_free), or the error status to answer with: 400 (a
 * bad path), 403 (a symlink out of the folder), 404.
 */
int ipb_http_file(const ipb_http_req_t *req, const char *http_dir, const char *plots_dir,
                  ipb_http_file_t *out);
void ipb_http_file_free(ipb_http_file_t *f);

/* An error answer for status (text/plain, Connection: close) in buf; its length. */
size_t ipb_http_error(int status, char *buf, size_t len);

#endif
