"""Is a workspace document valid under the workspace schema? A quick yes, before jsonschema.

Importing jsonschema (its validators, format checkers, `referencing` and their attrs classes)
costs more than everything else kfws does to load a workspace, and a valid file needs none of
its error reporting. So kfws.spec.load asks `valid()` first: only `True` skips jsonschema; a
file it finds invalid, or one it cannot judge, goes through jsonschema, which reports every
problem exactly as before.

Three answers, so a wrong "yes" is impossible by construction: True (valid, as jsonschema
would judge: the keywords below, with jsonschema's semantics), False (invalid for certain: it
matters inside `oneOf`, where one subschema must match and no other), None (cannot tell: a
keyword this module does not know, a value YAML does not produce; the caller runs jsonschema).
`valid()` is only as wide as the keywords kfws's schema uses; tests/unit/spec/test_schema_check
holds it to jsonschema's verdict, and to answering True for the files kfws ships and tests.
"""

from __future__ import annotations

import re
from functools import cache
from typing import Any

# An unescaped `$` in a schema pattern: JSON Schema patterns are ECMA-262 regexes, where `$` is
# the end of the input; in Python's re it also matches before a final newline.
_DOLLAR = re.compile(r"(?<!\\)\$")

# keywords that only annotate: jsonschema validates nothing with them
_ANNOTATIONS = frozenset(
    {"$schema", "$id", "$comment", "title", "description", "examples", "default", "deprecated"}
)


@cache
def ecma_pattern(pattern: str) -> re.Pattern[str]:
    return re.compile(_DOLLAR.sub(r"\\Z", pattern))


def _is_type(value: Any, name: str) -> bool | None:
    """jsonschema's type check for what YAML produces; None for anything else."""
    if name == "object":
        return isinstance(value, dict)
    if name == "array":
        return isinstance(value, list)
    if name == "string":
        return isinstance(value, str)
    if name == "boolean":
        return isinstance(value, bool)
    if name == "null":
        return value is None
    if name not in ("number", "integer"):
        return None
    if isinstance(value, (bool, str, list, dict)) or value is None:
        return False
    if isinstance(value, int):
        return True
    if isinstance(value, float):  # jsonschema: 1.0 is an integer
        return name == "number" or value.is_integer()
    return None


_SCALARS = (str, int, float, bool, type(None))


def _equal(a: Any, b: Any) -> bool | None:
    """jsonschema's equality (True is not 1) for scalars; a scalar is never a container; None
    for two containers."""
    scalars = isinstance(a, _SCALARS), isinstance(b, _SCALARS)
    if scalars != (True, True):
        return None if scalars == (False, False) else False
    if isinstance(a, bool) or isinstance(b, bool):
        return a is b
    return bool(a == b)


def _all(answers: Any) -> bool | None:
    """True if every answer is True, False if any is False, else None."""
    unsure = False
    for answer in answers:
        if answer is False:
            return False
        unsure = unsure or answer is None
    return None if unsure else True


def valid(value: Any, schema: Any) -> bool | None:
    if schema is True:
        return True
    if schema is False:
        return False
    if not isinstance(schema, dict):
        return None
    results: list[bool | None] = []
    for key, arg in schema.items():
        if key in _ANNOTATIONS:
            continue
        if key == "type":
            names = arg if isinstance(arg, list) else [arg]
            answers = [_is_type(value, n) for n in names]
            results.append(True if True in answers else (None if None in answers else False))
        elif key == "enum":
            answers = [_equal(value, each) for each in arg]
            results.append(True if True in answers else (None if None in answers else False))
        elif key == "const":
            results.append(_equal(value, arg))
        elif key == "pattern":
            if isinstance(value, str):
                results.append(bool(ecma_pattern(arg).search(value)))
        elif key in ("minLength", "maxLength"):
            if isinstance(value, str):
                results.append(len(value) >= arg if key == "minLength" else len(value) <= arg)
        elif key in ("minimum", "maximum"):
            if isinstance(value, (int, float)) and not isinstance(value, bool):
                results.append(not (value < arg if key == "minimum" else value > arg))
            elif _is_type(value, "number") is None:
                return None
        elif key in ("minItems", "maxItems"):
            if isinstance(value, list):
                results.append(len(value) >= arg if key == "minItems" else len(value) <= arg)
        elif key in ("minProperties", "maxProperties"):
            if isinstance(value, dict):
                results.append(len(value) >= arg if key == "minProperties" else len(value) <= arg)
        elif key == "uniqueItems":
            if arg and isinstance(value, list):
                if not all(isinstance(v, str) for v in value):
                    return None
                results.append(len(set(value)) == len(value))
        elif key == "required":
            if isinstance(value, dict):
                results.append(all(name in value for name in arg))
        elif key == "properties":
            if isinstance(value, dict):
                results.append(_all(valid(value[k], sub) for k, sub in arg.items() if k in value))
        elif key == "additionalProperties":
            if "patternProperties" in schema:
                return None
            if isinstance(value, dict):
                known = schema.get("properties", {})
                extra = [k for k in value if k not in known]
                results.append(_all(valid(value[k], arg) for k in extra))
        elif key == "propertyNames":
            if isinstance(value, dict):
                results.append(_all(valid(k, arg) for k in value))
        elif key == "items":
            if "prefixItems" in schema:
                return None
            if isinstance(value, list):
                results.append(_all(valid(v, arg) for v in value))
        elif key == "oneOf":
            answers = [valid(value, sub) for sub in arg]
            if None in answers:
                return None
            results.append(answers.count(True) == 1)
        else:
            return None  # a keyword this module does not know: let jsonschema judge
    return _all(results)
