"""Helpers for the `invoke build` tests: run the CLI as a user would, make git projects, run JVMs."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import textwrap
import time
from contextlib import contextmanager
from pathlib import Path

import git
import pytest

REPO = Path(__file__).resolve().parents[2]


class Invoke:
    """Runs ``python -m invoke -r <repo> build ...`` with a given build folder."""

    def __init__(self, build_dir: Path | None):
        self.build_dir = build_dir  # None: the build folder the environment gives (the default one)

    def __call__(self, *args: str, timeout: float = 900) -> subprocess.CompletedProcess:
        env = dict(os.environ)
        if self.build_dir is not None:
            env["DUCTTAPE_BUILD_DIR"] = str(self.build_dir)
        return subprocess.run(
            [sys.executable, "-m", "invoke", "-r", str(REPO), "build", *args],
            cwd=REPO, env=env, capture_output=True, text=True, timeout=timeout, stdin=subprocess.DEVNULL,
        )


def assert_one_line_error(result: subprocess.CompletedProcess, *expected: str) -> str:
    """The CLI failed with exit code 2 and exactly one ``error:`` line on stderr holding ``expected``."""
    assert result.returncode == 2, (result.returncode, result.stdout, result.stderr)
    assert "Traceback" not in result.stderr + result.stdout
    lines = [ln for ln in result.stderr.splitlines() if ln.strip()]
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("error: "), lines[0]
    for text in expected:
        assert text in lines[0], (text, lines[0])
    return lines[0]


def write_projects(path: Path, body: str) -> Path:
    path.write_text(textwrap.dedent(body))
    return path


# -- tiny Maven projects in local git repositories ---------------------------------------------

PLUGINS = """
  <properties>
    <maven.compiler.release>17</maven.compiler.release>
    <project.build.sourceEncoding>UTF-8</project.build.sourceEncoding>
  </properties>
  <build>
    <plugins>
      <plugin><artifactId>maven-compiler-plugin</artifactId><version>3.13.0</version></plugin>
      <plugin><artifactId>maven-resources-plugin</artifactId><version>3.3.1</version></plugin>
      <plugin><artifactId>maven-jar-plugin</artifactId><version>3.4.2</version></plugin>
      <plugin><artifactId>maven-surefire-plugin</artifactId><version>3.5.2</version></plugin>
      <plugin><artifactId>maven-install-plugin</artifactId><version>3.1.3</version></plugin>
    </plugins>
  </build>
"""


def maven_repo(path: Path, artifact: str, java: dict[str, str], deps: str = "",
               resources: dict[str, str] | None = None) -> git.Repo:
    """A git repository (branch main, one commit) holding a small Maven project."""
    path.mkdir(parents=True)
    (path / "pom.xml").write_text(
        '<project xmlns="http://maven.apache.org/POM/4.0.0">\n'
        "  <modelVersion>4.0.0</modelVersion>\n"
        f"  <groupId>ducttape.test</groupId><artifactId>{artifact}</artifactId><version>1.0</version>\n"
        f"  <dependencies>{deps}</dependencies>\n{PLUGINS}</project>\n"
    )
    for rel, text in java.items():
        f = path / "src/main/java" / rel
        f.parent.mkdir(parents=True, exist_ok=True)
        f.write_text(textwrap.dedent(text))
    for rel, text in (resources or {}).items():
        f = path / "src/main/resources" / rel
        f.parent.mkdir(parents=True, exist_ok=True)
        f.write_text(text)
    repo = git.Repo.init(path, initial_branch="main")
    with repo.config_writer() as cw:
        cw.set_value("user", "name", "ducttape test")
        cw.set_value("user", "email", "test@ducttape.invalid")
    repo.git.add(A=True)
    repo.index.commit("initial")
    return repo


# -- JVM processes -----------------------------------------------------------------------------

def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket() as s:
        s.bind((host, 0))
        return s.getsockname()[1]


def start(cmd: list[str], log: Path, env_extra: dict[str, str] | None = None,
          cwd: Path | None = None) -> subprocess.Popen:
    """Start ``cmd`` in its own process group, output to ``log``."""
    env = {**os.environ, **(env_extra or {})}
    with open(log, "w") as out:
        return subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                env=env, cwd=cwd, start_new_session=True)


def stop(proc: subprocess.Popen, timeout: float = 30) -> None:
    """SIGTERM the process group, SIGKILL it if still there after ``timeout``; wait for it."""
    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(10)


def wait_for(what: str, check, timeout: float, proc: subprocess.Popen | None = None, log: Path | None = None):
    """Poll ``check()`` until it returns something truthy; fail after ``timeout`` or if ``proc`` dies."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        result = check()
        if result:
            return result
        if proc is not None and proc.poll() is not None:
            tail = log.read_text()[-3000:] if log else ""
            pytest.fail(f"{what}: process exited with {proc.returncode} first\n{tail}")
        time.sleep(0.2)
    tail = log.read_text()[-3000:] if log else ""
    pytest.fail(f"{what}: not within {timeout}s\n{tail}")


