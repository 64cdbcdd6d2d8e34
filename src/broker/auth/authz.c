/*
 * authz.c - password file, ACL and failed-login limit behind one policy (see authz.h).
 */
#include "authz.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define FAIL_SLOTS 1024 /* per table; the oldest entry gives way */
#define OK_SLOTS 256    /* logins remembered to skip the slow hash on reconnects */
#define MAC_LEN 32

/* Failures in the current window of one (address, user), or of one address ("" user). */
typedef struct {
    char addr[48];
    char user[64]; /* longer names are told apart by their first 63 bytes */
    uint64_t since; /* start of the window */
    unsigned count;
    bool logged; /* this window's lockout was reported */
} fail_slot_t;

/* A login that verified: user and an HMAC of the password under a process-random key,
 * so the slow PBKDF2 runs once per (user, password), not on every reconnect, and no
 * password is kept. Cleared on reload. */
typedef struct {
    char user[128];
    uint8_t mac[MAC_LEN];
    bool used;
} ok_slot_t;

struct ipb_authz {
    char *password_file, *acl_file;
    ipb_passwd_t *pw;
    ipb_acl_t *acl;
    unsigned max_failures, max_address_failures, window_s;
    fail_slot_t user_fails[FAIL_SLOTS], addr_fails[FAIL_SLOTS];
    ok_slot_t oks[OK_SLOTS];
    unsigned next_ok;
    unsigned gen; /* reloads: a check begun before one is not remembered */
    uint8_t key[32];
};

/* One password to hash: copies of all it needs, as the policy may be reloaded meanwhile. */
struct ipb_authz_check {
    char *user, *hash;
    uint8_t *password;
    size_t len;
    char addr[48];
    uint8_t mac[MAC_LEN];
    unsigned gen;
    bool known, ok;
};

void ipb_authz_config_init(ipb_authz_config_t *cfg)
{
    memset(cfg, 0, sizeof *cfg);
    cfg->max_login_failures = 10;
    cfg->max_address_failures = 100;
    cfg->failure_window_s = 60;
}

static int load(ipb_authz_t *a, ipb_passwd_t **pw, ipb_acl_t **acl, char *err, size_t errlen)
{
    *pw = NULL;
    *acl = NULL;
    if (a->password_file && !(*pw = ipb_passwd_load(a->password_file, err, errlen)))
        return -1;
    if (a->acl_file && !(*acl = ipb_acl_load(a->acl_file, err, errlen))) {
        ipb_passwd_free(*pw);
        *pw = NULL;
        return -1;
    }
    return 0;
}

ipb_authz_t *ipb_authz_new(const ipb_authz_config_t *cfg, char *err, size_t errlen)
{
    ipb_authz_t *a = calloc(1, sizeof *a);
    if (!a) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    a->max_failures = cfg->max_login_failures;
    a->max_address_failures = cfg->max_address_failures;
    a->window_s = cfg->failure_window_s ? cfg->failure_window_s : 60;
    if ((cfg->password_file && !(a->password_file = strdup(cfg->password_file))) ||
        (cfg->acl_file && !(a->acl_file = strdup(cfg->acl_file))) ||
        RAND_bytes(a->key, sizeof a->key) != 1) {
        snprintf(err, errlen, "out of memory or no randomness");
        ipb_authz_free(a);
        return NULL;
    }
    if (load(a, &a->pw, &a->acl, err, errlen)) {
        ipb_authz_free(a);
        return NULL;
    }
    return a;
}

void ipb_authz_free(ipb_authz_t *a)
{
    if (!a)
        return;
    ipb_passwd_free(a->pw);
    ipb_acl_free(a->acl);
    free(a->password_file);
    free(a->acl_file);
    OPENSSL_cleanse(a, sizeof *a);
    free(a);
}

int ipb_authz_reload(ipb_authz_t *a, char *err, size_t errlen)
{
    ipb_passwd_t *pw;
    ipb_acl_t *acl;
    if (load(a, &pw, &acl, err, errlen))
        return -1;
    ipb_passwd_free(a->pw);
    ipb_acl_free(a->acl);
    a->pw = pw;
    a->acl = acl;
    memset(a->oks, 0, sizeof a->oks); /* a password may have changed */
    a->gen++;
    return 0;
}

bool ipb_authz_has_passwords(const ipb_authz_t *a) { return a->pw != NULL; }

