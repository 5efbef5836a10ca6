#!/usr/bin/env python3
"""Network peers for the HTTP client's tests, each on 127.0.0.1 with a free port it prints first:

  netlab.py tls <upstream-port> <cert> <key>   TLS in front of a plain HTTP server (the GitHub emulator)
  netlab.py dns <zone.json>                    a DNS server (UDP and TCP on one port) answering from a zone:
                                               {"name": {"A": ["127.0.0.1"], "AAAA": [...], "CNAME": "other"}, ...}
                                               a name with more than 40 A records is answered truncated over UDP
  netlab.py proxy <log>                        an HTTP proxy: CONNECT tunnels and absolute-form requests,
                                               each request line appended to <log>
  netlab.py keepalive                          an HTTP/1.1 server that keeps connections and answers
                                               {"connection": <n>, "request": <m>} (which connection, which request)
  netlab.py hostile <log>                      a server that answers each path with a broken or hostile answer
                                               (see HOSTILE) and appends each request line to <log>
"""
import json, socket, ssl, struct, sys, threading


def serve_forever(listener, handle):
    while True:
        conn, _ = listener.accept()
        threading.Thread(target=handle, args=(conn,), daemon=True).start()


def listen(kind=socket.SOCK_STREAM, port=0):
    s = socket.socket(socket.AF_INET, kind)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind(("127.0.0.1", port))
    if kind == socket.SOCK_STREAM:
        s.listen(64)
    return s


def relay(a, b):
    def pump(x, y):
        try:
            while True:
                data = x.recv(65536)
                if not data:
                    break
                y.sendall(data)
        except OSError:
            pass
        for s in (x, y):
            try:
                s.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
    threading.Thread(target=pump, args=(a, b), daemon=True).start()
    pump(b, a)


def tls(upstream, cert, key):
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(cert, key)
    l = listen()
    print(l.getsockname()[1], flush=True)

    def handle(c):
        try:
            t = ctx.wrap_socket(c, server_side=True)
        except (ssl.SSLError, OSError):
            c.close()
            return
        u = socket.create_connection(("127.0.0.1", upstream))
        relay(t, u)

    serve_forever(l, handle)


def dns(zone_file):
    zone = {k.lower().rstrip("."): v for k, v in json.load(open(zone_file)).items()}
    # UDP and TCP on the same port number: the UDP port is free, its TCP twin may not be (another
    # test's connection), so try again with another port until both bind.
    for _ in range(100):
        u = listen(socket.SOCK_DGRAM)
        port = u.getsockname()[1]
        try:
            t = listen(port=port)
            break
        except OSError:
            u.close()
    else:
        sys.exit("dns: no port free for both UDP and TCP")
    print(port, flush=True)

    def name_at(msg, i):
        labels = []
        while msg[i] != 0:
            labels.append(msg[i + 1:i + 1 + msg[i]].decode())
            i += 1 + msg[i]
        return ".".join(labels), i + 1

    def encode(name):
        return b"".join(bytes([len(p)]) + p.encode() for p in name.split(".") if p) + b"\0"

    def answer(query, udp):
        qid, = struct.unpack(">H", query[:2])
        qname, end = name_at(query, 12)
        qtype, = struct.unpack(">H", query[end:end + 2])
        question = query[12:end + 4]
        records, name, truncated = [], qname.lower(), False
        for _ in range(8):
            entry = zone.get(name)
            if entry is None:
                break
            if "CNAME" in entry:
                target = entry["CNAME"].lower()
                records.append(encode(name) + struct.pack(">HHIH", 5, 1, 60, len(encode(target))) + encode(target))
                name = target
                continue
            kind = "A" if qtype == 1 else "AAAA"
            values = entry.get(kind, [])
            if udp and len(values) > 40:
                truncated = True
                records = []
                break
            for v in values:
                raw = socket.inet_pton(socket.AF_INET if qtype == 1 else socket.AF_INET6, v)
                records.append(encode(name) + struct.pack(">HHIH", qtype, 1, 60, len(raw)) + raw)
            break
        rcode = 0 if qname.lower() in zone else 3
        flags = 0x8180 | (0x0200 if truncated else 0) | rcode
        return struct.pack(">HHHHHH", qid, flags, 1, len(records), 0, 0) + question + b"".join(records)

    def udp_loop():
        while True:
            data, addr = u.recvfrom(4096)
            u.sendto(answer(data, True), addr)

    def tcp_handle(c):
        with c:
            n, = struct.unpack(">H", c.recv(2))
            q = b""
            while len(q) < n:
                q += c.recv(n - len(q))
            a = answer(q, False)
            c.sendall(struct.pack(">H", len(a)) + a)

    threading.Thread(target=udp_loop, daemon=True).start()
    serve_forever(t, tcp_handle)


def read_head(c):
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = c.recv(4096)
        if not chunk:
            return None, b""
        data += chunk
    head, rest = data.split(b"\r\n\r\n", 1)
    return head.decode("latin-1"), rest


