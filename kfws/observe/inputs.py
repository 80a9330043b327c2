"""Reads each managed image's build inputs from disk and computes its content digest and tag.

The only I/O is reading the build context (and asking the registry for base image digests,
through the callable the caller passes in), so the digest logic itself stays pure
(kfws.images.digest)."""

from __future__ import annotations

import hashlib
import os
import stat
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path

from kfws.errors import SpecError
from kfws.images.digest import (
    ContextEntry,
    base_images,
    content_tag,
    digest_of_document,
    input_document,
    inputs_manifest,
    normalise_mode,
)
from kfws.images.dockerfile import generate_dockerfile
from kfws.observe.model import BuildInputs
from kfws.reference import ReferenceError, parse_reference
from kfws.spec import graph
from kfws.spec.checks import secret_key_problem, secret_value_problem
from kfws.spec.model import ImageSpec, Spec

BaseResolver = Callable[[str], str | None]


def check_build_args(spec: Spec) -> None:
    """Build arg names and values, with the same check `validate` applies to the file (one
    function, kfws.spec.checks): for a Spec that did not come through the loader."""
    problems = [
        (
            image.location,
            f"images[{image.name}].build.args.{name}: {problem}",
        )
        for image in spec.images
        if image.build
        for name, value in sorted({**image.build.args, **image.build.image_args}.items())
        for problem in [secret_key_problem(name) or secret_value_problem(value)]
        if problem
    ]
    if problems:
        raise SpecError(problems)


def context_entries(context: Path, dockerfile: Path) -> list[ContextEntry]:
    """Every path of the context that .dockerignore lets through, as the Docker SDK sends it."""
    from docker.utils.build import exclude_paths  # the SDK's own matcher: same files it sends

    ignore_file = context / ".dockerignore"
    patterns: list[str] = []
    if ignore_file.is_file():
        patterns = [
            line.strip()
            for line in ignore_file.read_text(encoding="utf-8").splitlines()
            if line.strip() and not line.strip().startswith("#")
        ]
    try:
        rel_dockerfile = dockerfile.relative_to(context).as_posix()
    except ValueError:
        rel_dockerfile = None  # outside the context: hashed separately as the Dockerfile text
    entries: list[ContextEntry] = []
    for rel in sorted(exclude_paths(str(context), patterns, rel_dockerfile)):
        full = context / rel
        st = full.lstat()
        if stat.S_ISLNK(st.st_mode):
            target = os.readlink(full)
            entries.append(
                ContextEntry(rel, "symlink", 0o777, hashlib.sha256(target.encode()).hexdigest())
            )
        elif stat.S_ISDIR(st.st_mode):
            entries.append(ContextEntry(rel, "dir", normalise_mode("dir", st.st_mode), ""))
        else:
            entries.append(
                ContextEntry(rel, "file", normalise_mode("file", st.st_mode), _file_sha256(full))
            )
    return entries


def _file_sha256(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


# A managed base's digest in its children's inputs: its *input* digest, known before it is
# built (kfws.spec.graph), marked so it is never taken for a registry digest.
MANAGED_DIGEST_PREFIX = "inputs:"


def managed_reference(image: ImageSpec, inputs: BuildInputs) -> str:
    return f"{image.repository}:{inputs.tag}"


def read_all_inputs(
    spec: Spec, resolve_base: BaseResolver, names: Iterable[str] | None = None
) -> dict[str, BuildInputs]:
    """Every managed image's inputs (or those of `names` and the managed images they build
    on), bases first: a base's reference and input digest go into its children's inputs."""
    deps = graph.dependencies(spec.images)
    wanted = graph.closure(deps, names) if names is not None else set(deps)
    out: dict[str, BuildInputs] = {}
    for name in graph.build_order(deps):
        if name in wanted:
            image = spec.image(name)
            assert image is not None
            out[name] = read_inputs(image, resolve_base, _managed(spec, out))
    # declaration order, as before the graph: plans and messages list images as declared
    return {i.name: out[i.name] for i in spec.images if i.name in out}


def _managed(spec: Spec, done: Mapping[str, BuildInputs]) -> dict[str, tuple[str, str]]:
    """name -> (reference, input digest) of the managed images whose inputs are known."""
    out: dict[str, tuple[str, str]] = {}
    for name, inputs in done.items():
        image = spec.image(name)
        assert image is not None
        out[name] = (managed_reference(image, inputs), inputs.input_digest)
    return out


def read_inputs(
    image: ImageSpec,
    resolve_base: BaseResolver,
    managed: Mapping[str, tuple[str, str]] | None = None,
) -> BuildInputs:
    """`managed`: name -> (reference, input digest) of the managed images `image` builds on."""
    managed = managed or {}
    for name in graph.needs(image):
        if name not in managed:
            raise ValueError(f"{image.name} needs the inputs of {name} first")
    managed_digests = {ref: MANAGED_DIGEST_PREFIX + digest for ref, digest in managed.values()}
    if image.generated is not None:
        base_ref = managed[image.generated.base][0] if image.generated.managed_base else None
        dockerfile = generate_dockerfile(image.generated, base_ref)
        # the files pip's -r/-c name, under the names the generated Dockerfile COPYs
        entries: list[ContextEntry] = [
            ContextEntry(name, "file", 0o644, _file_sha256(source))
            for name, source in image.generated.files
        ]
        args: Mapping[str, str] = {}
        target, platform = None, image.generated.platform
        where = image.location
    else:
        assert image.build is not None
        build = image.build
        where = str(build.dockerfile)
        try:
            dockerfile = build.dockerfile.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as e:
            raise SpecError(
                [(image.location, f"images[{image.name}]: cannot read {build.dockerfile}: {e}")],
                hint="the Dockerfile must be a readable UTF-8 text file",
            ) from e
        try:
            entries = context_entries(build.context, build.dockerfile)
        except (OSError, UnicodeDecodeError) as e:  # an unreadable file, a non-UTF-8 .dockerignore
            raise SpecError(
                [(image.location, f"images[{image.name}]: cannot read the build context: {e}")],
                hint="every file the build context sends must be readable; .dockerignore UTF-8",
            ) from e
        args = {**build.args, **{a: managed[n][0] for a, n in build.image_args.items()}}
        target, platform = build.target, build.platform
    refs = base_images(dockerfile, args)
    # an image arg is a base even where no FROM names it (COPY --from=${BASE}): its inputs count
    refs += [managed[n][0] for n in graph.needs(image) if managed[n][0] not in refs]
    for ref in refs:
        try:
            parse_reference(ref)
        except ReferenceError as e:
            raise SpecError(
                [(where, f"images[{image.name}]: FROM {ref!r} is not an image reference: {e}")],
                hint="fix the FROM line of the Dockerfile",
            ) from e
    bases = {ref: managed_digests.get(ref) or resolve_base(ref) for ref in refs}
    document = input_document(
        dockerfile_text=dockerfile,
        entries=entries,
        args=args,
        target=target,
        platform=platform,
        base_digests=bases,
    )
    digest = digest_of_document(document)
    manifest = inputs_manifest(document, dockerfile)  # with the text: a later plan diffs it
    first_base = next(iter(bases.values()), None)
    return BuildInputs(
        name=image.name,
        input_digest=digest,
        dockerfile=dockerfile,
        base_digest=first_base,
        tag=image.tag or content_tag(digest),
        manifest=manifest,
        args=dict(args),
    )
