"""Kafka's native clients against the REST path through the HTTP bridge, measured alike.

One broker, one bridge and the load generator each on a node of their own; a topic of 6
partitions, acks=1, records of 100 random bytes. Both producer paths run in one LoadGen process,
interleaved: the same constant-rate pacing loop, per-record latency from each record's due time
to its acknowledgement, the same producer batch.size and linger.ms (for the REST path, those of
the bridge's producer). The REST path sends ``records_per_request`` records per HTTP request.

- ``NativeVsRestProducerPerformance.test_produce``: each path's maximum throughput (as fast as it
  goes), its maximum sustainable rate (the highest offered rate it achieves, >= 99%, with p99
  under ``p99_bound_ms``, by bisection; each bisection is one run of that figure, repeated like
  any other: a single one moves by a whole bracket when one probe meets a stall), then the
  latency of both paths at the same offered loads (``loads``: fractions of the native maximum
  measured in the same session).
- ``NativeVsRestProducerPerformance.test_records_per_request``: the REST path's maximum
  throughput and latency at one offered load (``sweep_rate``) for 1, 10, 100 and 1000 records
  per request, beside the native path's.
- ``NativeVsRestConsumerPerformance.test_consume``: reading a filled topic natively
  (ConsumerPerformance) and through the bridge.

Every measurement repeats until the 95% interval of its median is within ``width`` percent or
the time ``budget`` ends (ducttape.runner.stability), its paths and loads in shuffled blocks
(``seed`` recorded); each figure is the median with its interval and every repeat. Settings come
as test parameters (docs/products.md)::

    invoke test native_vs_rest_performance --param size=seed --param budget=600
"""

from __future__ import annotations

import os
from dataclasses import dataclass, fields
from types import MappingProxyType

from tabulate import tabulate

from ducttape.errors import ConfigError
from ducttape.products.performance import (
    ConsumerPerformanceService,
    InterleavedProducerLoadService,
    ProducerPerformanceService,
    RestConsumerPerformanceService,
)
from ducttape.products.performance.summary import (
    PATHS,
    fell_behind,
    interval,
    plot_latency,
    plot_sweep,
    summarize,
    suspect,
)
from ducttape.runner import cluster
from ducttape.runner.stability import (
    MIN_REPEATS,
    Target,
    estimate,
    new_seed,
    repeat_until_stable,
    sustainable_searches,
)
from ducttape.tests.test import RestProxyTest

TOPIC = "test-rep-one"
RECORD_SIZE = 100
ACKS = 1
SIZES = MappingProxyType(
    {
        "small": MappingProxyType({"seconds": 1, "budget": 60, "consume": 200_000}),
        "seed": MappingProxyType({"seconds": 10, "budget": 900, "consume": 5_000_000}),
    }
)
FIRST_WARMUP_S = 10
SUSTAINED = 0.99
"""A probe of the maximum sustainable rate passes when it achieves this fraction of its rate ..."""
TOP = 1.25
"""... and each search bisects up to this many times the path's maximum throughput ..."""
SEARCH = MappingProxyType({"probes_per_step": 3, "max_steps": 3})
"""... 3 steps of 3 probes each: the bracket narrowed to 1/64 of that."""
LEGEND = (
    "figures: median [95% interval of the median] of the repeats (unstable: wider than "
    "the width asked when the budget ended); max: as fast as each path goes; sustainable: the "
    "highest offered rate achieved (>= 99%) with p99 under the bound, by independent "
    "bisections, repeated like the other figures; at N: offered N records/s at a constant rate; "
    "latency per record from its due time to its ack; >=: the path fell behind (achieved < 97% "
    "of offered, or records left unsent: latencies are lower bounds); suspect: p99 falls as "
    "the load rises by more than its intervals allow"
)


