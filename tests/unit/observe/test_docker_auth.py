"""Reading credentials from a Docker config folder (real files and a real helper process)."""

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import Any

import pytest

from kfws.errors import RegistryError
from kfws.observe.docker_auth import (
    Credentials,
    DockerConfig,
    auth_key_hostname,
    find_auth_entry,
    server_url,
)

SECRET = "s3cr3t-pa55"


@pytest.mark.parametrize(
    ("key", "host"),
    [
        ("registry.example.com", "registry.example.com"),
        ("127.0.0.1:15002", "127.0.0.1:15002"),
        ("https://127.0.0.1:15002", "127.0.0.1:15002"),
        ("http://registry.example.com/v1/", "registry.example.com"),
        ("https://index.docker.io/v1/", "index.docker.io"),
        ("registry.example.com/v2/", "registry.example.com"),
        ("https://[::1]:5000/v2/", "[::1]:5000"),
        ("  host:5000  ", "host:5000"),
    ],
)
def test_auth_key_hostname(key: str, host: str) -> None:
    assert auth_key_hostname(key) == host


def test_find_auth_entry_prefers_the_exact_key_then_any_key_naming_the_host() -> None:
    auths: dict[str, Any] = {
        "https://reg.example.com/v1/": {"auth": "url"},
        "other.example.com": {"auth": "other"},
        "https://index.docker.io/v1/": {"auth": "hub"},
    }
    assert find_auth_entry(auths, "reg.example.com") == {"auth": "url"}
    assert find_auth_entry({**auths, "reg.example.com": {"auth": "exact"}}, "reg.example.com") == {
        "auth": "exact"
    }
    assert find_auth_entry(auths, "docker.io") == {"auth": "hub"}
    assert find_auth_entry(auths, "reg.example.com:5000") is None  # the port is part of the host
    assert server_url("docker.io") == "https://index.docker.io/v1/"
    assert server_url("127.0.0.1:1") == "127.0.0.1:1"


def write_config(folder: Path, config: dict[str, Any]) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "config.json").write_text(json.dumps(config))
    return folder


def b64(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


@pytest.mark.parametrize(
    ("entry", "expected"),
    [
        ({"auth": b64(f"alice:{SECRET}")}, Credentials("alice", SECRET)),
        (
            {"auth": b64(f"alice:{SECRET}:with:colons")},
            Credentials("alice", f"{SECRET}:with:colons"),
        ),
        ({"username": "bob", "password": SECRET}, Credentials("bob", SECRET)),
        ({"identitytoken": SECRET}, Credentials(identity_token=SECRET)),
        ({}, None),
    ],
)
def test_auths_entries(tmp_path: Path, entry: dict[str, str], expected: Credentials | None) -> None:
    config = DockerConfig(write_config(tmp_path, {"auths": {"https://reg.example.com": entry}}))
    assert config.credentials_for("reg.example.com") == expected


def test_docker_config_env_and_missing_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(
        "DOCKER_CONFIG",
        str(write_config(tmp_path / "env", {"auths": {"h.io": {"auth": b64("u:p")}}})),
    )
    assert DockerConfig().credentials_for("h.io") == Credentials("u", "p")
    assert DockerConfig(tmp_path / "nowhere").credentials_for("h.io") is None


def test_bad_config_errors_never_show_the_content(tmp_path: Path) -> None:
    (tmp_path / "config.json").write_text('{"auths": {"h.io": {"auth": "' + SECRET + '"')
    with pytest.raises(RegistryError, match="not valid JSON") as info:
        DockerConfig(tmp_path)
    assert SECRET not in info.value.render()
    write_config(tmp_path, {"auths": {"h.io": {"auth": b64(SECRET)}}})  # no colon inside
    with pytest.raises(RegistryError, match="not base64 of user:password") as info:
        DockerConfig(tmp_path).credentials_for("h.io")
    assert SECRET not in info.value.render()


def test_credentials_repr_is_redacted() -> None:
    for creds in (Credentials("alice", SECRET), Credentials(identity_token=SECRET)):
        assert SECRET not in repr(creds)
        assert SECRET not in str(creds)
        assert SECRET not in repr([creds])
    assert "basic" in repr(Credentials("alice", SECRET))


def helper(bin_dir: Path, name: str, body: str) -> None:
    bin_dir.mkdir(parents=True, exist_ok=True)
    path = bin_dir / f"docker-credential-{name}"
    path.write_text("#!/bin/sh\n" + body)
    path.chmod(0o755)


def test_cred_helpers_then_store_then_auths(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    bins = tmp_path / "bin"
    log = tmp_path / "asked"
    # each helper records the server URL it was asked about (stdin), then answers
    helper(bins, "one", f'read url; echo "one $url" >> {log}\n'
           f'echo \'{{"ServerURL":"x","Username":"alice","Secret":"{SECRET}"}}\'\n')  # fmt: skip
    helper(bins, "store", f'read url; echo "store $url" >> {log}\n'
           'echo "credentials not found in native keychain"; exit 1\n')  # fmt: skip
    helper(bins, "tok", f'read url; echo \'{{"Username":"<token>","Secret":"{SECRET}"}}\'\n')
    monkeypatch.setenv("PATH", f"{bins}:/usr/bin:/bin")
    config = DockerConfig(
        write_config(
            tmp_path / "cfg",
            {
                "credHelpers": {"a.io": "one", "t.io": "tok"},
                "credsStore": "store",
                "auths": {"b.io": {"auth": b64("bob:pw")}},
            },
        )
    )
    assert config.credentials_for("a.io") == Credentials("alice", SECRET)
    assert config.credentials_for("t.io") == Credentials(identity_token=SECRET)
    assert config.credentials_for("b.io") == Credentials("bob", "pw")  # store had none
    assert config.credentials_for("c.io") is None
    assert config.credentials_for("docker.io") is None
    assert log.read_text().splitlines() == [
        "one a.io",
        "store b.io",
        "store c.io",
        "store https://index.docker.io/v1/",
    ]


def test_missing_or_failing_helper_is_a_clear_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    bins = tmp_path / "bin"
    helper(bins, "broken", f"echo '{SECRET}'; echo 'boom {SECRET}' >&2; exit 3\n")
    monkeypatch.setenv("PATH", str(bins))
    cfg = write_config(tmp_path, {"credHelpers": {"a.io": "absent", "b.io": "broken"}})
    with pytest.raises(RegistryError, match=r"docker-credential-absent .* not installed") as info:
        DockerConfig(cfg).credentials_for("a.io")
    assert "a.io" in info.value.render()
    with pytest.raises(RegistryError, match=r"failed for b.io \(exit 3\)") as info:
        DockerConfig(cfg).credentials_for("b.io")
    assert SECRET not in info.value.render()
