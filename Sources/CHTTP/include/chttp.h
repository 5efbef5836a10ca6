#ifndef CHTTP_H
#define CHTTP_H
#include <stddef.h>

/* A small HTTP/1.1 client: its own DNS stub resolver (no NSS, so no shared library is ever loaded),
 * OpenSSL for TLS (linked statically into release builds), HTTP CONNECT proxies, and one kept-alive
 * connection per origin for the process. Synchronous; every step is bounded by the request's timeout. */

/// The result of one exchange. `body` and `headers` are malloc'd; free with chttp_response_free.
typedef struct {
    long status;
    char *body;
    size_t body_len;
    char *headers;       /* raw header block of the final response, CRLF separated */
    size_t headers_len;
    int code;            /* 0 on success, else one of the CHTTP_E codes below */
    char error[256];     /* what went wrong when code != 0 */
} chttp_response;

/* Error codes, numbered like libcurl's for the same conditions. */
enum {
    CHTTP_OK = 0,
    CHTTP_E_UNSUPPORTED = 1,   /* not http or https */
    CHTTP_E_URL = 3,           /* malformed URL */
    CHTTP_E_PROXY_RESOLVE = 5,
    CHTTP_E_RESOLVE = 6,
    CHTTP_E_CONNECT = 7,
    CHTTP_E_TOO_LARGE = 27,    /* an answer over the size limits */
    CHTTP_E_TIMEOUT = 28,
    CHTTP_E_TLS = 35,          /* handshake failed */
    CHTTP_E_EMPTY = 52,        /* the server closed without answering */
    CHTTP_E_SEND = 55,
    CHTTP_E_RECV = 56,
    CHTTP_E_CERT = 60,         /* the certificate did not verify */
    CHTTP_E_PROTOCOL = 8,      /* an answer that is not HTTP/1.x */
};

/// Performs one request. `headers` holds `count` "Name: value" strings. `timeout_ms` bounds the whole
/// exchange (0: none); `connect_timeout_ms` the connection. Returns the response's code.
int chttp_perform(const char *method, const char *url,
                  const char *const *headers, size_t count,
                  const void *body, size_t body_len,
                  long timeout_ms, long connect_timeout_ms,
                  chttp_response *out);

void chttp_response_free(chttp_response *response);

/// Closes kept-alive connections (tests; the process's exit does it otherwise).
void chttp_close_idle(void);

/// pipe2(fds, O_CLOEXEC): both ends close on exec.
int chttp_pipe_cloexec(int fds[2]);

/// Resolves `host` the way chttp does (hosts file, then DNS), for tests: writes up to 16 addresses into
/// `out` as text, one per line. Returns how many, or -1.
int chttp_resolve_for_test(const char *host, char *out, size_t out_len, long timeout_ms);

#endif
