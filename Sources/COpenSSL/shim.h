// OpenSSL (Debian's libssl-dev) for TLS in the HTTP client. Release builds are fully static, so the
// linker takes libssl.a and libcrypto.a: no shared OpenSSL is needed, or loaded, where they run.
#include <openssl/ssl.h>
