/* libFuzzer over the HTTP client's reading of an answer: the input is everything a server sends on one
 * connection (head, body, chunks, trailers), delivered through a socketpair and then closed. */
#include "../../Sources/CHTTP/chttp.c"
#include <sys/socket.h>

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size) {
    if (size < 1 || size > (1 << 20)) return 0;
    int sv[2];
    if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) != 0) return 0;
    int space = 1 << 21;
    setsockopt(sv[1], SOL_SOCKET, SO_SNDBUF, &space, sizeof space);
    setsockopt(sv[0], SOL_SOCKET, SO_RCVBUF, &space, sizeof space);
    /* The first byte picks the request: GET, HEAD or POST, on a fresh or a reused connection. */
    const char *method = data[0] % 3 == 0 ? "GET" : data[0] % 3 == 1 ? "HEAD" : "POST";
    size_t sent = 1;
    while (sent < size) {
        ssize_t w = write(sv[1], data + sent, size - sent);
        if (w <= 0) break;
        sent += (size_t)w;
    }
    shutdown(sv[1], SHUT_WR);
    fcntl(sv[0], F_SETFL, O_NONBLOCK);
    conn c = { .fd = sv[0], .ssl = NULL, .reused = (data[0] >> 2) & 1 };
    url_parts u;
    parse_url("http://api.example.test/repos/a/b", &u);
    chttp_response out;
    memset(&out, 0, sizeof out);
    int reusable = 0;
    const char *headers[] = { "Accept: application/json" };
    int rc = exchange(&c, method, &u, 0, "http://api.example.test/repos/a/b", headers, 1, "{}", 2,
                      chttp_now_ms() + 1000, &out, &reusable);
    if (rc == 0) chttp_response_free(&out);
    close(sv[0]);
    close(sv[1]);
    return 0;
}
