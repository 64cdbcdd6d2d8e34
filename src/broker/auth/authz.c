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

#define FAIL_SLOTS 1024 /* addresses tracked; the oldest entry gives way */
#define OK_SLOTS 256    /* logins remembered to skip the slow hash on reconnects */
#define MAC_LEN 32

typedef struct {
    char addr[48];
    uint64_t since; /* start of the window */
    unsigned count;
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
    unsigned max_failures, window_s;
    fail_slot_t fails[FAIL_SLOTS];
    ok_slot_t oks[OK_SLOTS];
    unsigned next_ok;
    uint8_t key[32];
};

void ipb_authz_config_init(ipb_authz_config_t *cfg)
{
    memset(cfg, 0, sizeof *cfg);
    cfg->max_login_failures = 10;
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
    return 0;
}

bool ipb_authz_has_passwords(const ipb_authz_t *a) { return a->pw != NULL; }

static fail_slot_t *fail_slot(ipb_authz_t *a, const char *addr, uint64_t now, bool create)
{
    fail_slot_t *oldest = &a->fails[0];
    for (unsigned i = 0; i < FAIL_SLOTS; i++) {
        fail_slot_t *s = &a->fails[i];
        if (s->count && !strcmp(s->addr, addr)) {
            if (now - s->since >= a->window_s) { /* the window has passed: start again */
                s->since = now;
                s->count = 0;
            }
            return s;
        }
        if (!s->count || s->since < oldest->since)
            oldest = s;
    }
    if (!create)
        return NULL;
    snprintf(oldest->addr, sizeof oldest->addr, "%s", addr);
    oldest->since = now;
    oldest->count = 0;
    return oldest;
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

/* Check user and password, the fast way when this pair verified before. */
static bool verify(ipb_authz_t *a, const char *user, const uint8_t *pw, size_t len)
{
    uint8_t mac[MAC_LEN];
    password_mac(a, user, pw, len, mac);
    for (unsigned i = 0; i < OK_SLOTS; i++)
        if (a->oks[i].used && !strcmp(a->oks[i].user, user) &&
            CRYPTO_memcmp(a->oks[i].mac, mac, MAC_LEN) == 0)
            return true;
    if (!ipb_passwd_check(a->pw, user, pw, len))
        return false;
    if (strlen(user) < sizeof a->oks[0].user) {
        ok_slot_t *s = &a->oks[a->next_ok++ % OK_SLOTS];
        snprintf(s->user, sizeof s->user, "%s", user);
        memcpy(s->mac, mac, MAC_LEN);
        s->used = true;
    }
    return true;
}

int ipb_authz_login(ipb_authz_t *a, bool allow_anonymous, const char *address, uint64_t now_s,
                    const char *username, const uint8_t *password, size_t password_len,
                    bool has_password)
{
    if (!username)
        return allow_anonymous ? IPB_AUTHZ_OK : IPB_AUTHZ_NOT_ALLOWED;
    if (!a->pw)
        return allow_anonymous ? IPB_AUTHZ_OK : IPB_AUTHZ_NOT_ALLOWED;
    fail_slot_t *f = a->max_failures ? fail_slot(a, address, now_s, false) : NULL;
    if (f && f->count >= a->max_failures)
        return IPB_AUTHZ_BANNED; /* refused before hashing: failures cost the attacker, not us */
    if (has_password && verify(a, username, password, password_len))
        return IPB_AUTHZ_OK;
    if (a->max_failures && (f || (f = fail_slot(a, address, now_s, true))))
        f->count++;
    return IPB_AUTHZ_BAD_LOGIN;
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
