/* HTTP/1.1 over plain TCP or TLS (OpenSSL), synchronous, bounded by one deadline per request.
 * See include/chttp.h. Nothing is initialised before the first request; TLS (and the CA bundle) only
 * before the first https request. */
#define _GNU_SOURCE
#include "chttp.h"
#include "dns.h"
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <poll.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#define MAX_HEAD (1u << 20)
#define MAX_BODY (64u << 20)
#define IDLE_SLOTS 4

/* ---------- small helpers ---------- */

typedef struct { char *data; size_t len, cap; } buf;

static int buf_add(buf *b, const void *src, size_t n) {
    if (b->len + n + 1 > b->cap) {
        size_t cap = b->cap ? b->cap : 4096;
        while (cap < b->len + n + 1) cap *= 2;
        char *p = realloc(b->data, cap);
        if (!p) return -1;
        b->data = p; b->cap = cap;
    }
    memcpy(b->data + b->len, src, n);
    b->len += n;
    b->data[b->len] = 0;
    return 0;
}

static int buf_printf(buf *b, const char *fmt, ...) {
    char tmp[2048];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(tmp, sizeof tmp, fmt, ap);
    va_end(ap);
    if (n < 0) return -1;
    if ((size_t)n < sizeof tmp) return buf_add(b, tmp, (size_t)n);
    char *big = malloc((size_t)n + 1);
    if (!big) return -1;
    va_start(ap, fmt);
    vsnprintf(big, (size_t)n + 1, fmt, ap);
    va_end(ap);
    int rc = buf_add(b, big, (size_t)n);
    free(big);
    return rc;
}

static int fail(chttp_response *out, int code, const char *fmt, ...) {
    out->code = code;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(out->error, sizeof out->error, fmt, ap);
    va_end(ap);
    return code;
}

/* ---------- URLs ---------- */

typedef struct {
    int tls;
    char host[256];     /* without brackets */
    int port;
    int explicit_port;
    char target[8192];  /* path and query, "/" at least; never the fragment */
} url_parts;

/* A host name's characters (letters, digits, '-', '.', '_'), or an IP literal's inside brackets. */
static int host_char(unsigned char ch) {
    return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') || ch == '-' || ch == '.' || ch == '_';
}
static int ipv6_char(unsigned char ch) {
    return (ch >= '0' && ch <= '9') || (ch >= 'a' && ch <= 'f') || (ch >= 'A' && ch <= 'F') || ch == ':' || ch == '.';
}

static int parse_url(const char *url, url_parts *u) {
    memset(u, 0, sizeof *u);
    const char *rest;
    if (strncasecmp(url, "https://", 8) == 0) { u->tls = 1; u->port = 443; rest = url + 8; }
    else if (strncasecmp(url, "http://", 7) == 0) { u->tls = 0; u->port = 80; rest = url + 7; }
    else return CHTTP_E_UNSUPPORTED;
    size_t alen = strcspn(rest, "/?#");
    for (size_t i = 0; i < alen; i++) if ((unsigned char)rest[i] <= 0x20 || rest[i] == 0x7f) return CHTTP_E_URL;
    if (alen == 0 || memchr(rest, '@', alen)) return CHTTP_E_URL;   /* no user information, ever */
    const char *colon = NULL;
    if (rest[0] == '[') {
        const char *close = memchr(rest, ']', alen);
        if (!close || close == rest + 1 || (size_t)(close - rest - 1) >= sizeof u->host) return CHTTP_E_URL;
        for (const char *q = rest + 1; q < close; q++) if (!ipv6_char((unsigned char)*q)) return CHTTP_E_URL;
        memcpy(u->host, rest + 1, (size_t)(close - rest - 1));
        if (close + 1 < rest + alen) { if (close[1] != ':') return CHTTP_E_URL; colon = close + 1; }
    } else {
        colon = memchr(rest, ':', alen);
        size_t hlen = colon ? (size_t)(colon - rest) : alen;
        if (hlen == 0 || hlen >= sizeof u->host) return CHTTP_E_URL;
        for (size_t i = 0; i < hlen; i++) if (!host_char((unsigned char)rest[i])) return CHTTP_E_URL;
        memcpy(u->host, rest, hlen);
    }
    if (colon) {
        char digits[8] = {0};
        size_t plen = (size_t)(rest + alen - colon - 1);
        if (plen == 0 || plen >= sizeof digits) return CHTTP_E_URL;
        memcpy(digits, colon + 1, plen);
        for (size_t i = 0; i < plen; i++) if (digits[i] < '0' || digits[i] > '9') return CHTTP_E_URL;
        u->port = atoi(digits);
        if (u->port < 1 || u->port > 65535) return CHTTP_E_URL;
        u->explicit_port = 1;
    }
    /* The target: the path (or "/") and the query; a fragment is the client's, never sent. */
    const char *t = rest + alen;
    size_t tlen = strcspn(t, "#");
    size_t slash = t[0] == '/' ? 0 : 1;
    if (tlen + slash + 1 > sizeof u->target) return CHTTP_E_URL;
    for (size_t i = 0; i < tlen; i++) if ((unsigned char)t[i] <= 0x20 || t[i] == 0x7f) return CHTTP_E_URL;
    if (slash) u->target[0] = '/';
    memcpy(u->target + slash, t, tlen);
    u->target[slash + tlen] = 0;
    return 0;
}

