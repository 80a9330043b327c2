"""Is a workspace document valid under the workspace schema? A quick yes, before jsonschema.

Importing jsonschema (its validators, format checkers, `referencing` and their attrs classes)
costs more than everything else kfws does to load a workspace, and a valid file needs none of
its error reporting. So kfws.spec.load asks `valid()` first, which asks jsonschema-rs, a compiled
validator of the same drafts (2020-12 here) with ECMA-262 patterns, as kfws's jsonschema
validator reads them: only `True` skips jsonschema. An invalid file, or a value jsonschema-rs
does not take (a date or a huge integer YAML wrote), goes through jsonschema, which finds and
words every problem as before (file:line:col). tests/unit/spec/test_schema_check holds the two
to the same verdict. A library, not a hand-written subset of JSON Schema: the validator was
once written here, and keeping a second validator's semantics in step is what a maintained
library is for.
"""

from __future__ import annotations

import re
from functools import cache
from typing import Any

# An unescaped `$` in a schema pattern: JSON Schema patterns are ECMA-262 regexes, where `$` is
# the end of the input; in Python's re it also matches before a final newline.
_DOLLAR = re.compile(r"(?<!\\)\$")


@cache
def ecma_pattern(pattern: str) -> re.Pattern[str]:
    return re.compile(_DOLLAR.sub(r"\\Z", pattern))


def valid(value: Any, schema: Any) -> bool | None:
    """True: valid; False: invalid; None: jsonschema-rs can't take the value (or isn't
    installed), so the caller runs jsonschema."""
    try:
        import jsonschema_rs
    except ImportError:
        return None
    try:
        return bool(jsonschema_rs.validator_for(schema).is_valid(value))
    except Exception:  # a date, a non-str key, anything it can't take: only ever a shortcut,
        return None  # so jsonschema then judges and words it
