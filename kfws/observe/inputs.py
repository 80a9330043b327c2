"""Reads each managed image's build inputs from disk and computes its content digest and tag.

The only I/O is reading the build context (and asking the registry for base image digests,
through the callable the caller passes in), so the digest logic itself stays pure
(kfws.images.digest)."""

from __future__ import annotations

import hashlib
import os
import re
import stat
from collections.abc import Callable, Mapping
from pathlib import Path

from kfws.errors import SpecError
from kfws.images.digest import (
    ContextEntry,
    base_images,
    content_tag,
    input_digest,
    normalise_mode,
)
from kfws.images.dockerfile import generate_dockerfile
from kfws.observe.model import BuildInputs
from kfws.spec.model import ImageSpec, Spec

# Build args end up in image history and in plans: refuse names that look like secrets.
SECRET_ARG = re.compile(r"TOKEN|PASSWORD|PASSWD|SECRET|KEY|CREDENTIAL", re.IGNORECASE)

BaseResolver = Callable[[str], str | None]


def check_build_args(spec: Spec) -> None:
    problems = [
        (
            image.location,
            f"images[{image.name}].build.args.{name}: a build arg named like a secret would be "
            "stored in the image's layers and in plans; use a BuildKit secret mount or fetch it "
            "at run time instead",
        )
        for image in spec.images
        if image.build
        for name in sorted(image.build.args)
        if SECRET_ARG.search(name)
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


def read_inputs(image: ImageSpec, resolve_base: BaseResolver) -> BuildInputs:
    if image.generated is not None:
        dockerfile = generate_dockerfile(image.generated)
        entries: list[ContextEntry] = []
        args: Mapping[str, str] = {}
        target, platform = None, image.generated.platform
    else:
        assert image.build is not None
        build = image.build
        try:
            dockerfile = build.dockerfile.read_text(encoding="utf-8")
        except OSError as e:
            raise SpecError(
                [(image.location, f"images[{image.name}]: cannot read {build.dockerfile}: {e}")]
            ) from e
        entries = context_entries(build.context, build.dockerfile)
        args, target, platform = build.args, build.target, build.platform
    bases = {ref: resolve_base(ref) for ref in base_images(dockerfile, args)}
    digest = input_digest(
        dockerfile_text=dockerfile,
        entries=entries,
        args=args,
        target=target,
        platform=platform,
        base_digests=bases,
    )
    first_base = next(iter(bases.values()), None)
    return BuildInputs(
        name=image.name,
        input_digest=digest,
        dockerfile=dockerfile,
        base_digest=first_base,
        tag=image.tag or content_tag(digest),
    )
