"""Kafka's native clients against the REST path through the HTTP bridge, measured alike.

One broker, one bridge and the load generator each on a node of their own; a topic of 6
partitions, acks=1, records of 100 random bytes. Both producer paths run in LoadGen.java: the
same constant-rate pacing loop, per-record latency from each record's due time to its
acknowledgement, the same producer batch.size and linger.ms (for the REST path, those of the
bridge's producer). The REST path sends ``records_per_request`` records per HTTP request.

- ``NativeVsRestProducerPerformance.test_produce``: each path's maximum throughput, then the
  latency of both paths at the same offered loads (``loads``: fractions of the native maximum
  measured in the same session).
- ``NativeVsRestProducerPerformance.test_records_per_request``: the REST path's maximum
  throughput and latency at one offered load (``sweep_rate``) for 1, 10, 100 and 1000 records
  per request, beside the native path's.
- ``NativeVsRestConsumerPerformance.test_consume``: reading a filled topic natively
  (ConsumerPerformance) and through the bridge.

Runs are repeated ``repeats`` times with the order of the paths alternated; figures are the
median with the min-max range. Settings come as test parameters (docs/products.md)::

    invoke test native_vs_rest_performance --param size=seed --param repeats=3
"""

from __future__ import annotations

import os
from dataclasses import dataclass, fields
from types import MappingProxyType

from tabulate import tabulate

from ducttape.errors import ConfigError
from ducttape.products.performance import (ConsumerPerformanceService, NativeProducerLoadService,
                                           ProducerPerformanceService, RestConsumerPerformanceService,
                                           RestProducerLoadService)
from ducttape.products.performance.summary import (PATHS, fell_behind, plot_latency, plot_sweep,
                                                   summarize)
from ducttape.runner import cluster
from ducttape.tests.test import RestProxyTest

TOPIC = "test-rep-one"
RECORD_SIZE = 100
ACKS = 1
SIZES = MappingProxyType({
    "small": MappingProxyType({"seconds": 5, "repeats": 1, "consume": 2_000_000}),
    "seed": MappingProxyType({"seconds": 30, "repeats": 3, "consume": 5_000_000}),
})
FIRST_WARMUP_S = 10
LEGEND = ("max: as fast as each path goes; at N: offered N records/s at a constant rate "
          "(achieved rate beside it); latency per record, from its due time to its ack; "
          "median of the repeats; >=: the path fell behind, and the records it had not sent by "
          "twice the run's length count with their wait so far (a lower bound)")


@dataclass(frozen=True)
class Settings:
    """The scenario's parameters (``--param key=value``), checked, with their defaults."""

    size: str = "small"
    repeats: int = 0
    """Paired repeats (0: the size's, small 1, seed 3)."""
    seconds: float = 0
    """Of each producing run (0: the size's, small 5, seed 30)."""
    warmup: float = 2
    """Seconds of the same load before each producing run, unmeasured (JIT, connections); the
    first run of each path in a test also warms up FIRST_WARMUP_S more (fresh JVMs)."""
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
        for name, low in (("repeats", 1), ("records_per_request", 1), ("batch_size", 1),
                          ("linger_ms", 0), ("in_flight", 1), ("sweep_rate", 1), ("seconds", 0.001), ("warmup", 0)):
            whole = name not in ("seconds", "warmup")
            if name in values and not _number(values[name], low, whole):
                raise ConfigError(f"--param {name}={values[name]!r} is not a "
                                  f"{'whole number' if whole else 'number'} of at least {low:g}")
        for name, low, high, whole in (("loads", 0.001, 1, False), ("sweep", 1, 1e6, True)):
            items = values.get(name, getattr(cls, name))
            items = items if isinstance(items, (list, tuple)) else [items]
            if not items or not all(_number(v, low, whole) and v <= high for v in items):
                raise ConfigError(f"--param {name}={values[name]!r} is not a list of "
                                  + ("fractions in (0, 1], e.g. [0.25,0.5]" if name == "loads"
                                     else "whole numbers, e.g. [1,10,100]"))
            values[name] = tuple(items)
        sized = {"repeats": SIZES[size]["repeats"], "seconds": SIZES[size]["seconds"]}
        return cls(**{**values, **{k: values.get(k) or v for k, v in sized.items()}})


def _number(value, low: float, whole: bool) -> bool:
    return (isinstance(value, (int, float)) and not isinstance(value, bool) and value >= low
            and (not whole or value == int(value)))


