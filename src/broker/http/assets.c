/*
 * assets.c - look-up in the compiled-in console files.
 */
#include "assets.h"

#include <string.h>

const ipb_asset_t *ipb_console_find(const char *path)
{
    for (const ipb_asset_t *a = ipb_console_assets; a->path; a++)
        if (!strcmp(a->path, path))
            return a;
    return NULL;
}
