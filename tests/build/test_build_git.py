"""`invoke build` on real git + Maven projects held in local git repositories (file:// URLs)."""

from __future__ import annotations

import json
import shutil
import subprocess
import time
import zipfile

import git
import pytest

from build_helpers import assert_one_line_error, maven_repo, write_projects

pytestmark = [pytest.mark.slow, pytest.mark.maven]

GREETER = {
    "ducttape/test/Greeter.java": """\
        package ducttape.test;
        public class Greeter {
            public static String greet(String who) { return "hello " + who; }
        }
        """,
}
HELLO = {
    "ducttape/test/Hello.java": """\
        package ducttape.test;
        import org.apache.commons.lang3.StringUtils;
        public class Hello {
            public static void main(String[] args) {
                System.out.println(StringUtils.capitalize(Greeter.greet("world")));
            }
        }
        """,
}
DEPS = """
    <dependency><groupId>org.apache.commons</groupId><artifactId>commons-lang3</artifactId><version>3.17.0</version></dependency>
    <dependency><groupId>ducttape.test</groupId><artifactId>greeter</artifactId><version>1.0</version></dependency>
"""


def jar_text(jar, name):
    with zipfile.ZipFile(jar) as z:
        return z.read(name).decode()


def progress(stdout, name):
    """The end of the progress line of project ``name``: "built (3.2s)", "up to date", ..."""
    lines = [ln for ln in stdout.splitlines() if ln.split(" ", 1)[0] == name]
    assert len(lines) == 1, stdout
    return lines[0].split(")", 1)[1].strip()


def run_launcher(build_dir, project, main_class) -> str:
    """Run ``main_class`` through the project's bin/run-class; its stdout, stripped."""
    result = subprocess.run([str(build_dir / project / "bin" / "run-class"), main_class],
                            capture_output=True, text=True, timeout=60, stdin=subprocess.DEVNULL)
    assert result.returncode == 0, result.stderr
    return result.stdout.strip()


def manifest(build_dir):
    return json.loads((build_dir / "manifest.json").read_text())["projects"]


