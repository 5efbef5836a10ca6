"""A local AWS Lambda Runtime API for benchmarks: serves one event N times, then reports how long the
N invocations took (first `next` to last response) and exits. Usage: runtime-api.py PORT N EVENT_FILE"""
import http.server, socketserver, sys, threading, time

port, total, event = int(sys.argv[1]), int(sys.argv[2]), open(sys.argv[3], "rb").read()
state = {"served": 0, "answered": 0, "errors": 0, "start": None, "end": None}
done = threading.Event()

class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True
    def log_message(self, *a): pass
    def reply(self, code, body=b"", headers=()):
        # One write per answer: headers and body together.
        head = f"HTTP/1.1 {code} {'OK' if code < 300 else 'Error'}\r\n" + "".join(f"{k}: {v}\r\n" for k, v in headers)
        self.wfile.write((head + f"Content-Length: {len(body)}\r\n\r\n").encode() + body)
    def do_GET(self):
        if not self.path.endswith("/invocation/next"): return self.reply(404)
        if state["served"] >= total:
            done.wait()
            return self.reply(500)
        state["served"] += 1
        if state["start"] is None: state["start"] = time.perf_counter()
        self.reply(200, event, [("Content-Type", "application/json"), ("Lambda-Runtime-Aws-Request-Id", f"req-{state['served']}"),
                                ("Lambda-Runtime-Deadline-Ms", str(int(time.time() * 1000) + 60000)),
                                ("Lambda-Runtime-Invoked-Function-Arn", "arn:aws:lambda:eu-west-1:1:function:bench")])
    def do_POST(self):
        n = int(self.headers.get("Content-Length", 0))
        self.rfile.read(n)
        if "/error" in self.path: state["errors"] += 1
        state["answered"] += 1
        self.reply(202, b'{"status":"OK"}', [("Content-Type", "application/json")])
        if state["answered"] == total:
            state["end"] = time.perf_counter()
            done.set()

class Server(socketserver.ThreadingMixIn, http.server.HTTPServer):
    daemon_threads = True
    allow_reuse_address = True

server = Server(("127.0.0.1", port), Handler)
threading.Thread(target=server.serve_forever, daemon=True).start()
print("ready", flush=True)
if not done.wait(120): print("timeout", flush=True); sys.exit(1)
print(f"{(state['end'] - state['start']) * 1000 / total:.4f} {state['errors']}", flush=True)
