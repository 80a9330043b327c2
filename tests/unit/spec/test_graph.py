"""The managed-image graph: `from: <managed name>` and `{image: NAME}` build args. Ordering,
cycles and unknown names (with file:line), and digest chaining: a base's input digest stands for
it in its children's inputs, so a base change changes exactly its dependants' tags."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from kfws.errors import SpecError
from kfws.observe.inputs import read_all_inputs
from kfws.spec import graph
from kfws.spec.load import load_spec
from kfws.spec.model import Spec

BASE_DIGEST = "sha256:" + "b" * 64

# A team's layering: a JupyterLab base, images on top of it, one on top of those, one
# independent, and one `build:` image that gets the base's reference as a build arg.
LAYERED = """\
apiVersion: kfws/v1alpha1
kind: Workspace
registry:
  default: reg.example.com/team
images:
  - name: tf
    from: jupyter-base
    pip: [tensorflow]
  - name: jupyter-base
    from: reg.example.com/base/python:1
    pip: [jupyterlab]
  - name: tf-sudo
    from: tf
    sudo: passwordless
  - name: folders
    from: jupyter-base
    folders: [/data]
  - name: plain
    from: reg.example.com/base/python:1
  - name: tools
    build:
      context: images/tools
      args: {BASE: {image: jupyter-base}, PY: "3.11"}
