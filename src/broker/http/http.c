/*
 * http.c - HTTP/1.1 request heads, intents, paths and content types (see http.h).
 */
#include "http.h"

#include <openssl/evp.h>
#include <openssl/sha.h>
#include <string.h>
#include <strings.h>

static bool is_tchar(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
           strchr("!#$%&'*+-.^_`|~", c) != NULL;
}

/* The line at p (ending in CRLF, or LF as RFC 9112 tolerates); its length without EOL. */
static const char *line_end(const char *p, const char *end, size_t *n)
{
    const char *nl = memchr(p, '\n', (size_t)(end - p));
    if (!nl)
        return NULL;
    *n = (size_t)(nl - p) - (nl > p && nl[-1] == '\r');
    return nl + 1;
}

static int parse_request_line(const char *p, size_t n, ipb_http_req_t *req)
{
    const char *end = p + n, *sp1 = memchr(p, ' ', n);
    if (!sp1 || sp1 == p)
        return IPB_HTTP_BAD;
    for (const char *c = p; c < sp1; c++)
        if (!is_tchar(*c))
            return IPB_HTTP_BAD;
    const char *t = sp1 + 1, *sp2 = memchr(t, ' ', (size_t)(end - t));
    if (!sp2 || sp2 == t || end - sp2 != 9 || memcmp(sp2 + 1, "HTTP/1.", 7) ||
        (sp2[8] != '0' && sp2[8] != '1'))
        return IPB_HTTP_BAD;
    for (const char *c = t; c < sp2; c++)
        if ((unsigned char)*c <= ' ' || *c == 0x7F)
            return IPB_HTTP_BAD;
    req->method = (ipb_str_t){p, (size_t)(sp1 - p)};
    req->target = (ipb_str_t){t, (size_t)(sp2 - t)};
    req->minor = sp2[8] - '0';
    return 0;
}

static int parse_header(const char *p, size_t n, ipb_http_req_t *req)
{
    const char *colon = memchr(p, ':', n), *end = p + n;
    if (!colon || colon == p)
        return IPB_HTTP_BAD;
    for (const char *c = p; c < colon; c++)
        if (!is_tchar(*c))
            return IPB_HTTP_BAD; /* also refuses white space before the colon */
    const char *v = colon + 1;
    while (v < end && (*v == ' ' || *v == '\t'))
        v++;
    while (end > v && (end[-1] == ' ' || end[-1] == '\t'))
        end--;
    for (const char *c = v; c < end; c++)
        if (((unsigned char)*c < ' ' && *c != '\t') || *c == 0x7F)
            return IPB_HTTP_BAD;
    if (req->nheaders == IPB_HTTP_MAX_HEADERS)
        return IPB_HTTP_TOO_LARGE;
    req->headers[req->nheaders].name = (ipb_str_t){p, (size_t)(colon - p)};
    req->headers[req->nheaders].value = (ipb_str_t){v, (size_t)(end - v)};
    req->nheaders++;
    return 0;
}

static bool str_ieq(const ipb_str_t *s, const char *lit)
{
    return s && strlen(lit) == s->n && strncasecmp(s->p, lit, s->n) == 0;
}

int ipb_http_parse(const char *buf, size_t len, ipb_http_req_t *req)
{
    const char *p = buf, *end = buf + (len > IPB_HTTP_MAX_HEAD ? IPB_HTTP_MAX_HEAD : len);
    size_t n;
    int rc;
    memset(req, 0, sizeof *req);
    /* RFC 9112 2.2: ignore at least one empty line before the request line. */
    while (p < end && (*p == '\r' || *p == '\n'))
        p++;
    const char *next = line_end(p, end, &n);
    if (!next)
        return len >= IPB_HTTP_MAX_HEAD ? IPB_HTTP_TOO_LARGE : IPB_HTTP_NEED_MORE;
    if ((rc = parse_request_line(p, n, req)))
        return rc;
    for (p = next;; p = next) {
        if (!(next = line_end(p, end, &n)))
            return len >= IPB_HTTP_MAX_HEAD ? IPB_HTTP_TOO_LARGE : IPB_HTTP_NEED_MORE;
        if (n == 0)
            break;
        if (*p == ' ' || *p == '\t')
            return IPB_HTTP_BAD; /* obsolete line folding */
        if ((rc = parse_header(p, n, req)))
            return rc;
    }
    const ipb_str_t *cl = ipb_http_header(req, "content-length");
    if (ipb_http_header(req, "transfer-encoding") || (cl && !str_ieq(cl, "0")))
        return IPB_HTTP_BAD;
    return (int)(next - buf);
}

