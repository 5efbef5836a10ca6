#ifndef CHTTP_DNS_H
#define CHTTP_DNS_H
#include <stddef.h>

typedef struct { int family; unsigned char addr[16]; } chttp_addr;

/// Milliseconds on the monotonic clock.
long chttp_now_ms(void);

/// Resolves `host` (an IP literal, a hosts-file name, or by DNS) before `deadline` (chttp_now_ms time).
/// Returns how many addresses were written, or -1 with `err` set.
int chttp_dns_resolve(const char *host, chttp_addr *out, int max, long deadline, char *err, size_t errlen);

#endif
