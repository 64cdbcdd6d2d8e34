/*
 * codec_test.h - shared helpers of the codec unit tests.
 *
 * The expectations in these tests come from the MQTT 3.1, 3.1.1 and 5.0 specifications,
 * not from the codec's source: the property table below is section 2.2.2.2 of 5.0, and the
 * comparison helpers walk decoded packets with the public iterators only.
 */
#ifndef IOTPLOT_CODEC_TEST_H
#define IOTPLOT_CODEC_TEST_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "iotplot/codec.h"

#define IPMT_ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

/* Bit of the "will properties" pseudo packet in a property's allowed-packet mask. */
#define IPMT_WILL 0

/* One row of the 5.0 property table (MQTT 5.0 section 2.2.2.2). */
typedef struct {
    uint8_t id;
    ipm_prop_type_t type;
    uint32_t packets; /* 1u << IPM_<TYPE>, and 1u << IPMT_WILL for will properties */
    bool repeat;      /* user property always; subscription id only in PUBLISH */
    const char *name;
} ipmt_prop_spec_t;

extern const ipmt_prop_spec_t ipmt_props[];
extern const size_t ipmt_props_count;
/* The spec row of `id`, or NULL if 5.0 does not define it. */
const ipmt_prop_spec_t *ipmt_prop_spec(uint8_t id);

/* Property initialisers for static arrays: a number, a string or binary literal, a pair. */
#define IPMT_PNUM(id, n) {(id), (n), {NULL, 0}, {NULL, 0}}
#define IPMT_PSTR(id, s) {(id), 0, {(const uint8_t *)(s), sizeof(s) - 1}, {NULL, 0}}
#define IPMT_PPAIR(k, v)                                                                    \
    {IPM_PROP_USER_PROPERTY, 0, {(const uint8_t *)(k), sizeof(k) - 1},                      \
     {(const uint8_t *)(v), sizeof(v) - 1}}
/* ipm_props_t over a whole static array of ipm_prop_t. */
#define IPMT_PROPS(arr) ((ipm_props_t){(arr), (uint16_t)IPMT_ARRAY_LEN(arr), {NULL, 0}})

/* A heap copy of exactly `len` bytes, so that ASan reports any read past the end. */
uint8_t *ipmt_dup(const void *p, size_t len);

/* ipm_bytes_t over `len` bytes at p. */
ipm_bytes_t ipmt_bytes(const void *p, size_t len);

/*
 * Fail the test unless `actual` equals `expected`, printing both error names. The
 * _in form accepts any of `n` errors: used where codec.h and the specification leave the
 * exact error open (the report lists each such case).
 */
#define ipmt_assert_err(actual, expected)                                                   \
    ipmt__assert_err((int)(actual), (int)(expected), __FILE__, __LINE__)
#define ipmt_assert_err_in(actual, ...)                                                     \
    ipmt__assert_err_in((int)(actual), (const int[]){__VA_ARGS__},                          \
                        sizeof((const int[]){__VA_ARGS__}) / sizeof(int), __FILE__,          \
                        __LINE__)
void ipmt__assert_err(int actual, int expected, const char *file, int line);
void ipmt__assert_err_in(int actual, const int *set, size_t n, const char *file, int line);

/*
 * Frame and decode `len` bytes (copied to an exact-size heap buffer) for `version`.
 * Returns ipm_frame's error if framing fails, else ipm_decode's result. A successful frame
 * must cover exactly `len` bytes: a test vector with bytes after its packet is a test bug.
 */
int ipmt_decode_copy(const uint8_t *bytes, size_t len, uint8_t version);

/*
 * With IPMT_CORPUS_DIR set, write `bytes` there as a fuzz seed, prefixed by the byte that
 * selects `version` in the fuzz targets (fuzz/make_corpus.sh). `kind` starts the name.
 */
void ipmt_corpus_save(const char *kind, uint8_t version, const uint8_t *bytes, size_t len);

