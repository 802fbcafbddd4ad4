"""Bad input to `invoke build`: one line on stderr, exit code 2, no traceback, nothing else touched."""

from __future__ import annotations

import json
import socket
import threading
import time

import pytest

from build_helpers import assert_one_line_error, free_port, maven_repo, write_projects


@pytest.fixture
def prior_build(build_dir):
    """A build folder holding another project's output and manifest, to check they stay intact."""
    (build_dir / "other" / "libs").mkdir(parents=True)
    (build_dir / "other" / "libs" / "other.jar").write_bytes(b"jar bytes")
    manifest = {"format": 1, "projects": {"other": {"name": "other", "kind": "released", "status": "ok"}}}
    (build_dir / "manifest.json").write_text(json.dumps(manifest))

    def snapshot():
        files = {str(p.relative_to(build_dir)): p.read_bytes() for p in (build_dir / "other").rglob("*") if p.is_file()}
        return files, json.loads((build_dir / "manifest.json").read_text())["projects"]["other"]

    before = snapshot()
    yield
    assert snapshot() == before
    assert not list(build_dir.glob(".tmp-*")), "temporary folders left behind"


def test_missing_projects_file(invoke_build, tmp_path, prior_build):
    missing = tmp_path / "nope.yaml"
    assert_one_line_error(invoke_build("--projects", str(missing)), str(missing), "no such projects file")


def test_malformed_yaml(invoke_build, tmp_path, prior_build):
    bad = write_projects(tmp_path / "p.yaml", "projects:\n  - name: a\n    git: [unclosed\n")
    assert_one_line_error(invoke_build("--projects", str(bad)), str(bad), "not valid YAML")


def test_not_a_projects_mapping(invoke_build, tmp_path, prior_build):
    bad = write_projects(tmp_path / "p.yaml", "- just\n- a list\n")
    assert_one_line_error(invoke_build("--projects", str(bad)), "'projects'")


def test_unknown_key(invoke_build, tmp_path, prior_build):
    bad = write_projects(tmp_path / "p.yaml", """\
        projects:
          - name: kafka
            artifacts: [org.apache.kafka:kafka-clients:4.1.1]
            main_class: kafka.Kafka
        """)
    assert_one_line_error(invoke_build("--projects", str(bad)), "project 'kafka'", "unknown key 'main_class'")


@pytest.mark.parametrize(
    "entry, message",
    [
        ("{name: a, git: 'file:///x', ref: main, goal: deploy}", "goal must be one of package, install"),
        ("{name: a, artifacts: ['org.example:only-two']}", "is not groupId:artifactId:version"),
        ("{name: a, git: 'file:///x'}", "'ref' is required"),
        ("{name: a, git: 'file:///x', ref: main, artifacts: ['g:a:1']}", "not git and artifacts"),
        ("{name: a, main_classes: {r: a.B}}", "give exactly one of 'git'"),
        ("{name: a, path: bridge, optional: 'yes'}", "'optional' must be true or false"),
        ("{name: a, path: bridge, ref: main}", "unknown key 'ref'"),
        ("{name: a, git: 'file:///x', ref: main, depends_on: [b]}", "unknown project 'b'"),
        ("{name: a, git: 'file:///x', ref: main, libs: ['g:a:1'], goal: install}",
         "'goal' and 'libs' exclude each other"),
        ("{name: a, git: 'file:///x', ref: main, libs: []}", "'libs' must list at least one"),
        ("{name: a, git: 'file:///x', ref: main, libs_in: {x: ['g:a:1']}}", "'libs_in' goes with 'libs'"),
        ("{name: a, git: 'file:///x', ref: main, libs: ['g:a:1'], libs_in: {../x: ['g:a:1']}}",
         "folder '../x' must be a relative path inside the checkout"),
        ("{name: a, git: 'file:///x', ref: main, libs: ['g:a:1'], libs_in: {x: ['g:a']}}",
         "artifact 'g:a' in 'libs_in: x' is not groupId:artifactId:version[:type[:classifier]]"),
        ("{name: a, git: 'file:///x', ref: main, libs: ['g:a:1'], exclude: ['g:a:1']}",
         "exclude entry 'g:a:1' is not groupId:artifactId"),
        # git takes an argument starting with '-' for an option (--upload-pack runs a command)
        ("{name: a, git: '--upload-pack=touch /tmp/x', ref: main}",
         "'git' '--upload-pack=touch /tmp/x' must not start with '-'"),
        ("{name: a, git: 'file:///x', ref: '--output=/tmp/x'}", "'ref' '--output=/tmp/x' must not start with '-'"),
        ("{name: ../a, git: 'file:///x', ref: main}", "'name' must be a word of letters"),
        ("{name: a, git: 'file:///x', ref: main, depends_on: ['../b']}",
         "depends_on names '../b', which is not a project name"),
        # the token of a URL is not shown in the error either
        ("{name: a, git: 'https://me:ghp_SECRET@example.com/a b.git', ref: main}",
         "'git' 'https://example.com/a b.git' must not start with '-' or hold spaces"),
    ],
)
def test_invalid_entries(invoke_build, tmp_path, entry, message, prior_build):
    bad = write_projects(tmp_path / "p.yaml", f"projects:\n  - {entry}\n")
    assert_one_line_error(invoke_build("--projects", str(bad)), message)


