"""This project's EC2 instances in a region: list them, and reap the expired and orphaned ones.

Only instances tagged ``Project=ducttape`` are ever listed or terminated. An instance is reapable
when its ``DucttapeExpires`` time has passed, or when it has no readable expiry (an orphan, e.g.
launched by an older ducttape). Reaping also deletes the security groups and key pairs of the
reaped clusters, and expired ones whose cluster has no instance left.
"""

import logging
from collections import defaultdict
from datetime import datetime, timezone

from tabulate import tabulate

from ducttape.aws import ec2 as aws

log = logging.getLogger(__name__)

_COLUMNS = ["id", "name", "cluster", "state", "type", "launch_time", "expires", "driver"]
REAP_WAIT = 600


def list_instances(
    region: str | None = None, endpoint_url: str | None = None, profile: str | None = None
) -> list[dict]:
    """Return the non-terminated instances tagged ``Project=ducttape``, oldest first.

    Each row has id, name, cluster, state, type, launch_time (ISO 8601, UTC), expires, driver and
    reapable. ``region`` defaults to boto3's configured region; ``endpoint_url`` to
    $DUCTTAPE_EC2_ENDPOINT, else AWS's own endpoint; ``profile`` an AWS profile. DucttapeError when EC2 cannot be asked.
    """
    ec2, region = aws.ec2_client(region, endpoint_url, profile)
    return _rows(ec2, region)


def reap(
    region: str | None = None,
    yes: bool = False,
    endpoint_url: str | None = None,
    profile: str | None = None,
    clusters: set[str] | None = None,
) -> list[dict]:
    """The reapable rows of ``list_instances`` (only those of ``clusters`` when given: never an
    instance of another checkout's cluster, nor an orphan); with ``yes``, terminate them, wait
    until they are gone and delete their clusters' security groups and key pairs (else a dry
    run)."""
    ec2, region = aws.ec2_client(region, endpoint_url, profile)
    rows = [row for row in _rows(ec2, region) if row["reapable"] and (clusters is None or row["cluster"] in clusters)]
    if not yes:
        return rows
    if rows:
        ids = [row["id"] for row in rows]
        log.info("terminating %d ducttape instance(s) in %s: %s", len(rows), region, " ".join(ids))
        with aws.ec2_errors("terminate instances", region):
            ec2.terminate_instances(InstanceIds=ids)
            ec2.get_waiter("instance_terminated").wait(
                InstanceIds=ids, WaiterConfig={"Delay": 5, "MaxAttempts": REAP_WAIT // 5}
            )
        for row in rows:
            row["state"] = "terminated"
    for cluster in _reapable_clusters(ec2, region, rows):
        for what in aws.delete_cluster_resources(ec2, region, cluster):
            log.info("reap: deleted %s of cluster %s", what, cluster)
    return rows


def format_instances(rows: list[dict]) -> str:
    """Render rows from ``list_instances`` or ``reap`` as a plain-text table."""
    if not rows:
        return "no ducttape instances"
    return tabulate([[row[c] for c in _COLUMNS] for row in rows], headers=_COLUMNS)


def _rows(ec2, region):
    filters = [
        {"Name": f"tag:{aws.PROJECT_TAG_KEY}", "Values": [aws.PROJECT_TAG_VALUE]},
        {"Name": "instance-state-name", "Values": aws.LIVE_STATES},
    ]
    now = datetime.now(timezone.utc)
    rows = []
    with aws.ec2_errors("list instances", region):
        for page in ec2.get_paginator("describe_instances").paginate(Filters=filters):
            for reservation in page["Reservations"]:
                rows.extend(_row(instance, now) for instance in reservation["Instances"])
    return sorted(rows, key=lambda row: (row["launch_time"], row["id"]))


def _reapable_clusters(ec2, region, reaped):
    """Clusters whose resources may go: those of the reaped instances, and those whose security
    group or key pair expired while no instance of theirs is left."""
    clusters = {row["cluster"] for row in reaped if row["cluster"]}
    live = defaultdict(int)
    for row in _rows(ec2, region):
        live[row["cluster"]] += 1
    tag = [{"Name": f"tag:{aws.PROJECT_TAG_KEY}", "Values": [aws.PROJECT_TAG_VALUE]}]
    with aws.ec2_errors("list security groups and key pairs", region):
        resources = ec2.describe_security_groups(Filters=tag)["SecurityGroups"]
        resources += ec2.describe_key_pairs(Filters=tag)["KeyPairs"]
    for resource in resources:
        tags = aws.tags_of(resource)
        cluster = tags.get(aws.CLUSTER_TAG_KEY)
        if cluster and aws.expired(tags) and not live[cluster]:
            clusters.add(cluster)
    return sorted(clusters - {cluster for cluster, count in live.items() if count})


def _row(instance, now):
    tags = aws.tags_of(instance)
    return {
        "id": instance["InstanceId"],
        "name": tags.get("Name", ""),
        "cluster": tags.get(aws.CLUSTER_TAG_KEY, ""),
        "state": instance["State"]["Name"],
        "type": instance["InstanceType"],
        "launch_time": instance["LaunchTime"].isoformat(),
        "expires": tags.get(aws.EXPIRES_TAG_KEY, ""),
        "driver": tags.get(aws.DRIVER_TAG_KEY, ""),
        "reapable": aws.expired(tags, now),
    }