static fail_slot_t *fail_slot(fail_slot_t *table, unsigned window_s, const char *addr,
                              const char *user, uint64_t now, bool create)
{
    fail_slot_t *oldest = &table[0];
    for (unsigned i = 0; i < FAIL_SLOTS; i++) {
        fail_slot_t *s = &table[i];
        if (s->count && !strcmp(s->addr, addr) && !strncmp(s->user, user, sizeof s->user - 1)) {
            if (now - s->since >= window_s) { /* the window has passed: start again */
                s->since = now;
                s->count = 0;
                s->logged = false;
            }
            return s;
        }
        if (!s->count || s->since < oldest->since)
            oldest = s;
    }
    if (!create)
        return NULL;
    snprintf(oldest->addr, sizeof oldest->addr, "%s", addr);
    snprintf(oldest->user, sizeof oldest->user, "%s", user);
    oldest->since = now;
    oldest->count = 0;
    oldest->logged = false;
    return oldest;
}

/* Is this (address, user), or the whole address, out of tries for this window? */
static bool locked_out(ipb_authz_t *a, const char *addr, const char *user, uint64_t now)
{
    fail_slot_t *u = a->max_failures
                         ? fail_slot(a->user_fails, a->window_s, addr, user, now, false)
                         : NULL;
    fail_slot_t *h = a->max_address_failures
                         ? fail_slot(a->addr_fails, a->window_s, addr, "", now, false)
                         : NULL;
    return (u && u->count >= a->max_failures) || (h && h->count >= a->max_address_failures);
}

/* Count one failure (delta 1) or take back one that turned out a success (-1). */
static void count_failure(ipb_authz_t *a, const char *addr, const char *user, uint64_t now,
                          int delta)
{
    fail_slot_t *s[2] = {
        a->max_failures ? fail_slot(a->user_fails, a->window_s, addr, user, now, delta > 0)
                        : NULL,
        a->max_address_failures
            ? fail_slot(a->addr_fails, a->window_s, addr, "", now, delta > 0)
            : NULL,
    };
    for (unsigned i = 0; i < 2; i++)
        if (s[i] && (delta > 0 || s[i]->count))
            s[i]->count += (unsigned)delta;
}

/* After a failure that was counted: did it reach a limit not yet reported? */
static int lockout_started(ipb_authz_t *a, const char *addr, const char *user, uint64_t now)
{
    fail_slot_t *u = a->max_failures
                         ? fail_slot(a->user_fails, a->window_s, addr, user, now, false)
                         : NULL;
    fail_slot_t *h = a->max_address_failures
                         ? fail_slot(a->addr_fails, a->window_s, addr, "", now, false)
                         : NULL;
    if (h && !h->logged && h->count >= a->max_address_failures) {
        h->logged = true;
        return IPB_AUTHZ_LOCKED_ADDRESS;
    }
    if (u && !u->logged && u->count >= a->max_failures) {
        u->logged = true;
        return IPB_AUTHZ_LOCKED_USER;
    }
    return IPB_AUTHZ_LOCKED_NONE;
}

static void password_mac(const ipb_authz_t *a, const char *user, const uint8_t *pw, size_t len,
                         uint8_t out[MAC_LEN])
{
    unsigned outlen = MAC_LEN;
    uint8_t buf[1024];
    size_t ul = strlen(user) + 1; /* the NUL separates user and password */
    if (ul + len > sizeof buf) {
        RAND_bytes(out, MAC_LEN); /* too long to remember: matches nothing */
        return;
    }
    memcpy(buf, user, ul);
    memcpy(buf + ul, pw, len);
    HMAC(EVP_sha256(), a->key, sizeof a->key, buf, ul + len, out, &outlen);
    OPENSSL_cleanse(buf, sizeof buf);
}

/* Did this (user, password) verify before? */
static bool remembered(const ipb_authz_t *a, const char *user, const uint8_t mac[MAC_LEN])
{
    for (unsigned i = 0; i < OK_SLOTS; i++)
        if (a->oks[i].used && !strcmp(a->oks[i].user, user) &&
            CRYPTO_memcmp(a->oks[i].mac, mac, MAC_LEN) == 0)
            return true;
    return false;
}

static void remember(ipb_authz_t *a, const char *user, const uint8_t mac[MAC_LEN])
{
    if (strlen(user) >= sizeof a->oks[0].user)
        return;
    ok_slot_t *s = &a->oks[a->next_ok++ % OK_SLOTS];
    snprintf(s->user, sizeof s->user, "%s", user);
    memcpy(s->mac, mac, MAC_LEN);
    s->used = true;
}

