/* A DNS stub resolver: the hosts file, then A and AAAA queries over UDP (TCP when truncated) to the
 * nameservers of resolv.conf, with its search list, ndots, timeout and attempts. It exists so that a
 * fully static binary never asks glibc's NSS, which would load a shared library (and with it a second
 * C library) for any nsswitch.conf entry beyond files and dns. */
#define _GNU_SOURCE
#include "dns.h"
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define MAX_NS 3
#define MAX_SEARCH 6
#define NAME_MAX_LEN 254

long chttp_now_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int literal(const char *host, chttp_addr *out) {
    if (inet_pton(AF_INET, host, out->addr) == 1) { out->family = AF_INET; return 1; }
    if (inet_pton(AF_INET6, host, out->addr) == 1) { out->family = AF_INET6; return 1; }
    return 0;
}

static void strip_dot(char *name) {
    size_t n = strlen(name);
    if (n > 1 && name[n - 1] == '.') name[n - 1] = 0;
}

/* The hosts file: every address listed for `host` (case-insensitive). */
static int from_hosts(const char *host, chttp_addr *out, int max) {
    const char *path = getenv("SWITCHYARD_HOSTS_FILE");
    FILE *f = fopen(path && *path ? path : "/etc/hosts", "re");
    if (!f) return 0;
    char line[1024], want[NAME_MAX_LEN + 1];
    snprintf(want, sizeof want, "%s", host);
    strip_dot(want);
    int n = 0;
    while (n < max && fgets(line, sizeof line, f)) {
        char *hash = strchr(line, '#');
        if (hash) *hash = 0;
        char *save = NULL, *addr = strtok_r(line, " \t\r\n", &save);
        if (!addr) continue;
        chttp_addr a;
        if (!literal(addr, &a)) continue;
        for (char *name = strtok_r(NULL, " \t\r\n", &save); name; name = strtok_r(NULL, " \t\r\n", &save)) {
            if (strcasecmp(name, want) == 0) { out[n++] = a; break; }
        }
    }
    fclose(f);
    return n;
}

typedef struct {
    chttp_addr ns[MAX_NS];
    int nns;
    char search[MAX_SEARCH][NAME_MAX_LEN + 1];
    int nsearch;
    int ndots, timeout_s, attempts, port;
} resolv_conf;

static void read_conf(resolv_conf *c) {
    memset(c, 0, sizeof *c);
    c->ndots = 1; c->timeout_s = 5; c->attempts = 2; c->port = 53;
    const char *port = getenv("SWITCHYARD_DNS_PORT");
    if (port && atoi(port) > 0 && atoi(port) < 65536) c->port = atoi(port);
    const char *path = getenv("SWITCHYARD_RESOLV_CONF");
    FILE *f = fopen(path && *path ? path : "/etc/resolv.conf", "re");
    char line[1024];
    while (f && fgets(line, sizeof line, f)) {
        char *save = NULL, *key = strtok_r(line, " \t\r\n", &save);
        if (!key || key[0] == '#' || key[0] == ';') continue;
        if (strcmp(key, "nameserver") == 0) {
            char *v = strtok_r(NULL, " \t\r\n", &save);
            char *pct = v ? strchr(v, '%') : NULL;   /* fe80::1%eth0: the zone is dropped */
            if (pct) *pct = 0;
            if (v && c->nns < MAX_NS && literal(v, &c->ns[c->nns])) c->nns++;
        } else if (strcmp(key, "search") == 0 || strcmp(key, "domain") == 0) {
            c->nsearch = 0;
            for (char *d = strtok_r(NULL, " \t\r\n", &save); d && c->nsearch < MAX_SEARCH; d = strtok_r(NULL, " \t\r\n", &save)) {
                snprintf(c->search[c->nsearch], NAME_MAX_LEN + 1, "%s", d);
                strip_dot(c->search[c->nsearch]);
                c->nsearch++;
            }
        } else if (strcmp(key, "options") == 0) {
            for (char *o = strtok_r(NULL, " \t\r\n", &save); o; o = strtok_r(NULL, " \t\r\n", &save)) {
                if (strncmp(o, "ndots:", 6) == 0) { int v = atoi(o + 6); c->ndots = v < 0 ? 0 : v > 15 ? 15 : v; }
                else if (strncmp(o, "timeout:", 8) == 0) { int v = atoi(o + 8); c->timeout_s = v < 1 ? 1 : v > 30 ? 30 : v; }
                else if (strncmp(o, "attempts:", 9) == 0) { int v = atoi(o + 9); c->attempts = v < 1 ? 1 : v > 5 ? 5 : v; }
            }
        }
    }
    if (f) fclose(f);
    const char *local = getenv("LOCALDOMAIN");   /* as glibc: overrides the search list */
    if (local && *local) {
        char copy[1024];
        snprintf(copy, sizeof copy, "%s", local);
        c->nsearch = 0;
        char *save = NULL;
        for (char *d = strtok_r(copy, " \t", &save); d && c->nsearch < MAX_SEARCH; d = strtok_r(NULL, " \t", &save)) {
            snprintf(c->search[c->nsearch], NAME_MAX_LEN + 1, "%s", d);
            strip_dot(c->search[c->nsearch]);
            c->nsearch++;
        }
    }
    if (c->nns == 0) { literal("127.0.0.1", &c->ns[0]); c->nns = 1; }
}

