"""`invoke build` on local Maven projects (``path:``) and on ``optional: true`` projects, through the CLI."""

from __future__ import annotations

import json
import os
import subprocess
import textwrap

import pytest

from build_helpers import PLUGINS, assert_one_line_error, write_projects

HELLO = """\
    package ducttape.test;
    import org.apache.commons.lang3.StringUtils;
    public class Hello {
        public static void main(String[] args) {
            System.out.println(StringUtils.capitalize("%s"));
        }
    }
    """
DEPS = ("<dependency><groupId>org.apache.commons</groupId><artifactId>commons-lang3</artifactId>"
        "<version>3.17.0</version></dependency>")


def local_project(path, greeting: str) -> None:
    """A Maven project (no git) whose main class prints ``greeting`` capitalised."""
    (path / "src/main/java/ducttape/test").mkdir(parents=True, exist_ok=True)
    (path / "pom.xml").write_text(
        '<project xmlns="http://maven.apache.org/POM/4.0.0">\n'
        "  <modelVersion>4.0.0</modelVersion>\n"
        "  <groupId>ducttape.test</groupId><artifactId>hello</artifactId><version>1.0</version>\n"
        f"  <dependencies>{DEPS}</dependencies>\n{PLUGINS}</project>\n"
    )
    (path / "src/main/java/ducttape/test/Hello.java").write_text(textwrap.dedent(HELLO % greeting))


def progress(stdout: str, name: str) -> str:
    lines = [ln for ln in stdout.splitlines() if ln.split(" ", 1)[0] == name]
    assert len(lines) == 1, stdout
    return lines[0]


def run_hello(build_dir) -> str:
    result = subprocess.run([str(build_dir / "hello" / "bin" / "run-class"), "ducttape.test.Hello"],
                            capture_output=True, text=True, timeout=60, stdin=subprocess.DEVNULL)
    assert result.returncode == 0, result.stderr
    return result.stdout.strip()


def entries(build_dir) -> dict:
    return json.loads((build_dir / "manifest.json").read_text())["projects"]


def stderr_lines(result) -> list[str]:
    return [ln for ln in result.stderr.splitlines() if ln.strip()]


# -- optional projects (no Maven needed: the failing project has no pom.xml) -------------------

def test_failing_optional_project_warns_and_exits_zero(invoke_build, tmp_path, build_dir):
    projects = write_projects(tmp_path / "p.yaml", """\
        projects:
          - {name: extra, path: no-such-folder, optional: true}
        """)
    result = invoke_build("--projects", str(projects))
    assert result.returncode == 0, result.stdout + result.stderr
    line = progress(result.stdout, "extra")
    assert "local no-such-folder" in line and "FAILED" in line
    assert "holds no pom.xml" in result.stdout
    assert stderr_lines(result) == [
        f"warning: optional project extra was not built: {tmp_path / 'no-such-folder'} holds no pom.xml; "
        f"fix 'path' of project 'extra' in projects.yaml (log: {build_dir / 'logs' / 'extra.log'})"
    ]
    assert "extra" not in entries(build_dir)


def test_optional_project_named_with_only_is_required(invoke_build, tmp_path):
    projects = write_projects(tmp_path / "p.yaml", """\
        projects:
          - {name: extra, path: no-such-folder, optional: true}
        """)
    assert_one_line_error(invoke_build("--projects", str(projects), "--only", "extra"),
                          "build failed: extra:", "holds no pom.xml")


def test_required_project_skipped_after_optional_dependency_fails(invoke_build, tmp_path):
    projects = write_projects(tmp_path / "p.yaml", """\
        projects:
          - {name: extra, path: no-such-folder, optional: true}
          - {name: app, path: also-missing, depends_on: [extra]}
        """)
    result = invoke_build("--projects", str(projects))
    assert result.returncode == 2, result.stdout + result.stderr
    assert progress(result.stdout, "app").endswith("skipped: dependency extra failed")
    warning, error = stderr_lines(result)
    assert warning.startswith("warning: optional project extra was not built: ")
    assert error == "error: build failed: app: dependency extra failed"