@dataclass(frozen=True)
class Settings:
    """The scenario's parameters (``--param key=value``), checked, with their defaults."""

    size: str = "small"
    seconds: float = 0
    """Of each producing run (0: the size's, small 1, seed 10)."""
    budget: float = 0
    """Seconds each repeat loop may take: after its first ``min_repeats`` runs of every case
    (which always run), more only while they fit (0: the size's, small 60, seed 900)."""
    width: float = 5.0
    """Target: the interval of each judged median within ±width percent of it."""
    min_repeats: int = MIN_REPEATS
    """Repeats of each measurement before the budget counts (7: the fewest for an interval)."""
    seed: int = -1
    """Of the shuffled order (-1: a new one, recorded in the data)."""
    p99_bound_ms: float = 100.0
    """The p99 under which a rate counts as sustained."""
    warmup: float = 2
    """Seconds of the same load before the first run of each path in a LoadGen process,
    unmeasured; the first process of a test also warms up FIRST_WARMUP_S more (fresh JVMs)."""
    loads: tuple = (0.01, 0.25, 0.5, 0.75)
    """Offered loads as fractions of the native maximum: 1% is one the REST path can carry
    too on a machine where it is far slower than the native one."""
    records_per_request: int = 100
    batch_size: int = 16384
    """Producer batch.size (bytes) on both paths (Kafka's default)."""
    linger_ms: int = 5
    """Producer linger.ms on both paths (Kafka's default)."""
    in_flight: int = 4
    """REST requests in flight at once."""
    sweep: tuple = (1, 10, 100, 1000)
    """Records per request of test_records_per_request."""
    sweep_rate: int = 2000
    """The offered load (records/s) of test_records_per_request."""

    @classmethod
    def from_params(cls, params: dict) -> "Settings":
        """The settings from the session's parameters (others are ignored); ConfigError names a
        bad one in one line."""
        values = {f.name: params[f.name] for f in fields(cls) if f.name in params}
        size = values.get("size", cls.size)
        if size not in SIZES:
            raise ConfigError(f"--param size={size!r} is not a size: use {' or '.join(SIZES)}")
        for name, low, whole in (
            ("records_per_request", 1, True),
            ("batch_size", 1, True),
            ("linger_ms", 0, True),
            ("in_flight", 1, True),
            ("sweep_rate", 1, True),
            ("seconds", 0.001, False),
            ("warmup", 0, False),
            ("budget", 0, False),
            ("width", 0.1, False),
            ("min_repeats", 2, True),
            ("seed", -1, True),
            ("p99_bound_ms", 0.001, False),
        ):
            if name in values and not _number(values[name], low, whole):
                raise ConfigError(
                    f"--param {name}={values[name]!r} is not a "
                    f"{'whole number' if whole else 'number'} of at least {low:g}"
                )
        for name, low, high, whole in (("loads", 0.001, 1, False), ("sweep", 1, 1e6, True)):
            items = values.get(name, getattr(cls, name))
            items = items if isinstance(items, (list, tuple)) else [items]
            if not items or not all(_number(v, low, whole) and v <= high for v in items):
                raise ConfigError(
                    f"--param {name}={values[name]!r} is not a list of "
                    + ("fractions in (0, 1], e.g. [0.25,0.5]" if name == "loads" else "whole numbers, e.g. [1,10,100]")
                )
            values[name] = tuple(items)
        sized = {"seconds": SIZES[size]["seconds"], "budget": SIZES[size]["budget"]}
        return cls(**{**values, **{k: values.get(k) or v for k, v in sized.items()}})

    @property
    def target(self) -> Target:
        """The repeat loops' target."""
        return Target(width_pct=self.width, budget_s=self.budget, min_repeats=self.min_repeats)


def _number(value, low: float, whole: bool) -> bool:
    return (
        isinstance(value, (int, float))
        and not isinstance(value, bool)
        and value >= low
        and (not whole or value == int(value))
    )


