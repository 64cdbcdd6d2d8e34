/*
 * replay_main.c - runs a libFuzzer harness over saved inputs without libFuzzer, so every
 * seed of fuzz/corpus/ goes through the harness in the ordinary build and under each
 * sanitizer pass of the tests (a crash or failed invariant aborts; ctest reports it).
 *
 * Usage: fuzz_NAME PATH...   each PATH a file or a folder of files (not recursive).
 * Exits 1 if no input was found, so an emptied or misspelled corpus cannot pass.
 */
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
/* Optional in a harness, as libFuzzer has it: called once before the first input. */
int LLVMFuzzerInitialize(int *argc, char ***argv) __attribute__((weak));

/* Each input gets a buffer of exactly its size: ASan then sees any read past the end. */
static int run_file(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        perror(path);
        return -1;
    }
    int rc = -1;
    uint8_t *buf = NULL;
    if (fseek(f, 0, SEEK_END) != 0)
        goto done;
    long len = ftell(f);
    if (len < 0 || fseek(f, 0, SEEK_SET) != 0)
        goto done;
    buf = malloc(len ? (size_t)len : 1);
    if (!buf || fread(buf, 1, (size_t)len, f) != (size_t)len)
        goto done;
    LLVMFuzzerTestOneInput(buf, (size_t)len);
    rc = 0;
done:
    if (rc != 0)
        fprintf(stderr, "%s: cannot read\n", path);
    free(buf);
    fclose(f);
    return rc;
}

static int by_name(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Files of a folder in name order, so a failure always shows on the same input. */
static int run_dir(const char *dir, long *count)
{
    DIR *d = opendir(dir);
    if (!d) {
        perror(dir);
        return -1;
    }
    char **names = NULL;
    size_t n = 0, cap = 0;
    int rc = 0;
    for (struct dirent *e; (e = readdir(d)) != NULL;) {
        if (e->d_name[0] == '.')
            continue;
        if (n == cap) {
            cap = cap ? cap * 2 : 64;
            char **grown = realloc(names, cap * sizeof *names);
            if (!grown) {
                rc = -1;
                break;
            }
            names = grown;
        }
        size_t len = strlen(dir) + strlen(e->d_name) + 2;
        if (!(names[n] = malloc(len))) {
            rc = -1;
            break;
        }
        snprintf(names[n++], len, "%s/%s", dir, e->d_name);
    }
    closedir(d);
    if (rc == 0)
        qsort(names, n, sizeof *names, by_name);
    for (size_t i = 0; i < n; i++) {
        struct stat st;
        if (rc == 0 && stat(names[i], &st) == 0 && S_ISREG(st.st_mode)) {
            if (run_file(names[i]) != 0)
                rc = -1;
            else
                (*count)++;
        }
        free(names[i]);
    }
    free(names);
    return rc;
}

int main(int argc, char **argv)
{
    long count = 0;
    if (LLVMFuzzerInitialize)
        LLVMFuzzerInitialize(&argc, &argv);
    for (int i = 1; i < argc; i++) {
        struct stat st;
        if (stat(argv[i], &st) != 0) {
            perror(argv[i]);
            return 1;
        }
        if (S_ISDIR(st.st_mode) ? run_dir(argv[i], &count) != 0 : run_file(argv[i]) != 0)
            return 1;
        if (!S_ISDIR(st.st_mode))
            count++;
    }
    if (count == 0) {
        fprintf(stderr, "%s: no inputs (usage: %s PATH...)\n", argv[0], argv[0]);
        return 1;
    }
    printf("%s: %ld inputs ran clean\n", argv[0], count);
    return 0;
}
