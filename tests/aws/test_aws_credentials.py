"""vagrant_aws_env(): boto3's credential chain -> the variables vagrant-aws reads, never leaked."""

import hashlib
import subprocess
import sys
import textwrap
import traceback
from pathlib import Path

import pytest

from aws_helpers import fake_credentials

from ducttape.aws.credentials import vagrant_aws_env
from ducttape.errors import ConfigError, DucttapeError

pytestmark = pytest.mark.aws

REPO = Path(__file__).resolve().parents[2]


def one_line(err):
    message = str(err)
    assert message.strip() and "\n" not in message, message
    return message


def fingerprint(access_key, secret_key, token):
    return hashlib.sha256("\0".join([access_key, secret_key, token]).encode()).hexdigest()


def test_instance_role_through_imds(fake_imds):
    env = vagrant_aws_env()
    creds = fake_imds.credentials
    assert dict(env) == {
        "AWS_ACCESS_KEY": creds["AccessKeyId"],
        "AWS_SECRET_KEY": creds["SecretAccessKey"],
        "AWS_SESSION_TOKEN": creds["Token"],
    }
    assert f"/latest/meta-data/iam/security-credentials/{fake_imds.role}" in fake_imds.requests
    assert creds["SecretAccessKey"] not in repr(env) and creds["Token"] not in str(env)


# The driver stands in for `invoke cluster.up`: resolve credentials with DEBUG logging on, then run
# a child with them in its environment. The child stands in for vagrant: it checks the variables
# against a fingerprint and prints only "ok".
DRIVER = textwrap.dedent(
    """
    import logging, os, subprocess, sys
    from ducttape.aws.credentials import vagrant_aws_env

    logging.basicConfig(level=logging.DEBUG, filename=sys.argv[1])
    env = vagrant_aws_env()
    logging.getLogger("driver").debug("starting vagrant stand-in with %r", env)
    subprocess.run([sys.executable, "-c", sys.argv[2], sys.argv[3]],
                   env={**os.environ, **env}, check=True)
    """
)
CHILD = textwrap.dedent(
    """
    import hashlib, os, sys
    names = ["AWS_ACCESS_KEY", "AWS_SECRET_KEY", "AWS_SESSION_TOKEN"]
    got = hashlib.sha256("\\0".join(os.environ[n] for n in names).encode()).hexdigest()
    print("ok" if got == sys.argv[1] else "wrong credentials")
    sys.exit(got != sys.argv[1])
    """
)


def test_imds_flow_leaves_no_secret_on_disk(fake_imds, aws_env, tmp_path, monkeypatch):
    work = tmp_path / "work"
    (work / "tmp").mkdir(parents=True)
    monkeypatch.setenv("TMPDIR", str(work / "tmp"))
    monkeypatch.setenv("PYTHONPATH", str(REPO))
    monkeypatch.chdir(work)
    log_file, out_file, err_file = work / "driver.log", work / "stdout", work / "stderr"
    driver = work / "driver.py"
    driver.write_text(DRIVER)
    creds = fake_imds.credentials
    expected = fingerprint(creds["AccessKeyId"], creds["SecretAccessKey"], creds["Token"])

    with open(out_file, "wb") as out, open(err_file, "wb") as err:
        result = subprocess.run(
            [sys.executable, str(driver), str(log_file), CHILD, expected],
            stdout=out, stderr=err, timeout=60,
        )

    assert result.returncode == 0, err_file.read_text()
    assert out_file.read_text() == "ok\n"
    log = log_file.read_text()
    assert "Found credentials from IAM Role: ducttape-driver-role" in log  # botocore, at DEBUG
    assert "resolved by boto3 via 'iam-role'" in log  # ours
    assert "values hidden" in log  # the driver logged the env mapping itself
    written = [path for path in tmp_path.rglob("*") if path.is_file()]
    assert log_file in written and len(written) >= 6
    # Search for every 12-character piece of the secrets' random parts: a truncated value is a leak.
    pieces = [
        secret[start:start + 12].encode()
        for secret in (creds["SecretAccessKey"].removeprefix("fake-secret-"),
                       creds["Token"].removeprefix("fake-token-"))
        for start in range(0, len(secret) - 11, 12)
    ]
    leaks = [str(path) for path in written if any(p in path.read_bytes() for p in pieces)]
    assert not leaks, f"secret found in {leaks}"