def test_git_maven_projects_build_update_and_stay_pinned(invoke_build, tmp_path, build_dir):
    # `greeter` is installed into ~/.m2 and must build before `hello`, which depends on it (and
    # on commons-lang3 from Maven Central). The file lists hello first on purpose.
    maven_repo(tmp_path / "up" / "greeter", "greeter", GREETER)
    hello_up = maven_repo(tmp_path / "up" / "hello", "hello", HELLO, deps=DEPS, resources={"version.txt": "v1"})
    projects = write_projects(tmp_path / "projects.yaml", f"""\
        projects:
          - name: hello
            git: {(tmp_path / "up" / "hello").as_uri()}
            ref: main
            goal: package
            depends_on: [greeter]
            main_classes:
              hello: ducttape.test.Hello
          - name: greeter
            git: {(tmp_path / "up" / "greeter").as_uri()}
            ref: main
            goal: install
            mvn_args: [-Dmaven.javadoc.skip=true]
        """)
    first_sha = hello_up.head.commit.hexsha

    cold = invoke_build("--projects", str(projects))
    assert cold.returncode == 0, cold.stdout + cold.stderr
    lines = cold.stdout.splitlines()
    assert lines[0].startswith("greeter") and progress(cold.stdout, "greeter").startswith("built")
    assert lines[1].startswith("hello") and progress(cold.stdout, "hello").startswith("built")
    jar = build_dir / "hello" / "target" / "hello-1.0.jar"
    assert jar_text(jar, "version.txt") == "v1"
    assert "ducttape/test/Hello.class" in zipfile.ZipFile(jar).namelist()
    entry = manifest(build_dir)["hello"]
    assert entry["git_sha"] == first_sha and entry["kind"] == "git" and entry["ref"] == "main"
    assert entry["status"] == "ok" and entry["built_at"] and entry["version"] == "1.0"
    assert entry["url"] == (tmp_path / "up" / "hello").as_uri()
    assert entry["main_classes"] == {"hello": "ducttape.test.Hello"}
    assert progress(cold.stdout, "hello").endswith(f"cloned {entry['url']} at main = {first_sha[:12]})")
    assert "BUILD SUCCESS" in (build_dir / "logs" / "hello.log").read_text()
    # With main_classes: the project's jar and runtime dependencies (commons-lang3 from Maven
    # Central, greeter from ~/.m2) in libs/, and the launcher, kept out of `git status`.
    assert {"hello-1.0.jar", "greeter-1.0.jar", "commons-lang3-3.17.0.jar"} == {
        j.name for j in (build_dir / "hello" / "libs").glob("*.jar")}
    assert run_launcher(build_dir, "hello", "ducttape.test.Hello") == "Hello world"
    assert git.Repo(build_dir / "hello").git.status("--porcelain") == ""
    assert not (build_dir / "greeter" / "libs").exists()  # no main_classes: no launcher

    # Nothing changed: no Maven work, seconds.
    t0 = time.monotonic()
    warm = invoke_build("--projects", str(projects))
    assert warm.returncode == 0, warm.stderr
    assert time.monotonic() - t0 < 15
    assert progress(warm.stdout, "greeter") == progress(warm.stdout, "hello") == "up to date"

    # Upstream moves on. Without --update the checkout keeps its pinned SHA (no network).
    (tmp_path / "up" / "hello" / "src/main/resources/version.txt").write_text("v2")
    hello_up.git.add(A=True)
    hello_up.index.commit("v2")
    second_sha = hello_up.head.commit.hexsha
    stay = invoke_build("--projects", str(projects))
    assert stay.returncode == 0, stay.stderr
    assert progress(stay.stdout, "hello") == "up to date"
    assert manifest(build_dir)["hello"]["git_sha"] == first_sha
    assert jar_text(jar, "version.txt") == "v1"

    # With --update it fetches, checks out main again and rebuilds.
    updated = invoke_build("--projects", str(projects), "--update")
    assert updated.returncode == 0, updated.stdout + updated.stderr
    assert manifest(build_dir)["hello"]["git_sha"] == second_sha
    assert jar_text(jar, "version.txt") == "v2"
    assert jar_text(build_dir / "hello" / "libs" / "hello-1.0.jar", "version.txt") == "v2"
    # Each project says what --update found.
    assert progress(updated.stdout, "hello").startswith("built")
    assert progress(updated.stdout, "hello").endswith(f"main: moved {first_sha[:12]} -> {second_sha[:12]})")
    assert progress(updated.stdout, "greeter").startswith("up to date (fetched: main is still ")

    # Pinning hello to its first commit moves the checkout back and rebuilds, without the network.
    projects.write_text(projects.read_text().replace("ref: main", f"ref: {first_sha}", 1))  # hello's
    pinned = invoke_build("--projects", str(projects))
    assert pinned.returncode == 0, pinned.stdout + pinned.stderr
    assert progress(pinned.stdout, "hello").endswith(f"{first_sha}: moved {second_sha[:12]} -> {first_sha[:12]})")
    assert jar_text(build_dir / "hello" / "libs" / "hello-1.0.jar", "version.txt") == "v1"
    assert manifest(build_dir)["hello"]["git_sha"] == first_sha
    projects.write_text(projects.read_text().replace(f"ref: {first_sha}", "ref: main"))
    assert invoke_build("--projects", str(projects), "--only", "hello").returncode == 0
    assert manifest(build_dir)["hello"]["git_sha"] == second_sha

    # A local edit in the checkout counts as a change and is built (dirty build recorded).
    (build_dir / "hello" / "src/main/resources/version.txt").write_text("local")
    local = invoke_build("--projects", str(projects), "--only", "hello")
    assert local.returncode == 0, local.stderr
    assert jar_text(jar, "version.txt") == "local"
    assert manifest(build_dir)["hello"]["dirty"] is True
    again = invoke_build("--projects", str(projects), "--only", "hello")
    assert progress(again.stdout, "hello") == "up to date"


def test_pinned_tag_and_http_switch(invoke_build, tmp_path, build_dir):
    upstream = maven_repo(tmp_path / "up" / "tagged", "tagged", {"T.java": "public class T {}\n"},
                          resources={"version.txt": "release"})
    upstream.create_tag("v1.0")
    (tmp_path / "up" / "tagged" / "src/main/resources/version.txt").write_text("after the tag")
    upstream.git.add(A=True)
    upstream.index.commit("after the tag")
    projects = write_projects(tmp_path / "projects.yaml", f"""\
        projects:
          - {{name: tagged, git: '{(tmp_path / "up" / "tagged").as_uri()}', ref: v1.0}}
        """)
    # --http changes only ssh-form URLs; a file:// URL is used as it is.
    result = invoke_build("--projects", str(projects), "--http")
    assert result.returncode == 0, result.stdout + result.stderr
    assert jar_text(build_dir / "tagged" / "target" / "tagged-1.0.jar", "version.txt") == "release"
    assert manifest(build_dir)["tagged"]["git_sha"] == upstream.tags["v1.0"].commit.hexsha

    # Without --update an existing checkout never needs its upstream (no network at all) ...
    shutil.rmtree(tmp_path / "up" / "tagged")
    offline = invoke_build("--projects", str(projects))
    assert offline.returncode == 0, offline.stderr
    assert progress(offline.stdout, "tagged") == "up to date"
    # ... and with --update a vanished upstream is one clear line; the checkout and jar stay.
    gone = invoke_build("--projects", str(projects), "--update")
    assert_one_line_error(gone, "tagged:", "git fetch", "does not appear to be a git repository")
    assert jar_text(build_dir / "tagged" / "target" / "tagged-1.0.jar", "version.txt") == "release"


