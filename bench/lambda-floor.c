/* The floor for a warm Lambda invocation: the Runtime API loop in C with libcurl, doing only what
 * any runtime must (GET the next event, POST a fixed response), with no decoding at all.
 * Build: cc -O2 -o lambda-floor bench/lambda-floor.c -lcurl; run with AWS_LAMBDA_RUNTIME_API set. */
#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

struct buf { char *data; size_t len; };
static char request_id[256];

static size_t body(char *p, size_t s, size_t n, void *u) {
    struct buf *b = u;
    b->data = realloc(b->data, b->len + s * n + 1);
    memcpy(b->data + b->len, p, s * n);
    b->len += s * n;
    b->data[b->len] = 0;
    return s * n;
}

static size_t header(char *p, size_t s, size_t n, void *u) {
    (void)u;
    const char *key = "lambda-runtime-aws-request-id:";
    if (s * n > strlen(key) && strncasecmp(p, key, strlen(key)) == 0) {
        size_t i = strlen(key), j = 0;
        while (i < s * n && p[i] == ' ') i++;
        while (i < s * n && p[i] != '\r' && p[i] != '\n' && j < sizeof request_id - 1) request_id[j++] = p[i++];
        request_id[j] = 0;
    }
    return s * n;
}

int main(void) {
    const char *api = getenv("AWS_LAMBDA_RUNTIME_API");
    if (!api) return 2;
    char next[512], url[1024];
    snprintf(next, sizeof next, "http://%s/2018-06-01/runtime/invocation/next", api);
    CURL *c = curl_easy_init();
    const char *response = "{\"statusCode\":200,\"body\":\"ok\"}";
    for (;;) {
        struct buf b = {0};
        curl_easy_reset(c);
        curl_easy_setopt(c, CURLOPT_URL, next);
        curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, body);
        curl_easy_setopt(c, CURLOPT_WRITEDATA, &b);
        curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, header);
        if (curl_easy_perform(c) != CURLE_OK) return 1;
        free(b.data);
        snprintf(url, sizeof url, "http://%s/2018-06-01/runtime/invocation/%s/response", api, request_id);
        curl_easy_reset(c);
        curl_easy_setopt(c, CURLOPT_URL, url);
        curl_easy_setopt(c, CURLOPT_POSTFIELDS, response);
        struct buf ignored = {0};
        curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, body);
        curl_easy_setopt(c, CURLOPT_WRITEDATA, &ignored);
        if (curl_easy_perform(c) != CURLE_OK) return 1;
        free(ignored.data);
    }
}