/* Encodes a query for `name` of `type`; returns its length or -1. */
static int encode_query(unsigned char *buf, size_t cap, unsigned short id, const char *name, unsigned short type) {
    if (cap < 12 + NAME_MAX_LEN + 6) return -1;
    memset(buf, 0, 12);
    buf[0] = id >> 8; buf[1] = id & 0xff;
    buf[2] = 0x01;                      /* recursion desired */
    buf[5] = 1;                         /* one question */
    size_t p = 12;
    const char *label = name;
    while (*label) {
        const char *dot = strchr(label, '.');
        size_t len = dot ? (size_t)(dot - label) : strlen(label);
        if (len == 0 || len > 63 || p + len + 1 >= cap - 5) return -1;
        buf[p++] = (unsigned char)len;
        memcpy(buf + p, label, len);
        p += len;
        label += len;
        if (*label == '.') label++;
    }
    buf[p++] = 0;
    buf[p++] = type >> 8; buf[p++] = type & 0xff;
    buf[p++] = 0; buf[p++] = 1;         /* class IN */
    return (int)p;
}

/* Reads a (possibly compressed) name at *pos into out; advances *pos past it. */
static int read_name(const unsigned char *msg, size_t len, size_t *pos, char *out, size_t cap) {
    size_t p = *pos, o = 0;
    int jumped = 0, hops = 0;
    while (1) {
        if (p >= len) return -1;
        unsigned char l = msg[p];
        if ((l & 0xc0) == 0xc0) {
            if (p + 1 >= len || ++hops > 16) return -1;
            size_t target = ((size_t)(l & 0x3f) << 8) | msg[p + 1];
            if (!jumped) *pos = p + 2;
            jumped = 1;
            p = target;
            continue;
        }
        if (l & 0xc0) return -1;
        if (l == 0) { if (!jumped) *pos = p + 1; break; }
        if (p + 1 + l > len || o + l + 2 > cap) return -1;
        if (o) out[o++] = '.';
        memcpy(out + o, msg + p + 1, l);
        o += l;
        p += 1 + l;
    }
    out[o] = 0;
    return 0;
}

/* Parses an answer: addresses of `type` for `name`, following CNAMEs. Returns the count, -1 on a
 * malformed answer, -2 for NXDOMAIN, -3 for a server failure or refusal, -4 when truncated. */