def test_dependency_cycle(invoke_build, tmp_path):
    bad = write_projects(tmp_path / "p.yaml", """\
        projects:
          - {name: a, git: 'file:///a', ref: main, depends_on: [b]}
          - {name: b, git: 'file:///b', ref: main, depends_on: [a]}
        """)
    assert_one_line_error(invoke_build("--projects", str(bad)), "dependency cycle a -> b -> a")


def test_unknown_only_name(invoke_build, tmp_path, prior_build):
    ok = write_projects(tmp_path / "p.yaml", """\
        projects:
          - {name: zookeeper, artifacts: ['org.apache.zookeeper:zookeeper:3.9.5']}
        """)
    assert_one_line_error(invoke_build("--projects", str(ok), "--only", "zookeepr"),
                          "--only zookeepr", "known: zookeeper")


def test_git_url_that_does_not_exist(invoke_build, tmp_path, build_dir, prior_build):
    url = (tmp_path / "no-such-repo").as_uri()
    bad = write_projects(tmp_path / "p.yaml", f"""\
        projects:
          - {{name: broken, git: '{url}', ref: main}}
        """)
    result = invoke_build("--projects", str(bad))
    log = build_dir / "logs" / "broken.log"
    assert_one_line_error(result, "broken:", f"git fetch {url}", f"log: {log}")
    assert "broken" in result.stdout and "FAILED" in result.stdout
    assert not (build_dir / "broken").exists()  # no half-made checkout
    assert "does not appear to be a git repository" in log.read_text()


def test_unknown_ref(invoke_build, tmp_path, build_dir, prior_build):
    upstream = tmp_path / "upstream"
    maven_repo(upstream, "hello", {"Hello.java": "public class Hello {}\n"})
    bad = write_projects(tmp_path / "p.yaml", f"""\
        projects:
          - {{name: broken, git: '{upstream.as_uri()}', ref: no-such-branch}}
        """)
    assert_one_line_error(invoke_build("--projects", str(bad)), "broken:", "no branch, tag or commit 'no-such-branch'")
    assert not (build_dir / "broken").exists()


@pytest.mark.slow
@pytest.mark.maven
def test_failing_maven_build_keeps_other_outputs(invoke_build, tmp_path, build_dir):
    good = tmp_path / "good"
    maven_repo(good, "good", {"Good.java": "public class Good {}\n"})
    bad = tmp_path / "bad"
    maven_repo(bad, "bad", {"Bad.java": "public class Bad { this does not compile }\n"})
    projects = write_projects(tmp_path / "p.yaml", f"""\
        projects:
          - {{name: good, git: '{good.as_uri()}', ref: main}}
          - {{name: bad, git: '{bad.as_uri()}', ref: main}}
        """)
    first = invoke_build("--projects", str(projects))
    log = build_dir / "logs" / "bad.log"
    line = assert_one_line_error(first, "bad:", "mvn exited with code 1", f"log: {log}")
    assert "COMPILATION ERROR" in log.read_text() or "compil" in line.lower()
    # The progress output names the command and shows the tail of the log.
    assert "command: mvn -B" in first.stdout and "| " in first.stdout
    jar = build_dir / "good" / "target" / "good-1.0.jar"
    assert jar.is_file()
    entries = json.loads((build_dir / "manifest.json").read_text())["projects"]
    assert entries["good"]["status"] == "ok" and entries["bad"]["status"] == "failed"

    # Building again rebuilds only the failed project and leaves the good one alone.
    jar_mtime = jar.stat().st_mtime_ns
    second = invoke_build("--projects", str(projects))
    assert second.returncode == 2
    assert [ln for ln in second.stdout.splitlines() if ln.startswith("good ")][0].endswith("up to date")
    assert jar.stat().st_mtime_ns == jar_mtime
    assert json.loads((build_dir / "manifest.json").read_text())["projects"]["good"] == entries["good"]


