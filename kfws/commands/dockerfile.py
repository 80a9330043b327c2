"""kfws dockerfile NAME: print the Dockerfile a managed image is built from (generated or given)."""

from __future__ import annotations

import argparse

from kfws import output
from kfws.commands.common import add_file_arg, load
from kfws.errors import KfwsError
from kfws.spec.model import Spec


def register(p: argparse.ArgumentParser) -> None:
    p.add_argument("name", help="the image's name in workspace.yaml")
    add_file_arg(p)
    p.set_defaults(run=run)


def _with_managed_base(spec: Spec, name: str) -> str:
    """FROM names the managed base by its tag, which its inputs decide: read them (and ask
    the registry for the digests of the external bases under them), as `kfws plan` does."""
    from kfws.errors import RegistryError
    from kfws.observe.inputs import read_all_inputs
    from kfws.observe.observe import split_reference
    from kfws.observe.registry import RegistryClient

    client = RegistryClient(spec.registry_options)

    def resolve(ref: str) -> str | None:
        info = client.resolve(*split_reference(ref))
        if info is None:
            raise RegistryError(
                f"the base image {ref} does not exist in its registry",
                where=f"image {ref}",
                hint="push the base image first, or fix the `from:` / FROM reference",
            )
        return info.digest

    return read_all_inputs(spec, resolve, [name])[name].dockerfile


def run(args: argparse.Namespace) -> int:
    from kfws.images.dockerfile import generate_dockerfile

    spec = load(args.file)
    image = spec.image(args.name)
    if image is None:
        import difflib

        declared = [i.name for i in spec.images]
        guess = difflib.get_close_matches(args.name, declared, n=1)
        names = ", ".join(declared) or "none"
        raise KfwsError(
            f"no managed image named {args.name!r}"
            + (f"; did you mean {guess[0]!r}?" if guess else ""),
            where=str(spec.path),
            hint=f"the images declared are: {names}",
        )
    if image.generated is not None and image.generated.managed_base:
        output.out(_with_managed_base(spec, image.name), end="")
        return 0
    if image.generated is not None:
        output.out(generate_dockerfile(image.generated), end="")
        return 0
    assert image.build is not None
    try:
        text = image.build.dockerfile.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as e:
        raise KfwsError(
            f"cannot read {image.build.dockerfile}: {e}",
            where=image.location,
            hint="the Dockerfile must be a readable UTF-8 text file",
        ) from e
    output.out(text, end="")
    return 0
