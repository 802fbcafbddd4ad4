"""Fixtures for the AWS tests: a hermetic AWS environment, a fake instance-metadata service and a
moto EC2 server, all on 127.0.0.1."""

import json
import secrets
import os
import subprocess
import sys
import threading
import time
import urllib.request
from datetime import datetime, timedelta, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import SimpleNamespace

import pytest

from aws_helpers import DIRECT, LOOPBACK, fake_credentials, free_port


@pytest.fixture
def aws_env(tmp_path, monkeypatch):
    """Only what a test sets up can supply credentials: no AWS_* variables, empty config files,
    a temporary HOME, the instance-metadata service disabled, loopback never proxied."""
    for name in list(os.environ):
        if name.startswith("AWS_") or name in ("BOTO_CONFIG", "DUCTTAPE_EC2_ENDPOINT"):
            monkeypatch.delenv(name)
    home = tmp_path / "home"
    home.mkdir()
    env = SimpleNamespace(
        home=home,
        config=home / "aws-config",
        credentials=home / "aws-credentials",
        boto_config=home / "boto.cfg",
    )
    for path in (env.config, env.credentials, env.boto_config):
        path.write_text("")
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("AWS_CONFIG_FILE", str(env.config))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(env.credentials))
    monkeypatch.setenv("BOTO_CONFIG", str(env.boto_config))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    monkeypatch.setenv("NO_PROXY", f"{LOOPBACK},localhost")
    return env


class _ImdsHandler(BaseHTTPRequestHandler):
    """IMDSv2 as EC2 serves it: PUT a token, then GET metadata with that token."""

    ROLES = "/latest/meta-data/iam/security-credentials/"

    def do_PUT(self):
        imds = self.server.imds
        if self.path != "/latest/api/token" or not self.headers.get(
            "x-aws-ec2-metadata-token-ttl-seconds"
        ):
            return self._send(400, "bad token request")
        self._send(200, imds.token)

    def do_GET(self):
        imds = self.server.imds
        imds.requests.append(self.path)
        if self.headers.get("x-aws-ec2-metadata-token") != imds.token:
            return self._send(401, "")
        if imds.role is None or not self.path.startswith(self.ROLES):
            return self._send(404, "Not Found")
        if self.path == self.ROLES:
            return self._send(200, imds.role)
        if self.path == self.ROLES + imds.role:
            expiration = datetime.now(timezone.utc) + timedelta(hours=6)
            document = {
                "Code": "Success",
                "LastUpdated": datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
                "Type": "AWS-HMAC",
                **imds.credentials,
                "Expiration": expiration.strftime("%Y-%m-%dT%H:%M:%SZ"),
            }
            return self._send(200, json.dumps(document))
        self._send(404, "Not Found")

    def _send(self, status, body):
        data = body.encode()
        self.send_response(status)
        self.send_header("Content-Type", "text/plain")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, format, *args):  # noqa: A002 - http.server's signature
        pass  # keep the test output quiet; requests are recorded in imds.requests


@pytest.fixture
def fake_imds(aws_env, monkeypatch):
    """A fake instance-metadata service on an ephemeral loopback port, with botocore pointed at it.

    Set ``.role = None`` for an instance without an IAM role."""
    imds = SimpleNamespace(
        role="ducttape-driver-role",
        credentials=fake_credentials(),
        token=secrets.token_hex(16),
        requests=[],
    )
    server = ThreadingHTTPServer((LOOPBACK, 0), _ImdsHandler)
    server.imds = imds
    thread = threading.Thread(
        target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
    )
    thread.start()
    imds.url = f"http://{LOOPBACK}:{server.server_address[1]}"
    monkeypatch.delenv("AWS_EC2_METADATA_DISABLED")
    monkeypatch.setenv("AWS_EC2_METADATA_SERVICE_ENDPOINT", imds.url)
    yield imds
    server.shutdown()
    server.server_close()
    thread.join(timeout=10)


@pytest.fixture(scope="session")
def moto_url(tmp_path_factory):
    """A moto server (EC2 and friends) on a free loopback port for the whole session."""
    port = free_port()
    log_path = tmp_path_factory.mktemp("moto") / "moto_server.log"
    with open(log_path, "wb") as log:
        proc = subprocess.Popen(
            [sys.executable, "-m", "moto.server", "-H", LOOPBACK, "-p", str(port)],
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    url = f"http://{LOOPBACK}:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            if proc.poll() is not None:
                pytest.fail(f"moto server exited with {proc.returncode}: {log_path.read_text()}")
            try:
                with DIRECT.open(f"{url}/moto-api/", timeout=2):
                    break
            except OSError:
                if time.monotonic() > deadline:
                    pytest.fail(f"moto server not answering on {url} within 60s")
                time.sleep(0.1)
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=10)


@pytest.fixture
def moto_ec2(aws_env, moto_url, monkeypatch):
    """An empty moto EC2 in us-east-1 and test credentials; returns a boto3 EC2 client for it."""
    import boto3

    request = urllib.request.Request(f"{moto_url}/moto-api/reset", method="POST")
    with DIRECT.open(request, timeout=10):
        pass
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    return boto3.client("ec2", region_name="us-east-1", endpoint_url=moto_url)


@pytest.fixture
def ec2_copy(moto_ec2, moto_url, tmp_path, monkeypatch):
    """A copy of the repository for `invoke cluster.* --aws` against moto, with a Debian image."""
    from ec2_copy import EC2Copy, register_debian_image

    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    copy = EC2Copy(tmp_path / "repo", moto_url, moto_ec2)
    copy.image = register_debian_image(moto_ec2)
    return copy


@pytest.fixture(scope="session")
def bare_debian_image(tmp_path_factory):
    """A bare Debian 12 image (sshd, sudo; no JRE) of this session, removed afterwards."""
    from pathlib import Path

    from ec2_hosts import build_bare_image, docker

    tag = f"ducttape-test/bare-debian:{os.getpid()}-{secrets.token_hex(3)}"
    cache = Path(__file__).resolve().parents[2] / "vagrant" / "image" / "debs"
    build_bare_image(tag, tmp_path_factory.mktemp("bare-debian"), cache)
    try:
        yield tag
    finally:
        docker("image", "rm", "--force", tag, check=False)


@pytest.fixture
def ec2_hosts(ec2_copy, bare_debian_image):
    """Containers standing in for the hosts of moto's instances (see ec2_hosts.Booter), on a
    network of their own in 198.19.0.0/16; yields the Booter, whose subnet the routes use."""
    import random

    from ec2_hosts import Booter, docker

    for _ in range(20):
        subnet = f"198.19.{random.randrange(1, 255)}"
        network = f"ducttape-test-ec2-{subnet.rpartition('.')[2]}-{secrets.token_hex(3)}"
        if docker("network", "create", "--subnet", f"{subnet}.0/24", network,
                  check=False).strip():
            break
    else:
        pytest.fail("no free 198.19.x.0/24 subnet for the test network")
    try:
        with Booter(ec2_copy.ec2, bare_debian_image, network, subnet, network,
                    ec2_copy.root / ".ec2" / "known_hosts") as booter:
            yield booter
    finally:
        docker("network", "rm", network, check=False)
