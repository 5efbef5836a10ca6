#define _GNU_SOURCE
#include <fcntl.h>
#include <unistd.h>
#include "ccurl.h"
#include <curl/curl.h>
#include <dlfcn.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

/* libcurl is loaded on the first request, not at start-up: an event that needs no network call
 * never pays for loading libcurl and its ~30 shared libraries. */
static struct {
    CURLcode (*global_init)(long);
    CURL *(*easy_init)(void);
    CURLcode (*easy_setopt)(CURL *, CURLoption, ...);
    CURLcode (*easy_perform)(CURL *);
    CURLcode (*easy_getinfo)(CURL *, CURLINFO, ...);
    const char *(*easy_strerror)(CURLcode);
    void (*easy_cleanup)(CURL *);
    struct curl_slist *(*slist_append)(struct curl_slist *, const char *);
    void (*slist_free_all)(struct curl_slist *);
} lib;
static pthread_once_t once = PTHREAD_ONCE_INIT;
static int loaded = 0;

static void load(void) {
    void *h = dlopen("libcurl.so.4", RTLD_NOW | RTLD_LOCAL);
    if (!h) h = dlopen("libcurl.so", RTLD_NOW | RTLD_LOCAL);
    if (!h) return;
#define SYM(field, name) if (!(*(void **)&lib.field = dlsym(h, name))) return;
    SYM(global_init, "curl_global_init")
    SYM(easy_init, "curl_easy_init")
    SYM(easy_setopt, "curl_easy_setopt")
    SYM(easy_perform, "curl_easy_perform")
    SYM(easy_getinfo, "curl_easy_getinfo")
    SYM(easy_strerror, "curl_easy_strerror")
    SYM(easy_cleanup, "curl_easy_cleanup")
    SYM(slist_append, "curl_slist_append")
    SYM(slist_free_all, "curl_slist_free_all")
#undef SYM
    lib.global_init(CURL_GLOBAL_DEFAULT);
    loaded = 1;
}

#undef curl_easy_setopt
#undef curl_easy_getinfo
#define curl_easy_init lib.easy_init
#define curl_easy_setopt lib.easy_setopt
#define curl_easy_perform lib.easy_perform
#define curl_easy_getinfo lib.easy_getinfo
#define curl_easy_strerror lib.easy_strerror
#define curl_easy_cleanup lib.easy_cleanup
#define curl_slist_append lib.slist_append
#define curl_slist_free_all lib.slist_free_all

typedef struct { char *data; size_t len; size_t cap; size_t limit; } buffer;

static size_t append(buffer *b, const char *src, size_t n) {
    if (b->limit && b->len + n > b->limit) return 0; /* abort oversized answers */
    if (b->len + n + 1 > b->cap) {
        size_t cap = b->cap ? b->cap : 4096;
        while (cap < b->len + n + 1) cap *= 2;
        char *p = realloc(b->data, cap);
        if (!p) return 0;
        b->data = p; b->cap = cap;
    }
    memcpy(b->data + b->len, src, n);
    b->len += n;
    b->data[b->len] = 0;
    return n;
}

static size_t on_body(char *ptr, size_t size, size_t nmemb, void *userdata) {
    return append((buffer *)userdata, ptr, size * nmemb);
}

static size_t on_header(char *ptr, size_t size, size_t nmemb, void *userdata) {
    buffer *b = (buffer *)userdata;
    size_t n = size * nmemb;
    /* A new status line starts a new response (after 100-continue or a redirect): keep the last one. */
    if (n >= 5 && strncmp(ptr, "HTTP/", 5) == 0) b->len = 0;
    return append(b, ptr, n);
}

int ccurl_perform(const char *method, const char *url,
                  const char *const *headers, size_t count,
                  const void *body, size_t body_len,
                  long timeout_ms, long connect_timeout_ms,
                  ccurl_response *out) {
    memset(out, 0, sizeof(*out));
    pthread_once(&once, load);
    if (!loaded) {
        out->curl_code = CURLE_FAILED_INIT;
        strcpy(out->error, "libcurl.so.4 could not be loaded; install libcurl4");
        return out->curl_code;
    }
    CURL *curl = curl_easy_init();
    if (!curl) { out->curl_code = CURLE_FAILED_INIT; strcpy(out->error, "curl_easy_init failed"); return out->curl_code; }
    buffer bodybuf = {0}, headbuf = {0};
    bodybuf.limit = 64u * 1024u * 1024u;
    headbuf.limit = 1024u * 1024u;
    struct curl_slist *list = NULL;
    for (size_t i = 0; i < count; i++) list = curl_slist_append(list, headers[i]);
    /* curl adds "Expect: 100-continue" to large bodies; servers here answer directly. */
    list = curl_slist_append(list, "Expect:");

    curl_easy_setopt(curl, CURLOPT_URL, url);
    curl_easy_setopt(curl, CURLOPT_CUSTOMREQUEST, method);
    curl_easy_setopt(curl, CURLOPT_HTTPHEADER, list);
    curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(curl, CURLOPT_WRITEDATA, &bodybuf);
    curl_easy_setopt(curl, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(curl, CURLOPT_HEADERDATA, &headbuf);
    curl_easy_setopt(curl, CURLOPT_ERRORBUFFER, out->error);
    curl_easy_setopt(curl, CURLOPT_ACCEPT_ENCODING, "");
    curl_easy_setopt(curl, CURLOPT_PROTOCOLS_STR, "http,https");
    /* Never follow a redirect (a credential must not travel with it), and send the path exactly as
     * built: no dot-segment squashing that could turn one resource's path into another's. */
    curl_easy_setopt(curl, CURLOPT_FOLLOWLOCATION, 0L);
    curl_easy_setopt(curl, CURLOPT_PATH_AS_IS, 1L);
    if (timeout_ms > 0) curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS, timeout_ms);
    if (connect_timeout_ms > 0) curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT_MS, connect_timeout_ms);
    if (strcmp(method, "HEAD") == 0) curl_easy_setopt(curl, CURLOPT_NOBODY, 1L);
    if (body && body_len > 0) {
        curl_easy_setopt(curl, CURLOPT_POSTFIELDS, body);
        curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)body_len);
    } else if (strcmp(method, "POST") == 0 || strcmp(method, "PUT") == 0 || strcmp(method, "PATCH") == 0) {
        curl_easy_setopt(curl, CURLOPT_POSTFIELDS, "");
        curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)0);
    }

    CURLcode rc = curl_easy_perform(curl);
    out->curl_code = (int)rc;
    if (rc == CURLE_OK) {
        curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &out->status);
    } else if (out->error[0] == 0) {
        strncpy(out->error, curl_easy_strerror(rc), sizeof(out->error) - 1);
    }
    out->body = bodybuf.data; out->body_len = bodybuf.len;
    out->headers = headbuf.data; out->headers_len = headbuf.len;
    curl_slist_free_all(list);
    curl_easy_cleanup(curl);
    return out->curl_code;
}

void ccurl_response_free(ccurl_response *response) {
    free(response->body); free(response->headers);
    response->body = NULL; response->headers = NULL;
}

int ccurl_pipe_cloexec(int fds[2]) { return pipe2(fds, O_CLOEXEC); }
