"""Property tests: whatever bytes arrive, the loader answers with a Spec or a SpecError, and
quickly. Mutations of a valid file and arbitrary YAML-ish text."""

from __future__ import annotations

from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kfws.errors import SpecError
from kfws.spec.load import load_spec
from tests.unit.spec.test_load import GOOD

SETTINGS = settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)


def load_quickly(path: Path, content: bytes) -> None:
    path.write_bytes(content)
    try:
        load_spec(path)
    except SpecError as e:
        assert e.problems  # an error always says what and where
        for where, message in e.problems:
            assert where.startswith(str(path)) and message


@st.composite
def mutated(draw: st.DrawFn) -> bytes:
    data = bytearray(GOOD.encode())
    for _ in range(draw(st.integers(1, 4))):
        op = draw(st.sampled_from(["delete", "insert", "replace", "swap-lines"]))
        if op == "swap-lines":
            lines = bytes(data).split(b"\n")
            i = draw(st.integers(0, len(lines) - 1))
            j = draw(st.integers(0, len(lines) - 1))
            lines[i], lines[j] = lines[j], lines[i]
            data = bytearray(b"\n".join(lines))
            continue
        pos = draw(st.integers(0, max(0, len(data) - 1)))
        byte = draw(st.sampled_from([*b" \t\n:-[]{}&*!|>'\"#%@`,?", 0xE9, 0x00, 0x41]))
        if op == "delete" and data:
            del data[pos]
        elif op == "insert":
            data.insert(pos, byte)
        elif data:
            data[pos] = byte
    return bytes(data)


@SETTINGS
@given(content=mutated())
def test_mutations_of_a_valid_file_only_raise_spec_errors(tmp_path: Path, content: bytes) -> None:
    load_quickly(tmp_path / "workspace.yaml", content)


@SETTINGS
@given(
    content=st.recursive(
        st.none() | st.booleans() | st.integers() | st.text(max_size=20),
        lambda inner: (
            st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=10), inner, max_size=4)
        ),
        max_leaves=20,
    )
)
def test_random_yaml_documents_only_raise_spec_errors(tmp_path: Path, content: object) -> None:
    import yaml

    load_quickly(tmp_path / "workspace.yaml", yaml.safe_dump(content).encode())


@SETTINGS
@given(content=st.binary(max_size=300))
def test_random_bytes_only_raise_spec_errors(tmp_path: Path, content: bytes) -> None:
    load_quickly(tmp_path / "workspace.yaml", content)
