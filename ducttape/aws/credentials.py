"""Hand AWS credentials from boto3's credential chain to the vagrant-aws plugin.

The secret values only ever live in the returned mapping: nothing here prints, logs or writes them,
and no error message contains them.
"""

import logging

import boto3
import botocore.exceptions

from ducttape.errors import ConfigError, DucttapeError

log = logging.getLogger(__name__)

NO_CREDENTIALS = (
    "no AWS credentials found: configure a profile (`aws configure`, then pass its name), "
    "set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or run on an EC2 instance with an IAM role"
)


class VagrantAwsEnv(dict):
    """The environment variables for vagrant-aws; its repr names the variables, never the values."""

    def __repr__(self):
        return f"{type(self).__name__}({sorted(self)} values hidden)"

    __str__ = __repr__


def vagrant_aws_env(profile: str | None = None) -> dict[str, str]:
    """Resolve credentials like boto3 does and return them under the names vagrant-aws reads.

    ``profile`` names a profile in the AWS config/credentials files; without it boto3's default
    chain applies (AWS_PROFILE, environment variables, config files, container or instance role
    via the metadata service). Returns AWS_ACCESS_KEY and AWS_SECRET_KEY, plus AWS_SESSION_TOKEN
    when the credentials are temporary. Raises ConfigError for an unknown or empty profile and
    DucttapeError when no credentials can be found.
    """
    try:
        credentials = boto3.Session(profile_name=profile).get_credentials()
        frozen = credentials.get_frozen_credentials() if credentials else None
    except botocore.exceptions.ProfileNotFound as err:
        name = err.kwargs.get("profile", profile)
        raise ConfigError(
            f"AWS profile {name!r} not found in the AWS config or credentials files; "
            "check the name or create it with `aws configure --profile NAME`"
        ) from None
    except botocore.exceptions.BotoCoreError as err:
        # botocore's messages name the provider and the missing setting, never a secret value.
        reason = " ".join(str(err).split())
        raise DucttapeError(f"cannot resolve AWS credentials: {reason}") from None
    if frozen is None or not frozen.access_key or not frozen.secret_key:
        if profile:
            raise ConfigError(
                f"AWS profile {profile!r} has no usable credentials: give it aws_access_key_id "
                "and aws_secret_access_key (`aws configure --profile NAME`) or a role to assume"
            )
        raise DucttapeError(NO_CREDENTIALS)
    log.debug("AWS credentials for vagrant-aws resolved by boto3 via %r", credentials.method)
    env = VagrantAwsEnv(AWS_ACCESS_KEY=frozen.access_key, AWS_SECRET_KEY=frozen.secret_key)
    if frozen.token:
        env["AWS_SESSION_TOKEN"] = frozen.token
    return env
