"""Fuzz: 10,000 mutated workspace files through the code `validate` and `plan` load with
(load_spec, the build-arg check, read_inputs with the generated Dockerfile), in-process.

Seeded (KFWS_FUZZ_SEED to vary it; the failing case's number and seed are in the message).
Mutations at three levels of a real workspace: bytes (flips, control bytes, UTF-8 of bidi
overrides), lines (dropped, doubled, swapped, re-indented) and YAML values (a value replaced by
a hostile string, another type, a new key). The properties:
- the loader answers with a Spec or a located SpecError, never another exception (exit 3);
- every Dockerfile generated from a file that validates splits, by Docker's line rules, into
  exactly the instructions kfws meant to write, each holding exactly the spec's strings.
"""

from __future__ import annotations

import copy
import os
import random
import shutil
import tempfile
import traceback
from pathlib import Path
from typing import Any

import pytest
import yaml

from kfws.errors import SpecError
from kfws.observe.inputs import check_build_args, read_all_inputs
from kfws.spec.load import load_spec
from tests.unit.images.dockerfile_check import check_generated

REPO = Path(__file__).parents[3]
CASES = 10_000
SEED = int(os.environ.get("KFWS_FUZZ_SEED", "20261129"))

RICH = """\
apiVersion: kfws/v1alpha1
kind: Workspace
registry:
  default: 127.0.0.1:15001/ds-team
  registries:
    127.0.0.1:15001: {insecure: true}
build: {network: host}
images:
  - name: jupyter-sudo
    from: 127.0.0.1:15001/kfws-base/python:bookworm
    sudo: passwordless
    user: jovyan
  - name: jupyter-tf
    from: 127.0.0.1:15001/kfws-base/python:bookworm
    apt: [graphviz, "curl=7.*", vim/bookworm-backports]
    pip: ["--index-url https://pypi.example.com/simple", "-r requirements.txt",
          "--constraint=constraints.txt", "tensorflow-cpu==2.*", "pandas>=2"]
    env: {MPLBACKEND: Agg, TF_CPP_MIN_LOG_LEVEL: "2", GREETING: "café $HOME"}
    buildEnv: {PIP_EXTRA_INDEX_URL: "https://extra.example.com/simple"}
  - name: jupyter-folders
    from: 127.0.0.1:15001/kfws-base/notebook:busybox
    folders: [/home/jovyan/shared, /opt/datasets, "/data/it's"]
    env: {DATA_DIR: /opt/datasets}
  - name: jupyter-tools
    tag: v1.0
    build: {context: images/jupyter-tools, args: {PY: "3.11"}}
spawner:
  image:
    default: jupyter-sudo
    options: [jupyter-sudo, jupyter-tf, jupyter-folders, jupyter-tools]
  imageGroupOne:
    options: [ghcr.io/kubeflow/kubeflow/notebook-servers/codeserver:v1.10.0]
  allowCustomImage: true
"""

HOSTILE_STRINGS = [
    "x\nRUN id", "x\r\nCMD [\"sh\"]", "a\\\nRUN id", "$(id)", "${HOME}", "$HOME", "`id`",
    'say "hi"', "it's", "back\\", "\\", "café データ", "x\u202ey", "\u2066x", "\x00", "\x1b[2J",
    "\x85", "/", "/etc", "/opt/x/../../etc", "/home/jovyan/a b", "/data/$(reboot)",
    "--index-url=https://pypi.example.com/simple", "-r requirements.txt", "-c ../../etc/passwd",
    "--extra-index-url https://e.example.com/s", "curl=7.*", "curl=$(id)", "vim/bookworm",
    "A-B", "A B", "1X", "AUTHOR", "BYPASS_PROXY", "GITHUB_TOKEN", "https://u:p@h.example.com/",
    "-----BEGIN RSA PRIVATE KEY-----", "jupyter-sudo", "jupyter-suod", "reg.example.com/a/b:1",
    "reg.example.com/a/b:1\n", "", " ", "#", "# escape=`", "x" * 300, "ONBUILD RUN id",
    "pandas ; python_version > '3'", "name @ https://example.com/x.whl", "&& rm -rf /",
]  # fmt: skip
OTHER_VALUES: list[Any] = [None, 0, -1, 1.5, True, [], {}, ["a"], {"k": "v"}, 10**30]
CONTROL_BYTES = [b"\n", b"\r", b"\t", b"\x00", b"\x1b", b"\\", b"\xc2\x85", b"\xe2\x80\xae"]
CONTROL_BYTES += [b"\xe2\x81\xa6", b"\xff", b"'", b'"', b"&", b"*", b"{", b"[", b":", b"#", b"-"]


def mutate_bytes(rng: random.Random, data: bytes) -> bytes:
    out = bytearray(data)
    for _ in range(rng.randint(1, 4)):
        i = rng.randrange(len(out) + 1)
        op = rng.random()
        if op < 0.4:
            out[i:i] = rng.choice(CONTROL_BYTES)
        elif op < 0.7 and i < len(out):
            out[i] = rng.randrange(256)
        else:
            del out[i : i + rng.randint(1, 8)]
    return bytes(out)


