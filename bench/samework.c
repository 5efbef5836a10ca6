/* The native same-work program: what a function does with a webhook it decodes, in C. Reads a CGI
 * request (CONTENT_LENGTH bytes of body, the X-Hub-Signature-256 header), verifies the HMAC-SHA256
 * (SHA-256 from OpenSSL's libcrypto without its provider machinery, as BoringSSL's is reached) in
 * constant time, parses the whole body with jansson, reads the fields a function
 * decides on and writes one JSON response. bench/run-all.sh links it statically. */
#include <jansson.h>
#include <openssl/crypto.h>
#include <openssl/sha.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* HMAC-SHA256 (RFC 2104) over the low-level SHA-256, which OpenSSL 3 keeps for exactly this. */
static void hmac_sha256(const unsigned char *key, size_t keyLength, const unsigned char *data, size_t length,
                        unsigned char out[SHA256_DIGEST_LENGTH]) {
    unsigned char block[64] = {0}, pad[64], inner[SHA256_DIGEST_LENGTH];
    if (keyLength > sizeof block) SHA256(key, keyLength, block); else memcpy(block, key, keyLength);
    SHA256_CTX ctx;
    for (int i = 0; i < 64; i++) pad[i] = block[i] ^ 0x36;
    SHA256_Init(&ctx); SHA256_Update(&ctx, pad, 64); SHA256_Update(&ctx, data, length); SHA256_Final(inner, &ctx);
    for (int i = 0; i < 64; i++) pad[i] = block[i] ^ 0x5c;
    SHA256_Init(&ctx); SHA256_Update(&ctx, pad, 64); SHA256_Update(&ctx, inner, sizeof inner); SHA256_Final(out, &ctx);
}

static int reply(int status, const char *reason, const char *body) {
    printf("Status: %d %s\r\nContent-Type: application/json\r\n\r\n%s\n", status, reason, body);
    return status == 200 ? 0 : 1;
}

int main(void) {
    const char *secret = getenv("GITHUB_WEBHOOK_SECRET"), *sig = getenv("HTTP_X_HUB_SIGNATURE_256");
    const char *length = getenv("CONTENT_LENGTH"), *event = getenv("HTTP_X_GITHUB_EVENT");
    if (!secret || !sig || !length || !event) return reply(400, "Bad Request", "{\"error\":\"bad_request\"}");
    long want = strtol(length, NULL, 10);
    if (want <= 0 || want > 25 * 1024 * 1024) return reply(413, "Payload Too Large", "{\"error\":\"too_large\"}");
    unsigned char *body = malloc((size_t)want);
    long have = 0;
    ssize_t n;
    while (have < want && (n = read(0, body + have, (size_t)(want - have))) > 0) have += n;
    if (have != want) return reply(400, "Bad Request", "{\"error\":\"short_body\"}");

    unsigned char mac[SHA256_DIGEST_LENGTH];
    hmac_sha256((const unsigned char *)secret, strlen(secret), body, (size_t)have, mac);
    unsigned int macLength = SHA256_DIGEST_LENGTH;
    char hex[2 * SHA256_DIGEST_LENGTH + 8] = "sha256=";
    for (unsigned int i = 0; i < macLength; i++) sprintf(hex + 7 + 2 * i, "%02x", mac[i]);
    size_t hexLength = 7 + 2 * macLength;
    /* Hex digits in either case, as the functions take them. */
    char given[2 * SHA256_DIGEST_LENGTH + 8];
    size_t sigLength = strlen(sig);
    if (sigLength != hexLength) return reply(401, "Unauthorized", "{\"error\":\"bad_signature\"}");
    for (size_t i = 0; i < sigLength; i++) given[i] = (char)(i < 7 ? sig[i] : (sig[i] | 0x20));
    if (CRYPTO_memcmp(hex, given, hexLength) != 0)
        return reply(401, "Unauthorized", "{\"error\":\"bad_signature\"}");

    json_error_t error;
    json_t *root = json_loadb((const char *)body, (size_t)have, 0, &error);
    if (!root || !json_is_object(root)) return reply(400, "Bad Request", "{\"error\":\"malformed\"}");
    const char *action = json_string_value(json_object_get(root, "action"));
    json_t *pr = json_object_get(root, "pull_request");
    json_int_t number = json_integer_value(json_object_get(pr, "number"));
    const char *sha = json_string_value(json_object_get(json_object_get(pr, "head"), "sha"));
    const char *repo = json_string_value(json_object_get(json_object_get(root, "repository"), "full_name"));
    const char *sender = json_string_value(json_object_get(json_object_get(root, "sender"), "login"));
    if (!action || !number || !sha || !repo || !sender) return reply(400, "Bad Request", "{\"error\":\"missing_field\"}");
    char out[512];
    snprintf(out, sizeof out, "{\"ok\":true,\"event\":\"%s\",\"action\":\"%s\",\"repository\":\"%s\",\"number\":%lld,\"outcome\":\"ignored\"}",
             event, action, repo, (long long)number);
    json_decref(root);
    free(body);
    return reply(200, "OK", out);
}
