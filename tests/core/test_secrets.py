"""Secrets stay out of everything a session writes and prints: a SCRAM password given as a
parameter, a token in a URL, a value a test marks secret itself; session logs are 0600."""

from __future__ import annotations

import json
import os
import stat

from ducttape import secret
from support import REPO, run_cli

SCENARIOS = os.path.join(REPO, "tests", "scenarios")
PASSWORD = "Sc4m-pw-1f2e"
TOKEN = "ghp_T0kenValue99"
URL = f"https://x-access-token:{TOKEN}@github.com/org/repo.git"


def everything_under(root: str) -> str:
    texts = []
    for folder, _, files in os.walk(root):
        texts.append(folder)
        for name in files:
            texts.append(name)
            with open(os.path.join(folder, name), "rb") as f:
                texts.append(f.read().decode(errors="replace"))
    return "\n".join(texts)


def test_a_scram_password_and_a_url_token_appear_nowhere(tmp_path):
    results = tmp_path / "results"
    globals_file = tmp_path / "globals.json"
    globals_file.write_text(json.dumps({"repo": URL, "mode": "native"}))
    proc = run_cli("test", os.path.join(SCENARIOS, "secret_params.py"), "--results-dir", str(results),
                   "--param", f"scram_password={PASSWORD}", "--globals", str(globals_file), timeout=300)
    console = proc.stdout + proc.stderr
    assert proc.returncode == 1, console  # one test passes, one fails (with the password in stderr)
    assert "1 passed, 1 failed" in console
    written = everything_under(str(results))
    made_here = "runtime-" + PASSWORD[::-1]
    for value in (PASSWORD, TOKEN, made_here):
        assert value not in console, value
        assert value not in written, value
    # what is shown instead: the mask, and the URL without its credentials
    assert "***" in console and "https://github.com/org/repo.git" in written
    session = os.path.realpath(results / "latest")
    report = json.loads((results / "latest" / "report.json").read_text())
    assert report["params"]["scram_password"] == "***" and report["params"]["mode"] == "native"
    passed = next(t for t in report["tests"] if t["status"] == "PASS")
    assert passed["data"]["password"] == "***" and passed["data"]["url"] == "https://github.com/org/repo.git"
    # the service's log, collected from its node, was redacted too; the test's log has the command
    logs = [os.path.join(d, f) for d, _, fs in os.walk(session) for f in fs if f == "service.log"]
    assert logs and all("started with password ***" in open(p).read() for p in logs)
    assert "kafka-configs --add-config" in written
    for name in ("session_log.debug", "session_log.info"):
        assert stat.S_IMODE(os.stat(os.path.join(session, name)).st_mode) == 0o600


def test_marked_keys_and_secret_names():
    secret.add_params({"api": "k3y-value-1", "nested": {"db_password": "nested-pw-2"}, "size": "seed"},
                      ["api"])
    assert secret.masked({"api": "x", "nested": {"db_password": "y"}, "size": "seed"}) == {
        "api": "***", "nested": {"db_password": "***"}, "size": "seed"}
    assert secret.redact("k3y-value-1 and 'nested-pw-2' and seed") == "*** and '***' and seed"
    assert all(secret.is_secret_key(k) for k in ("password", "SASL_PASSWORD", "client_secret", "token",
                                                 "credentials", "api_key", "sasl.jaas.config", "db.pass"))
    assert not any(secret.is_secret_key(k) for k in ("size", "passes", "bypass", "compass_dir"))
    assert secret.strip_url_credentials("git@github.com:a/b.git ssh://git@h/x https://u:p@h/x") == \
        "git@github.com:a/b.git ssh://git@h/x https://h/x"


def test_secret_keys_flag_masks_any_key(tmp_path):
    results = tmp_path / "results"
    proc = run_cli("test", os.path.join(SCENARIOS, "session_params.py"), "--results-dir", str(results),
                   "--param", "license=Lic-9911-abc", "--secret", "license", timeout=300)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "Lic-9911-abc" not in everything_under(str(results)) + proc.stdout + proc.stderr
    assert json.loads((results / "latest" / "report.json").read_text())["params"] == {"license": "***"}
