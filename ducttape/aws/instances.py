"""Find and terminate the EC2 instances ducttape's Vagrantfile launched (housekeeping for leaks).

Our instances carry the tags ``Project=ducttape``, ``DucttapeDriver=<driver hostname>`` and
``Name=ducttape-workerN``; only instances with the project tag are ever listed or terminated.
"""

import contextlib
import logging
import os

import boto3
import botocore.exceptions
from botocore.config import Config
from tabulate import tabulate

from ducttape.aws.credentials import NO_CREDENTIALS
from ducttape.errors import ConfigError, DucttapeError

log = logging.getLogger(__name__)

PROJECT_TAG_KEY = "Project"
PROJECT_TAG_VALUE = "ducttape"
DRIVER_TAG_KEY = "DucttapeDriver"

ENDPOINT_ENV = "DUCTTAPE_EC2_ENDPOINT"
"""Environment variable naming an EC2 endpoint to use instead of AWS's (e.g. a moto server)."""

_LIVE_STATES = ["pending", "running", "shutting-down", "stopping", "stopped"]  # all but terminated
_COLUMNS = ["id", "name", "state", "type", "launch_time", "driver"]
_CLIENT_CONFIG = Config(
    connect_timeout=5, read_timeout=30, retries={"mode": "standard", "max_attempts": 3}
)


def list_instances(region: str | None = None, endpoint_url: str | None = None) -> list[dict]:
    """Return the non-terminated instances tagged ``Project=ducttape``, oldest first.

    Each row has id, name, state, type, launch_time (ISO 8601, UTC) and driver. ``region``
    defaults to boto3's configured region; ``endpoint_url`` defaults to $DUCTTAPE_EC2_ENDPOINT,
    else AWS's own endpoint. Raises DucttapeError with one line when EC2 cannot be asked.
    """
    ec2, region = _client(region, endpoint_url)
    filters = [
        {"Name": f"tag:{PROJECT_TAG_KEY}", "Values": [PROJECT_TAG_VALUE]},
        {"Name": "instance-state-name", "Values": _LIVE_STATES},
    ]
    rows = []
    with _ec2_errors("list instances", region):
        for page in ec2.get_paginator("describe_instances").paginate(Filters=filters):
            for reservation in page["Reservations"]:
                rows.extend(_row(instance) for instance in reservation["Instances"])
    return sorted(rows, key=lambda row: (row["launch_time"], row["id"]))


def reap(
    region: str | None = None, yes: bool = False, endpoint_url: str | None = None
) -> list[dict]:
    """Terminate every instance ``list_instances`` finds, but only when ``yes``; else a dry run.

    Returns the rows it terminated (state as EC2 reported after the call) or, without ``yes``,
    the rows it would terminate. ``region`` and ``endpoint_url`` as for ``list_instances``.
    """
    rows = list_instances(region, endpoint_url)
    if not yes or not rows:
        return rows
    ec2, region = _client(region, endpoint_url)
    by_id = {row["id"]: row for row in rows}
    log.info("terminating %d ducttape instance(s) in %s: %s", len(rows), region, " ".join(by_id))
    with _ec2_errors("terminate instances", region):
        response = ec2.terminate_instances(InstanceIds=list(by_id))
    for change in response["TerminatingInstances"]:
        if change["InstanceId"] in by_id:
            by_id[change["InstanceId"]]["state"] = change["CurrentState"]["Name"]
    return rows


def format_instances(rows: list[dict]) -> str:
    """Render rows from ``list_instances`` or ``reap`` as a plain-text table."""
    if not rows:
        return "no ducttape instances"
    return tabulate([[row[c] for c in _COLUMNS] for row in rows], headers=_COLUMNS)


def _client(region, endpoint_url):
    session = boto3.Session()
    region = region or session.region_name
    if not region:
        raise ConfigError(
            "no AWS region given: pass one, or set AWS_DEFAULT_REGION or `region` in ~/.aws/config"
        )
    endpoint_url = endpoint_url or os.environ.get(ENDPOINT_ENV) or None
    client = session.client(
        "ec2", region_name=region, endpoint_url=endpoint_url, config=_CLIENT_CONFIG
    )
    return client, region


@contextlib.contextmanager
def _ec2_errors(action, region):
    """Turn boto3's failures into one-line DucttapeErrors."""
    try:
        yield
    except botocore.exceptions.NoCredentialsError:
        raise DucttapeError(f"cannot {action} in EC2 region {region}: {NO_CREDENTIALS}") from None
    except (botocore.exceptions.BotoCoreError, botocore.exceptions.ClientError) as err:
        reason = " ".join(str(err).split())
        raise DucttapeError(f"cannot {action} in EC2 region {region}: {reason}") from err


def _row(instance):
    tags = {tag["Key"]: tag["Value"] for tag in instance.get("Tags", [])}
    return {
        "id": instance["InstanceId"],
        "name": tags.get("Name", ""),
        "state": instance["State"]["Name"],
        "type": instance["InstanceType"],
        "launch_time": instance["LaunchTime"].isoformat(),
        "driver": tags.get(DRIVER_TAG_KEY, ""),
    }
