/*
 * fuzz_http.c - the HTTP request parser, intents, target paths, and the WebSocket frame
 * decoder on arbitrary bytes. The first byte picks the WebSocket split point.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "http/http.h"
#include "http/ws.h"
#include "fuzz_util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

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
