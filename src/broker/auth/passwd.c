/*
 * passwd.c - mosquitto-compatible password files (see passwd.h).
 */
#include "passwd.h"
#include "readfile.h"

#include <errno.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define HASH_LEN 64 /* SHA-512 */
#define MAX_ITERATIONS 100000000u
#define MAX_FILE (64u << 20)

typedef struct {
    char *user;
    char *hash; /* "$6$..." or "$7$..." as in the file */
} entry_t;

struct ipb_passwd {
    entry_t *entries;
    size_t count, cap;
    char decoy[128]; /* checked for unknown users, at the cost of the file's first entry */
};

/* Base64 (standard alphabet, padded) into out; returns bytes or -1. */
static int b64_decode(const char *in, size_t len, uint8_t *out, size_t cap)
{
    if (len == 0 || len % 4 || len / 4 * 3 > cap)
        return -1;
    int n = EVP_DecodeBlock(out, (const unsigned char *)in, (int)len);
    if (n < 0)
        return -1;
    /* EVP_DecodeBlock counts the padding as zero bytes. */
    for (size_t i = len; i > 0 && in[i - 1] == '='; i--)
        n--;
    return n;
}

typedef struct {
    int type; /* 6 or 7 */
    unsigned iterations;
    uint8_t salt[64];
    int salt_len;
    uint8_t hash[HASH_LEN];
} parsed_hash_t;

/* Split "$6$salt$hash" or "$7$iter$salt$hash". */
static int parse_hash(const char *s, parsed_hash_t *h)
{
    char buf[IPB_PASSWD_LINE_MAX];
    if (strlen(s) >= sizeof buf || s[0] != '$' || (s[1] != '6' && s[1] != '7') || s[2] != '$')
        return -1;
    strcpy(buf, s + 3);
    h->type = s[1] - '0';
    char *salt = buf, *rest;
    h->iterations = 1;
    if (h->type == 7) {
        char *end;
        errno = 0;
        unsigned long it = strtoul(buf, &end, 10);
        if (end == buf || *end != '$' || errno || it == 0 || it > MAX_ITERATIONS)
            return -1;
        h->iterations = (unsigned)it;
        salt = end + 1;
    }
    rest = strchr(salt, '$');
    if (!rest)
        return -1;
    *rest++ = '\0';
    h->salt_len = b64_decode(salt, strlen(salt), h->salt, sizeof h->salt);
    int n = b64_decode(rest, strlen(rest), h->hash, sizeof h->hash + 2);
    return h->salt_len > 0 && n == HASH_LEN ? 0 : -1;
}

static int compute(const parsed_hash_t *h, const uint8_t *pw, size_t len, uint8_t *out)
{
    if (h->type == 7)
        return PKCS5_PBKDF2_HMAC((const char *)pw, (int)len, h->salt, h->salt_len,
                                 (int)h->iterations, EVP_sha512(), HASH_LEN, out) == 1
                   ? 0
                   : -1;
    /* $6$: one SHA-512 over the password followed by the salt, as mosquitto 1.x wrote. */
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    unsigned outlen = 0;
    int ok = ctx && EVP_DigestInit_ex(ctx, EVP_sha512(), NULL) &&
             EVP_DigestUpdate(ctx, pw, len) && EVP_DigestUpdate(ctx, h->salt, (size_t)h->salt_len) &&
             EVP_DigestFinal_ex(ctx, out, &outlen) && outlen == HASH_LEN;
    EVP_MD_CTX_free(ctx);
    return ok ? 0 : -1;
}

bool ipb_passwd_verify(const char *hash, const uint8_t *password, size_t len)
{
    parsed_hash_t h;
    uint8_t got[HASH_LEN];
    if (len > INT32_MAX || parse_hash(hash, &h) || compute(&h, password, len, got))
        return false;
    return CRYPTO_memcmp(got, h.hash, HASH_LEN) == 0;
}

int ipb_passwd_hash(const uint8_t *password, size_t len, unsigned iterations, char *out,
                    size_t outlen)
{
    parsed_hash_t h = {.type = 7, .iterations = iterations, .salt_len = IPB_PASSWD_SALT_LEN};
    char salt64[32], hash64[96];
    if (iterations == 0 || iterations > MAX_ITERATIONS || len > INT32_MAX)
        return -1;
    if (RAND_bytes(h.salt, IPB_PASSWD_SALT_LEN) != 1 || compute(&h, password, len, h.hash))
        return -1;
    EVP_EncodeBlock((unsigned char *)salt64, h.salt, IPB_PASSWD_SALT_LEN);
    EVP_EncodeBlock((unsigned char *)hash64, h.hash, HASH_LEN);
    int n = snprintf(out, outlen, "$7$%u$%s$%s", iterations, salt64, hash64);
    return n > 0 && (size_t)n < outlen ? 0 : -1;
}

