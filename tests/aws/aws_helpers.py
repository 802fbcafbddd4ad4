"""Helpers for the AWS tests; a module with its own name, since `conftest` is one per folder."""

import secrets
import socket
import string
import urllib.error
import urllib.request

LOOPBACK = "127.0.0.1"

DIRECT = urllib.request.build_opener(urllib.request.ProxyHandler({}))  # never via a proxy


def fake_credentials():
    """Random, recognisable credentials, so a search for them cannot match by accident."""
    return {
        "AccessKeyId": "ASIA" + "".join(secrets.choice(string.ascii_uppercase) for _ in range(16)),
        "SecretAccessKey": "fake-secret-" + secrets.token_urlsafe(30),
        "Token": "fake-token-" + secrets.token_urlsafe(60),
    }


def free_port():
    with socket.socket() as sock:
        sock.bind((LOOPBACK, 0))
        return sock.getsockname()[1]


class FaultyEndpoint:
    """An HTTP forwarder in front of moto that answers the ``fail_on``-th request of EC2 action
    ``action`` with the EC2 error ``code`` (as EC2 words it), like an account at its limit."""

    def __init__(self, target, action, fail_on, code, message):
        import threading
        from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
        from urllib.parse import parse_qs

        endpoint = self
        self.seen = 0

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                if parse_qs(body.decode()).get("Action") == [action]:
                    endpoint.seen += 1
                    if endpoint.seen == fail_on:
                        error = (f"<Response><Errors><Error><Code>{code}</Code><Message>{message}"
                                 "</Message></Error></Errors><RequestID>fault</RequestID></Response>")
                        return self._answer(400, error.encode(), "text/xml")
                headers = {k: v for k, v in self.headers.items() if k.lower() not in ("host", "content-length")}
                request = urllib.request.Request(target + self.path, data=body, headers=headers, method="POST")
                try:
                    with DIRECT.open(request, timeout=60) as answer:
                        self._answer(answer.status, answer.read(), answer.headers.get("Content-Type"))
                except urllib.error.HTTPError as err:
                    self._answer(err.code, err.read(), err.headers.get("Content-Type"))

            def _answer(self, status, data, content_type):
                self.send_response(status)
                self.send_header("Content-Type", content_type or "text/xml")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer((LOOPBACK, 0), Handler)
        self.url = f"http://{LOOPBACK}:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(timeout=10)
