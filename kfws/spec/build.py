"""Turns a schema-valid document into the immutable Spec, applying kfws.spec.checks with the
location of each value; all problems are reported together."""

from __future__ import annotations

import difflib
import itertools
import re
from collections.abc import Mapping
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from kfws.reference import looks_like_reference
from kfws.spec import checks, graph
from kfws.spec.model import (
    GROUP_KEYS,
    BuildSecret,
    BuildSettings,
    BuildSpec,
    ClusterSpec,
    GeneratedSpec,
    ImageSpec,
    OptionsMode,
    PinMode,
    RegistryOptions,
    RestartMode,
    SpawnerGroup,
    SpawnerSpec,
    Spec,
)

if TYPE_CHECKING:
    from kfws.spec.load import Located, Path_, _Problems
    from kfws.targets.workspacekind.model import KindSpec


DEFAULT_CACHE_SUFFIX = "-buildcache:latest"  # the registry cache beside each image


def build_spec(located: Located, path: Path, digest: str, problems: _Problems) -> Spec:
    doc: dict[str, Any] = located.data
    root = path.parent

    def check(p: Path_, message: str | None) -> None:
        if message:
            problems.add(located.where(p), p, message)

    _secrets(doc, (), check)
    registry = doc.get("registry") or {}
    default_registry = str(registry.get("default") or "")
    registries: dict[str, RegistryOptions] = {}
    for host, opts in (registry.get("registries") or {}).items():
        ca = opts.get("caFile")
        ca_path = (root / ca) if ca else None
        if ca_path is not None and not checks.is_regular_file(ca_path):
            check(
                ("registry", "registries", host, "caFile"), f"the CA file {ca_path} does not exist"
            )
        registries[host] = RegistryOptions(
            host=host,
            insecure=bool(opts.get("insecure", False)),
            ca_file=ca_path,
            immutable=bool(opts.get("immutable", False)),
            check=bool(opts.get("check", True)),
            engine=(opts.get("build") or {}).get("engine"),
        )

    images: list[ImageSpec] = []
    seen: dict[str, int] = {}
    declared = {str(raw["name"]) for raw in doc.get("images") or []}
    edges: dict[tuple[str, str], Path_] = {}  # (image, managed image it builds on) -> where
    for i, raw in enumerate(doc.get("images") or []):
        p: Path_ = ("images", i)
        name = str(raw["name"])
        if name in seen:
            check((*p, "name"), f"the image name {name!r} is already used by images[{seen[name]}]")
        seen.setdefault(name, i)
        image = _image(raw, p, name, default_registry, root, located, check, declared, edges)
        if image is not None:
            own = (raw.get("build") or {}).get("network") or raw.get("network")
            network = own or (doc.get("build") or {}).get("network")
            image = replace(image, network=None if network in (None, "default") else network)
            image = _buildkit_options(image, raw, p, doc.get("build") or {}, check)
        if image is not None:
            images.append(image)
    names = {i.name for i in images}
    _cycle_problems(images, edges, check)

    spawner_raw = doc.get("spawner") or {}
    groups: list[SpawnerGroup] = []
    for key in GROUP_KEYS:
        if key not in spawner_raw:
            continue
        g = spawner_raw[key]
        gp: Path_ = ("spawner", key)
        options = [str(o) for o in g["options"]]
        for j, option in enumerate(options):
            check((*gp, "options", j), checks.reference_problem(option, names))
        dupes = sorted({o for o in options if options.count(o) > 1})
        if dupes:
            check((*gp, "options"), f"listed more than once: {', '.join(dupes)}")
        default = str(g["default"]) if "default" in g else None
        if default is not None:
            check((*gp, "default"), checks.reference_problem(default, names))
            # Kubeflow preselects a full reference that is not in the dropdown (the 1.0.2
            # manifests ship one); a managed image made the default but not offered is a slip
            if default not in options and default in names:
                check((*gp, "default"), f"the default {default!r} is not among the group's options")
        groups.append(
            SpawnerGroup(
                key=key,
                default=default,
                options=tuple(options),
                mode=OptionsMode(g.get("mode", "exact")),
                pin=PinMode(g.get("pin", "tag")),
                location=located.where(gp).rsplit(":", 1)[0],
            )
        )
    kinds: tuple[KindSpec, ...] = ()
    if doc.get("workspaceKinds"):  # the WorkspaceKind target is imported only when declared
        from kfws.targets.workspacekind.spec import parse_workspace_kinds

        kinds = parse_workspace_kinds(doc.get("workspaceKinds"), names, located, check)
    # an option or kind naming a managed image needs nothing more: with no image built, `names`
    # is empty and nothing can name one
    if (
        images
        and not default_registry
        and any("repository" not in raw for raw in doc.get("images") or [])
    ):
        check(("registry", "default"), "needed: images without `repository` are pushed under it")

    cluster_raw = doc.get("cluster") or {}
    cluster = ClusterSpec(
        context=cluster_raw.get("context"),
        namespace=str(cluster_raw.get("namespace", "kubeflow")),
        config_map=_auto(cluster_raw.get("configMap")),
        deployment=_auto(cluster_raw.get("deployment")),
        restart=RestartMode(cluster_raw.get("restart", "rollout")),
    )
    problems.raise_if_any()
    return Spec(
        path=path,
        digest=digest,
        default_registry=default_registry,
        registries=registries,
        cluster=cluster,
        images=tuple(images),
        spawner=SpawnerSpec(
            groups=tuple(groups),
            allow_custom_image=spawner_raw.get("allowCustomImage"),
            hide_registry=spawner_raw.get("hideRegistry"),
            hide_tag=spawner_raw.get("hideTag"),
            image_pull_policy=spawner_raw.get("imagePullPolicy"),
        ),
        workspace_kinds=kinds,
        build=BuildSettings(
            engine=(doc.get("build") or {}).get("engine"),
            secrets=_build_secrets(doc.get("build") or {}, root, located),
        ),
    )


