#ifndef CCURL_H
#define CCURL_H
#include <stddef.h>

/// The result of one HTTP exchange. `body` and `headers` are malloc'd; free with ccurl_response_free.
typedef struct {
    long status;
    char *body;
    size_t body_len;
    char *headers;       /* raw header block of the final response, CRLF separated */
    size_t headers_len;
    int curl_code;       /* 0 on success, else a CURLcode */
    char error[256];     /* curl's error text when curl_code != 0 */
} ccurl_response;

/// Performs one request synchronously. `headers` holds `count` "Name: value" strings.
/// `timeout_ms` of 0 means no overall timeout. Returns curl_code.
int ccurl_perform(const char *method, const char *url,
                  const char *const *headers, size_t count,
                  const void *body, size_t body_len,
                  long timeout_ms, long connect_timeout_ms,
                  ccurl_response *out);

void ccurl_response_free(ccurl_response *response);

/// pipe2(fds, O_CLOEXEC): both ends close on exec.
int ccurl_pipe_cloexec(int fds[2]);

#endif