/* Decode `bytes` and expect `err` (see ipmt_decode_copy). */
#define IPMT_EXPECT_DECODE(version, err, ...)                                               \
    do {                                                                                    \
        static const uint8_t b_[] = {__VA_ARGS__};                                          \
        ipmt_corpus_save("bad", (version), b_, sizeof b_);                                  \
        ipmt__assert_err(ipmt_decode_copy(b_, sizeof b_, (version)), (err), __FILE__,       \
                         __LINE__);                                                         \
    } while (0)
/* Same, where the specification allows one of two errors. */
#define IPMT_EXPECT_DECODE2(version, err1, err2, ...)                                       \
    do {                                                                                    \
        static const uint8_t b_[] = {__VA_ARGS__};                                          \
        const int set_[] = {(err1), (err2)};                                                \
        ipmt_corpus_save("bad", (version), b_, sizeof b_);                                  \
        ipmt__assert_err_in(ipmt_decode_copy(b_, sizeof b_, (version)), set_, 2, __FILE__,   \
                            __LINE__);                                                      \
    } while (0)

/*
 * Collect the properties of `p` (from `list` or by walking `raw`) into out[0..max).
 * Returns how many there are.
 */
size_t ipmt_props_collect(const ipm_props_t *p, ipm_prop_t *out, size_t max);

/* Assert that `a` and `b` are the same packet for `version`, field by field. */
void ipmt_assert_packet_equal(const ipm_packet_t *a, const ipm_packet_t *b, uint8_t version);

/*
 * The byte-exact check of one vector: ipm_packet_size equals len, ipm_encode writes
 * exactly `bytes` (and IPM_ENOSPACE with one byte less), and ipm_frame + ipm_decode of an
 * exact-size copy give back the fields of `pkt`.
 */
void ipmt_check_vector(const ipm_packet_t *pkt, uint8_t version, const uint8_t *bytes,
                       size_t len, const char *file, int line);
#define IPMT_VECTOR(pkt, version, ...)                                                      \
    do {                                                                                    \
        static const uint8_t b_[] = {__VA_ARGS__};                                          \
        print_message("vector %s:%d\n", __FILE__, __LINE__);                               \
        ipmt_corpus_save("vec", (version), b_, sizeof b_);                                  \
        ipmt_check_vector((pkt), (version), b_, sizeof b_, __FILE__, __LINE__);             \
    } while (0)

/*
 * A byte sequence that must decode to `pkt` although the encoder writes another form
 * (for example a 5.0 PUBACK with an explicit empty property block).
 */
void ipmt_check_decode_only(const ipm_packet_t *pkt, uint8_t version, const uint8_t *bytes,
                            size_t len, const char *file, int line);
#define IPMT_DECODES_TO(pkt, version, ...)                                                  \
    do {                                                                                    \
        static const uint8_t b_[] = {__VA_ARGS__};                                          \
        print_message("decode-only vector %s:%d\n", __FILE__, __LINE__);                   \
        ipmt_corpus_save("dec", (version), b_, sizeof b_);                                  \
        ipmt_check_decode_only((pkt), (version), b_, sizeof b_, __FILE__, __LINE__);        \
    } while (0)

/* Encode `pkt` into a fresh heap buffer; *len gets its size. Fails the test on error. */
uint8_t *ipmt_encode_alloc(const ipm_packet_t *pkt, uint8_t version, size_t *len);

/* A small deterministic generator (xorshift32), so failures reproduce. */
uint32_t ipmt_rand(uint32_t *state);

/*
 * Fill `pkt` with a random valid packet of `type` for `version`. Strings, lists and
 * property arrays live in `arena` (at least IPMT_ARENA bytes), which must outlive pkt.
 */
#define IPMT_ARENA 8192
void ipmt_random_packet(uint32_t *rng, uint8_t type, uint8_t version, ipm_packet_t *pkt,
                        uint8_t *arena);

#endif /* IOTPLOT_CODEC_TEST_H */