def test_required_failure_still_exits_2(invoke_build, tmp_path):
    projects = write_projects(tmp_path / "p.yaml", """\
        projects:
          - {name: extra, path: no-such-folder, optional: true}
          - {name: app, path: also-missing}
        """)
    result = invoke_build("--projects", str(projects))
    assert result.returncode == 2
    warning, error = stderr_lines(result)
    assert warning.startswith("warning: optional project extra was not built")
    assert error.startswith("error: build failed: app: ") and "extra" not in error


# -- local Maven projects ------------------------------------------------------------------------

@pytest.mark.slow
@pytest.mark.maven
def test_local_project_builds_from_its_folder_incrementally(invoke_build, tmp_path, build_dir):
    src = tmp_path / "hello"
    local_project(src, "hello world")
    # `path` is relative to the projects file; an optional project that fails rides along.
    projects = write_projects(tmp_path / "p.yaml", """\
        projects:
          - name: hello
            path: hello
            main_classes: {main: ducttape.test.Hello}
          - {name: extra, path: no-such-folder, optional: true}
        """)

    first = invoke_build("--projects", str(projects))
    assert first.returncode == 0, first.stdout + first.stderr
    assert "local hello (maven)" in progress(first.stdout, "hello") and "built (" in progress(first.stdout, "hello")
    assert len(stderr_lines(first)) == 1 and "optional project extra" in first.stderr
    libs = sorted(os.listdir(build_dir / "hello" / "libs"))
    assert "hello-1.0.jar" in libs and "commons-lang3-3.17.0.jar" in libs
    assert run_hello(build_dir) == "Hello world"
    entry = entries(build_dir)["hello"]
    assert entry["kind"] == "local" and entry["path"] == "hello" and entry["version"] == "1.0"
    assert entry["status"] == "ok" and entry["main_classes"] == {"main": "ducttape.test.Hello"}
    assert len(entry["source_hash"]) == 64 and entry["built_at"].endswith("Z")
    assert not (src / "target").exists(), "the build wrote into the source folder"
    assert not list(build_dir.glob(".tmp-*"))

    # Nothing changed, or only a modification time: no Maven run.
    jar = build_dir / "hello" / "libs" / "hello-1.0.jar"
    jar_mtime = jar.stat().st_mtime_ns
    java = src / "src/main/java/ducttape/test/Hello.java"
    os.utime(java, ns=(java.stat().st_atime_ns, java.stat().st_mtime_ns + 5_000_000_000))
    (src / "target").mkdir()  # a developer's own `mvn package` output does not count either
    (src / "target" / "junk.class").write_bytes(b"x")
    again = invoke_build("--projects", str(projects))
    assert again.returncode == 0
    assert progress(again.stdout, "hello").endswith("up to date")
    assert jar.stat().st_mtime_ns == jar_mtime
    assert entries(build_dir)["hello"] == entry

    # A source change rebuilds.
    local_project(src, "hello again")
    changed = invoke_build("--projects", str(projects))
    assert changed.returncode == 0, changed.stdout + changed.stderr
    assert "built (" in progress(changed.stdout, "hello")
    assert run_hello(build_dir) == "Hello again"
    rebuilt = entries(build_dir)["hello"]
    assert rebuilt["source_hash"] != entry["source_hash"]

    # A compile error fails the build (exit 2) and leaves the previous output and entry in place.
    java.write_text("package ducttape.test; public class Hello { this does not compile }\n")
    broken = invoke_build("--projects", str(projects))
    log = build_dir / "logs" / "hello.log"
    assert broken.returncode == 2
    error = stderr_lines(broken)[-1]
    assert error.startswith("error: build failed: hello: mvn exited with code 1") and f"(log: {log})" in error
    assert "COMPILATION ERROR" in log.read_text()
    assert run_hello(build_dir) == "Hello again"
    assert entries(build_dir)["hello"] == rebuilt
    assert not list(build_dir.glob(".tmp-*"))