class _NativeVsRest(RestProxyTest):
    topics = MappingProxyType({TOPIC: {"partitions": 6, "replication-factor": 1}})

    def setUp(self) -> None:
        self.settings = Settings.from_params(self.params)  # bad parameters fail before any service
        s = self.settings
        self.seed = new_seed() if s.seed < 0 else s.seed
        self.rest_settings = {
            "kafka.producer.acks": ACKS,
            "kafka.producer.batch.size": s.batch_size,
            "kafka.producer.linger.ms": s.linger_ms,
        }
        self.producer_settings = {"acks": ACKS, "batch.size": s.batch_size, "linger.ms": s.linger_ms}
        self.fresh = True
        super().setUp()

    def run_round(self, order: list) -> list[dict]:
        """Run the steps ``(path, records_per_request, rate)`` of ``order`` in that order in one
        LoadGen process (rate None: as fast as it goes); their results, in order."""
        s = self.settings
        warmup = s.warmup + (FIRST_WARMUP_S if self.fresh else 0)
        self.fresh = False
        service = InterleavedProducerLoadService(
            self.cluster,
            1,
            TOPIC,
            RECORD_SIZE,
            s.seconds,
            list(order),
            kafka=self.kafka,
            rest=self.rest,
            settings=self.producer_settings,
            in_flight=s.in_flight,
            warmup_s=warmup,
        )
        service.run(timeout=600 + len(order) * (4 * s.seconds + 10) + 2 * warmup)
        results = service.runs[0]
        for result in results:
            assert result["errors"] == 0 and result["records"] == result["records_sent"] > 0, result
        return results

    def repeat(self, cases: list) -> tuple[dict, dict]:
        """Each case ``(path, records_per_request, rate)`` repeated until its achieved rate (and
        at a rate its p99) is stable or the budget ends: ``{case: summary}``, and the loop's
        seed, time and the order of its blocks."""
        s = self.settings
        found = repeat_until_stable(cases, self.run_round, _judged, s.target, seed=self.seed)
        record = {
            "seed": found.seed,
            "elapsed_s": round(found.elapsed_s, 1),
            "order": [" ".join(_step(c) for c in block) for block in found.rounds],
        }
        return {c: summarize(found.runs[c], target=s.target, stable=found.stable[c]) for c in cases}, record

    def save(self, name: str, text: str) -> None:
        """Show ``text`` under a line naming the bridge, and keep it as ``name``."""
        bridge = self.rest.build
        text = f"REST through {bridge['project']} {bridge['version']} ({(bridge['git_sha'] or '')[:12]})\n{text}"
        self.show(text)
        with open(os.path.join(self.results_dir, name), "w") as f:
            f.write(text + "\n")

    def describe(self) -> dict:
        s = self.settings
        return {
            "size": s.size,
            "record_size": RECORD_SIZE,
            "acks": ACKS,
            "bridge": self.rest.build,
            "batch_size": s.batch_size,
            "linger_ms": s.linger_ms,
            "records_per_request": s.records_per_request,
            "in_flight": s.in_flight,
            "seconds_per_run": s.seconds,
            "warmup_s": s.warmup,
            "target": {
                "width_pct": s.width,
                "confidence": s.target.confidence,
                "min_repeats": s.min_repeats,
                "budget_s": s.budget,
            },
        }