/* ---------- proxies (https_proxy / HTTPS_PROXY, http_proxy, no_proxy) ---------- */

typedef struct { char host[256]; int port; char auth[512]; } proxy_parts;

static int no_proxy_matches(const char *host) {
    const char *list = getenv("no_proxy");
    if (!list || !*list) list = getenv("NO_PROXY");
    if (!list || !*list) return 0;
    char copy[2048];
    snprintf(copy, sizeof copy, "%s", list);
    char *save = NULL;
    for (char *e = strtok_r(copy, ", \t", &save); e; e = strtok_r(NULL, ", \t", &save)) {
        if (strcmp(e, "*") == 0) return 1;
        if (*e == '.') e++;
        size_t hl = strlen(host), el = strlen(e);
        if (el == 0 || el > hl) continue;
        if (strcasecmp(host + hl - el, e) == 0 && (hl == el || host[hl - el - 1] == '.')) return 1;
    }
    return 0;
}

static const char b64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

static void base64(const unsigned char *in, size_t n, char *out, size_t cap) {
    size_t o = 0;
    for (size_t i = 0; i < n && o + 5 < cap; i += 3) {
        unsigned v = (unsigned)in[i] << 16 | (i + 1 < n ? (unsigned)in[i + 1] << 8 : 0) | (i + 2 < n ? in[i + 2] : 0);
        out[o++] = b64[v >> 18 & 63]; out[o++] = b64[v >> 12 & 63];
        out[o++] = i + 1 < n ? b64[v >> 6 & 63] : '=';
        out[o++] = i + 2 < n ? b64[v & 63] : '=';
    }
    out[o] = 0;
}

/* The proxy for `u`, if any. Only lower-case http_proxy is read for http: in CGI, HTTP_PROXY can come
 * from a request header (httpoxy). Returns 1 when a proxy applies, 0 when none, -1 when it is invalid. */
static int proxy_for(const url_parts *u, proxy_parts *p) {
    const char *v = u->tls ? getenv("https_proxy") : getenv("http_proxy");
    if (u->tls && (!v || !*v)) v = getenv("HTTPS_PROXY");
    if (!v || !*v || no_proxy_matches(u->host)) return 0;
    memset(p, 0, sizeof *p);
    const char *rest = v;
    if (strncasecmp(rest, "http://", 7) == 0) rest += 7;
    else if (strstr(rest, "://")) return -1;   /* an https:// or socks proxy is not supported */
    /* The authority ends at the first '/', '?' or '#'; user information ends at its last '@'. */
    size_t alen = strcspn(rest, "/?#");
    const char *at = NULL;
    for (const char *q = rest; q < rest + alen; q++) if (*q == '@') at = q;
    if (at) {
        /* user:password, percent-decoded, for Basic authentication. */
        char creds[384];
        size_t n = 0;
        for (const char *q = rest; q < at && n + 1 < sizeof creds; q++) {
            if (*q == '%' && q + 2 < at && isxdigit((unsigned char)q[1]) && isxdigit((unsigned char)q[2])) {
                char hex[3] = { q[1], q[2], 0 };
                creds[n++] = (char)strtol(hex, NULL, 16);
                q += 2;
            } else {
                creds[n++] = *q;
            }
        }
        base64((const unsigned char *)creds, n, p->auth, sizeof p->auth);
        memset(creds, 0, sizeof creds);
        alen -= (size_t)(at + 1 - rest);
        rest = at + 1;
    }
    char url[512];
    if (alen + 8 > sizeof url) return -1;
    memcpy(url, "http://", 7);
    memcpy(url + 7, rest, alen);
    url[7 + alen] = 0;
    url_parts pu;
    if (parse_url(url, &pu) != 0) return -1;
    snprintf(p->host, sizeof p->host, "%s", pu.host);
    p->port = pu.explicit_port ? pu.port : 1080;
    return 1;
}

/* ---------- connections ---------- */

typedef struct {
    int fd;
    SSL *ssl;
    char key[600];      /* scheme://host:port via proxy, for reuse */
    int reused;
    long idle_since;    /* when it was given back */
} conn;

/* A kept-alive connection older than this is closed rather than reused: servers drop idle
 * connections (and a Lambda environment can be frozen for minutes between events). */
#define IDLE_MAX_MS 15000

static pthread_mutex_t pool_lock = PTHREAD_MUTEX_INITIALIZER;
static conn idle[IDLE_SLOTS];
static int idle_count = 0;

static void conn_close(conn *c) {
    if (c->ssl) { SSL_shutdown(c->ssl); SSL_free(c->ssl); c->ssl = NULL; }
    if (c->fd >= 0) { close(c->fd); c->fd = -1; }
}

