/*
 * assets.h - files compiled into the binary: the web console, served by the broker's
 * WebSocket listeners when no http_dir is configured.
 */
#ifndef IPB_HTTP_ASSETS_H
#define IPB_HTTP_ASSETS_H

#include <stddef.h>

typedef struct {
    const char *path; /* relative, e.g. "index.html", "vendor/mqtt.esm.js" */
    const unsigned char *data;
    size_t len;
} ipb_asset_t;

/* Ends with an entry whose path is NULL; empty when the console was not built. */
extern const ipb_asset_t ipb_console_assets[];

/* The asset at `path`, or NULL. */
const ipb_asset_t *ipb_console_find(const char *path);

#endif