def _buildkit_options(
    image: ImageSpec, raw: Mapping[str, Any], p: Path_, top: Mapping[str, Any], check: Any
) -> ImageSpec:
    """`platforms` (folded into the one platform string the input digest already covers, so
    the set is a build input) and the registry cache reference, from the image's own keys
    (under `build:` for a Dockerfile image) or the top-level `build:` defaults."""
    own: Mapping[str, Any] = raw["build"] if image.build is not None else raw
    own_p: Path_ = (*p, "build") if image.build is not None else p
    platforms = own.get("platforms") or top.get("platforms")
    if platforms:
        if own.get("platform"):
            check((*own_p, "platform"), "give `platform` or `platforms`, not both")
            return image
        platform = ",".join(sorted({str(x) for x in platforms}))  # a set: order is no input
        if image.build is not None:
            image = replace(image, build=replace(image.build, platform=platform))
        elif image.generated is not None:
            image = replace(image, generated=replace(image.generated, platform=platform))
    cache = own["cache"] if "cache" in own else top.get("cache")
    if cache is False:
        return replace(image, cache=None)
    if cache is None:
        # next to the image, in a repository of its own: a bad repository is reported at the
        # repository, not as a `cache` the file does not have. Not `<repository>:buildcache`:
        # BuildKit exports the cache while it pushes the image, and the distribution registry
        # rewrites a repository's blob link file on every upload of that blob, so a manifest
        # PUT racing a cache upload of one of its layers in the same repository read a
        # half-written link and was refused ("provided digest did not match uploaded content")
        return replace(image, cache=f"{image.repository}{DEFAULT_CACHE_SUFFIX}")
    if "cache" in own:
        ref = str(cache["registry"])
        if not _has_tag(ref):
            ref += ":buildcache"
    else:
        ref = f"{str(cache['registry']).rstrip('/')}:{image.name}"
    where = (*own_p, "cache") if "cache" in own else ("build", "cache")
    problem = _base_problem(ref)  # it names the reference already
    check(where, f"the cache reference {problem}" if problem else None)
    return replace(image, cache=ref)


def _has_tag(ref: str) -> bool:
    return ":" in ref.rsplit("/", 1)[-1]


def _build_secrets(top: Mapping[str, Any], root: Path, located: Located) -> tuple[BuildSecret, ...]:
    secrets = []
    for sid, source in (top.get("secrets") or {}).items():
        file = source.get("file")
        path = None
        if file is not None:
            path = Path(str(file)).expanduser()
            path = path if path.is_absolute() else root / path
        secrets.append(
            BuildSecret(
                id=str(sid),
                env=source.get("env"),
                file=path,
                location=located.where(("build", "secrets", sid)).rsplit(":", 1)[0],
            )
        )
    return tuple(secrets)


