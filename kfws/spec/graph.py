"""The managed-image graph (pure): which managed images each one builds on.

An image builds on another managed image when its `from:` names it, or when one of its build
args is `{image: NAME}`. kfws builds such images in dependency order (bases first, independent
ones in parallel), and a base's *input digest* stands for it in its children's inputs, so every
tag is known before anything is built and a base change changes exactly its dependants' tags.
Cycles and unknown names are validation errors (kfws.spec.build reports them with locations).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence

from kfws.spec.model import ImageSpec


def needs(image: ImageSpec) -> tuple[str, ...]:
    """The managed images `image` builds on, in declaration order, each once."""
    names: list[str] = []
    if image.generated is not None and image.generated.managed_base:
        names.append(image.generated.base)
    if image.build is not None:
        names += [n for _, n in sorted(image.build.image_args.items())]
    return tuple(dict.fromkeys(names))


def dependencies(images: Iterable[ImageSpec]) -> dict[str, tuple[str, ...]]:
    return {i.name: needs(i) for i in images}


def find_cycle(deps: Mapping[str, Sequence[str]]) -> list[str] | None:
    """One cycle as [a, b, ..., a] (starting from the first declared image on it), or None.
    Names that are not keys of `deps` (unknown images) are ignored here: reported apart."""
    state: dict[str, int] = {}  # 1 = on the current path, 2 = done

    def visit(name: str, path: list[str]) -> list[str] | None:
        state[name] = 1
        path.append(name)
        for dep in deps.get(name, ()):
            if dep not in deps:
                continue
            if state.get(dep) == 1:
                return [*path[path.index(dep) :], dep]
            if dep not in state:
                found = visit(dep, path)
                if found:
                    return found
        path.pop()
        state[name] = 2
        return None

    for name in deps:  # declaration order: the reported cycle is stable
        if name not in state:
            found = visit(name, [])
            if found:
                return found
    return None


def build_order(deps: Mapping[str, Sequence[str]]) -> list[str]:
    """Every name, each after the names it needs, otherwise in declaration order (stable).
    The graph must be acyclic (the loader guarantees it)."""
    done: set[str] = set()
    order: list[str] = []
    pending = list(deps)
    while pending:
        ready = [n for n in pending if all(d in done or d not in deps for d in deps[n])]
        if not ready:
            raise ValueError(f"a cycle among {', '.join(pending)}")
        for name in ready:
            order.append(name)
            done.add(name)
        pending = [n for n in pending if n not in done]
    return order


def dependants(deps: Mapping[str, Sequence[str]], name: str) -> set[str]:
    """Every image that builds on `name`, directly or through others."""
    out: set[str] = set()
    frontier = [name]
    while frontier:
        current = frontier.pop()
        for child, bases in deps.items():
            if current in bases and child not in out:
                out.add(child)
                frontier.append(child)
    return out


def closure(deps: Mapping[str, Sequence[str]], names: Iterable[str]) -> set[str]:
    """`names` and every managed image they build on, directly or through others."""
    out: set[str] = set()
    frontier = list(names)
    while frontier:
        current = frontier.pop()
        if current in out or current not in deps:
            continue
        out.add(current)
        frontier.extend(deps[current])
    return out
