"""Reads a generated Dockerfile back the way Docker would, and says what it contains: shared by
the generator's tests and the workspace fuzz test. Independent of kfws.images.dockerfile: the
expected instructions are derived from the spec here, not from the generator's code."""

from __future__ import annotations

import shlex

from kfws.images.instructions import Instruction, split_instructions
from kfws.spec.model import GeneratedSpec


def docker_words(text: str) -> list[str]:
    """Docker's word processing for ENV/ARG (shell/lex.go): double quotes group and unescape
    only \\", \\\\ and \\$; an unescaped $ would expand (flagged here by raising)."""
    words: list[str] = []
    current, in_word, i = "", False, 0
    while i < len(text):
        ch = text[i]
        if ch.isspace():
            if in_word:
                words.append(current)
            current, in_word, i = "", False, i + 1
            continue
        in_word = True
        if ch == '"':
            i += 1
            while text[i] != '"':
                if text[i] == "\\" and text[i + 1] in '"\\$':
                    current += text[i + 1]
                    i += 2
                    continue
                if text[i] == "$":
                    raise AssertionError(f"an unescaped $ in {text!r} would be expanded")
                current += text[i]
                i += 1
            i += 1
            continue
        if ch in "\\$'":
            raise AssertionError(f"unquoted {ch!r} in {text!r}")
        current += ch
        i += 1
    if in_word:
        words.append(current)
    return words


def pairs(instruction: Instruction) -> dict[str, str]:
    out: dict[str, str] = {}
    for word in docker_words(instruction.rest):
        key, sep, value = word.partition("=")
        assert sep, f"{instruction} holds a word without '='"
        out[key] = value
    return out


def expected_keywords(spec: GeneratedSpec) -> list[str]:
    root = bool(spec.apt or spec.pip or spec.sudo or spec.folders)
    keywords = ["FROM"] + ["ARG"] * len(spec.build_env) + ["USER"] * root
    keywords += ["RUN"] * bool(spec.apt) + ["COPY"] * bool(spec.files) + ["RUN"] * bool(spec.pip)
    keywords += ["RUN"] * bool(spec.sudo) + ["RUN"] * bool(spec.folders)
    keywords += ["ENV"] * bool(spec.env) + ["USER"] * root
    return keywords


def check_generated(text: str, spec: GeneratedSpec, base_ref: str | None = None) -> None:
    """The Dockerfile holds exactly the instructions kfws means to write, each with exactly the
    spec's strings as its arguments; raises AssertionError otherwise. `base_ref`: the reference
    of the managed image `spec.base` names."""
    steps = split_instructions(text)
    assert [s.keyword for s in steps] == expected_keywords(spec), text
    assert steps[0].rest == (base_ref if spec.managed_base else spec.base)
    args = {k: v for s in steps if s.keyword == "ARG" for k, v in pairs(s).items()}
    assert args == dict(spec.build_env)
    envs = [s for s in steps if s.keyword == "ENV"]
    assert (pairs(envs[0]) if envs else {}) == dict(spec.env)
    users = [s.rest for s in steps if s.keyword == "USER"]
    assert users in ([], ["root", spec.user])
    runs = [shlex.split(s.rest) for s in steps if s.keyword == "RUN"]
    words = [w for run in runs for w in run]
    for package in spec.apt:
        assert package in words
    for folder in spec.folders:
        assert words.count(folder) == 2  # mkdir and chown
    for entry in spec.pip:
        if not entry.startswith("-"):
            assert entry in words