const ipb_str_t *ipb_http_header(const ipb_http_req_t *req, const char *name)
{
    size_t n = strlen(name);
    for (size_t i = 0; i < req->nheaders; i++)
        if (req->headers[i].name.n == n && !strncasecmp(req->headers[i].name.p, name, n))
            return &req->headers[i].value;
    return NULL;
}

bool ipb_http_has_token(const ipb_str_t *value, const char *token)
{
    size_t tn = strlen(token);
    if (!value)
        return false;
    for (const char *p = value->p, *end = value->p + value->n; p < end;) {
        const char *comma = memchr(p, ',', (size_t)(end - p));
        const char *e = comma ? comma : end;
        while (p < e && (*p == ' ' || *p == '\t'))
            p++;
        const char *te = e;
        while (te > p && (te[-1] == ' ' || te[-1] == '\t'))
            te--;
        if ((size_t)(te - p) == tn && !strncasecmp(p, token, tn))
            return true;
        p = comma ? comma + 1 : end;
    }
    return false;
}

void ipb_http_intent(const ipb_http_req_t *req, ipb_http_intent_t *out)
{
    memset(out, 0, sizeof *out);
    bool get = req->method.n == 3 && !memcmp(req->method.p, "GET", 3);
    out->head = req->method.n == 4 && !memcmp(req->method.p, "HEAD", 4);
    if (!get && !out->head) {
        out->status = 405;
        return;
    }
    if (req->minor == 1 && !ipb_http_header(req, "host")) {
        out->status = 400; /* RFC 9112 3.2 */
        return;
    }
    const ipb_str_t *upgrade = ipb_http_header(req, "upgrade");
    if (!upgrade || !ipb_http_has_token(upgrade, "websocket"))
        return; /* a plain GET */
    const ipb_str_t *key = ipb_http_header(req, "sec-websocket-key");
    const ipb_str_t *ver = ipb_http_header(req, "sec-websocket-version");
    const ipb_str_t *proto = ipb_http_header(req, "sec-websocket-protocol");
    if (!get || req->minor != 1 || !ipb_http_has_token(ipb_http_header(req, "connection"), "upgrade") ||
        !key || key->n != 24) {
        out->status = 400;
        return;
    }
    if (!str_ieq(ver, "13")) {
        out->status = 426; /* RFC 6455 4.4: answer with the version we speak */
        return;
    }
    out->websocket = true;
    out->key = *key;
    if (ipb_http_has_token(proto, "mqtt"))
        out->protocol = "mqtt";
    else if (ipb_http_has_token(proto, "mqttv3.1"))
        out->protocol = "mqttv3.1";
    else if (proto)
        out->status = 400; /* offered only protocols we do not speak */
}

int ipb_ws_accept(const ipb_str_t *key, char out[29])
{
    static const char guid[] = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";
    unsigned char buf[64], digest[SHA_DIGEST_LENGTH];
    if (key->n != 24)
        return -1;
    memcpy(buf, key->p, 24);
    memcpy(buf + 24, guid, sizeof guid - 1);
    if (!EVP_Digest(buf, 24 + sizeof guid - 1, digest, NULL, EVP_sha1(), NULL))
        return -1;
    EVP_EncodeBlock((unsigned char *)out, digest, SHA_DIGEST_LENGTH);
    return 0;
}

