/*
 * cmd_passwd.c - `iotplot passwd`: create and edit password files like mosquitto_passwd.
 *
 * Files are rewritten whole into a temporary file beside the original and renamed over
 * it, so a crash never leaves half a file; they are created readable by the owner only.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <termios.h>
#include <unistd.h>

#include "auth/passwd.h"
#include "commands.h"
#include "iotplot/codec.h"

#define MAX_LINES 100000

static void usage(FILE *out)
{
    fprintf(out,
            "usage: iotplot passwd [-I iterations] [-c | -D] FILE USER\n"
            "       iotplot passwd [-I iterations] [-c] -b FILE USER PASSWORD\n"
            "       iotplot passwd [-I iterations] -U FILE\n"
            "\n"
            "Writes mosquitto-compatible password files (PBKDF2-SHA512, random salt).\n"
            "  -c   create FILE, replacing it if it exists\n"
            "  -D   delete USER from FILE\n"
            "  -b   take the password from the command line (batch mode)\n"
            "  -U   hash every plaintext user:password line of FILE in place\n"
            "  -I N PBKDF2 iterations (default %u)\n"
            "Without -b the password is asked twice, without echo.\n",
            IPB_PASSWD_ITERATIONS);
}

typedef struct {
    char **lines; /* NULL entries are deleted lines */
    size_t count, cap;
} lines_t;

/* Append `line` (taking ownership); -1 and frees it when full or out of memory. */
static int lines_push(lines_t *l, char *line)
{
    if (l->count == l->cap) {
        size_t cap = l->cap ? l->cap * 2 : 64;
        char **grown = cap <= MAX_LINES ? realloc(l->lines, cap * sizeof *grown) : NULL;
        if (!grown) {
            fprintf(stderr, "iotplot passwd: more than %d lines or out of memory\n", MAX_LINES);
            free(line);
            return -1;
        }
        l->lines = grown;
        l->cap = cap;
    }
    l->lines[l->count++] = line;
    return 0;
}

static void lines_free(lines_t *l)
{
    for (size_t i = 0; i < l->count; i++)
        free(l->lines[i]);
    free(l->lines);
    l->lines = NULL;
    l->count = l->cap = 0;
}

/* Read FILE's lines (without newlines); a missing file is empty when `may_be_missing`. */
static int read_lines(const char *path, bool may_be_missing, lines_t *out)
{
    char buf[IPB_PASSWD_LINE_MAX + 2];
    FILE *f = fopen(path, "r");
    if (!f) {
        if (may_be_missing && errno == ENOENT)
            return 0;
        fprintf(stderr, "iotplot passwd: %s: %s\n", path, strerror(errno));
        return -1;
    }
    int rc = 0;
    while (rc == 0 && fgets(buf, sizeof buf, f)) {
        size_t n = strcspn(buf, "\r\n");
        if (buf[n] == '\0' && !feof(f)) {
            fprintf(stderr, "iotplot passwd: %s:%zu: line too long\n", path, out->count + 1);
            rc = -1;
        } else {
            buf[n] = '\0';
            char *copy = strdup(buf);
            rc = copy ? lines_push(out, copy) : -1;
        }
    }
    fclose(f);
    return rc;
}

static int write_lines(const char *path, const lines_t *l)
{
    char tmp[4096];
    if (snprintf(tmp, sizeof tmp, "%s.tmpXXXXXX", path) >= (int)sizeof tmp)
        return -1;
    int fd = mkstemp(tmp);
    if (fd < 0) {
        fprintf(stderr, "iotplot passwd: %s: %s\n", tmp, strerror(errno));
        return -1;
    }
    fchmod(fd, S_IRUSR | S_IWUSR);
    FILE *f = fdopen(fd, "w");
    int rc = f ? 0 : -1;
    for (size_t i = 0; rc == 0 && i < l->count; i++)
        if (l->lines[i] && fprintf(f, "%s\n", l->lines[i]) < 0)
            rc = -1;
    if (f && (fflush(f) || fsync(fileno(f))))
        rc = -1;
    if (f ? fclose(f) : close(fd))
        rc = -1;
    if (rc == 0 && rename(tmp, path))
        rc = -1;
    if (rc) {
        fprintf(stderr, "iotplot passwd: cannot write %s: %s\n", path, strerror(errno));
        unlink(tmp);
    }
    return rc;
}

/* Index of USER's line, or -1. */
static long find_user(const lines_t *l, const char *user)
{
    size_t n = strlen(user);
    for (size_t i = 0; i < l->count; i++)
        if (l->lines[i] && !strncmp(l->lines[i], user, n) && l->lines[i][n] == ':')
            return (long)i;
    return -1;
}

static char *make_line(const char *user, const char *password, unsigned iterations)
{
    char hash[256], *line = NULL;
    if (ipb_passwd_hash((const uint8_t *)password, strlen(password), iterations, hash,
                        sizeof hash)) {
        fprintf(stderr, "iotplot passwd: hashing failed\n");
        return NULL;
    }
    size_t n = strlen(user) + 1 + strlen(hash) + 1;
    if ((line = malloc(n)))
        snprintf(line, n, "%s:%s", user, hash);
    return line;
}