def _absolute(path: Path) -> Path:
    """The resolved path; one that can't be resolved has had its problem reported already."""
    try:
        return path.resolve()
    except (OSError, RuntimeError):  # RuntimeError: a symlink loop, before Python 3.13
        return path.absolute()


def _cycle_problems(
    images: list[ImageSpec], edges: dict[tuple[str, str], Path_], check: Any
) -> None:
    """A managed image can't build on itself, directly or through others: each edge of the
    first cycle found is reported where it is declared."""
    cycle = graph.find_cycle(graph.dependencies(images))
    if cycle is None:
        return
    text = " -> ".join(cycle)
    for a, b in itertools.pairwise(cycle):
        check(
            edges[(a, b)],
            f"the managed images build on each other in a cycle ({text}); "
            "an image can't be its own base: break the cycle",
        )


def _managed_name_problem(value: str, declared: set[str], what: str) -> str | None:
    if value in declared:
        return None
    guess = difflib.get_close_matches(value, sorted(declared), n=1)
    if guess:
        return f"{value!r} is not a managed image's name; did you mean {guess[0]!r}?"
    names = ", ".join(sorted(declared)) or "none declared"
    return f"{value!r} is not a managed image's name ({names}); {what}"


def _auto(value: Any) -> str | None:
    return None if value in (None, "auto") else str(value)


def _image(
    raw: Mapping[str, Any],
    p: Path_,
    name: str,
    default_registry: str,
    root: Path,
    located: Located,
    check: Any,
    declared: set[str],
    edges: dict[tuple[str, str], Path_],
) -> ImageSpec | None:
    generated_keys = {"from", "sudo", "apt", "pip", "env", "buildEnv", "folders", "user"}
    has_build, has_from = "build" in raw, "from" in raw
    if has_build == has_from:
        check(p, "give exactly one of `build` (your Dockerfile) or `from` (a generated one)")
        return None
    if has_build and generated_keys & set(raw):
        extra = ", ".join(sorted(generated_keys & set(raw)))
        check(p, f"{extra} only apply to generated images (`from`); put them in your Dockerfile")
        return None
    repository = str(raw.get("repository") or f"{default_registry.rstrip('/')}/{name}")
    if "repository" in raw or default_registry:  # else `registry.default` is said to be needed
        check((*p, "repository") if "repository" in raw else p, _repository_problem(repository))
    build = generated = None
    if has_build:
        b = raw["build"]
        context = root / str(b["context"])
        dockerfile = context / str(b.get("dockerfile", "Dockerfile"))
        check(
            (*p, "build", "context"), checks.inside_problem(root, context, "build context", "dir")
        )
        check(
            (*p, "build", "dockerfile"),
            checks.inside_problem(root, dockerfile, "Dockerfile", "file"),
        )
        raw_args = b.get("args") or {}
        image_args: dict[str, str] = {}
        for k, v in raw_args.items():
            if isinstance(v, dict):  # {image: NAME}: that managed image's reference
                ap: Path_ = (*p, "build", "args", str(k), "image")
                check(
                    ap,
                    _managed_name_problem(
                        str(v["image"]), declared, "`{image: NAME}` names an image of this file"
                    ),
                )
                image_args[str(k)] = str(v["image"])
                edges.setdefault((name, str(v["image"])), ap)
        build = BuildSpec(
            context=_absolute(context),
            dockerfile=_absolute(dockerfile),
            args={str(k): str(v) for k, v in raw_args.items() if not isinstance(v, dict)},
            target=b.get("target"),
            platform=b.get("platform"),
            image_args=image_args,
        )
    else:
        base = str(raw["from"])
        managed_base = base in declared
        if managed_base:
            edges.setdefault((name, base), (*p, "from"))
        elif not looks_like_reference(base):
            # a bare word names a managed image (as in spawner options); a Docker Hub image is
            # written in full (docker.io/library/python:3.12), so a typo can't pull a stranger
            check(
                (*p, "from"),
                _managed_name_problem(
                    base, declared, "for another image give a full reference (registry/path:tag)"
                ),
            )
        else:
            check((*p, "from"), _base_problem(base))
        env = {str(k): str(v) for k, v in (raw.get("env") or {}).items()}
        build_env = {str(k): str(v) for k, v in (raw.get("buildEnv") or {}).items()}
        for key, values in (("env", env), ("buildEnv", build_env)):
            for k in values:
                check((*p, key, k), checks.env_name_problem(k))
        for k in sorted(env.keys() & build_env.keys()):
            check((*p, "buildEnv", k), f"{k} is also in `env`; declare it in one of the two")
        pip, files = _pip_entries(raw.get("pip") or [], p, root, check)
        for j, pkg in enumerate(raw.get("apt") or []):
            check((*p, "apt", j), checks.apt_problem(str(pkg)))
        for j, folder in enumerate(raw.get("folders") or []):
            check((*p, "folders", j), checks.folder_problem(str(folder)))
        user = str(raw.get("user", "jovyan"))
        if "user" in raw:
            check((*p, "user"), checks.user_problem(user))
        generated = GeneratedSpec(
            base=str(raw["from"]),
            sudo=raw.get("sudo"),
            apt=tuple(str(x) for x in raw.get("apt") or ()),
            pip=pip,
            env=env,
            build_env=build_env,
            files=files,
            folders=tuple(str(x) for x in raw.get("folders") or ()),
            user=user,
            platform=raw.get("platform"),
            managed_base=managed_base,
        )
    return ImageSpec(
        name=name,
        repository=repository,
        tag=raw.get("tag"),
        build=build,
        generated=generated,
        location=located.where(p).rsplit(":", 1)[0],
    )


