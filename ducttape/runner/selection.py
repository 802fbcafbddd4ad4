"""Which of the discovered tests a session runs: test suites (YAML files), ``--exclude``,
``--tags``, ``--sample``, ``--subsets``/``--subset`` and ``--repeat``, as ducktape's command line
chooses them."""

from __future__ import annotations

import json
import os
import random
import re
import urllib.request
from dataclasses import dataclass, field, replace
from typing import Callable

import yaml

from ducttape.errors import ConfigError
from ducttape.runner.discovery import TestSpec, discover
from ducttape.runner.marks import TAG, TAG_WORDS

SUITE_SUFFIXES = (".yml", ".yaml")
REPORT_TIMEOUT = 30.0
"""Seconds a ``--historical-report`` URL may take to answer."""


@dataclass
class Selection:
    """How to narrow (or widen) the discovered tests; the defaults select every test once."""

    exclude: list[str] = field(default_factory=list)
    tags: str = ""
    sample: int | None = None
    seed: int | None = None
    subsets: int = 1
    subset: int = 0
    historical_report: str = ""
    repeat: int = 1

    def describe(self) -> dict:
        """What differs from the defaults, for the reports (``SessionInfo.selection``)."""
        return {k: v for k, v in vars(self).items() if v != getattr(Selection, k, None) and v not in ([], "", None)}


# -- test suites ---------------------------------------------------------------------------------


def is_suite(name: str) -> bool:
    """Whether ``name`` names a test suite file (``.yml``/``.yaml``) rather than tests."""
    return name.endswith(SUITE_SUFFIXES)


def load_suite(path: str) -> tuple[list[str], list[str]]:
    """The selections a ducktape test suite file includes and excludes.

    The file maps suite names to a list of test selections, or to ``{included: [...],
    excluded: [...]}``; every suite in the file counts. Paths in it are relative to the file.
    """
    try:
        with open(path) as f:
            doc = yaml.safe_load(f)
    except OSError as exc:
        raise ConfigError(f"test suite {path}: cannot read it: {exc.strerror}") from None
    except yaml.YAMLError as exc:
        raise ConfigError(f"test suite {path}: not YAML: {str(exc).splitlines()[0]}") from None
    if not isinstance(doc, dict) or not doc:
        raise ConfigError(
            f"test suite {path}: expected suite names mapped to lists of tests, e.g. 'my_suite: [tests/test_a.py]'"
        )
    base = os.path.dirname(os.path.abspath(path))
    included: list[str] = []
    excluded: list[str] = []
    for suite, body in doc.items():
        where = f"test suite {path}, suite {suite!r}"
        if isinstance(body, list):
            body = {"included": body}
        if not isinstance(body, dict) or set(body) - {"included", "excluded"} or "included" not in body:
            raise ConfigError(f"{where}: expected a list of tests or {{included: [...], excluded: [...]}}")
        for key, into in (("included", included), ("excluded", excluded)):
            entries = body.get(key) or []
            if not isinstance(entries, list) or not all(isinstance(e, str) and e for e in entries):
                raise ConfigError(f"{where}: {key} must be a list of test selections")
            into += [_relative_to(base, e) for e in entries]
    if not included:
        raise ConfigError(f"test suite {path}: it includes no tests")
    return included, excluded


def _relative_to(base: str, selection: str) -> str:
    name, sep, member = selection.partition("::")
    if name.endswith(".py") or os.sep in name or name.startswith("."):
        name = os.path.normpath(os.path.join(base, name))
    return name + sep + member


# -- narrowing -------------------------------------------------------------------------------------


def excluding(specs: list[TestSpec], selections: list[str], what: str = "--exclude") -> list[TestSpec]:
    """``specs`` without the tests that ``selections`` name (the syntax of test names)."""
    if not selections:
        return specs
    gone: set[str] = set()
    for sel in selections:
        try:
            gone |= {s.test_id for s in discover(sel)}
        except ConfigError as exc:
            raise ConfigError(f"{what} {sel}: {exc}") from None
    return [s for s in specs if s.test_id not in gone]


def tag_filter(expression: str) -> Callable[[frozenset[str]], bool]:
    """A predicate on a test's tags from a ``--tags`` expression: tags combined with ``and``,
    ``or``, ``not`` and parentheses, e.g. ``kafka and not slow``."""
    tokens = re.findall(r"\(|\)|[^\s()]+", expression)
    pos = 0

    def bad(why: str) -> ConfigError:
        return ConfigError(f"--tags {expression!r}: {why} (e.g. --tags 'kafka and not slow')")

    def peek() -> str | None:
        return tokens[pos] if pos < len(tokens) else None

    def take() -> str:
        nonlocal pos
        pos += 1
        return tokens[pos - 1]

    def either():
        parts = [both()]
        while peek() == "or":
            take()
            parts.append(both())
        return lambda tags: any(p(tags) for p in parts)

    def both():
        parts = [negated()]
        while peek() == "and":
            take()
            parts.append(negated())
        return lambda tags: all(p(tags) for p in parts)

    def negated():
        if peek() == "not":
            take()
            inner = negated()
            return lambda tags: not inner(tags)
        return atom()

    def atom():
        word = peek()
        if word is None:
            raise bad("it ends where a tag was expected")
        take()
        if word == "(":
            inner = either()
            if peek() != ")":
                raise bad("a '(' is not closed")
            take()
            return inner
        if word in TAG_WORDS or word == ")" or not TAG.fullmatch(word):
            raise bad(f"{word!r} where a tag was expected")
        return lambda tags: word in tags

    if not tokens:
        raise bad("it is empty")
    predicate = either()
    if pos != len(tokens):
        raise bad(f"unexpected {tokens[pos]!r}")
    return predicate


