/*
 * dynlib.c - load an optional shared library and its functions on first use (dynlib.h).
 */
#define _GNU_SOURCE /* secure_getenv() */
#include "dynlib.h"

#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Open and resolve; on failure lib->err says why. Called once, under lib->mu. */
static int load(ipd_lib_t *lib)
{
    char path[4096];
    /* never from the environment of a set-user-ID caller, as LD_LIBRARY_PATH is not */
    const char *dir = secure_getenv("IOTPLOT_DYNLIB_DIR");
    const char *file = lib->soname;
    if (dir && dir[0]) {
        snprintf(path, sizeof path, "%s/%s", dir, lib->soname);
        file = path;
    }
    /* RTLD_LOCAL: its names stay out of the global scope, as nothing else resolves them */
    void *h = dlopen(file, RTLD_NOW | RTLD_LOCAL);
    if (!h) {
        const char *why = dlerror();
        snprintf(lib->err, sizeof lib->err, "cannot load %s (package %s): %s", lib->soname,
                 lib->package, why ? why : "unknown error");
        return -1;
    }
    for (size_t i = 0; i < lib->nsyms; i++) {
        dlerror();
        void *f = dlsym(h, lib->syms[i].name);
        if (!f) {
            snprintf(lib->err, sizeof lib->err, "cannot load %s (package %s): it has no %s",
                     lib->soname, lib->package, lib->syms[i].name);
            dlclose(h);
            return -1;
        }
        /* POSIX guarantees that a function's address survives the trip through void * */
        memcpy(lib->syms[i].slot, &f, sizeof f);
    }
    return 0;
}

int ipd_load(ipd_lib_t *lib, char *err, size_t errlen)
{
    pthread_mutex_lock(&lib->mu);
    if (!lib->state)
        lib->state = load(lib) ? -1 : 1;
    int state = lib->state;
    pthread_mutex_unlock(&lib->mu);
    if (state < 0 && err && errlen)
        snprintf(err, errlen, "%s", lib->err);
    return state > 0 ? 0 : -1;
}
