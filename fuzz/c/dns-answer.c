/* libFuzzer over the DNS stub resolver's reading of an answer (names, compression pointers, CNAME
 * chains, record lengths) for an A or an AAAA question. */
#include "../../Sources/CHTTP/dns.c"

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size) {
    if (size < 2) return 0;
    chttp_addr out[8];
    unsigned short id = (unsigned short)(size >= 2 ? (data[0] << 8 | data[1]) : 0);
    parse_answer(data, size, id, "api.example.test", 1, out, 8);
    parse_answer(data, size, id, "api.example.test", 28, out, 8);
    return 0;
}