void ipb_authz_check_free(ipb_authz_check_t *c)
{
    if (!c)
        return;
    if (c->password)
        OPENSSL_cleanse(c->password, c->len);
    free(c->password);
    free(c->user);
    free(c->hash);
    OPENSSL_cleanse(c, sizeof *c);
    free(c);
}

static ipb_authz_check_t *new_check(const ipb_authz_t *a, const char *addr, const char *user,
                                    const uint8_t *pw, size_t len, const uint8_t mac[MAC_LEN])
{
    bool known;
    const char *hash = ipb_passwd_hash_of(a->pw, user, &known);
    ipb_authz_check_t *c = calloc(1, sizeof *c);
    if (!c)
        return NULL;
    c->user = strdup(user);
    c->hash = hash ? strdup(hash) : NULL;
    c->password = malloc(len ? len : 1);
    if (!c->user || (hash && !c->hash) || !c->password) {
        ipb_authz_check_free(c);
        return NULL;
    }
    memcpy(c->password, pw, len);
    c->len = len;
    snprintf(c->addr, sizeof c->addr, "%s", addr);
    memcpy(c->mac, mac, MAC_LEN);
    c->gen = a->gen;
    c->known = known;
    return c;
}

int ipb_authz_login_start(ipb_authz_t *a, bool allow_anonymous, const char *address,
                          uint64_t now_s, const char *username, const uint8_t *password,
                          size_t password_len, bool has_password, ipb_authz_check_t **check,
                          int *locked)
{
    *check = NULL;
    *locked = IPB_AUTHZ_LOCKED_NONE;
    if (!username || !a->pw)
        return allow_anonymous ? IPB_AUTHZ_OK : IPB_AUTHZ_NOT_ALLOWED;
    if (locked_out(a, address, username, now_s))
        return IPB_AUTHZ_BANNED; /* refused before hashing: failures cost the attacker, not us */
    uint8_t mac[MAC_LEN];
    if (has_password) {
        password_mac(a, username, password, password_len, mac);
        if (remembered(a, username, mac))
            return IPB_AUTHZ_OK;
    }
    count_failure(a, address, username, now_s, 1); /* until the hash says otherwise */
    if (!has_password) {
        *locked = lockout_started(a, address, username, now_s);
        return IPB_AUTHZ_BAD_LOGIN;
    }
    if (!(*check = new_check(a, address, username, password, password_len, mac)))
        return IPB_AUTHZ_BAD_LOGIN; /* out of memory: counted, as a refusal is cheap to ask */
    return IPB_AUTHZ_PENDING;
}

void ipb_authz_check_run(ipb_authz_check_t *c)
{
    /* The decoy of an unknown user is hashed too: the time says nothing about who exists. */
    bool ok = c->hash && ipb_passwd_verify(c->hash, c->password, c->len);
    c->ok = c->known && ok;
    OPENSSL_cleanse(c->password, c->len);
}

int ipb_authz_login_finish(ipb_authz_t *a, ipb_authz_check_t *c, uint64_t now_s, int *locked)
{
    int rc = IPB_AUTHZ_BAD_LOGIN;
    *locked = IPB_AUTHZ_LOCKED_NONE;
    if (c->ok) {
        count_failure(a, c->addr, c->user, now_s, -1);
        if (c->gen == a->gen) /* verified against the file still in force */
            remember(a, c->user, c->mac);
        rc = IPB_AUTHZ_OK;
    } else {
        *locked = lockout_started(a, c->addr, c->user, now_s);
    }
    ipb_authz_check_free(c);
    return rc;
}

int ipb_authz_login(ipb_authz_t *a, bool allow_anonymous, const char *address, uint64_t now_s,
                    const char *username, const uint8_t *password, size_t password_len,
                    bool has_password)
{
    ipb_authz_check_t *c;
    int locked;
    int rc = ipb_authz_login_start(a, allow_anonymous, address, now_s, username, password,
                                   password_len, has_password, &c, &locked);
    if (rc != IPB_AUTHZ_PENDING)
        return rc;
    ipb_authz_check_run(c);
    return ipb_authz_login_finish(a, c, now_s, &locked);
}

bool ipb_authz_allows(const ipb_authz_t *a, const char *username, const char *client_id,
                      const char *topic, size_t len, int access)
{
    /* MQTT-4.7.2: '$' topics are the server's; clients never publish to them. */
    if (access == IPB_ACL_WRITE && len && topic[0] == '$')
        return false;
    if (!a->acl)
        return true;
    return ipb_acl_check(a->acl, username, client_id, topic, len, access);
}
