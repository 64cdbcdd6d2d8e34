/*
 * fuzz_http.c - the HTTP request parser, intents, target paths, the /api/ routes and
 * parameters, and the WebSocket frame decoder on arbitrary bytes. The first byte picks
 * the WebSocket split point.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "http/api.h"
#include "http/http.h"
#include "http/ws.h"
#include "fuzz_util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* What the store reader is handed: decoded text without control characters, within the
 * caps, no empty, "." or ".." session level. */
static void check_text(const char *s, size_t cap, bool session)
{
    if (!s)
        return;
    size_t n = strlen(s);
    if (n > cap)
        abort();
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)s[i] < 0x20 || s[i] == 0x7F)
            abort();
    if (session && (!n || s[0] == '/' || s[n - 1] == '/' || strstr(s, "//") ||
                    !strcmp(s, "..") || !strncmp(s, "../", 3) || strstr(s, "/../") ||
                    (n >= 3 && !strcmp(s + n - 3, "/.."))))
        abort();
}

static void on_data(void *ctx, uint8_t *p, size_t n)
{
    volatile uint8_t sum = 0;
    for (size_t i = 0; i < n; i++)
        sum = (uint8_t)(sum + p[i]);
    (void)ctx;
}

static void on_control(void *ctx, uint8_t op, const uint8_t *p, size_t n)
{
    (void)ctx;
    (void)op;
    if (n > 125 || (n && !p))
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    ipb_http_req_t req;
    int n = ipb_http_parse((const char *)data + 1, size - 1, &req);
    if (n > 0) {
        ipb_http_intent_t in;
        char path[512], accept[29];
        ipb_http_intent(&req, &in);
        if (in.websocket)
            ipb_ws_accept(&in.key, accept);
        if (ipb_http_path(&req.target, path, sizeof path) == 0 && !fuzz_path_inside(path))
            abort();
        ipb_api_req_t api;
        char buf[2048];
        if (ipb_http_wants_api(&req) && ipb_http_api_parse(&req, NULL, &api, buf, sizeof buf) == 0) {
            check_text(api.session, IPB_HTTP_API_MAX_SESSION, true);
            check_text(api.name, IPB_HTTP_API_MAX_NAME, false);
            if (api.route == IPB_API_ROWS && (!api.session || !api.name))
                abort();
            if (api.since < 0 || api.limit < 0 || api.version < 0)
                abort();
        }
    }
    /* The same bytes as a WebSocket stream, split where the first byte says. */
    uint8_t *copy = malloc(size);
    memcpy(copy, data, size);
    ipb_ws_rx_t st;
    const ipb_ws_rx_cb_t cb = {on_data, on_control};
    size_t split = 1 + data[0] % size;
    ipb_ws_rx_init(&st, data[0] & 1);
    if (ipb_ws_rx(&st, copy + 1, split - 1, &cb, NULL) == 0)
        ipb_ws_rx(&st, copy + split, size - split, &cb, NULL);
    free(copy);
    return 0;
}
