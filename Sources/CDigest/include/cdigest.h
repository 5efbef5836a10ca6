#ifndef CDIGEST_H
#define CDIGEST_H
#include <stddef.h>
#include <stdint.h>

/* HMAC-SHA256 (RFC 2104) in one call over contiguous bytes, on OpenSSL's SHA-256 (linked statically
 * into release builds). No allocation, no copy of the message and no provider lookup, so a cold
 * process pays for the hashing and nothing else. `out` receives 32 bytes. */
void cdigest_hmac_sha256(const uint8_t *key, size_t key_len, const uint8_t *message, size_t message_len, uint8_t out[32]);

/* SHA-256 of contiguous bytes. `out` receives 32 bytes. */
void cdigest_sha256(const uint8_t *message, size_t message_len, uint8_t out[32]);

#endif