/* An idle connection to the same place that is still open (nothing to read, no hang-up). */
static int take_idle(const char *key, conn *out) {
    int found = 0;
    pthread_mutex_lock(&pool_lock);
    for (int i = 0; i < idle_count; i++) {
        if (strcmp(idle[i].key, key) != 0) continue;
        conn c = idle[i];
        idle[i] = idle[--idle_count];
        struct pollfd pfd = { c.fd, POLLIN, 0 };
        if (chttp_now_ms() - c.idle_since > IDLE_MAX_MS || poll(&pfd, 1, 0) != 0) { conn_close(&c); i--; continue; }
        *out = c;
        out->reused = 1;
        found = 1;
        break;
    }
    pthread_mutex_unlock(&pool_lock);
    return found;
}

static void give_back(conn *c) {
    pthread_mutex_lock(&pool_lock);
    if (idle_count == IDLE_SLOTS) conn_close(&idle[--idle_count]);
    c->idle_since = chttp_now_ms();
    idle[idle_count++] = *c;
    pthread_mutex_unlock(&pool_lock);
    c->fd = -1; c->ssl = NULL;
}

void chttp_close_idle(void) {
    pthread_mutex_lock(&pool_lock);
    while (idle_count > 0) conn_close(&idle[--idle_count]);
    pthread_mutex_unlock(&pool_lock);
}

static long remaining(long deadline) {
    long left = deadline - chttp_now_ms();
    return left > 0 ? left : 0;
}

static int tcp_connect(const char *host, int port, long connect_deadline, long deadline, chttp_response *out, int proxy) {
    chttp_addr addrs[8];
    char err[256];
    int n = chttp_dns_resolve(host, addrs, 8, connect_deadline < deadline ? connect_deadline : deadline, err, sizeof err);
    if (n <= 0) return -(fail(out, proxy ? CHTTP_E_PROXY_RESOLVE : CHTTP_E_RESOLVE, "%s", err));
    int last = 0;
    for (int i = 0; i < n; i++) {
        struct sockaddr_storage ss;
        socklen_t sl;
        memset(&ss, 0, sizeof ss);
        if (addrs[i].family == AF_INET) {
            struct sockaddr_in *s = (struct sockaddr_in *)&ss;
            s->sin_family = AF_INET; s->sin_port = htons((unsigned short)port); memcpy(&s->sin_addr, addrs[i].addr, 4);
            sl = sizeof *s;
        } else {
            struct sockaddr_in6 *s = (struct sockaddr_in6 *)&ss;
            s->sin6_family = AF_INET6; s->sin6_port = htons((unsigned short)port); memcpy(&s->sin6_addr, addrs[i].addr, 16);
            sl = sizeof *s;
        }
        int fd = socket(addrs[i].family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
        if (fd < 0) { last = errno; continue; }
        int one = 1;
        setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        int rc = connect(fd, (struct sockaddr *)&ss, sl);
        if (rc == 0) return fd;
        if (errno != EINPROGRESS) { last = errno; close(fd); continue; }
        long until = connect_deadline < deadline ? connect_deadline : deadline;
        struct pollfd pfd = { fd, POLLOUT, 0 };
        int ready;
        do { ready = poll(&pfd, 1, (int)remaining(until)); } while (ready < 0 && errno == EINTR);
        if (ready == 0) { close(fd); if (chttp_now_ms() >= deadline) return -(fail(out, CHTTP_E_TIMEOUT, "connecting to %s:%d timed out", host, port)); last = ETIMEDOUT; continue; }
        int soerr = 0;
        socklen_t len = sizeof soerr;
        getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &len);
        if (ready > 0 && soerr == 0) return fd;
        last = soerr ? soerr : errno;
        close(fd);
    }
    if (last == ETIMEDOUT && chttp_now_ms() >= deadline) return -(fail(out, CHTTP_E_TIMEOUT, "connecting to %s:%d timed out", host, port));
    return -(fail(out, CHTTP_E_CONNECT, "could not connect to %s:%d (%s)", host, port, strerror(last)));
}

/* ---------- TLS ---------- */

static pthread_once_t tls_once = PTHREAD_ONCE_INIT;
static SSL_CTX *tls_ctx = NULL;
static char tls_problem[200];

static int file_exists(const char *p) { struct stat st; return stat(p, &st) == 0 && S_ISREG(st.st_mode); }
static int dir_exists(const char *p) { struct stat st; return stat(p, &st) == 0 && S_ISDIR(st.st_mode); }

static void tls_setup(void) {
    /* No configuration file is read: it could name engines or providers to load at run time. */
    OPENSSL_init_ssl(OPENSSL_INIT_NO_LOAD_CONFIG, NULL);
    SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());
    if (!ctx) { snprintf(tls_problem, sizeof tls_problem, "TLS could not be initialised"); return; }
    SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
    SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, NULL);
    /* The CA bundle of whichever system this runs on: Debian and Ubuntu, RHEL and Amazon Linux,
     * openSUSE, Alpine; SSL_CERT_FILE and SSL_CERT_DIR first, as OpenSSL reads them. */
    static const char *files[] = {
        "/etc/ssl/certs/ca-certificates.crt", "/etc/pki/tls/certs/ca-bundle.crt",
        "/etc/pki/ca-trust/extracted/pem/tls-ca-bundle.pem", "/etc/ssl/ca-bundle.pem", "/etc/ssl/cert.pem", NULL };
    int loaded = 0;
    const char *env_file = getenv("SSL_CERT_FILE"), *env_dir = getenv("SSL_CERT_DIR");
    if (env_file && *env_file && SSL_CTX_load_verify_locations(ctx, env_file, NULL) == 1) loaded = 1;
    if (env_dir && *env_dir && SSL_CTX_load_verify_locations(ctx, NULL, env_dir) == 1) loaded = 1;
    for (int i = 0; !loaded && files[i]; i++) {
        if (file_exists(files[i]) && SSL_CTX_load_verify_locations(ctx, files[i], NULL) == 1) loaded = 1;
    }
    if (!loaded && dir_exists("/etc/ssl/certs") && SSL_CTX_load_verify_locations(ctx, NULL, "/etc/ssl/certs") == 1) loaded = 1;
    if (!loaded) snprintf(tls_problem, sizeof tls_problem, "no CA certificates found (set SSL_CERT_FILE)");
    ERR_clear_error();
    tls_ctx = ctx;
}

