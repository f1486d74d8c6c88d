#!/usr/bin/env python3
"""A stand-in listener for a lab component: answers HTTP on IP:PORT ... .

listen.py NAME IP PORT [PORT...] [--dir DEPLOY_DIR] [--tls CA CERT KEY]
          [--require-client-cert] [--allowed-cn CN,... | --allowed-cn-paths CN,...]

Plain HTTP by default ("GET /status" answers a small JSON).  With --tls the ports speak TLS
with CERT and KEY and check client certificates against CA, without partial chains (a chain
must end at a self-signed certificate in CA), as OpenSSL-based TiKV does.  What the ports ask
of a client follows the real components (docs/tiup.md section 8):

  --tls alone            no client certificate is asked for: TiKV's status server
                         (tls_acceptor without cert-allowed-cn) and TiDB's status port
                         (setCNChecker without cluster-verify-cn)
  --require-client-cert  a certificate signed by CA is required: TiKV's gRPC port
                         (SecurityManager::bind)
  --allowed-cn LIST      required, and a certificate whose CN is not in LIST is dropped right
                         after the handshake: TiDB's status port with cluster-verify-cn
                         (Go's VerifyPeerCertificate fails the handshake), TiKV's gRPC port
                         with cert-allowed-cn (CnChecker)
  --allowed-cn-paths LIST
                         required; a CN not in LIST gets 403 "certificate role error" except
                         for GET /metrics, /status, /config, /debug/pprof/profile: TiKV's
                         status server with cert-allowed-cn (check_cert)
"""
import http.server
import json
import socketserver
import ssl
import sys
import threading

# TiKV's status server answers these without looking at the certificate's CN (status_server/mod.rs)
CN_EXEMPT = {"/metrics", "/status", "/config", "/debug/pprof/profile"}


def take(argv, flag, n):
    """Removes FLAG and its N values from argv; returns the values (None when absent)."""
    if flag not in argv:
        return None
    i = argv.index(flag)
    vals = argv[i + 1:i + 1 + n]
    del argv[i:i + 1 + n]
    return vals


def peer_cn(sock):
    cert = sock.getpeercert() if hasattr(sock, "getpeercert") else None
    for rdn in (cert or {}).get("subject", ()):
        for k, v in rdn:
            if k == "commonName":
                return v
    return None


def main(argv):
    argv = list(argv)
    tls = take(argv, "--tls", 3)
    take(argv, "--dir", 1)  # the instance's folder: ignored, it puts the lab's path in the command line
    require = take(argv, "--require-client-cert", 0) is not None
    allowed = take(argv, "--allowed-cn", 1)
    allowed_paths = take(argv, "--allowed-cn-paths", 1)
    cns = set((allowed or allowed_paths or [""])[0].split(",")) - {""}
    if (allowed or allowed_paths) and not cns:
        sys.exit("listen.py: an empty CN list")
    name, ip, ports = argv[0], argv[1], [int(p) for p in argv[2:]]

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            self.answer()

        def do_POST(self):
            self.answer()

        def answer(self):
            path = self.path.split("?", 1)[0]
            if allowed_paths and not (self.command == "GET" and path in CN_EXEMPT) \
                    and peer_cn(self.connection) not in cns:
                body, code, ctype = b"certificate role error", 403, "text/plain"
            else:
                body = json.dumps({"component": name, "address": "%s:%d" % self.server.server_address,
                                   "path": self.path}).encode() + b"\n"
                code, ctype = 200, "application/json"
            self.send_response(code)
            self.send_header("Content-Type", ctype)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, fmt, *args):
            pass

    class Server(socketserver.ThreadingMixIn, http.server.HTTPServer):
        daemon_threads = True
        allow_reuse_address = True

        def verify_request(self, request, client_address):
            # the CN check of TiDB's status port and TiKV's gRPC port: no answer to a CN not listed
            if allowed and peer_cn(request) not in cns:
                request.close()
                return False
            return True

    servers = []
    for port in ports:
        srv = Server((ip, port), Handler)
        if tls:
            ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            ctx.load_cert_chain(tls[1], tls[2])
            ctx.load_verify_locations(tls[0])
            ctx.verify_flags &= ~getattr(ssl, "VERIFY_X509_PARTIAL_CHAIN", 0)
            ctx.verify_mode = ssl.CERT_REQUIRED if (require or allowed or allowed_paths) else ssl.CERT_NONE
            srv.socket = ctx.wrap_socket(srv.socket, server_side=True)
        servers.append(srv)
    threads = [threading.Thread(target=s.serve_forever, daemon=True) for s in servers]
    for t in threads:
        t.start()
    for t in threads:
        t.join()


if __name__ == "__main__":
    main(sys.argv[1:])
