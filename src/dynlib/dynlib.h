/*
 * dynlib.h - a shared library that only some commands use, loaded when first used.
 *
 * Linking a library makes every process pay for mapping and relocating it and everything
 * it links, whatever the command: libmatio brings HDF5, curl, GnuTLS, Kerberos and LDAP,
 * and with libxlsxwriter they were 28 libraries that `iotplot plot` never calls. The
 * module that owns such a library (the .mat exporter, the .xlsx exporter, the systemd
 * notifier, mDNS) lists the functions it calls and loads them through ipd_load() by the
 * soname the build found, so the version is the one the headers were for. A library
 * that is absent is an error naming it and its package, for the one command that needs
 * it.
 *
 * A module declares its table with the library's own prototypes, so that the compiler
 * checks every call against the header:
 *
 *     #define MATIO_FUNCS(X) X(Mat_Close) X(Mat_CreateVer)
 *     static struct { MATIO_FUNCS(IPD_FIELD) } mat;
 *     #define SYM(f) IPD_SYM(mat, f)
 *     static const ipd_sym_t mat_syms[] = {MATIO_FUNCS(SYM)};
 *     static ipd_lib_t matio = IPD_LIB(MATIO_SONAME, MATIO_PACKAGE, mat_syms);
 *     ...
 *     if (ipd_load(&matio, err, errlen) < 0) return -1;
 *     mat.Mat_Close(m);
 */
#ifndef IOTPLOT_DYNLIB_H
#define IOTPLOT_DYNLIB_H

#include <pthread.h>
#include <stddef.h>

/* One function to resolve: its name and where its pointer goes. */
typedef struct {
    const char *name;
    void *slot; /* the address of a function pointer of the function's own type */
} ipd_sym_t;

typedef struct {
    const char *soname;  /* "libmatio.so.11" */
    const char *package; /* the Debian package that ships it: "libmatio11" */
    const ipd_sym_t *syms;
    size_t nsyms;
    pthread_mutex_t mu;
    int state;      /* 0 not tried, 1 loaded, -1 failed (err says why) */
    char err[320];
} ipd_lib_t;

#define IPD_LIB(so, pkg, list)                                                           \
    {.soname = (so), .package = (pkg), .syms = (list),                                   \
     .nsyms = sizeof(list) / sizeof((list)[0]), .mu = PTHREAD_MUTEX_INITIALIZER}
/* A field of a module's table: a pointer of the type the library's header declares. */
#define IPD_FIELD(f) __typeof__(f) *f;
/* The entry of function f of table t in a module's ipd_sym_t list. */
#define IPD_SYM(t, f) {#f, &t.f},

/*
 * Load lib and resolve all its functions, once per process (later calls only return
 * the first outcome); safe from any thread. 0 when every function is there; -1 with
 * "cannot load libmatio.so.11 (package libmatio11): <why>" in err otherwise, and then
 * none of the table may be called. The library is never unloaded.
 *
 * IOTPLOT_DYNLIB_DIR, when set, is the one directory the sonames are looked up in (the
 * tests use it to load from a folder where a library is missing or is another one);
 * otherwise the dynamic loader's own search applies, as for a linked library.
 */
int ipd_load(ipd_lib_t *lib, char *err, size_t errlen);

#endif