# -- Kafka from the build folder ---------------------------------------------------------------

TOOLS_LOG4J2 = """\
appender.err.type = Console
appender.err.name = ERR
appender.err.target = SYSTEM_ERR
appender.err.layout.type = PatternLayout
appender.err.layout.pattern = [%d] %p %m (%c)%n
rootLogger.level = WARN
rootLogger.appenderRef.err.ref = ERR
"""
SERVER_LOG4J2 = TOOLS_LOG4J2.replace("SYSTEM_ERR", "SYSTEM_OUT").replace("= WARN", "= INFO")


def launcher(project: str) -> str:
    from ducttape.build import layout

    return str(layout.build_dir() / layout.launcher(project))


def run_class(project: str, role: str, *args: str, java_opts: str, timeout: float = 120) -> subprocess.CompletedProcess:
    """Run a tool of ``project`` through its launcher (from the default build folder) and wait for it."""
    from ducttape.build import manifest

    cmd = [launcher(project), manifest.main_class(project, role), *args]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, stdin=subprocess.DEVNULL,
                          env={**os.environ, "JAVA_OPTS": java_opts})


@contextmanager
def kraft_broker(d: Path):
    """One KRaft broker+controller on 127.0.0.1 from the built kafka project, data under ``d``.

    Yields {"bootstrap": "127.0.0.1:PORT", "tools_opts": JAVA_OPTS for tools, "dir": d}; stops the
    broker (its pid, TERM then KILL) on exit.
    """
    from ducttape.build import manifest

    port, controller_port = free_port(), free_port()
    (d / "tools-log4j2.properties").write_text(TOOLS_LOG4J2)
    (d / "log4j2.properties").write_text(SERVER_LOG4J2)
    (d / "server.properties").write_text(
        "process.roles=broker,controller\n"
        "node.id=1\n"
        f"controller.quorum.voters=1@127.0.0.1:{controller_port}\n"
        f"listeners=PLAINTEXT://127.0.0.1:{port},CONTROLLER://127.0.0.1:{controller_port}\n"
        f"advertised.listeners=PLAINTEXT://127.0.0.1:{port}\n"
        "controller.listener.names=CONTROLLER\n"
        "listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT\n"
        "inter.broker.listener.name=PLAINTEXT\n"
        f"log.dirs={d / 'data'}\n"
        "offsets.topic.replication.factor=1\n"
        "transaction.state.log.replication.factor=1\n"
        "transaction.state.log.min.isr=1\n"
        "group.initial.rebalance.delay.ms=0\n"
    )
    tools = f"-Dlog4j2.configurationFile={d / 'tools-log4j2.properties'}"
    uuid = run_class("kafka", "storage", "random-uuid", java_opts=tools)
    assert uuid.returncode == 0, uuid.stderr
    fmt = run_class("kafka", "storage", "format", "-t", uuid.stdout.strip(), "-c", str(d / "server.properties"),
                    java_opts=tools)
    assert fmt.returncode == 0 and "Formatting" in fmt.stdout, fmt.stdout + fmt.stderr

    log = d / "broker.log"
    broker = start(
        [launcher("kafka"), manifest.main_class("kafka", "broker"), str(d / "server.properties")],
        log, {"JAVA_OPTS": f"-Xmx512m -Dlog4j2.configurationFile={d / 'log4j2.properties'}"},
    )
    try:
        wait_for("Kafka broker started", lambda: "Kafka Server started" in log.read_text(), 90, broker, log)
        yield {"bootstrap": f"127.0.0.1:{port}", "tools_opts": tools, "dir": d}
    finally:
        stop(broker)
    assert broker.returncode is not None