def _repository_problem(repository: str) -> str | None:
    from kfws.reference import ReferenceError, parse_reference

    try:
        ref = parse_reference(repository)
    except ReferenceError as e:
        return f"the repository {e}"
    if ref.tag or ref.digest:
        return f"the repository {repository!r} must not carry a tag or digest; use `tag`"
    host = repository.split("/")[0]
    if "/" not in repository or not ("." in host or ":" in host or host == "localhost"):
        short = repository.rsplit("/", 1)[-1]
        return (
            f"the repository {repository!r} must start with a registry host "
            f"(e.g. registry.example.com/team/{short})"
        )
    return None


def _base_problem(ref: str) -> str | None:
    from kfws.reference import ReferenceError, parse_reference

    try:
        parse_reference(ref)
    except ReferenceError as e:
        return str(e)
    return None


def _pip_entries(
    entries: list[Any], p: Path_, root: Path, check: Any
) -> tuple[tuple[str, ...], tuple[tuple[str, Path], ...]]:
    """Requirements stay as written; options become `--option=value`, and the files -r/-c name
    are given a name in the generated image's build context (`pip/<n>-<file name>`)."""
    pip: list[str] = []
    files: list[tuple[str, Path]] = []
    index_urls = 0
    for j, raw_entry in enumerate(entries):
        entry = str(raw_entry)
        problem = checks.pip_problem(entry)
        check((*p, "pip", j), problem)
        option = checks.split_pip_option(entry)
        if problem or option is None:
            pip.append(entry)
            continue
        name, value = option
        if name == "--index-url":
            index_urls += 1
            if index_urls > 1:
                check((*p, "pip", j), "--index-url is given twice; add others as --extra-index-url")
        if name in checks.PIP_FILE_OPTIONS.values():
            source = root / value
            inside = checks.inside_problem(root, source, "pip file", "file")
            check((*p, "pip", j), inside)
            safe = re.sub(r"[^A-Za-z0-9._-]", "_", Path(value).name)
            context_name = f"pip/{len(files)}-{safe}"
            if not inside:
                files.append((context_name, _absolute(source)))
            value = context_name
        pip.append(f"{name}={value}")
    return tuple(pip), tuple(files)


def _secrets(node: Any, path: Path_, check: Any) -> None:
    """No credentials in the file, wherever they hide (env and build args included): keys named
    like one, and values shaped like one. `validate` and `plan` both load through here."""
    if isinstance(node, dict):
        for key, value in node.items():
            if isinstance(value, (str, int)) and checks.secret_key_problem(str(key)):
                check((*path, str(key)), checks.secret_key_problem(str(key)))
            _secrets(value, (*path, str(key)), check)
    elif isinstance(node, list):
        for i, item in enumerate(node):
            _secrets(item, (*path, i), check)
    elif isinstance(node, str):
        check(path, checks.secret_value_problem(node))