def sampled(specs: list[TestSpec], size: int, seed: int | None) -> list[TestSpec]:
    """``size`` tests drawn at random with ``seed`` (the same seed draws the same tests), in
    their discovered order."""
    if size > len(specs):
        raise ConfigError(f"--sample {size}: only {len(specs)} tests are selected")
    chosen = set(random.Random(seed).sample(range(len(specs)), size))
    return [s for i, s in enumerate(specs) if i in chosen]


def subset_of(specs: list[TestSpec], subsets: int, index: int, durations: dict[str, float]) -> list[TestSpec]:
    """Subset ``index`` (0-based) of ``subsets`` with about equal total durations: the longest
    tests first, each into the subset with the least time so far. A test without a recorded
    duration counts as the mean of those recorded (as 1 s when none is)."""
    known = [durations[s.test_id] for s in specs if s.test_id in durations]
    default = sum(known) / len(known) if known else 1.0
    cost = {s.test_id: durations.get(s.test_id, default) for s in specs}
    loads = [0.0] * subsets
    member: dict[str, int] = {}
    for spec in sorted(specs, key=lambda s: (-cost[s.test_id], s.test_id)):
        k = min(range(subsets), key=lambda i: (loads[i], i))
        loads[k] += cost[spec.test_id]
        member[spec.test_id] = k
    return [s for s in specs if member[s.test_id] == index]


def repeated(specs: list[TestSpec], times: int) -> list[TestSpec]:
    """Every test ``times`` times in a row; runs after the first have their own results folder
    (``.../NAME.repeat-2``) and the same test id (the reports see repeats of one test)."""
    return [spec if n == 1 else replace(spec, repeat=n) for spec in specs for n in range(1, times + 1)]


# -- past durations ------------------------------------------------------------------------------


def past_durations(historical_report: str, results_root: str) -> dict[str, float]:
    """Each test's last recorded duration in seconds: from ``historical_report`` (a URL or the
    path of a ducktape or ducttape report.json) if given, else from the sessions under
    ``results_root`` (ducttape's own results)."""
    if historical_report:
        return _durations_in(_read_report(historical_report), historical_report)
    from ducttape.runner.history import load_sessions  # the results folder only when needed

    found: dict[str, float] = {}
    for doc in load_sessions(results_root):
        found.update(_durations_in(doc, doc.get("path", results_root)))
    return found


def _read_report(where: str) -> object:
    try:
        if re.match(r"https?://", where):
            with urllib.request.urlopen(where, timeout=REPORT_TIMEOUT) as answer:
                text = answer.read().decode()
        else:
            with open(where) as f:
                text = f.read()
        return json.loads(text)
    except (OSError, ValueError) as exc:
        raise ConfigError(
            f"--historical-report {where}: cannot read a JSON report: {getattr(exc, 'reason', None) or exc}"
        ) from None


def _durations_in(doc: object, where: str) -> dict[str, float]:
    """Durations in a ducttape report (``tests``: ``test_id``, ``duration``) or a ducktape one
    (``results``: ``test_id``, ``run_time_seconds``)."""
    if isinstance(doc, dict) and isinstance(doc.get("tests"), list):
        rows, key = doc["tests"], "duration"
    elif isinstance(doc, dict) and isinstance(doc.get("results"), list):
        rows, key = doc["results"], "run_time_seconds"
    else:
        raise ConfigError(
            f"--historical-report {where}: not a ducttape or ducktape report.json (no 'tests' or 'results' list)"
        )
    return {
        row["test_id"]: float(row[key])
        for row in rows
        if isinstance(row, dict)
        and isinstance(row.get("test_id"), str)
        and isinstance(row.get(key), (int, float))
        and row.get("status") != "NOT-RUN"
    }


def choose(
    specs: list[TestSpec], selection: Selection, results_root: str, say: Callable[[str], None] = lambda line: None
) -> list[TestSpec]:
    """Apply ``selection`` to the discovered ``specs`` (exclusions, tags, subset, sample, then
    repeats), telling ``say`` what a subset or sample took; ConfigError when nothing is left."""
    chosen = excluding(specs, selection.exclude)
    if selection.tags:
        keep = tag_filter(selection.tags)
        chosen = [s for s in chosen if keep(s.tags)]
    if selection.subsets > 1 and chosen:
        durations = past_durations(selection.historical_report, results_root)
        pool, chosen = len(chosen), subset_of(chosen, selection.subsets, selection.subset, durations)
        say(f"--subset {selection.subset} of --subsets {selection.subsets}: {len(chosen)} of {pool} tests")
    if selection.sample is not None and chosen:
        pool, chosen = len(chosen), sampled(chosen, selection.sample, selection.seed)
        say(f"--sample {selection.sample} of {pool} tests with --seed {selection.seed}")
    if not chosen:
        raise ConfigError(
            f"no test left after {', '.join(selection.describe()) or 'selection'} (of {len(specs)} discovered)"
        )
    return repeated(chosen, selection.repeat)