static int parse_answer(const unsigned char *msg, size_t len, unsigned short id, const char *name, unsigned short type,
                        chttp_addr *out, int max) {
    if (len < 12 || ((msg[0] << 8) | msg[1]) != id || !(msg[2] & 0x80)) return -1;
    if (msg[2] & 0x02) return -4;
    int rcode = msg[3] & 0x0f;
    if (rcode == 3) return -2;
    if (rcode != 0) return -3;
    int qd = (msg[4] << 8) | msg[5], an = (msg[6] << 8) | msg[7];
    size_t p = 12;
    char buf[NAME_MAX_LEN + 1], target[NAME_MAX_LEN + 1];
    snprintf(target, sizeof target, "%s", name);
    for (int i = 0; i < qd; i++) {
        if (read_name(msg, len, &p, buf, sizeof buf) < 0 || p + 4 > len) return -1;
        p += 4;
    }
    int n = 0;
    for (int i = 0; i < an; i++) {
        if (read_name(msg, len, &p, buf, sizeof buf) < 0 || p + 10 > len) return -1;
        unsigned short rtype = (msg[p] << 8) | msg[p + 1];
        unsigned short rclass = (msg[p + 2] << 8) | msg[p + 3];
        unsigned short rdlen = (msg[p + 8] << 8) | msg[p + 9];
        p += 10;
        if (p + rdlen > len) return -1;
        if (rclass == 1 && strcasecmp(buf, target) == 0) {
            if (rtype == 5) {   /* CNAME: the chain goes on under the new name */
                size_t q = p;
                if (read_name(msg, len, &q, target, sizeof target) < 0) return -1;
            } else if (rtype == type && n < max) {
                if (type == 1 && rdlen == 4) { out[n].family = AF_INET; memcpy(out[n].addr, msg + p, 4); n++; }
                if (type == 28 && rdlen == 16) { out[n].family = AF_INET6; memcpy(out[n].addr, msg + p, 16); n++; }
            }
        }
        p += rdlen;
    }
    return n;
}

static socklen_t sockaddr_for(const chttp_addr *a, int port, struct sockaddr_storage *ss) {
    memset(ss, 0, sizeof *ss);
    if (a->family == AF_INET) {
        struct sockaddr_in *s = (struct sockaddr_in *)ss;
        s->sin_family = AF_INET; s->sin_port = htons((unsigned short)port);
        memcpy(&s->sin_addr, a->addr, 4);
        return sizeof *s;
    }
    struct sockaddr_in6 *s = (struct sockaddr_in6 *)ss;
    s->sin6_family = AF_INET6; s->sin6_port = htons((unsigned short)port);
    memcpy(&s->sin6_addr, a->addr, 16);
    return sizeof *s;
}