/* Waits for the socket as OpenSSL asks; returns 0, or -1 at the deadline. */
static int tls_wait(SSL *ssl, int fd, int rc, long deadline) {
    int e = SSL_get_error(ssl, rc);
    short ev = e == SSL_ERROR_WANT_READ ? POLLIN : e == SSL_ERROR_WANT_WRITE ? POLLOUT : 0;
    if (!ev) return -2;
    struct pollfd pfd = { fd, ev, 0 };
    int r;
    do { r = poll(&pfd, 1, (int)remaining(deadline)); } while (r < 0 && errno == EINTR);
    return r > 0 ? 0 : -1;
}

static int tls_start(conn *c, const char *host, long deadline, chttp_response *out) {
    pthread_once(&tls_once, tls_setup);
    if (!tls_ctx) return fail(out, CHTTP_E_TLS, "%s", tls_problem);
    if (tls_problem[0]) return fail(out, CHTTP_E_CERT, "%s", tls_problem);
    SSL *ssl = SSL_new(tls_ctx);
    if (!ssl) return fail(out, CHTTP_E_TLS, "TLS session could not be created");
    c->ssl = ssl;
    SSL_set_fd(ssl, c->fd);
    unsigned char ip[16];
    int is_ip = inet_pton(AF_INET, host, ip) == 1 || inet_pton(AF_INET6, host, ip) == 1;
    if (is_ip) {
        if (X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ssl), host) != 1) return fail(out, CHTTP_E_TLS, "%s cannot be verified", host);
    } else {
        /* The name as certificates carry it: without a final dot. Only subjectAltName counts (no
         * fallback to the subject's CN), and no partial wildcards such as f*.example.com. */
        char name[256];
        snprintf(name, sizeof name, "%s", host);
        size_t n = strlen(name);
        if (n > 1 && name[n - 1] == '.') name[n - 1] = 0;
        SSL_set_tlsext_host_name(ssl, name);
        SSL_set_hostflags(ssl, X509_CHECK_FLAG_NEVER_CHECK_SUBJECT | X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
        if (SSL_set1_host(ssl, name) != 1) return fail(out, CHTTP_E_TLS, "%s cannot be verified", host);
    }
    while (1) {
        ERR_clear_error();
        int rc = SSL_connect(ssl);
        if (rc == 1) return 0;
        int w = tls_wait(ssl, c->fd, rc, deadline);
        if (w == 0) continue;
        if (w == -1) return fail(out, CHTTP_E_TIMEOUT, "the TLS handshake with %s timed out", host);
        long v = SSL_get_verify_result(ssl);
        if (v != X509_V_OK) return fail(out, CHTTP_E_CERT, "the certificate of %s did not verify: %s", host, X509_verify_cert_error_string(v));
        unsigned long e = ERR_get_error();
        char msg[160] = "handshake failed";
        if (e) ERR_error_string_n(e, msg, sizeof msg);
        return fail(out, CHTTP_E_TLS, "TLS with %s failed: %s", host, msg);
    }
}

/* ---------- I/O with a deadline ---------- */

static int io_write(conn *c, const char *data, size_t n, long deadline) {
    size_t sent = 0;
    while (sent < n) {
        if (chttp_now_ms() >= deadline) return -2;
        if (c->ssl) {
            ERR_clear_error();
            int w = SSL_write(c->ssl, data + sent, (int)(n - sent > 1 << 30 ? 1 << 30 : n - sent));
            if (w > 0) { sent += (size_t)w; continue; }
            int t = tls_wait(c->ssl, c->fd, w, deadline);
            if (t == -1) return -2;
            if (t < 0) return -1;
            continue;
        }
        ssize_t w = send(c->fd, data + sent, n - sent, MSG_NOSIGNAL);
        if (w > 0) { sent += (size_t)w; continue; }
        if (w < 0 && errno != EAGAIN && errno != EINTR) return -1;
        struct pollfd pfd = { c->fd, POLLOUT, 0 };
        int r = poll(&pfd, 1, (int)remaining(deadline));
        if (r == 0) return -2;
    }
    return 0;
}