def proxy(log):
    l = listen()
    print(l.getsockname()[1], flush=True)
    lock = threading.Lock()

    def handle(c):
        head, rest = read_head(c)
        if head is None:
            c.close()
            return
        line = head.split("\r\n")[0]
        with lock, open(log, "a") as f:
            f.write(line + "\n")
        method, target, _ = line.split(" ", 2)
        if method == "CONNECT":
            host, port = target.rsplit(":", 1)
            u = socket.create_connection((host.strip("[]"), int(port)))
            c.sendall(b"HTTP/1.1 200 Connection established\r\n\r\n")
            relay(c, u)
            return
        # Absolute form: http://host:port/path
        without = target.split("://", 1)[1]
        hostport, _, path = without.partition("/")
        host, _, port = hostport.partition(":")
        u = socket.create_connection((host, int(port or 80)))
        u.sendall((head.replace(target, "/" + path, 1) + "\r\n\r\n").encode("latin-1") + rest)
        relay(c, u)

    serve_forever(l, handle)


def keepalive():
    l = listen()
    print(l.getsockname()[1], flush=True)
    counter = {"n": 0}
    lock = threading.Lock()

    def handle(c):
        with lock:
            counter["n"] += 1
            mine = counter["n"]
        served = 0
        buffered = b""
        while True:
            while b"\r\n\r\n" not in buffered:
                chunk = c.recv(4096)
                if not chunk:
                    c.close()
                    return
                buffered += chunk
            head, buffered = buffered.split(b"\r\n\r\n", 1)
            length = 0
            for h in head.decode("latin-1").split("\r\n")[1:]:
                if h.lower().startswith("content-length:"):
                    length = int(h.split(":", 1)[1])
            while len(buffered) < length:
                buffered += c.recv(4096)
            buffered = buffered[length:]
            served += 1
            body = json.dumps({"connection": mine, "request": served}).encode()
            # Chunked, so the client's chunked reading is exercised too.
            c.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n"
                      + b"%x\r\n" % len(body[:5]) + body[:5] + b"\r\n" + b"%x\r\n" % len(body[5:]) + body[5:] + b"\r\n0\r\n\r\n")

    serve_forever(l, handle)


# Answers by path: each is bytes sent after the request head (and body) was read; "close" ends the
# connection, "forever" streams the given bytes until the client goes away.
HOSTILE = {
    "/nul-status": [b"HTTP/1.1 200 OK\0\r\nContent-Length: 2\r\n\r\n{}", "close"],
    "/nul-header": [b"HTTP/1.1 200 OK\r\nX-A: a\0b\r\nContent-Length: 2\r\n\r\n{}", "close"],
    "/chunk-negative": [b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n10\r\n0123456789abcdef\r\n-10\r\n", "close"],
    "/chunk-huge": [b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nfffffffffffffff0\r\nxx", "close"],
    "/chunk-no-crlf": [b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\n{}XX0\r\n\r\n", "close"],
    "/chunk-line-forever": [b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n", "forever", b"0" * 4096],
    "/continue-forever": [b"", "forever", b"HTTP/1.1 100 Continue\r\n\r\n"],
    "/two-lengths": [b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nContent-Length: 3\r\n\r\n{}", "close"],
    "/te-not-chunked": [b"HTTP/1.1 200 OK\r\nTransfer-Encoding: xchunked\r\nContent-Length: 1\r\n\r\n{\"a\":1}", "close"],
    "/continue-then-close": [b"HTTP/1.1 100 Continue\r\n\r\n", "close"],
    "/echo": None,
}


def hostile(log):
    l = listen()
    print(l.getsockname()[1], flush=True)
    lock = threading.Lock()

    def handle(c):
        try:
            while True:
                head, rest = read_head(c)
                if head is None:
                    return
                line = head.split("\r\n")[0]
                with lock, open(log, "a") as f:
                    f.write(line + "\n")
                length = 0
                for h in head.split("\r\n")[1:]:
                    if h.lower().startswith("content-length:"):
                        length = int(h.split(":", 1)[1])
                while len(rest) < length:
                    more = c.recv(4096)
                    if not more:
                        break
                    rest += more
                path = line.split(" ")[1]
                # /keep: a normal kept-alive answer, and the connection waits for the next request.
                if path == "/keep":
                    c.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 2\r\n\r\n{}")
                    continue
                break
            script = HOSTILE.get(path)
            if script is None:
                body = json.dumps({"request": line, "head": head}).encode()
                c.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nConnection: close\r\nContent-Length: %d\r\n\r\n" % len(body) + body)
                return
            c.sendall(script[0])
            if script[1] == "forever":
                while True:
                    c.sendall(script[2])
        except OSError:
            pass
        finally:
            c.close()

    serve_forever(l, handle)


if __name__ == "__main__":
    mode = sys.argv[1]
    if mode == "tls":
        tls(int(sys.argv[2]), sys.argv[3], sys.argv[4])
    elif mode == "dns":
        dns(sys.argv[2])
    elif mode == "proxy":
        proxy(sys.argv[2])
    elif mode == "keepalive":
        keepalive()
    elif mode == "hostile":
        hostile(sys.argv[2])
