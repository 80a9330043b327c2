"""kfws.spec.build: a schema-valid document becomes the Spec (every field read from its key,
every default when a key is left out), and each check it applies is reported in full, at the
file:line:col of the value at fault. Files are real, under tmp_path."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from kfws.errors import SpecError
from kfws.spec.load import load_spec
from kfws.spec.model import (
    BuildSecret,
    OptionsMode,
    PinMode,
    RegistryOptions,
    RestartMode,
    Spec,
)

HEAD = """\
apiVersion: kfws/v1alpha1
kind: Workspace
registry:
  default: reg.example.com/team
images:
"""


def write(tmp: Path, text: str) -> Path:
    (tmp / "ctx").mkdir(exist_ok=True)
    (tmp / "ctx" / "Dockerfile").write_text("FROM scratch\n")
    path = tmp / "workspace.yaml"
    path.write_text(textwrap.dedent(text))
    return path


def load(tmp: Path, text: str) -> Spec:
    return load_spec(write(tmp, text))


def problems(tmp: Path, text: str) -> list[tuple[str, str]]:
    with pytest.raises(SpecError) as e:
        load(tmp, text)
    return e.value.problems


def at(tmp: Path, line: int, col: int) -> str:
    return f"{tmp / 'workspace.yaml'}:{line}:{col}"


# --- registries ---------------------------------------------------------------------------


def test_registry_options_are_read_and_default_when_left_out(tmp_path: Path) -> None:
    (tmp_path / "certs").mkdir()
    (tmp_path / "certs" / "ca.pem").write_text("x")
    spec = load(
        tmp_path,
        HEAD.replace(
            "images:\n",
            "  registries:\n"
            "    reg.example.com: {insecure: true, caFile: certs/ca.pem, immutable: true,\n"
            "                      check: false, build: {engine: buildkit}}\n"
            "    other.example.com: {}\n"
            "images: []\n",
        ),
    )
    assert spec.default_registry == "reg.example.com/team"
    assert spec.registries == {
        "reg.example.com": RegistryOptions(
            host="reg.example.com",
            insecure=True,
            ca_file=tmp_path / "certs" / "ca.pem",
            immutable=True,
            check=False,
            engine="buildkit",
        ),
        "other.example.com": RegistryOptions(
            host="other.example.com",
            insecure=False,
            ca_file=None,
            immutable=False,
            check=True,
            engine=None,
        ),
    }


def test_a_missing_ca_file_is_told_at_its_key(tmp_path: Path) -> None:
    found = problems(
        tmp_path,
        HEAD.replace(
            "images:\n",
            "  registries:\n    reg.example.com: {caFile: certs/nope.pem}\nimages: []\n",
        ),
    )
    assert found == [
        (
            at(tmp_path, 6, 23),
            f"registry.registries.reg.example.com.caFile: the CA file "
            f"{tmp_path / 'certs' / 'nope.pem'} does not exist",
        )
    ]


def test_a_ca_file_that_is_a_folder_is_refused_too(tmp_path: Path) -> None:
    (tmp_path / "certs").mkdir()
    found = problems(
        tmp_path,
        HEAD.replace(
            "images:\n", "  registries:\n    reg.example.com: {caFile: certs}\nimages: []\n"
        ),
    )
    assert [m for _, m in found] == [
        f"registry.registries.reg.example.com.caFile: the CA file {tmp_path / 'certs'} "
        "does not exist"
    ]


def test_without_images_no_default_registry_is_needed(tmp_path: Path) -> None:
    spec = load(tmp_path, "apiVersion: kfws/v1alpha1\nkind: Workspace\n")
    assert spec.default_registry == ""
    assert spec.images == () and spec.registries == {}


def test_a_default_registry_is_needed_by_an_image_without_repository(tmp_path: Path) -> None:
    text = (
        "apiVersion: kfws/v1alpha1\nkind: Workspace\nimages:\n"
        "  - name: a\n    from: reg.example.com/b:1\n    repository: reg.example.com/t/a\n"
        "  - name: nb\n    from: reg.example.com/b:1\n"
    )
    assert problems(tmp_path, text) == [
        (
            at(tmp_path, 1, 1),
            "registry.default: needed: images without `repository` are pushed under it",
        )
    ]
    # every image with its own repository: no default needed
    spec = load(
        tmp_path,
        text.replace("- name: nb\n    from:", "- name: nb\n    tag: v1\n    from:").replace(
            "tag: v1\n", "tag: v1\n    repository: reg.example.com/t/nb\n"
        ),
    )
    assert [i.repository for i in spec.images] == ["reg.example.com/t/a", "reg.example.com/t/nb"]
    assert spec.default_registry == ""


def test_a_default_registry_is_needed_by_an_option_naming_a_managed_image(tmp_path: Path) -> None:
    # no image to push, but the option names one: still needed
    text = (
        "apiVersion: kfws/v1alpha1\nkind: Workspace\n"
        "spawner:\n  image: {options: [ghcr.io/kubeflow/nb:v1]}\n"
    )
    assert load(tmp_path, text).default_registry == ""


def test_the_default_registry_prefixes_image_names_without_a_double_slash(tmp_path: Path) -> None:
    text = HEAD.replace("reg.example.com/team", "reg.example.com/team/")
    spec = load(tmp_path, text + "  - name: nb\n    from: reg.example.com/b:1\n")
    (nb,) = spec.images
    assert nb.repository == "reg.example.com/team/nb"
    assert nb.registry_host == "reg.example.com"


# --- images ---------------------------------------------------------------------------------


def test_a_generated_image_keeps_every_key(tmp_path: Path) -> None:
    (tmp_path / "req.txt").write_text("pandas\n")
    spec = load(
        tmp_path,
        HEAD + "  - name: nb\n"
        "    from: reg.example.com/base/nb:1\n"
        "    tag: v1\n"
        "    sudo: passwordless\n"
        "    apt: [vim, curl]\n"
        "    pip: [pandas, -r req.txt]\n"
        "    env: {A: '1'}\n"
        "    buildEnv: {B: '2'}\n"
        "    folders: [/data, /opt/x]\n"
        "    user: alice\n"
        "    platform: linux/arm64\n",
    )
    (nb,) = spec.images
    assert (nb.name, nb.repository, nb.tag, nb.build) == (
        "nb",
        "reg.example.com/team/nb",
        "v1",
        None,
    )
    assert nb.location == f"{tmp_path / 'workspace.yaml'}:6"
    g = nb.generated
    assert g is not None
    assert g.base == "reg.example.com/base/nb:1" and g.managed_base is False
    assert g.sudo == "passwordless"
    assert g.apt == ("vim", "curl")
    assert g.pip == ("pandas", "--requirement=pip/0-req.txt")
    assert g.files == (("pip/0-req.txt", tmp_path / "req.txt"),)
    assert g.env == {"A": "1"} and g.build_env == {"B": "2"}
    assert g.folders == ("/data", "/opt/x")
    assert g.user == "alice" and g.platform == "linux/arm64"


def test_a_generated_image_defaults(tmp_path: Path) -> None:
    spec = load(tmp_path, HEAD + "  - name: nb\n    from: reg.example.com/base/nb:1\n")
    g = spec.images[0].generated
    assert g is not None
    assert (g.sudo, g.apt, g.pip, g.env, g.build_env, g.files, g.folders, g.user, g.platform) == (
        None,
        (),
        (),
        {},
        {},
        (),
        (),
        "jovyan",
        None,
    )
    assert spec.images[0].tag is None


def test_a_dockerfile_image_keeps_every_key(tmp_path: Path) -> None:
    (tmp_path / "ctx").mkdir()
    (tmp_path / "ctx" / "Other.Dockerfile").write_text("FROM scratch\n")
    spec = load(
        tmp_path,
        HEAD + "  - name: base\n    from: reg.example.com/b:1\n"
        "  - name: tools\n"
        "    build:\n"
        "      context: ctx\n"
        "      dockerfile: Other.Dockerfile\n"
        "      args: {PY: '3.11', BASE: {image: base}}\n"
        "      target: final\n"
        "      platform: linux/amd64\n",
    )
    tools = spec.image("tools")
    assert tools is not None and tools.generated is None and tools.build is not None
    b = tools.build
    assert b.context == tmp_path / "ctx"
    assert b.dockerfile == tmp_path / "ctx" / "Other.Dockerfile"
    assert b.args == {"PY": "3.11"}
    assert b.image_args == {"BASE": "base"}
    assert (b.target, b.platform) == ("final", "linux/amd64")
    assert tools.location == f"{tmp_path / 'workspace.yaml'}:8"


def test_a_dockerfile_image_defaults(tmp_path: Path) -> None:
    spec = load(tmp_path, HEAD + "  - name: tools\n    build: {context: ctx}\n")
    b = spec.images[0].build
    assert b is not None
    assert b.dockerfile == tmp_path / "ctx" / "Dockerfile"
    assert (b.args, b.image_args, b.target, b.platform) == ({}, {}, None, None)


def test_a_repeated_image_name_is_told_at_the_second(tmp_path: Path) -> None:
    found = problems(
        tmp_path,
        HEAD
        + "  - name: nb\n    from: reg.example.com/b:1\n"
        + "  - name: x\n    from: reg.example.com/b:1\n"
        + "  - name: nb\n    from: reg.example.com/b:2\n",
    )
    assert found == [
        (at(tmp_path, 10, 5), "images[2].name: the image name 'nb' is already used by images[0]")
    ]


@pytest.mark.parametrize(
    ("keys", "message"),
    [
        (
            "    tag: v1\n",
            "give exactly one of `build` (your Dockerfile) or `from` (a generated one)",
        ),
        (
            "    from: reg.example.com/b:1\n    build: {context: ctx}\n",
            "give exactly one of `build` (your Dockerfile) or `from` (a generated one)",
        ),
        (
            "    build: {context: ctx}\n    pip: [x]\n    apt: [vim]\n    user: bob\n",
            "apt, pip, user only apply to generated images (`from`); put them in your Dockerfile",
        ),
        (
            "    build: {context: ctx}\n    sudo: passwordless\n    env: {A: '1'}\n"
            "    buildEnv: {B: '1'}\n    folders: [/data]\n",
            "buildEnv, env, folders, sudo only apply to generated images (`from`); put them in "
            "your Dockerfile",
        ),
    ],
)
def test_an_image_is_either_built_or_generated(tmp_path: Path, keys: str, message: str) -> None:
    found = problems(tmp_path, HEAD + "  - name: nb\n" + keys)
    assert found == [(at(tmp_path, 6, 5), f"images[0]: {message}")]


@pytest.mark.parametrize(
    ("repository", "message"),
    [
        (
            "reg.example.com/t/nb:1",
            "the repository 'reg.example.com/t/nb:1' must not carry a tag or digest; use `tag`",
        ),
        (
            "reg.example.com/t/nb@sha256:" + "a" * 64,
            f"the repository 'reg.example.com/t/nb@sha256:{'a' * 64}' must not carry a tag or "
            "digest; use `tag`",
        ),
        (
            "team/nb",
            "the repository 'team/nb' must start with a registry host "
            "(e.g. registry.example.com/team/nb)",
        ),
        (
            "nb",
            "the repository 'nb' must start with a registry host "
            "(e.g. registry.example.com/team/nb)",
        ),
        (
            "reg.example.com/Team/nb",
            "the repository 'reg.example.com/Team/nb': repository paths must be lower case",
        ),
    ],
)
def test_a_repository_is_a_full_name_without_tag(
    tmp_path: Path, repository: str, message: str
) -> None:
    found = problems(
        tmp_path,
        HEAD + f"  - name: nb\n    from: reg.example.com/b:1\n    repository: '{repository}'\n",
    )
    assert found == [(at(tmp_path, 8, 5), f"images[0].repository: {message}")]


@pytest.mark.parametrize(
    "repository", ["localhost/nb", "127.0.0.1:5000/nb", "reg.example.com/nb", "registry:5000/nb"]
)
def test_a_registry_host_is_a_dotted_name_a_port_or_localhost(
    tmp_path: Path, repository: str
) -> None:
    spec = load(
        tmp_path,
        HEAD + f"  - name: nb\n    from: reg.example.com/b:1\n    repository: {repository}\n",
    )
    assert spec.images[0].repository == repository


def test_a_bad_generated_repository_is_told_at_the_image(tmp_path: Path) -> None:
    text = (
        HEAD.replace("reg.example.com/team", "Team")
        + "  - name: nb\n    from: reg.example.com/b:1\n"
    )
    found = problems(tmp_path, text)
    assert found == [
        (
            at(tmp_path, 6, 5),
            "images[0]: the repository 'Team/nb' must start with a registry host "
            "(e.g. registry.example.com/team/nb)",
        )
    ]


def test_build_context_and_dockerfile_are_checked_where_written(tmp_path: Path) -> None:
    (tmp_path / "file").write_text("x")
    found = problems(
        tmp_path,
        HEAD + "  - name: a\n    build: {context: file}\n"
        "  - name: b\n    build: {context: ctx, dockerfile: Nope}\n",
    )
    assert found == [
        (  # no `dockerfile` key: told at `build`
            at(tmp_path, 7, 5),
            f"images[0].build.dockerfile: the Dockerfile {tmp_path / 'file' / 'Dockerfile'} "
            "does not exist",
        ),
        (
            at(tmp_path, 7, 13),
            f"images[0].build.context: the build context {tmp_path / 'file'} is not a folder",
        ),
        (
            at(tmp_path, 9, 27),
            f"images[1].build.dockerfile: the Dockerfile {tmp_path / 'ctx' / 'Nope'} "
            "does not exist",
        ),
    ]


# --- managed bases and the graph ------------------------------------------------------------


def test_from_a_managed_name_is_a_managed_base(tmp_path: Path) -> None:
    spec = load(
        tmp_path,
        HEAD + "  - name: base\n    from: reg.example.com/b:1\n  - name: nb\n    from: base\n",
    )
    nb = spec.image("nb")
    assert nb is not None and nb.generated is not None
    assert nb.generated.base == "base" and nb.generated.managed_base is True


def test_from_an_unknown_bare_word_is_refused_with_a_guess(tmp_path: Path) -> None:
    found = problems(
        tmp_path,
        HEAD + "  - name: base\n    from: reg.example.com/b:1\n  - name: nb\n    from: bsae\n",
    )
    assert found == [
        (
            at(tmp_path, 9, 5),
            "images[1].from: 'bsae' is not a managed image's name; did you mean 'base'?",
        )
    ]
    found = problems(tmp_path, HEAD + "  - name: nb\n    from: python\n  - name: b\n    from: nb\n")
    assert found == [
        (
            at(tmp_path, 7, 5),
            "images[0].from: 'python' is not a managed image's name (b, nb); for another image "
            "give a full reference (registry/path:tag)",
        )
    ]


def test_from_a_bad_reference_is_refused(tmp_path: Path) -> None:
    found = problems(tmp_path, HEAD + "  - name: nb\n    from: reg.example.com/B:1\n")
    assert found == [
        (
            at(tmp_path, 7, 5),
            "images[0].from: 'reg.example.com/B:1': repository paths must be lower case",
        )
    ]


def test_a_build_arg_naming_an_unknown_image_is_refused(tmp_path: Path) -> None:
    found = problems(
        tmp_path,
        HEAD + "  - name: tools\n    build: {context: ctx, args: {BASE: {image: nope}}}\n",
    )
    assert found == [
        (
            at(tmp_path, 7, 41),
            "images[0].build.args.BASE.image: 'nope' is not a managed image's name (tools); "
            "`{image: NAME}` names an image of this file",
        )
    ]


def test_a_cycle_is_told_at_each_of_its_edges(tmp_path: Path) -> None:
    found = problems(
        tmp_path,
        HEAD
        + "  - name: a\n    from: c\n"
        + "  - name: b\n    build: {context: ctx, args: {X: {image: a}}}\n"
        + "  - name: c\n    from: b\n",
    )
    cycle = (
        "the managed images build on each other in a cycle (a -> c -> b -> a); an image can't "
        "be its own base: break the cycle"
    )
    assert found == [
        (at(tmp_path, 7, 5), f"images[0].from: {cycle}"),
        (at(tmp_path, 9, 38), f"images[1].build.args.X.image: {cycle}"),
        (at(tmp_path, 11, 5), f"images[2].from: {cycle}"),
    ]


def test_an_image_on_itself_is_a_cycle(tmp_path: Path) -> None:
    found = problems(tmp_path, HEAD + "  - name: a\n    from: a\n")
    assert found == [
        (
            at(tmp_path, 7, 5),
            "images[0].from: the managed images build on each other in a cycle (a -> a); an "
            "image can't be its own base: break the cycle",
        )
    ]


# --- env, pip, apt, folders, user -----------------------------------------------------------


def test_env_and_build_env_names_are_checked_and_not_both(tmp_path: Path) -> None:
    found = problems(
        tmp_path,
        HEAD + "  - name: nb\n    from: reg.example.com/b:1\n"
        "    env: {A-B: '1', X: '1'}\n    buildEnv: {C.D: '1', X: '2'}\n",
    )
    name = (
        "is not a valid environment variable name (letters, digits, '_'; no leading digit; no '-')"
    )
    assert found == [
        (at(tmp_path, 8, 11), f"images[0].env.A-B: 'A-B' {name}"),
        (at(tmp_path, 9, 16), f"images[0].buildEnv.C.D: 'C.D' {name}"),
        (
            at(tmp_path, 9, 26),
            "images[0].buildEnv.X: X is also in `env`; declare it in one of the two",
        ),
    ]


def test_apt_and_folders_are_checked_at_each_entry(tmp_path: Path) -> None:
    found = problems(
        tmp_path,
        HEAD + "  - name: nb\n    from: reg.example.com/b:1\n"
        "    apt: [vim, Bad]\n    folders: [/data, /etc]\n",
    )
    assert [(w.rsplit(":", 2)[1:], m.split(":", 1)[0]) for w, m in found] == [
        (["8", "16"], "images[0].apt[1]"),
        (["9", "22"], "images[0].folders[1]"),
    ]


def test_pip_files_get_a_context_name_and_options_a_canonical_form(tmp_path: Path) -> None:
    (tmp_path / "reqs").mkdir()
    (tmp_path / "reqs" / "my+reqs(v2).txt").write_text("pandas\n")
    (tmp_path / "c.txt").write_text("numpy<3\n")
    spec = load(
        tmp_path,
        HEAD + "  - name: nb\n    from: reg.example.com/b:1\n"
        "    pip: ['-i https://p.example.com/s', pandas, '-r reqs/my+reqs(v2).txt',\n"
        "          --constraint=c.txt, '--extra-index-url https://q.example.com/s']\n",
    )
    g = spec.images[0].generated
    assert g is not None
    assert g.pip == (
        "--index-url=https://p.example.com/s",
        "pandas",
        "--requirement=pip/0-my_reqs_v2_.txt",
        "--constraint=pip/1-c.txt",
        "--extra-index-url=https://q.example.com/s",
    )
    assert g.files == (
        ("pip/0-my_reqs_v2_.txt", tmp_path / "reqs" / "my+reqs(v2).txt"),
        ("pip/1-c.txt", tmp_path / "c.txt"),
    )


def test_a_second_index_url_is_refused_at_it(tmp_path: Path) -> None:
    found = problems(
        tmp_path,
        HEAD + "  - name: nb\n    from: reg.example.com/b:1\n"
        "    pip: [--index-url=https://a.example/s, pandas,\n"
        "          -i https://b.example/s, -i https://c.example/s]\n",
    )
    twice = "--index-url is given twice; add others as --extra-index-url"
    assert found == [
        (at(tmp_path, 9, 11), f"images[0].pip[2]: {twice}"),
        (at(tmp_path, 9, 35), f"images[0].pip[3]: {twice}"),
    ]


def test_a_pip_file_outside_the_workspace_is_refused_and_not_copied(tmp_path: Path) -> None:
    ws = tmp_path / "ws"
    ws.mkdir()
    (tmp_path / "outside.txt").write_text("x\n")
    found = problems(
        ws,
        HEAD + "  - name: nb\n    from: reg.example.com/b:1\n    pip: [-r ../outside.txt]\n",
    )
    assert found == [
        (
            at(ws, 8, 11),
            f"images[0].pip[0]: the pip file {ws / '../outside.txt'} leaves the workspace folder "
            f"{ws}; keep it inside",
        )
    ]


def test_a_refused_pip_entry_is_not_rewritten(tmp_path: Path) -> None:
    # the refusal is located; the entry is not taken for an option
    found = problems(
        tmp_path, HEAD + "  - name: nb\n    from: reg.example.com/b:1\n    pip: [--pre]\n"
    )
    assert [m.split(":", 1)[0] for _, m in found] == ["images[0].pip[0]"]


# --- spawner --------------------------------------------------------------------------------


SPAWNER = (
    HEAD
    + "  - name: nb\n    from: reg.example.com/b:1\n  - name: tf\n    from: reg.example.com/b:2\n"
)


def test_spawner_groups_flags_and_defaults(tmp_path: Path) -> None:
    spec = load(
        tmp_path,
        SPAWNER + "spawner:\n"
        "  imageGroupTwo: {options: [tf], mode: merge, pin: digest}\n"
        "  image: {default: nb, options: [nb, tf]}\n"
        "  imageGroupOne: {options: ['ghcr.io/x/y:1']}\n"
        "  allowCustomImage: false\n  hideRegistry: true\n  hideTag: false\n"
        "  imagePullPolicy: Always\n",
    )
    s = spec.spawner
    # the groups in GROUP_KEYS order, whatever the file's order
    assert [g.key for g in s.groups] == ["image", "imageGroupOne", "imageGroupTwo"]
    image, one, two = s.groups
    assert (image.default, image.options, image.mode, image.pin) == (
        "nb",
        ("nb", "tf"),
        OptionsMode.EXACT,
        PinMode.TAG,
    )
    assert image.location == f"{tmp_path / 'workspace.yaml'}:12"
    assert (one.default, one.options) == (None, ("ghcr.io/x/y:1",))
    assert (two.mode, two.pin) == (OptionsMode.MERGE, PinMode.DIGEST)
    assert (s.allow_custom_image, s.hide_registry, s.hide_tag, s.image_pull_policy) == (
        False,
        True,
        False,
        "Always",
    )
    assert s.group("imageGroupTwo") is two


def test_spawner_left_out_is_left_alone(tmp_path: Path) -> None:
    s = load(tmp_path, SPAWNER).spawner
    assert (s.groups, s.allow_custom_image, s.hide_registry, s.hide_tag, s.image_pull_policy) == (
        (),
        None,
        None,
        None,
        None,
    )


def test_spawner_option_problems_each_at_its_place(tmp_path: Path) -> None:
    found = problems(
        tmp_path,
        SPAWNER + "spawner:\n  image:\n    default: tff\n    options: [nb, nbb, tf, nb, tf]\n",
    )
    assert found == [
        (
            at(tmp_path, 12, 5),
            "spawner.image.default: 'tff' is not a managed image's name; did you mean 'tf'?",
        ),
        (at(tmp_path, 13, 5), "spawner.image.options: listed more than once: nb, tf"),
        (
            at(tmp_path, 13, 19),
            "spawner.image.options[1]: 'nbb' is not a managed image's name; did you mean 'nb'?",
        ),
    ]


def test_a_managed_default_must_be_offered_but_a_full_reference_need_not(tmp_path: Path) -> None:
    found = problems(tmp_path, SPAWNER + "spawner:\n  image: {default: tf, options: [nb]}\n")
    assert found == [
        (
            at(tmp_path, 11, 11),
            "spawner.image.default: the default 'tf' is not among the group's options",
        )
    ]
    spec = load(
        tmp_path, SPAWNER + "spawner:\n  image: {default: 'ghcr.io/x/y:1', options: [nb]}\n"
    )
    assert spec.spawner.groups[0].default == "ghcr.io/x/y:1"


# --- cluster, build -------------------------------------------------------------------------


def test_cluster_keys_and_defaults(tmp_path: Path) -> None:
    c = load(tmp_path, SPAWNER).cluster
    assert (c.context, c.namespace, c.config_map, c.deployment, c.restart) == (
        None,
        "kubeflow",
        None,
        None,
        RestartMode.ROLLOUT,
    )
    c = load(
        tmp_path,
        SPAWNER + "cluster: {context: prod, namespace: kf, configMap: cm, deployment: auto,\n"
        "          restart: delete-pods}\n",
    ).cluster
    assert (c.context, c.namespace, c.config_map, c.deployment, c.restart) == (
        "prod",
        "kf",
        "cm",
        None,
        RestartMode.DELETE_PODS,
    )
    c = load(tmp_path, SPAWNER + "cluster: {configMap: auto, deployment: web}\n").cluster
    assert (c.config_map, c.deployment) == (None, "web")


def test_build_secrets_name_an_env_or_a_file_resolved_against_the_workspace(
    tmp_path: Path,
) -> None:
    spec = load(
        tmp_path,
        SPAWNER + "build:\n  engine: docker\n  secrets:\n    a: {env: A_VAR}\n"
        "    b: {file: creds/b}\n    c: {file: /abs/c}\n    d: {file: ~/d}\n",
    )
    ws = f"{tmp_path / 'workspace.yaml'}"
    assert spec.build.engine == "docker"
    assert spec.build.secrets == (
        BuildSecret(id="a", env="A_VAR", file=None, location=f"{ws}:13"),
        BuildSecret(id="b", env=None, file=tmp_path / "creds" / "b", location=f"{ws}:14"),
        BuildSecret(id="c", env=None, file=Path("/abs/c"), location=f"{ws}:15"),
        BuildSecret(id="d", env=None, file=Path.home() / "d", location=f"{ws}:16"),
    )


# --- BuildKit: platforms and cache ----------------------------------------------------------


def test_platforms_of_a_generated_image_and_not_with_platform(tmp_path: Path) -> None:
    spec = load(
        tmp_path,
        HEAD + "  - name: nb\n    from: reg.example.com/b:1\n"
        "    platforms: [linux/arm64, linux/amd64]\n",
    )
    g = spec.images[0].generated
    assert g is not None and g.platform == "linux/amd64,linux/arm64"
    found = problems(
        tmp_path,
        HEAD + "  - name: nb\n    from: reg.example.com/b:1\n"
        "    platform: linux/amd64\n    platforms: [linux/arm64]\n",
    )
    assert found == [
        (at(tmp_path, 8, 5), "images[0].platform: give `platform` or `platforms`, not both")
    ]


def test_an_image_platforms_win_over_the_top_level(tmp_path: Path) -> None:
    spec = load(
        tmp_path,
        HEAD.replace("images:\n", "build: {platforms: [linux/arm64]}\nimages:\n")
        + "  - name: nb\n    from: reg.example.com/b:1\n    platforms: [linux/amd64]\n",
    )
    g = spec.images[0].generated
    assert g is not None and g.platform == "linux/amd64"


@pytest.mark.parametrize(
    ("own", "top", "cache"),
    [
        ("", "", "reg.example.com/team/nb-buildcache:latest"),
        ("    cache: false\n", "{cache: {registry: reg.example.com/c}}", None),
        ("    cache: {registry: reg.example.com/c/nb}\n", "", "reg.example.com/c/nb:buildcache"),
        (
            "    cache: {registry: 'reg.example.com:5000/c'}\n",
            "",
            "reg.example.com:5000/c:buildcache",
        ),
        ("    cache: {registry: reg.example.com/c:v2}\n", "", "reg.example.com/c:v2"),
        ("", "{cache: {registry: reg.example.com/c/}}", "reg.example.com/c:nb"),
        ("", "{cache: false}", None),
    ],
)
def test_the_registry_cache_reference(
    tmp_path: Path, own: str, top: str, cache: str | None
) -> None:
    head = HEAD.replace("images:\n", f"build: {top}\nimages:\n") if top else HEAD
    spec = load(tmp_path, head + "  - name: nb\n    from: reg.example.com/b:1\n" + own)
    assert spec.images[0].cache == cache


def test_a_bad_cache_reference_is_told_where_it_is_given(tmp_path: Path) -> None:
    found = problems(
        tmp_path,
        HEAD
        + "  - name: nb\n    from: reg.example.com/b:1\n"
        + "    cache: {registry: 'reg.example.com/C'}\n",
    )
    assert found == [
        (
            at(tmp_path, 8, 5),
            "images[0].cache: the cache reference 'reg.example.com/C:buildcache': repository "
            "paths must be lower case",
        )
    ]
    found = problems(
        tmp_path,
        HEAD.replace("images:\n", "build: {cache: {registry: 'reg.example.com/C'}}\nimages:\n")
        + "  - name: tools\n    build: {context: ctx}\n",
    )
    assert found == [
        (
            at(tmp_path, 5, 9),
            "build.cache: the cache reference 'reg.example.com/C:tools': repository paths must "
            "be lower case",
        )
    ]


# --- secrets anywhere -----------------------------------------------------------------------


def test_a_credential_key_is_refused_whatever_its_scalar_value(tmp_path: Path) -> None:
    found = problems(
        tmp_path,
        HEAD + "  - name: nb\n    from: reg.example.com/b:1\n"
        "    env: {API_TOKEN: 'x', DB_PASSWORD: '1234'}\n",
    )
    keys = [m.split(":", 1)[0] for _, m in found if "looks like a credential" in m]
    assert keys == ["images[0].env.API_TOKEN", "images[0].env.DB_PASSWORD"]


def test_a_build_secret_may_be_named_like_a_credential(tmp_path: Path) -> None:
    # its value is where to read the secret ({env: ...}), not the secret
    spec = load(tmp_path, SPAWNER + "build:\n  secrets:\n    token: {env: GH_TOKEN_VAR}\n")
    assert [s.id for s in spec.build.secrets] == ["token"]


def test_a_credential_value_in_a_list_is_refused_at_its_item(tmp_path: Path) -> None:
    found = problems(
        tmp_path,
        HEAD + "  - name: nb\n    from: reg.example.com/b:1\n"
        "    pip: [pandas, 'https://u:pw@x.example/p.whl']\n",
    )
    assert (
        at(tmp_path, 8, 19),
        "images[0].pip[1]: the value looks like a URL with a password; workspace.yaml never "
        "holds secrets (they would be stored in the image, its history and the plan): use "
        "`docker login` or a credential helper for registries, and keep build-time secrets out "
        "of the file",
    ) in found


def test_a_group_without_the_first_one_is_still_read(tmp_path: Path) -> None:
    spec = load(tmp_path, SPAWNER + "spawner:\n  imageGroupTwo: {options: [tf]}\n")
    assert [(g.key, g.options) for g in spec.spawner.groups] == [("imageGroupTwo", ("tf",))]


def test_workspace_kinds_are_read_when_declared(tmp_path: Path) -> None:
    spec = load(
        tmp_path, SPAWNER + "workspaceKinds:\n  jupyter:\n    images: [{id: tf, image: tf}]\n"
    )
    assert [(k.name, [i.image for i in k.images]) for k in spec.workspace_kinds] == [
        ("jupyter", ["tf"])
    ]
    assert load(tmp_path, SPAWNER).workspace_kinds == ()


def test_no_default_registry_is_asked_for_when_no_image_could_be_read(tmp_path: Path) -> None:
    # the image's own problem is the one to fix; the option naming it is not a second cause
    text = (
        "apiVersion: kfws/v1alpha1\nkind: Workspace\nimages:\n  - name: nb\n    tag: v1\n"
        "spawner:\n  image: {options: ['ghcr.io/x/y:1']}\n"
    )
    assert [m for _, m in problems(tmp_path, text)] == [
        "images[0]: give exactly one of `build` (your Dockerfile) or `from` (a generated one)"
    ]


def test_platform_and_platforms_of_a_dockerfile_image_are_told_under_build(
    tmp_path: Path,
) -> None:
    found = problems(
        tmp_path,
        HEAD + "  - name: tools\n    build:\n      context: ctx\n      platform: linux/amd64\n"
        "      platforms: [linux/arm64]\n",
    )
    assert found == [
        (at(tmp_path, 9, 7), "images[0].build.platform: give `platform` or `platforms`, not both")
    ]


def test_only_trailing_slashes_are_taken_off_a_cache_registry(tmp_path: Path) -> None:
    found = problems(
        tmp_path,
        HEAD.replace("images:\n", "build: {cache: {registry: 'reg.example.com/cX//'}}\nimages:\n")
        + "  - name: nb\n    from: reg.example.com/b:1\n",
    )
    assert found == [
        (
            at(tmp_path, 5, 9),
            "build.cache: the cache reference 'reg.example.com/cX:nb': repository paths must be "
            "lower case",
        )
    ]


def test_an_own_repository_is_checked_without_a_default_registry(tmp_path: Path) -> None:
    text = (
        "apiVersion: kfws/v1alpha1\nkind: Workspace\nimages:\n"
        "  - name: a\n    from: reg.example.com/b:1\n    repository: team/a\n"
    )
    assert problems(tmp_path, text) == [
        (
            at(tmp_path, 6, 5),
            "images[0].repository: the repository 'team/a' must start with a registry host "
            "(e.g. registry.example.com/team/a)",
        )
    ]


def test_only_trailing_slashes_are_taken_off_the_default_registry(tmp_path: Path) -> None:
    text = HEAD.replace("reg.example.com/team", "reg.example.com/tX//")
    found = problems(tmp_path, text + "  - name: nb\n    from: reg.example.com/b:1\n")
    assert found == [
        (
            at(tmp_path, 6, 5),
            "images[0]: the repository 'reg.example.com/tX/nb': repository paths must be lower "
            "case",
        )
    ]


def test_a_pip_file_must_be_a_file(tmp_path: Path) -> None:
    (tmp_path / "reqs").mkdir()
    found = problems(
        tmp_path,
        HEAD + "  - name: nb\n    from: reg.example.com/b:1\n    pip: [-r nope.txt, -c reqs]\n",
    )
    assert found == [
        (
            at(tmp_path, 8, 11),
            f"images[0].pip[0]: the pip file {tmp_path / 'nope.txt'} does not exist",
        ),
        (at(tmp_path, 8, 24), f"images[0].pip[1]: the pip file {tmp_path / 'reqs'} does not exist"),
    ]
