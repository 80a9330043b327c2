"""Tests under tests/env/ need the local environment (`make env-up`) and are marked `env`;
`make test-unit` deselects them. They fail, rather than skip, when the environment is missing:
a suite that silently skips its real-component tests proves nothing."""

from __future__ import annotations

import logging
import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import settings

# Property tests never time an example: Hypothesis's default 200 ms deadline is a wall-clock
# assert, which fails on a loaded machine without any bug
settings.register_profile("kfws", deadline=None)
settings.load_profile("kfws")

ENV_DIR = Path(__file__).parent / "env"


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    for item in items:
        if ENV_DIR in Path(str(item.fspath)).parents:
            item.add_marker(pytest.mark.env)


def need_env(name: str) -> str:
    value = os.environ.get(name)
    if not value:
        pytest.fail(f"{name} is not set: run `make env-up` and `source .kfws-env/env.sh`")
    return value


@pytest.fixture
def restore_logging() -> Iterator[None]:
    """For tests that run kfws.cli in-process: it configures the root logger; put it back."""
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    yield
    root.handlers[:] = handlers
    root.setLevel(level)
    logging.captureWarnings(False)
