"""Helpers for the AWS tests; a module with its own name, since `conftest` is one per folder."""

import secrets
import socket
import string
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