class NativeVsRestProducerPerformance(_NativeVsRest):
    """Producing natively and through the bridge: maximum throughput, maximum sustainable rate,
    then latency at the same offered loads."""

    @cluster(num_nodes=3)
    def test_produce(self) -> dict:
        s = self.settings
        rpr = s.records_per_request
        cases = {"native": ("native", None, None), "rest": ("rest", rpr, None)}
        top, record_max = self.repeat(list(cases.values()))
        data: dict = {**self.describe(), "loads": list(s.loads), "p99_bound_ms": s.p99_bound_ms}
        for path in PATHS:
            data[path] = {"max": top[cases[path]]}
        searches = repeat_until_stable(
            list(PATHS),
            sustainable_searches(
                {path: TOP * data[path]["max"]["records_per_sec"]["value"] for path in PATHS},
                lambda probes: self.run_round([(p, rpr if p == "rest" else None, rate) for p, rate in probes]),
                lambda path, r: (
                    r["records_unsent"] == 0
                    and r["records_per_sec"] >= SUSTAINED * r["target_records_per_sec"]
                    and r["latency_99th_ms"] <= s.p99_bound_ms
                ),
                seed=self.seed,
                **SEARCH,
            ),
            lambda path: ("rate",),
            s.target,
            seed=self.seed,
        )
        for path in PATHS:
            runs = searches.runs[path]
            rate = estimate([r["rate"] for r in runs], s.width, s.target.level).figure("records/s")
            rate["stable"] = searches.stable[path] and not any(r["capped"] for r in runs)
            data[path]["sustainable"] = {
                "records_per_sec": rate,
                "searches": [
                    {
                        **{k: r[k] for k in ("rate", "low", "high", "capped")},
                        "probes": [
                            {k: p[k] for k in ("rate", "passed", "records_per_sec", "latency_99th_ms")}
                            for p in r["probes"]
                        ],
                    }
                    for r in runs
                ],
            }
        native_max = data["native"]["max"]["records_per_sec"]["value"]
        targets = [max(1, round(f * native_max)) for f in s.loads]
        at_rate, record_at_rate = self.repeat(
            [(path, rpr if path == "rest" else None, t) for t in targets for path in PATHS]
        )
        for path in PATHS:
            data[path]["at_rate"] = [at_rate[(path, rpr if path == "rest" else None, t)] for t in targets]
            data[path]["suspect"] = [list(pair) for pair in suspect(data[path]["at_rate"])]
        for key, part in (("records_per_sec", "max"), ("sustainable", "sustainable")):
            native = data["native"][part]["records_per_sec"]["value"]
            ratio = data["rest"][part]["records_per_sec"]["value"] / native if native else 0
            data[f"rest_vs_native_{key}"] = {"value": round(ratio, 4), "unit": "x"}
        data["repeats"] = {
            "max": record_max,
            "sustainable": {
                "seed": searches.seed,
                "elapsed_s": round(searches.elapsed_s, 1),
                "order": [" ".join(block) for block in searches.rounds],
            },
            "at_rate": record_at_rate,
        }
        plot_latency(
            os.path.join(self.results_dir, "latency_vs_throughput.png"),
            data,
            f"{RECORD_SIZE}-byte records, latency at offered loads (median, 95% interval)\n"
            f"(REST: {rpr} records/request, {s.in_flight} in flight)",
        )
        self.save(
            "native_vs_rest.txt",
            _produce_table(data, targets)
            + f"\nREST / native: max records/s {data['rest_vs_native_records_per_sec']['value']:.3f}, "
            f"sustainable {data['rest_vs_native_sustainable']['value']:.3f}; seed {self.seed}\n{LEGEND}",
        )
        return data

    @cluster(num_nodes=3)
    def test_records_per_request(self) -> dict:
        s = self.settings
        configs = [("native", None)] + [("rest", n) for n in s.sweep]
        found, record = self.repeat([(path, n, rate) for path, n in configs for rate in (None, s.sweep_rate)])
        data = {
            **self.describe(),
            "sweep_rate": s.sweep_rate,
            "repeats": record,
            "native": {"max": found[("native", None, None)], "at_rate": found[("native", None, s.sweep_rate)]},
            "rest": [
                {"records_per_request": n, "max": found[("rest", n, None)], "at_rate": found[("rest", n, s.sweep_rate)]}
                for n in s.sweep
            ],
        }
        plot_sweep(
            os.path.join(self.results_dir, "records_per_request.png"),
            data,
            f"REST records per request: {RECORD_SIZE}-byte records, at most "
            f"{s.in_flight} requests in flight (median, 95% interval)",
        )
        table = [["native", "", *_cells(data["native"])]] + [
            ["REST", row["records_per_request"], *_cells(row)] for row in data["rest"]
        ]
        self.save(
            "records_per_request.txt",
            tabulate(
                table,
                headers=[
                    "path",
                    "records/request",
                    "max records/s",
                    f"p50 ms at {s.sweep_rate:,}/s",
                    f"p99 ms at {s.sweep_rate:,}/s",
                ],
                disable_numparse=True,
            )
            + f"\nseed {self.seed}\n{LEGEND}",
        )
        return data