def test_instance_without_role(fake_imds):
    fake_imds.role = None
    with pytest.raises(DucttapeError) as info:
        vagrant_aws_env()
    assert "no AWS credentials found" in one_line(info.value)
    assert any(path.startswith("/latest/meta-data/iam/") for path in fake_imds.requests)


def test_no_credentials_anywhere(aws_env):
    with pytest.raises(DucttapeError) as info:
        vagrant_aws_env()
    message = one_line(info.value)
    assert "profile" in message and "AWS_ACCESS_KEY_ID" in message and "IAM role" in message


def write_profiles(path, profiles):
    path.write_text("".join(
        f"[{name}]\n" + "".join(f"{key} = {value}\n" for key, value in values.items())
        for name, values in profiles.items()
    ))


def test_named_profile(aws_env, monkeypatch):
    plain, temporary, other = fake_credentials(), fake_credentials(), fake_credentials()
    write_profiles(aws_env.credentials, {
        "default": {"aws_access_key_id": other["AccessKeyId"],
                    "aws_secret_access_key": other["SecretAccessKey"]},
        "ducttape-test": {"aws_access_key_id": plain["AccessKeyId"],
                          "aws_secret_access_key": plain["SecretAccessKey"]},
        "ducttape-sts": {"aws_access_key_id": temporary["AccessKeyId"],
                         "aws_secret_access_key": temporary["SecretAccessKey"],
                         "aws_session_token": temporary["Token"]},
    })
    # An explicit profile wins over credentials in the environment, as in boto3.
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", other["AccessKeyId"])
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", other["SecretAccessKey"])

    assert vagrant_aws_env("ducttape-test") == {
        "AWS_ACCESS_KEY": plain["AccessKeyId"], "AWS_SECRET_KEY": plain["SecretAccessKey"]}
    assert vagrant_aws_env("ducttape-sts") == {
        "AWS_ACCESS_KEY": temporary["AccessKeyId"], "AWS_SECRET_KEY": temporary["SecretAccessKey"],
        "AWS_SESSION_TOKEN": temporary["Token"]}


def test_profile_from_config_file_via_aws_profile(aws_env, monkeypatch):
    creds = fake_credentials()
    write_profiles(aws_env.config, {"profile ducttape-cfg": {
        "aws_access_key_id": creds["AccessKeyId"],
        "aws_secret_access_key": creds["SecretAccessKey"]}})
    monkeypatch.setenv("AWS_PROFILE", "ducttape-cfg")
    assert vagrant_aws_env()["AWS_SECRET_KEY"] == creds["SecretAccessKey"]


def test_environment_variables(aws_env, monkeypatch):
    creds = fake_credentials()
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", creds["AccessKeyId"])
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", creds["SecretAccessKey"])
    assert vagrant_aws_env() == {
        "AWS_ACCESS_KEY": creds["AccessKeyId"], "AWS_SECRET_KEY": creds["SecretAccessKey"]}
    monkeypatch.setenv("AWS_SESSION_TOKEN", creds["Token"])
    assert vagrant_aws_env()["AWS_SESSION_TOKEN"] == creds["Token"]


@pytest.mark.parametrize("how", ["argument", "AWS_PROFILE"])
def test_unknown_profile(aws_env, monkeypatch, how):
    if how == "AWS_PROFILE":
        monkeypatch.setenv("AWS_PROFILE", "no-such-profile")
    with pytest.raises(ConfigError) as info:
        vagrant_aws_env("no-such-profile" if how == "argument" else None)
    assert "'no-such-profile'" in one_line(info.value)


def test_profile_without_access_key_hides_the_secret(aws_env):
    creds = fake_credentials()
    write_profiles(aws_env.credentials, {
        "broken": {"aws_secret_access_key": creds["SecretAccessKey"]}})
    with pytest.raises(ConfigError) as info:
        vagrant_aws_env("broken")
    assert "'broken' has no usable credentials" in one_line(info.value)
    assert creds["SecretAccessKey"] not in "".join(traceback.format_exception(info.value))


def test_partial_environment(aws_env, monkeypatch):
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", fake_credentials()["AccessKeyId"])
    with pytest.raises(DucttapeError) as info:
        vagrant_aws_env()
    assert "missing: AWS_SECRET_ACCESS_KEY" in one_line(info.value)
