/*
 * api.h - GET /api/...: the routes of the plot store's HTTP API (docs/console.md),
 * parsed and checked here, answered by the embedder's ipb_api_fn (broker.h) on libuv's
 * thread pool, never on the loop. The caller (layered.c) logs the user in first and
 * sends the bytes it gets back.
 */
#ifndef IPB_HTTP_API_H
#define IPB_HTTP_API_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "broker.h"
#include "http.h"

#define IPB_HTTP_API_MAX_BODY (4u << 20) /* longest answer: a client pages with since */
#define IPB_HTTP_API_MAX_JOBS 4          /* reads at once (libuv's pool has 4 threads,
                                            shared with password hashes): then 503 */
#define IPB_HTTP_API_MAX_SESSION 512     /* longest session asked for, in bytes */
#define IPB_HTTP_API_MAX_NAME 256        /* longest series name */

/* Does the request's path start with /api/ ? */
bool ipb_http_wants_api(const ipb_http_req_t *req);

/*
 * The request as an API call for `user` (NULL: no login needed) into *out, its strings
 * in buf[0..len). 0, or the status to answer with: 400 (a bad path, a parameter that is
 * missing, not a number, too long, or holds a control character, an empty, "." or ".."
 * level), 404 (no such route).
 */
int ipb_http_api_parse(const ipb_http_req_t *req, const char *user, ipb_api_req_t *out,
                       char *buf, size_t len);

/* The answer's bytes (head, and body unless the request was HEAD), sent by the caller;
 * they are freed when it returns. */
typedef void (*ipb_http_api_done_cb)(void *arg, const char *bytes, size_t len);

/*
 * Run fn(ctx, req) on loop's thread pool; done(arg, ...) follows on the loop, always
 * (the caller keeps arg alive until then). `private` adds X-Iotplot-Plots: private, as
 * files.c does. 0, or -1 when the work cannot be queued (no call then).
 */
int ipb_http_api_run(uv_loop_t *loop, ipb_api_fn fn, void *ctx, const ipb_api_req_t *req,
                     bool head, bool private, ipb_http_api_done_cb done, void *arg);

#endif