def tagged_tree(path, files: dict[str, str]) -> git.Repo:
    """A git repository at ``path`` holding ``files`` (relative path -> text), tagged v1."""
    tree = git.Repo.init(path)
    for name, text in files.items():
        (path / name).parent.mkdir(parents=True, exist_ok=True)
        (path / name).write_text(text)
    tree.git.add(A=True)
    tree.index.commit("a tree")
    tree.create_tag("v1")
    return tree


def test_git_tree_with_released_libs(invoke_build, tmp_path, build_dir):
    """A git project with `libs` is not built: its tree as it is, the artifacts and their runtime
    dependencies in libs/ (as kafka-dev: Kafka's source tree with its released jars)."""
    tree = tagged_tree(tmp_path / "up" / "tree", {"bin/run.sh": "#!/bin/sh\nls \"$(dirname $0)/../libs\"\n"})
    projects = write_projects(tmp_path / "projects.yaml", f"""\
        projects:
          - name: tree
            git: '{(tmp_path / "up" / "tree").as_uri()}'
            ref: v1
            libs: [org.apache.commons:commons-text:1.12.0]
        """)
    first = invoke_build("--projects", str(projects))
    assert first.returncode == 0, first.stdout + first.stderr
    assert "git v1 (+1 released)" in first.stdout and progress(first.stdout, "tree").startswith("built")
    libs = sorted(p.name for p in (build_dir / "tree" / "libs").iterdir())
    assert libs == ["commons-lang3-3.14.0.jar", "commons-text-1.12.0.jar"]  # with its dependency
    assert (build_dir / "tree" / "bin" / "run.sh").is_file() and not (build_dir / "tree" / "target").exists()
    entry = manifest(build_dir)["tree"]
    assert entry["git_sha"] == tree.tags["v1"].commit.hexsha and not entry["dirty"]  # libs/ is no change
    assert entry["libs"] == ["org.apache.commons:commons-text:1.12.0"]
    again = invoke_build("--projects", str(projects))
    assert progress(again.stdout, "tree") == "up to date"
    # another artifact list resolves again and replaces libs/
    write_projects(projects, f"""\
        projects:
          - name: tree
            git: '{(tmp_path / "up" / "tree").as_uri()}'
            ref: v1
            libs: [org.apache.commons:commons-lang3:3.17.0]
        """)
    changed = invoke_build("--projects", str(projects))
    assert progress(changed.stdout, "tree").startswith("built"), changed.stdout
    assert sorted(p.name for p in (build_dir / "tree" / "libs").iterdir()) == ["commons-lang3-3.17.0.jar"]


def test_git_tree_with_libs_in_folders(invoke_build, tmp_path, build_dir):
    """`libs_in` resolves more released jars (a classifier's too) into other folders of the tree,
    less those libs/ holds; `exclude` keeps a module out of every resolution (as kafka-dev puts
    Kafka's test jar and MiniKdc's ApacheDS jars in core/build/dependant-testlibs)."""
    tagged_tree(tmp_path / "up" / "tree", {"README": "a tree\n"})
    projects = write_projects(tmp_path / "projects.yaml", f"""\
        projects:
          - name: tree
            git: '{(tmp_path / "up" / "tree").as_uri()}'
            ref: v1
            libs: [org.apache.commons:commons-text:1.12.0]
            libs_in:
              build/test-libs:
                - org.apache.commons:commons-text:1.12.0:jar:tests
                - org.apache.commons:commons-csv:1.11.0
            exclude: [commons-io:commons-io]
        """)
    first = invoke_build("--projects", str(projects))
    assert first.returncode == 0, first.stdout + first.stderr
    assert "git v1 (+3 released)" in first.stdout
    assert sorted(p.name for p in (build_dir / "tree" / "libs").iterdir()) == [
        "commons-lang3-3.14.0.jar", "commons-text-1.12.0.jar"]
    # the classifier's jar and commons-csv with its dependencies, less what libs/ holds and
    # less commons-io (a dependency of commons-csv), which is excluded
    test_libs = sorted(p.name for p in (build_dir / "tree" / "build" / "test-libs").iterdir())
    assert test_libs == ["commons-codec-1.16.1.jar", "commons-csv-1.11.0.jar", "commons-text-1.12.0-tests.jar"]
    checkout = git.Repo(build_dir / "tree")
    assert checkout.git.status("--porcelain") == ""  # build/test-libs is an output, not a change
    entry = manifest(build_dir)["tree"]
    assert entry["libs_in"] == {"build/test-libs": ["org.apache.commons:commons-text:1.12.0:jar:tests",
                                                    "org.apache.commons:commons-csv:1.11.0"]}
    assert not entry["dirty"]
    assert progress(invoke_build("--projects", str(projects)).stdout, "tree") == "up to date"
    shutil.rmtree(build_dir / "tree" / "build" / "test-libs")
    again = invoke_build("--projects", str(projects))
    assert progress(again.stdout, "tree").startswith("built"), again.stdout  # a missing folder is rebuilt
    assert (build_dir / "tree" / "build" / "test-libs" / "commons-csv-1.11.0.jar").is_file()