/* One exchange over TCP (after a truncated UDP answer). Returns the answer's length or -1. */
static int query_tcp(const chttp_addr *ns, int port, const unsigned char *q, int qlen, unsigned char *ans, size_t cap, long until) {
    struct sockaddr_storage ss;
    socklen_t sl = sockaddr_for(ns, port, &ss);
    int fd = socket(ns->family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    if (fd < 0) return -1;
    int rc = connect(fd, (struct sockaddr *)&ss, sl);
    if (rc < 0 && errno != EINPROGRESS) { close(fd); return -1; }
    unsigned char framed[2 + 512];
    if (qlen > 512) { close(fd); return -1; }
    framed[0] = qlen >> 8; framed[1] = qlen & 0xff;
    memcpy(framed + 2, q, (size_t)qlen);
    size_t sent = 0, got = 0, need = 0;
    unsigned char lenbuf[2];
    while (1) {
        long left = until - chttp_now_ms();
        if (left <= 0) { close(fd); return -1; }
        struct pollfd pfd = { fd, (short)(sent < (size_t)qlen + 2 ? POLLOUT : POLLIN), 0 };
        if (poll(&pfd, 1, (int)left) <= 0) continue;
        if (sent < (size_t)qlen + 2) {
            ssize_t w = send(fd, framed + sent, (size_t)qlen + 2 - sent, MSG_NOSIGNAL);
            if (w < 0 && errno != EAGAIN) { close(fd); return -1; }
            if (w > 0) sent += (size_t)w;
            continue;
        }
        if (got < 2) {
            ssize_t r = recv(fd, lenbuf + got, 2 - got, 0);
            if (r <= 0) { if (r < 0 && errno == EAGAIN) continue; close(fd); return -1; }
            got += (size_t)r;
            if (got == 2) { need = ((size_t)lenbuf[0] << 8) | lenbuf[1]; if (need > cap) { close(fd); return -1; } }
            continue;
        }
        ssize_t r = recv(fd, ans + (got - 2), need - (got - 2), 0);
        if (r <= 0) { if (r < 0 && errno == EAGAIN) continue; close(fd); return -1; }
        got += (size_t)r;
        if (got - 2 == need) { close(fd); return (int)need; }
    }
}

/* Asks the nameservers for `name` of `type`. Returns as parse_answer does, or -5 when none answered. */
static int query(const resolv_conf *c, const char *name, unsigned short type, chttp_addr *out, int max, long deadline) {
    unsigned char q[512], ans[4096];
    unsigned short id;
    if (getrandom(&id, sizeof id, 0) != sizeof id) id = (unsigned short)(chttp_now_ms() ^ getpid());
    int qlen = encode_query(q, sizeof q, id, name, type);
    if (qlen < 0) return -1;
    int last = -5;
    for (int attempt = 0; attempt < c->attempts; attempt++) {
        for (int i = 0; i < c->nns; i++) {
            long now = chttp_now_ms();
            if (now >= deadline) return last;
            long until = now + (long)c->timeout_s * 1000;
            if (until > deadline) until = deadline;
            struct sockaddr_storage ss;
            socklen_t sl = sockaddr_for(&c->ns[i], c->port, &ss);
            int fd = socket(c->ns[i].family, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
            if (fd < 0) continue;
            if (connect(fd, (struct sockaddr *)&ss, sl) < 0 || send(fd, q, (size_t)qlen, 0) != qlen) { close(fd); continue; }
            while (1) {
                long left = until - chttp_now_ms();
                if (left <= 0) break;
                struct pollfd pfd = { fd, POLLIN, 0 };
                if (poll(&pfd, 1, (int)left) <= 0) break;
                ssize_t r = recv(fd, ans, sizeof ans, 0);
                if (r < 0) break;
                int n = parse_answer(ans, (size_t)r, id, name, type, out, max);
                if (n == -1) continue;          /* not our answer: keep listening */
                if (n == -4) {                  /* truncated: the same question over TCP */
                    int t = query_tcp(&c->ns[i], c->port, q, qlen, ans, sizeof ans, until);
                    n = t > 0 ? parse_answer(ans, (size_t)t, id, name, type, out, max) : -3;
                }
                close(fd);
                if (n >= 0 || n == -2) return n;
                last = n;
                goto next;
            }
            close(fd);
        next:;
        }
    }
    return last;
}

int chttp_dns_resolve(const char *host, chttp_addr *out, int max, long deadline, char *err, size_t errlen) {
    if (!host || !*host || strlen(host) > NAME_MAX_LEN || max <= 0) { snprintf(err, errlen, "no host to resolve"); return -1; }
    if (literal(host, out)) return 1;
    int n = from_hosts(host, out, max);
    if (n > 0) return n;
    resolv_conf c;
    read_conf(&c);
    char name[NAME_MAX_LEN + 1];
    snprintf(name, sizeof name, "%s", host);
    int absolute = name[strlen(name) - 1] == '.';
    strip_dot(name);
    int dots = 0;
    for (const char *p = name; *p; p++) dots += *p == '.';
    /* The names to try, in glibc's order: as given first when it has ndots dots or more. */
    char tries[MAX_SEARCH + 1][NAME_MAX_LEN + 1];
    int ntries = 0;
    if (absolute || dots >= c.ndots) snprintf(tries[ntries++], NAME_MAX_LEN + 1, "%s", name);
    if (!absolute) {
        for (int i = 0; i < c.nsearch; i++) {
            if (strlen(name) + strlen(c.search[i]) + 1 > NAME_MAX_LEN) continue;
            snprintf(tries[ntries++], NAME_MAX_LEN + 1, "%s.%s", name, c.search[i]);
        }
        if (dots < c.ndots) snprintf(tries[ntries++], NAME_MAX_LEN + 1, "%s", name);
    }
    int failed = 0;
    for (int t = 0; t < ntries; t++) {
        int got = 0, nx = 0;
        for (int k = 0; k < 2 && got < max; k++) {
            /* Once A answered, AAAA gets a short wait: a server that drops AAAA questions must not
             * cost its whole timeout when an address is already known. */
            long until = deadline;
            if (k == 1 && got > 0 && chttp_now_ms() + 500 < deadline) until = chttp_now_ms() + 500;
            int r = query(&c, tries[t], k == 0 ? 1 : 28, out + got, max - got, until);
            if (r > 0) got += r;
            else if (r == -2) nx++;
            else if (r != 0) failed++;
        }
        if (got > 0) return got;
        (void)nx;
        if (chttp_now_ms() >= deadline) break;
    }
    snprintf(err, errlen, failed ? "could not resolve %s (no nameserver answered)" : "could not resolve %s", host);
    return -1;
}
