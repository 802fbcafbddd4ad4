"""The node image is rebuilt only when its inputs change, not for a new checkout or its key.

A fresh clone differs from a used checkout only in git-ignored files: no node key
(vagrant/image/), no .vagrant/, no build/. `cluster.up` there must reuse a current image and
reach the worker with the clone's own new key; a changed vagrant/base.sh makes the image stale.
The test's workspace has no Vagrantfile: its worker comes from the one ducttape ships.
"""

import shutil
import subprocess

import pytest

from ducttape.vagrant import image as node_image
from ducttape.vagrant.cluster_file import load_vagrant_nodes
from ducttape.workspace import PACKAGED_VAGRANT
from test_vagrant_lifecycle import ssh
from vagrant_copy import make_copy, remove_copy

pytestmark = [pytest.mark.vagrant, pytest.mark.slow]


def image_id(name):
    return subprocess.run(["docker", "image", "inspect", "--format", "{{.Id}}", name],
                          capture_output=True, text=True, check=True, timeout=30).stdout.strip()


def ok(result):
    assert result.returncode == 0, f"exit {result.returncode}\n{result.stdout}\n{result.stderr}"
    return result.stdout


@pytest.fixture
def own_image_copy(tmp_path):
    """A copy whose node image is its own (the other Vagrant tests share one), removed after."""
    copy = make_copy(tmp_path / "repo", own_image=True)
    try:
        yield copy
    finally:
        remove_copy(copy)


def test_fresh_clone_with_current_image_does_not_rebuild_it(own_image_copy):
    copy = own_image_copy
    copy.write_local(num_workers=1)
    first_key = node_image.ensure_key(copy.root).with_suffix(".pub").read_text()
    assert node_image.image_state(copy.root, copy.image) == "missing"
    assert "image: debootstrap" in ok(copy.invoke("cluster.image", timeout=900))
    built = image_id(copy.image)
    assert node_image.image_state(copy.root, copy.image) == "current"

    # Now the checkout looks like a fresh clone beside an image that is current.
    shutil.rmtree(node_image.image_dir(copy.root))
    shutil.rmtree(copy.root / ".vagrant", ignore_errors=True)
    output = ok(copy.invoke("cluster.up"))
    assert "building it" not in output and "image:" not in output, output
    assert image_id(copy.image) == built
    new_key = node_image.key_file(copy.root).with_suffix(".pub").read_text()
    assert new_key != first_key  # the clone's own key, given to the container, lets ssh in
    assert "1 workers running" in output
    print("\n" + output.splitlines()[-1])  # up: 1 workers running after N s; ...
    [node] = load_vagrant_nodes(copy.root)
    assert ssh(node, "hostname").strip() == "worker1"

    # The workspace's own vagrant/base.sh replaces ducttape's: the same text keeps the image
    # current (times do not count), a changed one makes it stale.
    base = copy.root / "vagrant" / "base.sh"
    shutil.copy2(PACKAGED_VAGRANT / "base.sh", base)
    assert node_image.image_state(copy.root, copy.image) == "current"
    base.write_text(base.read_text() + "# changed\n")
    assert node_image.image_state(copy.root, copy.image) == "stale"