/* Reads some bytes. Returns the count, 0 at end of stream, -1 on error, -2 at the deadline. */
static ssize_t io_read(conn *c, char *into, size_t cap, long deadline) {
    while (1) {
        if (chttp_now_ms() >= deadline) return -2;
        if (c->ssl) {
            ERR_clear_error();
            int r = SSL_read(c->ssl, into, (int)(cap > 1 << 30 ? 1 << 30 : cap));
            if (r > 0) return r;
            int e = SSL_get_error(c->ssl, r);
            if (e == SSL_ERROR_ZERO_RETURN) return 0;
            if (e == SSL_ERROR_SYSCALL && ERR_peek_error() == 0) return 0;   /* closed without close_notify */
            int t = tls_wait(c->ssl, c->fd, r, deadline);
            if (t == -1) return -2;
            if (t < 0) return -1;
            continue;
        }
        ssize_t r = recv(c->fd, into, cap, 0);
        if (r >= 0) return r;
        if (errno != EAGAIN && errno != EINTR) return -1;
        struct pollfd pfd = { c->fd, POLLIN, 0 };
        int p = poll(&pfd, 1, (int)remaining(deadline));
        if (p == 0) return -2;
    }
}

/* ---------- the exchange ---------- */

static int open_conn(const url_parts *u, conn *c, long connect_deadline, long deadline, chttp_response *out, int *via_proxy) {
    proxy_parts p;
    int px = proxy_for(u, &p);
    if (px < 0) return fail(out, CHTTP_E_UNSUPPORTED, "the proxy setting is not an http:// proxy");
    *via_proxy = px;
    snprintf(c->key, sizeof c->key, "%s://%s:%d|%s:%d", u->tls ? "https" : "http", u->host, u->port, px ? p.host : "", px ? p.port : 0);
    if (take_idle(c->key, c)) return 0;
    c->reused = 0;
    c->ssl = NULL;
    int fd = tcp_connect(px ? p.host : u->host, px ? p.port : u->port, connect_deadline, deadline, out, px);
    if (fd < 0) return out->code;
    c->fd = fd;
    if (px && u->tls) {
        /* A tunnel through the proxy; the request itself then goes inside TLS. */
        buf req = {0};
        buf_printf(&req, "CONNECT %s%s%s:%d HTTP/1.1\r\nHost: %s%s%s:%d\r\n",
                   strchr(u->host, ':') ? "[" : "", u->host, strchr(u->host, ':') ? "]" : "", u->port,
                   strchr(u->host, ':') ? "[" : "", u->host, strchr(u->host, ':') ? "]" : "", u->port);
        if (p.auth[0]) buf_printf(&req, "Proxy-Authorization: Basic %s\r\n", p.auth);
        buf_add(&req, "\r\n", 2);
        int w = io_write(c, req.data, req.len, deadline);
        free(req.data);
        if (w < 0) { conn_close(c); return fail(out, w == -2 ? CHTTP_E_TIMEOUT : CHTTP_E_CONNECT, "the proxy did not take the tunnel request"); }
        char head[4096];
        size_t got = 0;
        while (got < sizeof head - 1) {
            ssize_t r = io_read(c, head + got, 1, deadline);   /* byte by byte: nothing after the head may be consumed */
            if (r <= 0) { conn_close(c); return fail(out, r == -2 ? CHTTP_E_TIMEOUT : CHTTP_E_CONNECT, "the proxy closed the tunnel"); }
            got++;
            if (got >= 4 && memcmp(head + got - 4, "\r\n\r\n", 4) == 0) break;
        }
        head[got] = 0;
        int status = 0;
        if (sscanf(head, "HTTP/1.%*d %d", &status) != 1 || status / 100 != 2) {
            conn_close(c);
            return fail(out, CHTTP_E_CONNECT, "the proxy refused the tunnel (%d)", status);
        }
    }
    if (u->tls) {
        int rc = tls_start(c, u->host, deadline, out);
        if (rc) { conn_close(c); return rc; }
    }
    return 0;
}

static int header_is(const char *line, size_t len, const char *name) {
    size_t n = strlen(name);
    return len > n && strncasecmp(line, name, n) == 0 && line[n] == ':';
}

static const char *header_value(const char *line, size_t len, const char *name, size_t *vlen) {
    const char *v = line + strlen(name) + 1;
    while (v < line + len && (*v == ' ' || *v == '\t')) v++;
    const char *end = line + len;
    while (end > v && (end[-1] == ' ' || end[-1] == '\t' || end[-1] == '\r')) end--;
    *vlen = (size_t)(end - v);
    return v;
}

static int idempotent(const char *m) {
    return !strcmp(m, "GET") || !strcmp(m, "HEAD") || !strcmp(m, "PUT") || !strcmp(m, "DELETE") || !strcmp(m, "OPTIONS");
}

/* A chunk-size line: 1 to 15 hex digits, then nothing, ';' extensions, or blanks. -1 when malformed. */
static long long chunk_size(const char *p, const char *eol) {
    long long v = 0;
    int digits = 0;
    for (; p < eol; p++, digits++) {
        int d = *p >= '0' && *p <= '9' ? *p - '0' : *p >= 'a' && *p <= 'f' ? *p - 'a' + 10 : *p >= 'A' && *p <= 'F' ? *p - 'A' + 10 : -1;
        if (d < 0) break;
        if (digits == 15) return -1;
        v = v * 16 + d;
    }
    if (digits == 0 || (p < eol && *p != ';' && *p != ' ' && *p != '\t')) return -1;
    return v;
}