static int hexval(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    c = (char)(c | 0x20);
    return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

int ipb_http_path(const ipb_str_t *target, char *out, size_t outlen)
{
    size_t n = 0, tn = 0;
    while (tn < target->n && target->p[tn] != '?' && target->p[tn] != '#')
        tn++;
    if (tn == 0 || target->p[0] != '/' || outlen < 16)
        return -1;
    for (size_t i = 1; i < tn; i++) {
        int c = (unsigned char)target->p[i];
        if (c == '%') {
            int hi = i + 2 < tn ? hexval(target->p[i + 1]) : -1;
            int lo = hi >= 0 ? hexval(target->p[i + 2]) : -1;
            if (hi < 0 || lo < 0)
                return -1;
            c = hi << 4 | lo;
            i += 2;
        }
        if (c < 0x20 || c == 0x7F || c == '\\')
            return -1;
        if (n + 1 >= outlen)
            return -1;
        out[n++] = (char)c;
    }
    out[n] = '\0';
    if (n == 0 || out[n - 1] == '/') {
        static const char index[] = "index.html";
        if (n + sizeof index > outlen)
            return -1;
        memcpy(out + n, index, sizeof index);
        n += sizeof index - 1;
    }
    /* No empty, "." or ".." segment may remain: they could climb out of root. */
    for (const char *seg = out; seg;) {
        const char *slash = strchr(seg, '/');
        size_t sl = slash ? (size_t)(slash - seg) : strlen(seg);
        if (sl == 0 || (sl == 1 && seg[0] == '.') || (sl == 2 && seg[0] == '.' && seg[1] == '.'))
            return -1;
        seg = slash ? slash + 1 : NULL;
    }
    return 0;
}

int ipb_http_basic(const ipb_http_req_t *req, char *user, size_t ulen, char *pass, size_t plen)
{
    const ipb_str_t *v = ipb_http_header(req, "authorization");
    if (!v)
        return 1;
    size_t i = 0;
    while (i < v->n && v->p[i] == ' ')
        i++;
    if (v->n - i < 6 || strncasecmp(v->p + i, "basic ", 6))
        return -1;
    i += 6;
    while (i < v->n && v->p[i] == ' ')
        i++;
    size_t n = v->n - i;
    /* The head is capped (IPB_HTTP_MAX_HEAD), so is the encoded text. */
    unsigned char in[IPB_HTTP_MAX_HEAD], out[IPB_HTTP_MAX_HEAD];
    if (n == 0 || n % 4 || n >= sizeof in)
        return -1;
    memcpy(in, v->p + i, n);
    int len = EVP_DecodeBlock(out, in, (int)n);
    if (len < 0)
        return -1;
    /* EVP_DecodeBlock counts the padding as bytes: take them off again. */
    for (size_t k = n; k > n - 2 && in[k - 1] == '='; k--)
        len--;
    const unsigned char *colon = memchr(out, ':', (size_t)len);
    if (!colon || memchr(out, '\0', (size_t)len))
        return -1;
    size_t ul = (size_t)(colon - out), pl = (size_t)len - ul - 1;
    if (ul >= ulen || pl >= plen)
        return -1;
    for (size_t k = 0; k < ul; k++)
        if (out[k] < 0x20 || out[k] == 0x7F)
            return -1; /* a user name goes into log lines and folder names */
    memcpy(user, out, ul);
    user[ul] = '\0';
    memcpy(pass, colon + 1, pl);
    pass[pl] = '\0';
    return 0;
}

const char *ipb_http_content_type(const char *path)
{
    static const struct {
        const char *ext, *type;
    } types[] = {
        {".html", "text/html; charset=utf-8"},
        {".js", "text/javascript; charset=utf-8"},
        {".mjs", "text/javascript; charset=utf-8"},
        {".css", "text/css; charset=utf-8"},
        {".json", "application/json"},
        {".svg", "image/svg+xml"},
        {".png", "image/png"},
        {".pdf", "application/pdf"},
        {".ico", "image/x-icon"},
        {".csv", "text/csv; charset=utf-8"},
        {".txt", "text/plain; charset=utf-8"},
        {".map", "application/json"},
        {".pkl", "application/octet-stream"},
    };
    const char *dot = strrchr(path, '.');
    if (dot && !strchr(dot, '/'))
        for (size_t i = 0; i < sizeof types / sizeof types[0]; i++)
            if (!strcasecmp(dot, types[i].ext))
                return types[i].type;
    return "application/octet-stream";
}
