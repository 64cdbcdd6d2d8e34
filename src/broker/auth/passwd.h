/*
 * passwd.h - mosquitto-compatible password files.
 *
 * Reads the lines mosquitto_passwd writes, `user:$6$salt$hash` (SHA-512 of password and
 * salt) and `user:$7$iterations$salt$hash` (PBKDF2-HMAC-SHA512), salts and hashes in
 * base64, so existing mosquitto installations work unchanged; writes $7$ lines with a
 * random salt. Passwords are compared in constant time.
 */
#ifndef IPB_AUTH_PASSWD_H
#define IPB_AUTH_PASSWD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Iterations written by default: OWASP's 2023 figure for PBKDF2-HMAC-SHA512. */
#define IPB_PASSWD_ITERATIONS 210000u
#define IPB_PASSWD_SALT_LEN 12
#define IPB_PASSWD_LINE_MAX 1024 /* longest line we read or write */

typedef struct ipb_passwd ipb_passwd_t;

/*
 * Load a password file. Returns the table, or NULL with a reason naming the file and
 * line in err[0..errlen) (unreadable file, malformed line, unknown hash type, a user
 * given twice). Blank lines and lines starting with '#' are skipped.
 */
ipb_passwd_t *ipb_passwd_load(const char *path, char *err, size_t errlen);
/* Parse text[0..len) (for tests and fuzzing); `name` is used in error messages. */
ipb_passwd_t *ipb_passwd_parse(const char *text, size_t len, const char *name, char *err,
                               size_t errlen);
void ipb_passwd_free(ipb_passwd_t *pw);
size_t ipb_passwd_count(const ipb_passwd_t *pw);

/*
 * true when `user` is in the table and `password` matches its hash. An unknown user costs
 * the same time as a wrong password, so the answer does not reveal which users exist.
 * Thread-safe (a PBKDF2 check is slow by design: run it off the event loop).
 */
bool ipb_passwd_check(const ipb_passwd_t *pw, const char *user, const uint8_t *password,
                      size_t len);

/*
 * The stored hash to check `user`'s password against: theirs, or for an unknown user (or
 * NULL) a decoy of the same cost (*known false). NULL for an empty file. The string lives
 * as long as the table: copy it to check it on another thread.
 */
const char *ipb_passwd_hash_of(const ipb_passwd_t *pw, const char *user, bool *known);

/*
 * Hash `password` as a "$7$iterations$salt$hash" string (no user, no newline) with a
 * fresh random salt into out[0..outlen). Returns 0, or -1 if randomness or hashing fails
 * or out is too small.
 */
int ipb_passwd_hash(const uint8_t *password, size_t len, unsigned iterations, char *out,
                    size_t outlen);

/* Does the stored `hash` ("$6$..." or "$7$...") match `password`? Constant time. */
bool ipb_passwd_verify(const char *hash, const uint8_t *password, size_t len);

#endif