class _NativeVsRest(RestProxyTest):
    topics = MappingProxyType({TOPIC: {"partitions": 6, "replication-factor": 1}})

    def setUp(self) -> None:
        self.settings = Settings.from_params(self.params)  # bad parameters fail before any service
        s = self.settings
        self.rest_settings = {"kafka.producer.acks": ACKS, "kafka.producer.batch.size": s.batch_size,
                              "kafka.producer.linger.ms": s.linger_ms}
        self.producer_settings = {"acks": ACKS, "batch.size": s.batch_size, "linger.ms": s.linger_ms}
        self.warm: set[str] = set()
        super().setUp()

    def produce(self, path: str, rate: float | None = None, records_per_request: int | None = None) -> dict:
        """One producing run on ``path`` at ``rate`` records/s (None: as fast as it goes)."""
        s = self.settings
        warmup = s.warmup + (0 if path in self.warm else FIRST_WARMUP_S)
        self.warm.add(path)
        service: NativeProducerLoadService | RestProducerLoadService
        if path == "native":
            service = NativeProducerLoadService(self.cluster, 1, self.kafka, TOPIC, RECORD_SIZE, s.seconds,
                                                rate, warmup_s=warmup, settings=self.producer_settings)
        else:
            service = RestProducerLoadService(self.cluster, 1, self.rest, TOPIC, RECORD_SIZE, s.seconds,
                                              records_per_request or s.records_per_request, rate,
                                              warmup_s=warmup, in_flight=s.in_flight)
        service.run(timeout=_run_timeout(s.seconds))
        result = service.results[0]
        assert result["errors"] == 0 and result["records"] == result["records_sent"] > 0, result
        return result

    def save(self, name: str, text: str) -> None:
        """Show ``text`` under a line naming the bridge, and keep it as ``name``."""
        bridge = self.rest.build
        text = (f"REST through {bridge['project']} {bridge['version']} "
                f"({(bridge['git_sha'] or '')[:12]})\n{text}")
        self.show(text)
        with open(os.path.join(self.results_dir, name), "w") as f:
            f.write(text + "\n")

    def describe(self) -> dict:
        s = self.settings
        return {"size": s.size, "repeats": s.repeats, "record_size": RECORD_SIZE, "acks": ACKS,
                "bridge": self.rest.build,
                "batch_size": s.batch_size, "linger_ms": s.linger_ms,
                "records_per_request": s.records_per_request, "in_flight": s.in_flight,
                "seconds_per_run": s.seconds, "warmup_s": s.warmup}


class NativeVsRestProducerPerformance(_NativeVsRest):
    """Producing natively and through the bridge: maximum throughput, then latency at the same
    offered loads."""

    @cluster(num_nodes=3)
    def test_produce(self) -> dict:
        s = self.settings
        runs: dict = {path: {"max": [], "at_rate": {}} for path in PATHS}
        for r in range(s.repeats):
            for path in _order(r):
                runs[path]["max"].append(self.produce(path))
        native_max = summarize(runs["native"]["max"])["records_per_sec"]["value"]
        targets = [max(1, round(f * native_max)) for f in s.loads]
        for k, target in enumerate(targets):
            for r in range(s.repeats):
                for path in _order(r + k):
                    runs[path]["at_rate"].setdefault(target, []).append(self.produce(path, rate=target))
        data = {**self.describe(), "loads": list(s.loads)}
        for path in PATHS:
            data[path] = {"max": summarize(runs[path]["max"]),
                          "at_rate": [summarize(v) for v in runs[path]["at_rate"].values()]}
        rest, native = data["rest"]["max"], data["native"]["max"]
        ratio = rest["records_per_sec"]["value"] / native["records_per_sec"]["value"]
        data["rest_vs_native_records_per_sec"] = {"value": round(ratio, 4), "unit": "x"}
        plot_latency(os.path.join(self.results_dir, "latency_vs_throughput.png"), data,
                     f"{RECORD_SIZE}-byte records, latency at offered loads\n"
                     f"(REST: {s.records_per_request} records/request, {s.in_flight} in flight)")
        self.save("native_vs_rest.txt", _produce_table(data, targets) +
                  f"\nREST / native max records/s: {ratio:.3f}\n{LEGEND}")
        return data

    @cluster(num_nodes=3)
    def test_records_per_request(self) -> dict:
        s = self.settings
        rows: dict = {}
        for r in range(s.repeats):
            for path in _order(r):
                for n in (s.sweep if path == "rest" else [None]):
                    key = f"rest/{n}" if n else "native"
                    row = rows.setdefault(key, {"max": [], "at_rate": []})
                    row["max"].append(self.produce(path, records_per_request=n))
                    row["at_rate"].append(self.produce(path, rate=s.sweep_rate, records_per_request=n))
        data = {**self.describe(), "sweep_rate": s.sweep_rate,
                "native": {k: summarize(v) for k, v in rows.pop("native").items()},
                "rest": [{"records_per_request": int(key.split("/")[1]),
                          **{k: summarize(v) for k, v in row.items()}} for key, row in rows.items()]}
        plot_sweep(os.path.join(self.results_dir, "records_per_request.png"), data,
                   f"REST records per request: {RECORD_SIZE}-byte records, at most "
                   f"{s.in_flight} requests in flight")
        table = [["native", "", *_cells(data["native"])]] + \
                [["REST", row["records_per_request"], *_cells(row)] for row in data["rest"]]
        self.save("records_per_request.txt", tabulate(
            table, headers=["path", "records/request", "max records/s", "max MB/s",
                            f"p50 ms at {s.sweep_rate:,}/s", f"p99 ms at {s.sweep_rate:,}/s"],
            disable_numparse=True) + f"\n{LEGEND}")
        return data