/* One attempt on one connection. Returns 0, an error code, or -1 when a reused connection turned out
 * to be closed before any answer came (the request may be sent again on a new one). */
static int exchange(conn *c, const char *method, const url_parts *u, int via_proxy, const char *url,
                    const char *const *headers, size_t count, const void *body, size_t body_len,
                    long deadline, chttp_response *out, int *reusable) {
    buf req = {0};
    (void)url;
    int ipv6 = strchr(u->host, ':') != NULL;
    int default_port = (u->tls && u->port == 443) || (!u->tls && u->port == 80);
    char authority[300];
    if (default_port) snprintf(authority, sizeof authority, "%s%s%s", ipv6 ? "[" : "", u->host, ipv6 ? "]" : "");
    else snprintf(authority, sizeof authority, "%s%s%s:%d", ipv6 ? "[" : "", u->host, ipv6 ? "]" : "", u->port);
    /* Through a plain-HTTP proxy, the absolute form, built from the parsed parts (no fragment). */
    if (via_proxy && !u->tls) buf_printf(&req, "%s http://%s%s HTTP/1.1\r\n", method, authority, u->target);
    else buf_printf(&req, "%s %s HTTP/1.1\r\n", method, u->target);
    /* Host always comes from the URL: a caller's Host header is never sent. */
    buf_printf(&req, "Host: %s\r\n", authority);
    if (via_proxy && !u->tls) {
        proxy_parts p;
        if (proxy_for(u, &p) == 1 && p.auth[0]) buf_printf(&req, "Proxy-Authorization: Basic %s\r\n", p.auth);
    }
    for (size_t i = 0; i < count; i++) {
        const char *h = headers[i];
        const char *colon = strchr(h, ':');
        if (!colon || colon == h || colon[1] == 0) continue;       /* "Name:" alone: not sent */
        int token = 1;                                             /* a name is an RFC 9110 token */
        for (const char *q = h; q < colon; q++) if (!strchr("!#$%&'*+-.^_`|~", *q) && !isalnum((unsigned char)*q)) token = 0;
        if (!token) continue;
        int clean = 1;                                             /* never a header split in two */
        for (const char *q = colon + 1; *q; q++) if ((unsigned char)*q < 0x20 && *q != '\t') clean = 0;
        if (!clean) continue;
        size_t nlen = (size_t)(colon - h);
        if ((nlen == 14 && strncasecmp(h, "Content-Length", 14) == 0) || (nlen == 17 && strncasecmp(h, "Transfer-Encoding", 17) == 0)
            || (nlen == 4 && strncasecmp(h, "Host", 4) == 0) || (nlen == 10 && strncasecmp(h, "Connection", 10) == 0)) continue;
        buf_printf(&req, "%s\r\n", h);
    }
    int has_body = body && body_len > 0;
    if (has_body || strcmp(method, "POST") == 0 || strcmp(method, "PUT") == 0 || strcmp(method, "PATCH") == 0)
        buf_printf(&req, "Content-Length: %zu\r\n", has_body ? body_len : 0);
    buf_add(&req, "\r\n", 2);
    if (has_body) buf_add(&req, body, body_len);
    if (!req.data) return fail(out, CHTTP_E_SEND, "out of memory");
    int w = io_write(c, req.data, req.len, deadline);
    free(req.data);
    if (w == -2) return fail(out, CHTTP_E_TIMEOUT, "sending to %s timed out", u->host);
    if (w < 0) return c->reused && idempotent(method) ? -1 : fail(out, CHTTP_E_SEND, "sending to %s failed", u->host);

    buf in = {0};
    char chunk[16384];
    size_t head_end = 0;
    long status = 0;
    int head_only = strcmp(method, "HEAD") == 0;
    int got_any = 0;   /* any byte at all, 1xx included: the server has the request */
    while (1) {
        /* The head (skipping any 1xx interim answers). */
        while (1) {
            char *end = in.len >= 4 ? memmem(in.data, in.len, "\r\n\r\n", 4) : NULL;
            if (end) { head_end = (size_t)(end - in.data) + 4; break; }
            if (in.len > MAX_HEAD) { free(in.data); return fail(out, CHTTP_E_TOO_LARGE, "the answer's headers are too large"); }
            ssize_t r = io_read(c, chunk, sizeof chunk, deadline);
            if (r == -2) { free(in.data); return fail(out, CHTTP_E_TIMEOUT, "%s did not answer in time", u->host); }
            if (r <= 0) {
                int nothing = in.len == 0;
                free(in.data);
                if (!got_any && c->reused && idempotent(method)) return -1;
                return fail(out, nothing ? CHTTP_E_EMPTY : CHTTP_E_RECV, nothing ? "%s closed the connection without answering" : "%s broke off its answer", u->host);
            }
            got_any = 1;
            buf_add(&in, chunk, (size_t)r);
        }
        if (memchr(in.data, 0, head_end) != NULL) { free(in.data); return fail(out, CHTTP_E_PROTOCOL, "%s sent a NUL byte in its headers", u->host); }
        if (sscanf(in.data, "HTTP/1.%*d %ld", &status) != 1 || status < 100 || status > 999) {
            free(in.data);
            return fail(out, CHTTP_E_PROTOCOL, "%s did not answer in HTTP/1.x", u->host);
        }
        if (status >= 100 && status < 200) {       /* interim: drop it and read the real head */
            memmove(in.data, in.data + head_end, in.len - head_end);
            in.len -= head_end;
            continue;
        }
        break;
    }
    /* Headers that shape the body and the connection. */
    long long content_length = -1;
    int chunked = 0, close_after = 0, has_te = 0;
    for (const char *line = (const char *)memmem(in.data, head_end, "\r\n", 2) + 2; line < in.data + head_end - 2;) {
        const char *eol = memmem(line, (size_t)(in.data + head_end - line), "\r\n", 2);
        size_t len = (size_t)(eol - line), vlen;
        if (header_is(line, len, "Content-Length")) {
            const char *v = header_value(line, len, "Content-Length", &vlen);
            long long parsed = 0;
            int ok = vlen > 0 && vlen <= 18;
            for (size_t i = 0; ok && i < vlen; i++) { if (v[i] < '0' || v[i] > '9') ok = 0; else parsed = parsed * 10 + (v[i] - '0'); }
            if (!ok) { free(in.data); return fail(out, CHTTP_E_PROTOCOL, "a malformed Content-Length"); }
            if (content_length >= 0 && content_length != parsed) { free(in.data); return fail(out, CHTTP_E_PROTOCOL, "two different Content-Lengths"); }
            content_length = parsed;
        } else if (header_is(line, len, "Transfer-Encoding")) {
            /* Chunked when it is the last coding; any other last coding: delimited by the close. */
            const char *v = header_value(line, len, "Transfer-Encoding", &vlen);
            const char *last = v;
            for (const char *q = v; q < v + vlen; q++) if (*q == ',') last = q + 1;
            while (last < v + vlen && (*last == ' ' || *last == '\t')) last++;
            has_te = 1;
            chunked = (size_t)(v + vlen - last) == 7 && strncasecmp(last, "chunked", 7) == 0;
        } else if (header_is(line, len, "Connection")) {
            const char *v = header_value(line, len, "Connection", &vlen);
            const char *q = v, *end = v + vlen;
            while (q < end) {
                while (q < end && (*q == ' ' || *q == '\t' || *q == ',')) q++;
                const char *tok = q;
                while (q < end && *q != ',' && *q != ' ' && *q != '\t') q++;
                if (q - tok == 5 && strncasecmp(tok, "close", 5) == 0) close_after = 1;
            }
        }
        line = eol + 2;
    }
    if (has_te) {
        content_length = -1;                 /* Transfer-Encoding wins over Content-Length */
        if (!chunked) close_after = 1;
    }
    if (strncmp(in.data, "HTTP/1.0", 8) == 0) close_after = 1;
    out->status = status;
    out->headers = malloc(head_end + 1);
    if (!out->headers) { free(in.data); return fail(out, CHTTP_E_RECV, "out of memory"); }
    memcpy(out->headers, in.data, head_end);
    out->headers[head_end] = 0;
    out->headers_len = head_end;

    buf bodybuf = {0};
    size_t have = in.len - head_end;
    const char *rest = in.data + head_end;
    int no_body = head_only || status == 204 || status == 304;
    int rc = 0;
    if (no_body) {
        /* nothing */
    } else if (chunked) {
        buf raw = {0};
        buf_add(&raw, rest, have);
        size_t pos = 0;
        while (1) {
            char *eol = raw.len > pos ? memmem(raw.data + pos, raw.len - pos, "\r\n", 2) : NULL;
            if (!eol && raw.len > pos + 1024) { rc = fail(out, CHTTP_E_PROTOCOL, "a chunk-size line over 1 KiB"); break; }
            if (!eol) {
                ssize_t r = io_read(c, chunk, sizeof chunk, deadline);
                if (r <= 0) { rc = fail(out, r == -2 ? CHTTP_E_TIMEOUT : CHTTP_E_RECV, "the chunked answer broke off"); break; }
                buf_add(&raw, chunk, (size_t)r);
                continue;
            }
            long long parsed = chunk_size(raw.data + pos, eol);
            if (parsed < 0) { rc = fail(out, CHTTP_E_PROTOCOL, "a malformed chunk size"); break; }
            unsigned long long size = (unsigned long long)parsed;
            size_t after = (size_t)(eol - raw.data) + 2;
            if (size == 0) {
                /* Trailers, then the blank line. */
                while (!(raw.len >= after + 2 && memmem(raw.data + after - 2, raw.len - after + 2, "\r\n\r\n", 4))) {
                    if (raw.len - after > MAX_HEAD) { rc = fail(out, CHTTP_E_TOO_LARGE, "the answer's trailers are too large"); break; }
                    ssize_t r = io_read(c, chunk, sizeof chunk, deadline);
                    if (r <= 0) { close_after = 1; break; }
                    buf_add(&raw, chunk, (size_t)r);
                }
                break;
            }
            if (size > MAX_BODY - bodybuf.len) { rc = fail(out, CHTTP_E_TOO_LARGE, "the answer is larger than 64 MiB"); break; }
            while (raw.len < after + size + 2) {
                ssize_t r = io_read(c, chunk, sizeof chunk, deadline);
                if (r <= 0) { rc = fail(out, r == -2 ? CHTTP_E_TIMEOUT : CHTTP_E_RECV, "the chunked answer broke off"); break; }
                buf_add(&raw, chunk, (size_t)r);
            }
            if (rc) break;
            if (memcmp(raw.data + after + size, "\r\n", 2) != 0) { rc = fail(out, CHTTP_E_PROTOCOL, "a chunk not followed by CRLF"); break; }
            buf_add(&bodybuf, raw.data + after, (size_t)size);
            pos = after + (size_t)size + 2;
        }
        free(raw.data);
    } else if (content_length >= 0) {
        if ((unsigned long long)content_length > MAX_BODY) rc = fail(out, CHTTP_E_TOO_LARGE, "the answer is larger than 64 MiB");
        else {
            buf_add(&bodybuf, rest, have > (size_t)content_length ? (size_t)content_length : have);
            while (bodybuf.len < (size_t)content_length) {
                ssize_t r = io_read(c, chunk, sizeof chunk, deadline);
                if (r <= 0) { rc = fail(out, r == -2 ? CHTTP_E_TIMEOUT : CHTTP_E_RECV, "the answer broke off"); break; }
                size_t want = (size_t)content_length - bodybuf.len;
                buf_add(&bodybuf, chunk, (size_t)r < want ? (size_t)r : want);
            }
        }
    } else {
        /* Delimited by the end of the connection. */
        close_after = 1;
        buf_add(&bodybuf, rest, have);
        while (1) {
            ssize_t r = io_read(c, chunk, sizeof chunk, deadline);
            if (r == 0) break;
            if (r < 0) { rc = fail(out, r == -2 ? CHTTP_E_TIMEOUT : CHTTP_E_RECV, "the answer broke off"); break; }
            if (bodybuf.len + (size_t)r > MAX_BODY) { rc = fail(out, CHTTP_E_TOO_LARGE, "the answer is larger than 64 MiB"); break; }
            buf_add(&bodybuf, chunk, (size_t)r);
        }
    }
    free(in.data);
    if (rc) { free(bodybuf.data); free(out->headers); out->headers = NULL; out->headers_len = 0; out->status = 0; return rc; }
    out->body = bodybuf.data;
    out->body_len = bodybuf.len;
    *reusable = !close_after;
    return 0;
}