"""

TOOLS_DOCKERFILE = "ARG BASE\nFROM ${BASE}\nCOPY . /opt/tools\n"


def write(tmp: Path, text: str) -> Path:
    (tmp / "images" / "tools").mkdir(parents=True, exist_ok=True)
    (tmp / "images" / "tools" / "Dockerfile").write_text(TOOLS_DOCKERFILE)
    path = tmp / "workspace.yaml"
    path.write_text(textwrap.dedent(text))
    return path


def problems(tmp: Path, text: str) -> list[tuple[str, str]]:
    with pytest.raises(SpecError) as e:
        load_spec(write(tmp, text))
    return e.value.problems


def resolve(ref: str) -> str | None:
    assert ref == "reg.example.com/base/python:1", ref  # managed bases are never looked up
    return BASE_DIGEST


def layered(tmp: Path, text: str = LAYERED) -> Spec:
    return load_spec(write(tmp, text))


def test_dependencies_of_each_image(tmp_path: Path) -> None:
    deps = graph.dependencies(layered(tmp_path).images)
    assert deps == {
        "tf": ("jupyter-base",),
        "jupyter-base": (),
        "tf-sudo": ("tf",),
        "folders": ("jupyter-base",),
        "plain": (),
        "tools": ("jupyter-base",),
    }


# (dependencies, expected build order): bases first, otherwise declaration order
ORDERS = [
    ({"a": (), "b": ()}, ["a", "b"]),
    ({"b": ("a",), "a": ()}, ["a", "b"]),
    ({"c": ("b",), "b": ("a",), "a": ()}, ["a", "b", "c"]),
    ({"x": ("a", "b"), "a": (), "b": ("a",)}, ["a", "b", "x"]),
    ({"a": ("unknown",)}, ["a"]),  # an unknown name was reported by the loader; not waited for
]


@pytest.mark.parametrize(("deps", "expected"), ORDERS)
def test_build_order(deps: dict[str, tuple[str, ...]], expected: list[str]) -> None:
    assert graph.build_order(deps) == expected


def test_build_order_of_the_layered_workspace(tmp_path: Path) -> None:
    order = graph.build_order(graph.dependencies(layered(tmp_path).images))
    assert order == ["jupyter-base", "plain", "tf", "folders", "tools", "tf-sudo"]


def test_build_order_refuses_a_cycle() -> None:
    with pytest.raises(ValueError) as e:
        graph.build_order({"x": (), "a": ("b",), "b": ("a",)})
    assert str(e.value) == "a cycle among a, b"


CYCLES = [
    ({"a": ("a",)}, ["a", "a"]),
    ({"a": ("b",), "b": ("a",)}, ["a", "b", "a"]),
    ({"x": (), "a": ("b",), "b": ("c",), "c": ("a",)}, ["a", "b", "c", "a"]),
    ({"a": ("b",), "b": ()}, None),
    ({"a": ("b", "c"), "b": ("c",), "c": ()}, None),  # a diamond is no cycle
    ({"a": ("unknown", "b"), "b": ("a",)}, ["a", "b", "a"]),  # past an unknown name
]


@pytest.mark.parametrize(("deps", "expected"), CYCLES)
def test_find_cycle(deps: dict[str, tuple[str, ...]], expected: list[str] | None) -> None:
    assert graph.find_cycle(deps) == expected


def test_dependants_and_closure(tmp_path: Path) -> None:
    deps = graph.dependencies(layered(tmp_path).images)
    assert graph.dependants(deps, "jupyter-base") == {"tf", "tf-sudo", "folders", "tools"}
    assert graph.dependants(deps, "tf") == {"tf-sudo"}
    assert graph.dependants(deps, "plain") == set()
    assert graph.closure(deps, ["tf-sudo"]) == {"tf-sudo", "tf", "jupyter-base"}
    # an unknown name (reported by the loader) is skipped, and the rest still followed
    assert graph.closure(deps, ["tf", "unknown"]) == {"tf", "jupyter-base"}
    assert graph.closure({"a": ("unknown", "b"), "b": ()}, ["a"]) == {"a", "b"}


def test_the_spec_records_managed_bases_and_image_args(tmp_path: Path) -> None:
    spec = layered(tmp_path)
    tf, plain, tools = spec.image("tf"), spec.image("plain"), spec.image("tools")
    assert tf is not None and tf.generated is not None and tf.generated.managed_base
    assert plain is not None and plain.generated is not None and not plain.generated.managed_base
    assert tools is not None and tools.build is not None
    assert tools.build.image_args == {"BASE": "jupyter-base"}
    assert tools.build.args == {"PY": "3.11"}  # the plain ones stay plain


def test_a_cycle_is_reported_at_each_edge(tmp_path: Path) -> None:
    text = LAYERED.replace(
        "from: reg.example.com/base/python:1\n    pip: [jupyterlab]",
        "from: tf-sudo\n    pip: [jupyterlab]",
    )
    found = problems(tmp_path, text)
    cycle = "tf -> jupyter-base -> tf-sudo -> tf"
    message = (
        f"the managed images build on each other in a cycle ({cycle}); "
        "an image can't be its own base: break the cycle"
    )
    path = str(tmp_path / "workspace.yaml")
    assert found == [
        (f"{path}:7:5", f"images[0].from: {message}"),
        (f"{path}:10:5", f"images[1].from: {message}"),
        (f"{path}:13:5", f"images[2].from: {message}"),
    ]


def test_an_image_on_itself_is_a_cycle(tmp_path: Path) -> None:
    text = LAYERED.replace("from: jupyter-base\n    folders", "from: folders\n    folders")
    ((where, message),) = problems(tmp_path, text)
    assert where == f"{tmp_path / 'workspace.yaml'}:16:5"
    assert "cycle (folders -> folders)" in message


def test_a_cycle_through_a_build_arg(tmp_path: Path) -> None:
    text = LAYERED.replace(
        "from: reg.example.com/base/python:1\n    pip: [jupyterlab]",
        "from: tools\n    pip: [jupyterlab]",
    )
    found = problems(tmp_path, text)
    assert [w.rsplit(":", 2)[1] for w, _ in found] == ["10", "23"]
    assert found[1][1].startswith("images[5].build.args.BASE.image: the managed images build")


def test_unknown_names_say_what_is_declared(tmp_path: Path) -> None:
    text = LAYERED.replace("from: tf\n", "from: tff\n").replace(
        "{image: jupyter-base}", "{image: jupyter-bsae}"
    )
    path = str(tmp_path / "workspace.yaml")
    assert problems(tmp_path, text) == [
        (
            f"{path}:13:5",
            "images[2].from: 'tff' is not a managed image's name; did you mean 'tf'?",
        ),
        (
            f"{path}:23:21",
            "images[5].build.args.BASE.image: 'jupyter-bsae' is not a managed image's name; "
            "did you mean 'jupyter-base'?",
        ),
    ]


def test_a_bare_word_far_from_any_name_asks_for_a_full_reference(tmp_path: Path) -> None:
    text = LAYERED.replace("from: tf\n", "from: ubuntu\n")
    ((_, message),) = problems(tmp_path, text)
    assert message == (
        "images[2].from: 'ubuntu' is not a managed image's name (folders, jupyter-base, plain, "
        "tf, tf-sudo, tools); for another image give a full reference (registry/path:tag)"
    )


def test_an_image_arg_must_be_an_object_with_only_image(tmp_path: Path) -> None:
    text = LAYERED.replace("{image: jupyter-base}", "{image: jupyter-base, tag: x}")
    ((_, message),) = problems(tmp_path, text)
    assert message.startswith("images[5].build.args.BASE:")


# --- digest chaining -----------------------------------------------------------------------


def tags(spec: Spec) -> dict[str, str]:
    return {n: i.tag for n, i in read_all_inputs(spec, resolve).items()}


def test_children_name_their_base_by_its_tag(tmp_path: Path) -> None:
    spec = layered(tmp_path)
    inputs = read_all_inputs(spec, resolve)
    base_ref = f"reg.example.com/team/jupyter-base:{inputs['jupyter-base'].tag}"
    assert inputs["tf"].dockerfile.splitlines()[2] == f"FROM {base_ref}"
    tf_ref = f"reg.example.com/team/tf:{inputs['tf'].tag}"
    assert inputs["tf-sudo"].dockerfile.splitlines()[2] == f"FROM {tf_ref}"
    assert inputs["tools"].args == {"BASE": base_ref, "PY": "3.11"}
    assert list(inputs) == [i.name for i in spec.images]  # declaration order kept


def test_the_base_input_digest_is_in_the_children_manifests(tmp_path: Path) -> None:
    inputs = read_all_inputs(layered(tmp_path), resolve)
    base = inputs["jupyter-base"]
    ref = f"reg.example.com/team/jupyter-base:{base.tag}"
    assert f'"{ref}":"inputs:{base.input_digest}"' in inputs["tf"].manifest
    assert f'"{ref}":"inputs:{base.input_digest}"' in inputs["tools"].manifest


def test_reading_some_images_reads_their_bases_too(tmp_path: Path) -> None:
    spec = layered(tmp_path)
    some = read_all_inputs(spec, resolve, ["tf-sudo"])
    assert list(some) == ["tf", "jupyter-base", "tf-sudo"]
    assert some["tf-sudo"] == read_all_inputs(spec, resolve)["tf-sudo"]


# (what changes, which images get new tags)
CHAINS = [
    (
        "pip: [jupyterlab]",
        "pip: [jupyterlab, ipywidgets]",
        {"jupyter-base", "tf", "tf-sudo", "folders", "tools"},
    ),
    ("pip: [tensorflow]", "pip: [tensorflow, keras]", {"tf", "tf-sudo"}),
    ("sudo: passwordless", "sudo: passwordless\n    env: {A: '1'}", {"tf-sudo"}),
    ('PY: "3.11"', 'PY: "3.12"', {"tools"}),
    ("folders: [/data]", "folders: [/data, /srv/x]", {"folders"}),
]


@pytest.mark.parametrize(("old", "new", "changed"), CHAINS)
def test_a_change_retags_exactly_the_image_and_its_dependants(
    tmp_path: Path, old: str, new: str, changed: set[str]
) -> None:
    before = tags(layered(tmp_path / "a"))
    assert old in LAYERED
    after = tags(layered(tmp_path / "b", LAYERED.replace(old, new, 1)))
    assert {n for n in before if before[n] != after[n]} == changed


def test_an_explicit_base_tag_still_chains_its_input_digest(tmp_path: Path) -> None:
    # the base's tag stays v1, so its reference does not move: its input digest must
    text = LAYERED.replace("  - name: jupyter-base\n", "  - name: jupyter-base\n    tag: v1\n")
    before = tags(layered(tmp_path / "a", text))
    after = tags(layered(tmp_path / "b", text.replace("pip: [jupyterlab]", "pip: [jupyterlab, x]")))
    assert before["jupyter-base"] == after["jupyter-base"] == "v1"
    assert {n for n in before if before[n] != after[n]} == {"tf", "tf-sudo", "folders", "tools"}


def test_an_external_base_moving_retags_the_whole_chain_above_it(tmp_path: Path) -> None:
    spec = layered(tmp_path)
    before = tags(spec)
    moved = {n: i.tag for n, i in read_all_inputs(spec, lambda ref: "sha256:" + "c" * 64).items()}
    assert {n for n in before if before[n] != moved[n]} == set(before)


def test_image_args_a_dockerfile_does_not_use_in_from_still_count(tmp_path: Path) -> None:
    # the base is tagged v1 (its reference never moves) and only COPY --from names the arg
    text = LAYERED.replace("  - name: jupyter-base\n", "  - name: jupyter-base\n    tag: v1\n")

    def tools_tag(workspace: str) -> str:
        spec = layered(tmp_path, workspace)
        (tmp_path / "images" / "tools" / "Dockerfile").write_text(
            "ARG BASE\nFROM reg.example.com/base/python:1\nCOPY --from=${BASE} /etc/x /x\n"
        )
        return read_all_inputs(spec, resolve)["tools"].tag

    assert tools_tag(text) != tools_tag(text.replace("pip: [jupyterlab]", "pip: [jupyterlab, y]"))