static void free_entries(entry_t *e, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        free(e[i].user);
        free(e[i].hash);
    }
    free(e);
}

void ipb_passwd_free(ipb_passwd_t *pw)
{
    if (!pw)
        return;
    free_entries(pw->entries, pw->count);
    free(pw);
}

size_t ipb_passwd_count(const ipb_passwd_t *pw) { return pw ? pw->count : 0; }

static const entry_t *find(const ipb_passwd_t *pw, const char *user)
{
    for (size_t i = 0; i < pw->count; i++)
        if (!strcmp(pw->entries[i].user, user))
            return &pw->entries[i];
    return NULL;
}

/* Parse one "user:hash" line into e; returns NULL or the reason. */
static const char *parse_line(char *line, entry_t *e)
{
    char *colon = strchr(line, ':');
    parsed_hash_t h;
    if (!colon || colon == line)
        return "expected user:hash";
    *colon = '\0';
    if (parse_hash(colon + 1, &h))
        return "not a $6$ or $7$ hash (a plaintext file must be hashed first: passwd -U)";
    e->user = strdup(line);
    e->hash = strdup(colon + 1);
    return e->user && e->hash ? NULL : "out of memory";
}

static void set_decoy(ipb_passwd_t *pw)
{
    parsed_hash_t h = {.iterations = IPB_PASSWD_ITERATIONS};
    const char *zeros64 = "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"
                          "AAAAAAAAAAAAAAAAAAAAAA==";
    if (pw->count)
        parse_hash(pw->entries[0].hash, &h);
    if (h.type == 6)
        snprintf(pw->decoy, sizeof pw->decoy, "$6$AAAAAAAAAAAAAAAA$%s", zeros64);
    else
        snprintf(pw->decoy, sizeof pw->decoy, "$7$%u$AAAAAAAAAAAAAAAA$%s", h.iterations, zeros64);
}

static const char *parse_line_cb(void *ctx, char *line, size_t lineno)
{
    ipb_passwd_t *pw = ctx;
    entry_t e = {0};
    const char *why;
    (void)lineno;
    if (!line[0] || line[0] == '#')
        return NULL;
    if (strlen(line) > IPB_PASSWD_LINE_MAX)
        return "line too long";
    if ((why = parse_line(line, &e)) == NULL && find(pw, e.user))
        why = "user given twice";
    if (!why && pw->count == pw->cap) {
        size_t cap = pw->cap ? pw->cap * 2 : 16;
        entry_t *grown = realloc(pw->entries, cap * sizeof *grown);
        if (grown) {
            pw->entries = grown;
            pw->cap = cap;
        } else {
            why = "out of memory";
        }
    }
    if (why) {
        free(e.user);
        free(e.hash);
        return why;
    }
    pw->entries[pw->count++] = e;
    return NULL;
}

ipb_passwd_t *ipb_passwd_parse(const char *text, size_t len, const char *name, char *err,
                               size_t errlen)
{
    ipb_passwd_t *pw = calloc(1, sizeof *pw);
    char *copy = malloc(len + 1);
    if (!pw || !copy) {
        snprintf(err, errlen, "%s: out of memory", name);
        goto fail;
    }
    memcpy(copy, text, len);
    copy[len] = '\0';
    if (ipb__each_line(copy, len, name, parse_line_cb, pw, err, errlen))
        goto fail;
    free(copy);
    set_decoy(pw);
    return pw;
fail:
    free(copy);
    ipb_passwd_free(pw);
    return NULL;
}

ipb_passwd_t *ipb_passwd_load(const char *path, char *err, size_t errlen)
{
    size_t len;
    char *text = ipb__read_file(path, MAX_FILE, &len, err, errlen);
    ipb_passwd_t *pw = text ? ipb_passwd_parse(text, len, path, err, errlen) : NULL;
    free(text);
    return pw;
}

const char *ipb_passwd_hash_of(const ipb_passwd_t *pw, const char *user, bool *known)
{
    /* Unknown users cost the same work as known ones: checked against the decoy. An empty
     * file has no users to hide. */
    const entry_t *e = user && pw->count ? find(pw, user) : NULL;
    *known = e != NULL;
    return e ? e->hash : pw->count ? pw->decoy : NULL;
}

bool ipb_passwd_check(const ipb_passwd_t *pw, const char *user, const uint8_t *password,
                      size_t len)
{
    bool known;
    const char *hash = ipb_passwd_hash_of(pw, user, &known);
    bool ok = hash && ipb_passwd_verify(hash, password, len);
    return known && ok;
}