int chttp_perform(const char *method, const char *url, const char *const *headers, size_t count,
                  const void *body, size_t body_len, long timeout_ms, long connect_timeout_ms, chttp_response *out) {
    memset(out, 0, sizeof *out);
    url_parts u;
    int pu = parse_url(url, &u);
    if (pu) return fail(out, pu, pu == CHTTP_E_UNSUPPORTED ? "only http and https URLs are fetched" : "the URL is malformed");
    if (!method || !*method || strpbrk(method, " \r\n")) return fail(out, CHTTP_E_URL, "the method is malformed");
    if (strpbrk(u.target, " \r\n")) return fail(out, CHTTP_E_URL, "the URL is malformed");
    long now = chttp_now_ms();
    long deadline = timeout_ms > 0 ? now + timeout_ms : now + 24L * 3600 * 1000;
    long connect_deadline = connect_timeout_ms > 0 ? now + connect_timeout_ms : deadline;
    for (int attempt = 0; attempt < 2; attempt++) {
        conn c = { .fd = -1 };
        int via_proxy = 0;
        int rc = open_conn(&u, &c, connect_deadline, deadline, out, &via_proxy);
        if (rc) return rc;
        int reusable = 0;
        rc = exchange(&c, method, &u, via_proxy, url, headers, count, body, body_len, deadline, out, &reusable);
        if (rc == -1) { conn_close(&c); memset(out, 0, sizeof *out); continue; }   /* a stale kept-alive connection */
        if (rc == 0 && reusable) give_back(&c); else conn_close(&c);
        return rc;
    }
    return fail(out, CHTTP_E_EMPTY, "%s closed the connection without answering", u.host);
}

void chttp_response_free(chttp_response *r) {
    free(r->body); free(r->headers);
    r->body = NULL; r->headers = NULL;
}

int chttp_pipe_cloexec(int fds[2]) { return pipe2(fds, O_CLOEXEC); }

int chttp_resolve_for_test(const char *host, char *out, size_t out_len, long timeout_ms) {
    chttp_addr addrs[16];
    char err[256];
    if (out_len == 0) return -1;
    out[0] = 0;
    int n = chttp_dns_resolve(host, addrs, 16, chttp_now_ms() + timeout_ms, err, sizeof err);
    size_t used = 0;
    for (int i = 0; i < n; i++) {
        char text[64];
        inet_ntop(addrs[i].family, addrs[i].addr, text, sizeof text);
        size_t len = strlen(text);
        if (used + len + 2 > out_len) return i;
        memcpy(out + used, text, len);
        used += len;
        out[used++] = '\n';
        out[used] = 0;
    }
    return n;
}
