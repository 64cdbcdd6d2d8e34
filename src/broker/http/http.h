/*
 * http.h - the little HTTP/1.1 the broker speaks: parse a request head, answer with
 * static files, and upgrade to WebSocket (RFC 6455). Pure: bytes in, structs out.
 *
 * Only what a browser sends to load a page and open a WebSocket is accepted; every size
 * is capped, and anything else is a 400 or 431 answer, never a crash.
 */
#ifndef IPB_HTTP_H
#define IPB_HTTP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define IPB_HTTP_MAX_HEAD 8192  /* request line and headers */
#define IPB_HTTP_MAX_HEADERS 40

typedef struct {
    const char *p; /* into the caller's buffer; not NUL-terminated */
    size_t n;
} ipb_str_t;

typedef struct {
    ipb_str_t method, target;
    int minor; /* HTTP/1.x */
    struct {
        ipb_str_t name, value;
    } headers[IPB_HTTP_MAX_HEADERS];
    size_t nheaders;
} ipb_http_req_t;

enum {
    IPB_HTTP_NEED_MORE = 0,
    IPB_HTTP_BAD = -1,       /* 400 */
    IPB_HTTP_TOO_LARGE = -2, /* 431 */
};

/*
 * Parse the request head at buf[0..len). Returns the head's length (through the blank
 * line) when complete, IPB_HTTP_NEED_MORE, IPB_HTTP_BAD or IPB_HTTP_TOO_LARGE. A request
 * with a body (Content-Length other than 0, or Transfer-Encoding) is IPB_HTTP_BAD: we
 * serve GET and HEAD only.
 */
int ipb_http_parse(const char *buf, size_t len, ipb_http_req_t *req);

/* The value of header `name` (case-insensitive), or NULL. */
const ipb_str_t *ipb_http_header(const ipb_http_req_t *req, const char *name);

/* Does the comma-separated header value list contain `token` (case-insensitive)? */
bool ipb_http_has_token(const ipb_str_t *value, const char *token);

/*
 * What the request asks for, once parsed: a WebSocket upgrade (with the key, and the
 * subprotocol we pick: "mqtt", or "mqttv3.1" when that is the only one offered), or a
 * plain GET/HEAD of a path. Anything else gets `status` (400, 405, 426).
 */
typedef struct {
    bool websocket;
    int status;           /* 0 = fine, else the error status to answer with */
    const char *protocol; /* "mqtt", "mqttv3.1", or NULL when none was offered */
    ipb_str_t key;
    bool head; /* HEAD rather than GET */
} ipb_http_intent_t;

void ipb_http_intent(const ipb_http_req_t *req, ipb_http_intent_t *out);

/* Sec-WebSocket-Accept for a key: base64(SHA-1(key + RFC 6455 GUID)), 28 chars + NUL. */
int ipb_ws_accept(const ipb_str_t *key, char out[29]);

/*
 * Map a request target to a file path below `root`: strips the query, decodes %XX, maps
 * "/" to "/index.html", and refuses (-1) NUL bytes, control characters, backslashes,
 * "." or ".." segments and paths that do not fit. Symlinks are the opener's concern
 * (open with O_NOFOLLOW below a directory fd). Writes the relative path (no leading '/').
 */
int ipb_http_path(const ipb_str_t *target, char *out, size_t outlen);

/*
 * The credentials of an "Authorization: Basic" header (RFC 7617): user and password,
 * NUL-terminated, split at the first ':'. 0; 1 when there is no such header; -1 when it
 * is malformed, holds a NUL byte (or a control character in the user name), or does not
 * fit (user in ulen, password in plen).
 */
int ipb_http_basic(const ipb_http_req_t *req, char *user, size_t ulen, char *pass, size_t plen);

/* Content type for a file name by its extension ("application/octet-stream" if unknown). */
const char *ipb_http_content_type(const char *path);

#endif
