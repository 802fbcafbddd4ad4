"""boto3's EC2 client for ducttape, the tags that mark what ducttape created, and one-line errors.

Credentials come from boto3's chain (profile, environment, config files, instance role); nothing
here prints, logs or writes them. $DUCTTAPE_EC2_ENDPOINT names another EC2 endpoint (a moto
server in the tests), read when a client is made.
"""

from __future__ import annotations

import contextlib
import os
import time
from datetime import datetime, timezone

import boto3
import botocore.exceptions
from botocore.config import Config

from ducttape.errors import ConfigError, DucttapeError

ENDPOINT_ENV = "DUCTTAPE_EC2_ENDPOINT"
PROJECT_TAG_KEY = "Project"
PROJECT_TAG_VALUE = "ducttape"
CLUSTER_TAG_KEY = "DucttapeCluster"
DRIVER_TAG_KEY = "DucttapeDriver"
EXPIRES_TAG_KEY = "DucttapeExpires"
LIVE_STATES = ["pending", "running", "shutting-down", "stopping", "stopped"]  # all but terminated
NO_CREDENTIALS = (
    "no AWS credentials found: configure a profile (`aws configure`, then pass its name), "
    "set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or run on an EC2 instance with an IAM role"
)
GROUP_DELETE_TIMEOUT = 300  # a terminated instance's network interface lingers for a while
_CLIENT_CONFIG = Config(connect_timeout=5, read_timeout=30, retries={"mode": "standard", "max_attempts": 3})


def ec2_client(region: str | None = None, endpoint_url: str | None = None, profile: str | None = None):
    """An EC2 client and its region: ``region`` else boto3's configured one (ConfigError if
    neither, or if EC2 has no such region); ``endpoint_url`` else $DUCTTAPE_EC2_ENDPOINT."""
    try:
        session = boto3.Session(profile_name=profile)
    except botocore.exceptions.ProfileNotFound:
        raise ConfigError(
            f"AWS profile {profile!r} not found in the AWS config or credentials "
            "files; check the name or create it with `aws configure --profile NAME`"
        ) from None
    region = region or session.region_name
    if not region:
        raise ConfigError("no AWS region given: pass one, or set AWS_DEFAULT_REGION or `region` in ~/.aws/config")
    known = (
        session.get_available_regions("ec2")
        + session.get_available_regions("ec2", partition_name="aws-us-gov")
        + session.get_available_regions("ec2", partition_name="aws-cn")
    )
    if region not in known:
        raise ConfigError(
            f"unknown AWS region {region!r}: use one EC2 has, e.g. us-east-1 or eu-west-1 (`region` in ec2.yaml)"
        )
    endpoint_url = endpoint_url or os.environ.get(ENDPOINT_ENV) or None
    client = session.client("ec2", region_name=region, endpoint_url=endpoint_url, config=_CLIENT_CONFIG)
    return client, region


@contextlib.contextmanager
def ec2_errors(action: str, region: str):
    """Turn boto3's failures into one-line DucttapeErrors: ``cannot ACTION in EC2 region R: ...``."""
    try:
        yield
    except botocore.exceptions.NoCredentialsError:
        raise DucttapeError(f"cannot {action} in EC2 region {region}: {NO_CREDENTIALS}") from None
    except botocore.exceptions.ClientError as err:
        error = err.response.get("Error", {})
        reason = " ".join(f"{error.get('Code', '')}: {error.get('Message', '')}".split())
        raise DucttapeError(f"cannot {action} in EC2 region {region}: {reason}") from err
    except botocore.exceptions.BotoCoreError as err:
        reason = " ".join(str(err).split())
        raise DucttapeError(f"cannot {action} in EC2 region {region}: {reason}") from err


def error_code(err: BaseException) -> str:
    """The EC2 error code behind a DucttapeError from ``ec2_errors`` ('' if there is none)."""
    cause = err.__cause__
    if isinstance(cause, botocore.exceptions.ClientError):
        return cause.response.get("Error", {}).get("Code", "")
    return ""


def tags_of(resource: dict) -> dict:
    return {tag["Key"]: tag["Value"] for tag in resource.get("Tags", [])}


def tag_specs(resource_types, tags: dict) -> list[dict]:
    """TagSpecifications putting ``tags`` on each of ``resource_types`` at creation."""
    pairs = [{"Key": key, "Value": value} for key, value in tags.items()]
    return [{"ResourceType": kind, "Tags": pairs} for kind in resource_types]


def expired(tags: dict, now: datetime | None = None) -> bool:
    """True if the expiry tag is in the past, or missing or unreadable (an orphan)."""
    now = now or datetime.now(timezone.utc)
    try:
        return datetime.fromisoformat(tags[EXPIRES_TAG_KEY]) <= now
    except (KeyError, ValueError):
        return True


def delete_cluster_resources(ec2, region, cluster_id, group_id=None, key_name=None) -> list[str]:
    """Delete the security groups and key pairs tagged with ``cluster_id`` (and the named ones,
    which `up` recorded before creating them); return what was deleted."""
    deleted = []
    with ec2_errors(f"delete the resources of cluster {cluster_id}", region):
        tag = [{"Name": f"tag:{CLUSTER_TAG_KEY}", "Values": [cluster_id]}]
        groups = {g["GroupId"] for g in ec2.describe_security_groups(Filters=tag)["SecurityGroups"]}
        groups |= {group_id} if group_id else set()
        for group in sorted(groups):
            if _delete_group(ec2, group):
                deleted.append(f"security group {group}")
        keys = {k["KeyName"] for k in ec2.describe_key_pairs(Filters=tag)["KeyPairs"]}
        if key_name and key_name not in keys:
            try:
                ec2.describe_key_pairs(KeyNames=[key_name])
                keys.add(key_name)
            except botocore.exceptions.ClientError as err:
                if err.response.get("Error", {}).get("Code") != "InvalidKeyPair.NotFound":
                    raise
        for key in sorted(keys):
            ec2.delete_key_pair(KeyName=key)
            deleted.append(f"key pair {key}")
    return deleted


def _delete_group(ec2, group) -> bool:
    deadline = time.monotonic() + GROUP_DELETE_TIMEOUT
    while True:
        try:
            ec2.delete_security_group(GroupId=group)
            return True
        except botocore.exceptions.ClientError as err:
            code = err.response.get("Error", {}).get("Code", "")
            if code == "InvalidGroup.NotFound":
                return False
            if code != "DependencyViolation" or time.monotonic() > deadline:
                raise
            time.sleep(5)