def mutate_lines(rng: random.Random, data: bytes) -> bytes:
    lines = data.split(b"\n")
    for _ in range(rng.randint(1, 3)):
        i, j = rng.randrange(len(lines)), rng.randrange(len(lines))
        op = rng.randrange(5)
        if op == 0:
            del lines[i]
        elif op == 1:
            lines.insert(j, lines[i])
        elif op == 2:
            lines[i], lines[j] = lines[j], lines[i]
        elif op == 3:
            lines[i] = b" " * rng.choice([1, 2, 4]) + lines[i]
        else:
            lines.insert(j, b"  # " + rng.choice(HOSTILE_STRINGS).encode("utf-8", "replace"))
        if not lines:
            lines = [b""]
    return b"\n".join(lines)


def _paths(node: Any, path: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    found = [path]
    if isinstance(node, dict):
        for k, v in node.items():
            found += _paths(v, (*path, k))
    elif isinstance(node, list):
        for i, v in enumerate(node):
            found += _paths(v, (*path, i))
    return found


def mutate_values(rng: random.Random, doc: Any) -> bytes:
    for _ in range(rng.randint(1, 3)):
        path = rng.choice(_paths(doc)[1:])
        parent = doc
        for part in path[:-1]:
            parent = parent[part]
        key = path[-1]
        op = rng.random()
        if op < 0.6:
            value = rng.choice(HOSTILE_STRINGS)
            if rng.random() < 0.3 and isinstance(parent[key], str):  # insert into the original
                at = rng.randrange(len(parent[key]) + 1)
                value = (
                    parent[key][:at]
                    + rng.choice(["\n", "\r", "\x00", "\u202e", "\\\n"])
                    + parent[key][at:]
                )
            parent[key] = value
        elif op < 0.8:
            parent[key] = copy.deepcopy(rng.choice(OTHER_VALUES))
        elif isinstance(parent, dict):  # a new key beside it
            parent[rng.choice(HOSTILE_STRINGS)] = rng.choice(HOSTILE_STRINGS)
        else:
            parent.append(rng.choice(HOSTILE_STRINGS))
    dumper = getattr(yaml, "CSafeDumper", yaml.SafeDumper)  # libyaml: the fuzz loop's own cost
    text = yaml.dump(doc, Dumper=dumper, allow_unicode=rng.random() < 0.5, sort_keys=False)
    return text.encode("utf-8", "surrogatepass")


def make_workspace(root: Path) -> Path:
    shutil.copytree(REPO / "images", root / "images")  # every build context the demo names
    (root / "requirements.txt").write_text("pandas\n")
    (root / "constraints.txt").write_text("numpy<3\n")
    return root / "workspace.yaml"


def run_case(path: Path, data: bytes) -> str:
    path.write_bytes(data)
    try:
        spec = load_spec(path)
    except SpecError as e:
        assert e.problems and all(where.startswith(str(path)) and msg for where, msg in e.problems)
        return "refused"
    check_build_args(spec)
    try:
        inputs = read_all_inputs(spec, lambda ref: None)  # bases first (kfws.spec.graph)
    except SpecError as e:  # a build arg that makes a FROM no image reference: named, no crash
        assert e.problems and all(where and msg for where, msg in e.problems)
        return "refused"
    for image in spec.images:
        if image.generated is not None:  # (a build: image's Dockerfile is the user's own)
            base = spec.image(image.generated.base) if image.generated.managed_base else None
            ref = f"{base.repository}:{inputs[base.name].tag}" if base else None
            check_generated(inputs[image.name].dockerfile, image.generated, ref)
    return "valid"


@pytest.mark.fuzz
def test_fuzzed_workspaces_never_crash_and_generate_only_what_kfws_means(tmp_path: Path) -> None:
    # in memory when the machine has a tmpfs: 10,000 rewrites of one file on a busy disk would
    # be most of the test's time
    shm = Path("/dev/shm")
    root = Path(tempfile.mkdtemp(dir=shm)) if os.access(shm, os.W_OK) else tmp_path
    try:
        fuzz(make_workspace(root))
    finally:
        if root != tmp_path:
            shutil.rmtree(root)


def fuzz(path: Path) -> None:
    seeds = [RICH.encode(), (REPO / "workspace.yaml").read_bytes()]
    docs = [yaml.safe_load(s) for s in seeds]
    rng = random.Random(SEED)  # noqa: S311 - reproducible mutations, not secrets
    outcomes = {"refused": 0, "valid": 0}
    failures: list[str] = []
    for case in range(CASES):
        which = rng.randrange(len(seeds))
        level = rng.random()
        if level < 0.3:
            data = mutate_bytes(rng, seeds[which])
        elif level < 0.5:
            data = mutate_lines(rng, seeds[which])
        else:
            data = mutate_values(rng, copy.deepcopy(docs[which]))
        try:
            outcomes[run_case(path, data)] += 1
        except Exception:  # every escape is a finding, reported with its input
            failures.append(f"case {case} (seed {SEED}): {data!r}\n{traceback.format_exc()}")
            if len(failures) >= 3:
                break
    assert not failures, "\n\n".join(failures)
    # the mutations must exercise both sides, or the second property checks nothing
    assert outcomes["valid"] >= CASES // 20 and outcomes["refused"] >= CASES // 20, outcomes