class NativeVsRestConsumerPerformance(_NativeVsRest):
    """Fill the topic (with Kafka's ProducerPerformance, unmeasured), then read all of it natively
    and through the bridge (each run in its own consumer group), as fast as each path goes."""

    @cluster(num_nodes=3)
    def test_consume(self) -> dict:
        s = self.settings
        records = SIZES[s.size]["consume"]
        ProducerPerformanceService(self.cluster, 1, self.kafka, topic=TOPIC, num_records=records,
                                   record_size=RECORD_SIZE, settings=self.producer_settings).run(
                                       timeout=_run_timeout(s.seconds) + 1800)
        runs: dict = {path: [] for path in PATHS}
        for r in range(s.repeats):
            for path in _order(r):
                service: ConsumerPerformanceService | RestConsumerPerformanceService
                if path == "native":
                    service = ConsumerPerformanceService(self.cluster, 1, self.kafka, topic=TOPIC,
                                                         num_records=records)
                else:
                    service = RestConsumerPerformanceService(self.cluster, 1, self.rest, topic=TOPIC,
                                                             num_records=records)
                service.run(timeout=_run_timeout(s.seconds) + 1800)
                runs[path].append(service.results[0])
        data = {**self.describe(), "records": records}
        for path in PATHS:
            data[path] = summarize(runs[path], ("records", "records_per_sec", "mbps", "total_mb"))
        ratio = data["rest"]["records_per_sec"]["value"] / data["native"]["records_per_sec"]["value"]
        data["rest_vs_native_records_per_sec"] = {"value": round(ratio, 4), "unit": "x"}
        rows = [[name, *(_spread(data[path], f) for f in ("records_per_sec", "mbps"))]
                for name, path in (("native", "native"), ("REST", "rest"))]
        self.save("native_vs_rest.txt", f"consume: {records:,} records of {RECORD_SIZE} bytes\n" + tabulate(
            rows, headers=["path", "records/s", "MB/s"]) +
                  f"\nREST / native records/s: {ratio:.3f}\nas fast as each path reads; median of {s.repeats} "
                  f"repeat(s) (min-max when they differ)")
        return data


def _order(r: int) -> tuple[str, str]:
    """The paths in the order of repeat ``r``: alternated."""
    return PATHS if r % 2 == 0 else PATHS[::-1]


def _run_timeout(seconds: float) -> float:
    return 20 * seconds + 600


def _spread(entry: dict, key: str) -> str:
    """The median of ``key`` in a summary, with the min-max range when the repeats differ."""
    low, high = entry["range"][key]
    return f"{entry[key]['value']:,.1f}" + ("" if low == high else f" ({low:,.1f}-{high:,.1f})")


def _produce_table(data: dict, targets: list[int]) -> str:
    headers = ["path", "max records/s", "max MB/s",
               *(f"at {t:,}/s: achieved, p99 ms" for t in targets)]
    rows = []
    for name, path in (("native", "native"), ("REST", "rest")):
        at = [f"{e['records_per_sec']['value']:,.0f}, {_behind(e)}{_spread(e, 'latency_99th_ms')}"
              for e in data[path]["at_rate"]]
        rows.append([name, _spread(data[path]["max"], "records_per_sec"),
                     _spread(data[path]["max"], "mbps"), *at])
    return tabulate(rows, headers=headers, disable_numparse=True)


def _behind(entry: dict) -> str:
    """">=" when a repeat fell behind its offered load (its latencies are lower bounds)."""
    return ">=" if fell_behind(entry) else ""


def _cells(row: dict) -> list[str]:
    at = row["at_rate"]
    return [f"{row['max']['records_per_sec']['value']:,.0f}", f"{row['max']['mbps']['value']:,.2f}",
            *(f"{_behind(at)}{at[key]['value']:,.1f}" for key in ("latency_50th_ms", "latency_99th_ms"))]


if __name__ == "__main__":
    from ducttape.runner.main import main
    main(__spec__.name)
