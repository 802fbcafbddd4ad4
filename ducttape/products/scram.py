"""SASL/SCRAM credentials of a KafkaService: what its brokers, the storage format and its
clients are given, with every form of the password marked secret."""

from __future__ import annotations

import base64
import hashlib
import os
import re
from dataclasses import dataclass

from ducttape import secret
from ducttape.errors import ConfigError
from ducttape.products.templates import properties_value

MECHANISMS = {"SCRAM-SHA-256": "sha256", "SCRAM-SHA-512": "sha512"}
ITERATIONS = 4096
"""Kafka's default for ``--add-scram`` (and the minimum its SCRAM mechanisms accept)."""
LOGIN_MODULE = "org.apache.kafka.common.security.scram.ScramLoginModule"
_USER = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*$")


@dataclass(frozen=True, repr=False)
class Scram:
    """A SCRAM user: ``KafkaService(..., scram=Scram("alice", password))`` makes the brokers'
    listener SASL_PLAINTEXT with ``mechanism`` (SCRAM-SHA-256 or SCRAM-SHA-512) and creates
    the user when each node's storage is formatted. The password is marked secret (as written,
    and as escaped in JAAS and .properties files) when the object is made; it has no repr."""

    user: str
    password: str
    mechanism: str = "SCRAM-SHA-256"

    def __post_init__(self) -> None:
        if self.mechanism not in MECHANISMS:
            raise ConfigError(f"SCRAM mechanism {self.mechanism!r} is not one of {', '.join(MECHANISMS)}")
        if not _USER.match(self.user):
            raise ConfigError(f"SCRAM user {self.user!r}: use letters, digits, '.', '_' and '-'")
        if len(self.password) < secret.MIN_LENGTH or not self.password.isprintable():
            raise ConfigError(
                f"the SCRAM password of {self.user!r} must be at least {secret.MIN_LENGTH} printable characters "
                "(shorter ones cannot be kept out of logs)"
            )
        in_jaas = _jaas_quoted(self.password)
        secret.add([self.password, in_jaas, properties_value(in_jaas)])

    def __repr__(self) -> str:
        return f"Scram({self.user!r}, {secret.MASK!r}, {self.mechanism!r})"

    def jaas_config(self) -> str:
        """The ``sasl.jaas.config`` value that logs in as this user."""
        return f'{LOGIN_MODULE} required username="{self.user}" password="{_jaas_quoted(self.password)}";'

    def client_settings(self) -> dict[str, str]:
        """Client configs that authenticate as this user (for a client config file; a wrong
        password for a test: ``Scram(user, "wrong-pw").client_settings()``)."""
        return {
            "security.protocol": "SASL_PLAINTEXT",
            "sasl.mechanism": self.mechanism,
            "sasl.jaas.config": self.jaas_config(),
        }

    def storage_argument(self) -> str:
        """The value of ``kafka-storage format --add-scram`` creating this user: a random salt
        and the salted password (PBKDF2, as Kafka's ScramFormatter computes it), so that the
        password itself is on no command line. The salted password logs in as well as the
        password does, so it is marked secret too."""
        salt = os.urandom(32)
        salted = hashlib.pbkdf2_hmac(MECHANISMS[self.mechanism], self.password.encode(), salt, ITERATIONS)
        salted_b64 = base64.b64encode(salted).decode()
        secret.add(salted_b64)
        return (
            f"{self.mechanism}=[name={self.user},salt={base64.b64encode(salt).decode()},"
            f"saltedpassword={salted_b64},iterations={ITERATIONS}]"
        )


def _jaas_quoted(text: str) -> str:
    """``text`` for inside a double-quoted JAAS option value."""
    return text.replace("\\", "\\\\").replace('"', '\\"')


def refuse_scram(kafka, service: str) -> None:
    """ConfigError if ``kafka`` (a KafkaService, or None) requires a SCRAM login, which
    ``service`` cannot give: it fails at once, in one line, rather than at every request."""
    if kafka is not None and kafka.scram is not None:
        raise ConfigError(
            f"{service}: {kafka.service_id} requires a SASL/SCRAM login, which {service} cannot give; "
            "use Kafka's own tools (ducttape.products.performance, verifiable) against it"
        )