/* Ask on the terminal without echo. */
static int prompt(const char *what, char *buf, size_t cap)
{
    FILE *tty = fopen("/dev/tty", "r+");
    FILE *in = tty ? tty : stdin, *out = tty ? tty : stderr;
    struct termios old, quiet;
    bool restore = tcgetattr(fileno(in), &old) == 0;
    if (restore) {
        quiet = old;
        quiet.c_lflag &= (tcflag_t)~ECHO;
        tcsetattr(fileno(in), TCSAFLUSH, &quiet);
    }
    fprintf(out, "%s", what);
    fflush(out);
    char *got = fgets(buf, (int)cap, in);
    if (restore) {
        tcsetattr(fileno(in), TCSAFLUSH, &old);
        fprintf(out, "\n");
    }
    if (tty)
        fclose(tty);
    if (!got)
        return -1;
    buf[strcspn(buf, "\r\n")] = '\0';
    return 0;
}

static int ask_password(char *pw, size_t cap)
{
    char again[512];
    if (prompt("Password: ", pw, cap) || prompt("Reenter password: ", again, sizeof again)) {
        fprintf(stderr, "iotplot passwd: no password given\n");
        return -1;
    }
    if (strcmp(pw, again)) {
        fprintf(stderr, "iotplot passwd: passwords do not match\n");
        return -1;
    }
    return 0;
}

static bool user_ok(const char *user)
{
    if (!*user || strchr(user, ':') || !ipm_utf8_valid((const uint8_t *)user, strlen(user))) {
        fprintf(stderr, "iotplot passwd: invalid user name (empty, ':' or not UTF-8)\n");
        return false;
    }
    return true;
}

/* -U: hash each plaintext "user:password" line; already hashed lines stay. */
static int upgrade(lines_t *l, unsigned iterations)
{
    for (size_t i = 0; i < l->count; i++) {
        char *line = l->lines[i], *colon = strchr(line, ':');
        if (!line[0] || line[0] == '#' || !colon)
            continue;
        if (colon[1] == '$' && (colon[2] == '6' || colon[2] == '7') && colon[3] == '$')
            continue; /* hashed already: upgrading twice would lock the user out */
        *colon = '\0';
        char *hashed = make_line(line, colon + 1, iterations);
        if (!hashed)
            return -1;
        free(line);
        l->lines[i] = hashed;
    }
    return 0;
}

int cmd_passwd(int argc, char **argv)
{
    bool create = false, del = false, batch = false, upgrade_mode = false;
    unsigned iterations = IPB_PASSWD_ITERATIONS;
    int i = 1;
    for (; i < argc && argv[i][0] == '-'; i++) {
        if (!strcmp(argv[i], "--help")) {
            usage(stdout);
            return 0;
        } else if (!strcmp(argv[i], "-c")) {
            create = true;
        } else if (!strcmp(argv[i], "-D")) {
            del = true;
        } else if (!strcmp(argv[i], "-b")) {
            batch = true;
        } else if (!strcmp(argv[i], "-U")) {
            upgrade_mode = true;
        } else if (!strcmp(argv[i], "-I") && i + 1 < argc) {
            char *end;
            unsigned long v = strtoul(argv[++i], &end, 10);
            if (*end || v == 0 || v > 100000000ul) {
                fprintf(stderr, "iotplot passwd: -I needs 1..100000000\n");
                return 2;
            }
            iterations = (unsigned)v;
        } else {
            fprintf(stderr, "iotplot passwd: unknown option %s\n\n", argv[i]);
            usage(stderr);
            return 2;
        }
    }
    int rest = argc - i, want = upgrade_mode ? 1 : batch ? 3 : 2;
    if (rest != want || (create && del) || (upgrade_mode && (create || del || batch)) ||
        (del && batch)) {
        usage(stderr);
        return 2;
    }
    const char *file = argv[i], *user = upgrade_mode ? NULL : argv[i + 1];
    if (user && !user_ok(user))
        return 2;

    lines_t l = {0};
    char pw[512];
    int rc = 1;
    if (!create && read_lines(file, false, &l))
        goto out;
    if (upgrade_mode) {
        rc = upgrade(&l, iterations) || write_lines(file, &l) ? 1 : 0;
        goto out;
    }
    long at = find_user(&l, user);
    if (del) {
        if (at < 0) {
            fprintf(stderr, "iotplot passwd: user %s not in %s\n", user, file);
            goto out;
        }
        free(l.lines[at]);
        l.lines[at] = NULL;
        rc = write_lines(file, &l) ? 1 : 0;
        goto out;
    }
    if (batch)
        snprintf(pw, sizeof pw, "%s", argv[i + 2]);
    else if (ask_password(pw, sizeof pw))
        goto out;
    char *line = make_line(user, pw, iterations);
    if (!line)
        goto out;
    if (at >= 0) {
        free(l.lines[at]);
        l.lines[at] = line;
    } else if (lines_push(&l, line)) {
        goto out;
    }
    rc = write_lines(file, &l) ? 1 : 0;
out:
    memset(pw, 0, sizeof pw);
    lines_free(&l);
    return rc;
}