class NativeVsRestConsumerPerformance(_NativeVsRest):
    """Fill the topic (with Kafka's ProducerPerformance, unmeasured), then read all of it natively
    and through the bridge (each run in its own consumer group), as fast as each path goes,
    repeated until stable."""

    @cluster(num_nodes=3)
    def test_consume(self) -> dict:
        s = self.settings
        records = SIZES[s.size]["consume"]
        timeout = 20 * s.seconds + 1800
        ProducerPerformanceService(
            self.cluster,
            1,
            self.kafka,
            topic=TOPIC,
            num_records=records,
            record_size=RECORD_SIZE,
            settings=self.producer_settings,
        ).run(timeout=timeout)

        def run_round(order: list) -> list[dict]:
            results = []
            for path in order:
                service: ConsumerPerformanceService | RestConsumerPerformanceService
                if path == "native":
                    service = ConsumerPerformanceService(self.cluster, 1, self.kafka, topic=TOPIC, num_records=records)
                else:
                    service = RestConsumerPerformanceService(
                        self.cluster, 1, self.rest, topic=TOPIC, num_records=records
                    )
                service.run(timeout=timeout)
                results.append(service.results[0])
            return results

        keys = ("records", "records_per_sec", "mbps", "total_mb")
        found = repeat_until_stable(list(PATHS), run_round, lambda path: ("records_per_sec",), s.target, seed=self.seed)
        data = {
            **self.describe(),
            "records": records,
            "repeats": {
                "seed": found.seed,
                "elapsed_s": round(found.elapsed_s, 1),
                "order": [" ".join(block) for block in found.rounds],
            },
        }
        for path in PATHS:
            data[path] = summarize(found.runs[path], keys, s.target, found.stable[path])
        ratio = data["rest"]["records_per_sec"]["value"] / data["native"]["records_per_sec"]["value"]
        data["rest_vs_native_records_per_sec"] = {"value": round(ratio, 4), "unit": "x"}
        rows = [
            [name, *(interval(data[path][f]) for f in ("records_per_sec", "mbps"))]
            for name, path in (("native", "native"), ("REST", "rest"))
        ]
        self.save(
            "native_vs_rest.txt",
            f"consume: {records:,} records of {RECORD_SIZE} bytes\n"
            + tabulate(rows, headers=["path", "records/s", "MB/s"], disable_numparse=True)
            + f"\nREST / native records/s: {ratio:.3f}\nas fast as each path reads; seed {found.seed}\n{LEGEND}",
        )
        return data


def _judged(case: tuple) -> tuple[str, ...]:
    """The figures whose interval decides when a case is stable: its achieved rate, and at a
    rate its p99 (as fast as it goes, latency is the saturated path's queue)."""
    return ("records_per_sec",) if case[2] is None else ("records_per_sec", "latency_99th_ms")


def _step(case: tuple) -> str:
    """A case ``(path, records_per_request, rate)`` in a word, e.g. ``rest/100@2000``."""
    path, n, rate = case
    return f"{path}{f'/{n}' if n else ''}@{rate or 'max'}"


def _produce_table(data: dict, targets: list[int]) -> str:
    headers = [
        "path",
        "max records/s",
        f"sustainable (p99 < {data['p99_bound_ms']:g} ms)",
        *(f"at {t:,}/s: achieved; p99 ms" for t in targets),
    ]
    rows = []
    for name, path in (("native", "native"), ("REST", "rest")):
        at = [
            f"{interval(e['records_per_sec'])}; {_behind(e)}{interval(e['latency_99th_ms'])}"
            for e in data[path]["at_rate"]
        ]
        rows.append(
            [
                name + (" (suspect)" if data[path]["suspect"] else ""),
                interval(data[path]["max"]["records_per_sec"]),
                interval(data[path]["sustainable"]["records_per_sec"]),
                *at,
            ]
        )
    return tabulate(rows, headers=headers, disable_numparse=True)


def _behind(entry: dict) -> str:
    """ ">=" when the path fell behind the offered load (its latencies may be lower bounds)."""
    return ">=" if fell_behind(entry) else ""


def _cells(row: dict) -> list[str]:
    at = row["at_rate"]
    return [
        interval(row["max"]["records_per_sec"]),
        *(f"{_behind(at)}{interval(at[key])}" for key in ("latency_50th_ms", "latency_99th_ms")),
    ]


if __name__ == "__main__":
    from ducttape.runner.main import main

    main(__spec__.name)
