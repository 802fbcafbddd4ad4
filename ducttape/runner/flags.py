"""The ``invoke test`` flags that choose tests and steer the runner, read from their command-line
text: each bad value is one line naming the flag, the value and what is wanted."""

from __future__ import annotations

import random

from ducttape.errors import ConfigError
from ducttape.runner.selection import Selection, tag_filter
from ducttape.runner.settings import LOG_POLICIES, RunSettings


def whole(flag: str, text: object, minimum: int, example: str = "") -> int:
    """``text`` as a whole number of at least ``minimum``."""
    try:
        number = int(str(text), 10)
    except ValueError:
        number = None
    if number is None or number < minimum:
        raise ConfigError(
            f"{flag} {text!r} is not a whole number from {minimum}" + (f" (e.g. {flag} {example})" if example else "")
        )
    return number


def parse_selection(
    exclude: list[str] | None = None,
    tags: str | None = None,
    repeat: object = None,
    sample: object = None,
    seed: object = None,
    subsets: object = None,
    subset: object = None,
    historical_report: str | None = None,
) -> Selection:
    """A Selection from the flags' text (None: not given). ``--sample`` without ``--seed``
    draws a seed, which the session records so the sample can be run again."""
    chosen = Selection(exclude=[e for e in exclude or [] if e])
    if tags is not None:
        tag_filter(tags)  # a bad expression fails here, before anything runs
        chosen.tags = tags
    if repeat is not None:
        chosen.repeat = whole("--repeat", repeat, 1, "3")
    if seed is not None and sample is None:
        raise ConfigError(f"--seed {seed} goes with --sample N (it says which N tests are drawn)")
    if sample is not None:
        chosen.sample = whole("--sample", sample, 1, "3")
        chosen.seed = random.randrange(1 << 32) if seed is None else whole("--seed", seed, 0, "42")
    if subset is not None and subsets is None:
        raise ConfigError(f"--subset {subset} goes with --subsets N (how many subsets there are)")
    if historical_report and subsets is None:
        raise ConfigError("--historical-report goes with --subsets N (it balances the subsets)")
    if subsets is not None:
        chosen.subsets = whole("--subsets", subsets, 1, "2")
        chosen.subset = 0 if subset is None else whole("--subset", subset, 0, "0")
        if chosen.subset >= chosen.subsets:
            raise ConfigError(
                f"--subset {chosen.subset} is not below --subsets {chosen.subsets} "
                f"(subsets are numbered from 0 to {chosen.subsets - 1})"
            )
        chosen.historical_report = historical_report or ""
    return chosen


def parse_settings(
    logs: str | None = None,
    compress: bool = False,
    jvm_logs: bool = False,
    fail_bad_cluster_utilization: bool = False,
    exit_first: bool = False,
    no_teardown: bool = False,
) -> RunSettings:
    """RunSettings from the flags (``--logs`` checked against LOG_POLICIES)."""
    if logs is not None and logs not in LOG_POLICIES:
        raise ConfigError(
            f"--logs {logs!r} is not one of {', '.join(LOG_POLICIES)} (declared: ducktape's rule, the default)"
        )
    return RunSettings(
        logs=logs or "declared",
        compress=compress,
        jvm_logs=jvm_logs,
        fail_bad_cluster_utilization=fail_bad_cluster_utilization,
        exit_first=exit_first,
        no_teardown=no_teardown,
    )
