#!/usr/bin/env python3
"""A stand-in listener for a lab component: answers HTTP on IP:PORT ... .

listen.py NAME IP PORT [PORT...] [--dir DEPLOY_DIR] [--tls CA CERT KEY]
Plain HTTP by default ("GET /status" answers a small JSON).  With --tls, every port
requires a client certificate signed by CA (as TLS-enabled TiKV/TiDB ports do).
"""
import http.server
import json
import socketserver
import ssl
import sys
import threading


def main(argv):
    tls = None
    if "--tls" in argv:
        i = argv.index("--tls")
        tls = argv[i + 1:i + 4]
        argv = argv[:i] + argv[i + 4:]
    if "--dir" in argv:  # the instance's folder: ignored, it puts the lab's path in the command line
        i = argv.index("--dir")
        argv = argv[:i] + argv[i + 2:]
    name, ip, ports = argv[0], argv[1], [int(p) for p in argv[2:]]

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            body = json.dumps({"component": name, "address": "%s:%d" % self.server.server_address,
                               "path": self.path}).encode() + b"\n"
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, fmt, *args):
            pass

    class Server(socketserver.ThreadingMixIn, http.server.HTTPServer):
        daemon_threads = True
        allow_reuse_address = True

    servers = []
    for port in ports:
        srv = Server((ip, port), Handler)
        if tls:
            ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            ctx.load_cert_chain(tls[1], tls[2])
            ctx.load_verify_locations(tls[0])
            ctx.verify_mode = ssl.CERT_REQUIRED
            srv.socket = ctx.wrap_socket(srv.socket, server_side=True)
        servers.append(srv)
    threads = [threading.Thread(target=s.serve_forever, daemon=True) for s in servers]
    for t in threads:
        t.start()
    for t in threads:
        t.join()


if __name__ == "__main__":
    main(sys.argv[1:])