def test_project_folder_of_the_wrong_kind_is_left_alone(invoke_build, tmp_path, build_dir):
    (build_dir / "zookeeper" / ".git").mkdir(parents=True)
    (build_dir / "plain").mkdir()
    (build_dir / "plain" / "notes.txt").write_text("mine")
    projects = write_projects(tmp_path / "p.yaml", f"""\
        projects:
          - {{name: zookeeper, artifacts: ['org.apache.zookeeper:zookeeper:3.9.5']}}
          - {{name: plain, git: '{(tmp_path / "x").as_uri()}', ref: main}}
        """)
    line = assert_one_line_error(invoke_build("--projects", str(projects)), "zookeeper:", "is a git checkout", "plain:",
                                 "is not a git checkout")
    assert "move it away" in line
    assert (build_dir / "zookeeper" / ".git").is_dir()
    assert (build_dir / "plain" / "notes.txt").read_text() == "mine"


@pytest.mark.slow
def test_stalled_git_server_fails_in_bounded_time(invoke_build, tmp_path, build_dir):
    """A server that accepts the connection and then says nothing: the fetch gives up after
    checkout.STALL_TIMEOUT_S without data, not after the 600 s overall limit."""
    from ducttape.build.checkout import STALL_TIMEOUT_S

    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(8)
    held = []

    def accept_and_say_nothing():
        try:
            while True:
                held.append(server.accept())
        except OSError:  # closed at the end of the test
            pass

    threading.Thread(target=accept_and_say_nothing, daemon=True).start()
    url = f"http://127.0.0.1:{server.getsockname()[1]}/silent.git"
    projects = write_projects(tmp_path / "p.yaml", f"""\
        projects:
          - {{name: silent, git: '{url}', ref: main}}
        """)
    t0 = time.monotonic()
    try:
        result = invoke_build("--projects", str(projects))
    finally:
        server.close()
    elapsed = time.monotonic() - t0
    assert_one_line_error(result, "silent:", f"git fetch {url}", "Operation too slow")
    assert STALL_TIMEOUT_S <= elapsed < STALL_TIMEOUT_S + 60, elapsed
    assert not (build_dir / "silent").exists()


def test_unreachable_url_names_project_and_url(invoke_build, tmp_path, build_dir):
    port = free_port()  # nothing listens there: connection refused
    url = f"http://127.0.0.1:{port}/gone.git"
    projects = write_projects(tmp_path / "p.yaml", f"""\
        projects:
          - {{name: gone, git: '{url}', ref: main}}
        """)
    assert_one_line_error(invoke_build("--projects", str(projects)), "gone:", f"git fetch {url}",
                          "Couldn't connect to server")


@pytest.mark.slow
@pytest.mark.maven
def test_main_class_missing_from_the_jars(invoke_build, tmp_path, build_dir):
    projects = write_projects(tmp_path / "p.yaml", """\
        projects:
          - name: lang
            artifacts: [org.apache.commons:commons-lang3:3.17.0]
            main_classes: {tool: org.apache.commons.lang3.NoSuchMain}
        """)
    line = assert_one_line_error(invoke_build("--projects", str(projects)), "lang:",
                                 "main class org.apache.commons.lang3.NoSuchMain (role 'tool') "
                                 "is in none of the 1 jars of its",
                                 "fix main_classes of project 'lang' in projects.yaml")
    assert "log: " in line
    assert not (build_dir / "lang").exists()  # nothing half-made is swapped in
    # Fixed, it builds; a later typo in main_classes is caught without rebuilding.
    projects.write_text(projects.read_text().replace("NoSuchMain", "StringUtils"))
    assert invoke_build("--projects", str(projects)).returncode == 0
    # --update asks Maven again (-U) and keeps the output when it resolves the same jar.
    jar = build_dir / "lang" / "libs" / "commons-lang3-3.17.0.jar"
    mtime = jar.stat().st_mtime_ns
    updated = invoke_build("--projects", str(projects), "--update")
    assert updated.returncode == 0, updated.stdout + updated.stderr
    assert "up to date (re-resolved (mvn -U): the same 1 jar)" in updated.stdout
    assert " -U " in (build_dir / "logs" / "lang.log").read_text()
    assert jar.stat().st_mtime_ns == mtime
    projects.write_text(projects.read_text().replace("StringUtils", "StringUtilz"))
    assert_one_line_error(invoke_build("--projects", str(projects)), "main class org.apache.commons.lang3.StringUtilz")
