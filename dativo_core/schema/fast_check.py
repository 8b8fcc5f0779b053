"""A quick JSON Schema pass before jsonschema: most documents and configs are valid.

fastjsonschema passes valid data in milliseconds, where jsonschema takes about 0.1 s to import
(which a plugin's start-up would pay every time); what fastjsonschema refuses, or a schema it
cannot compile, goes to jsonschema, which stays the judge of what is invalid and explains it.
"""

from __future__ import annotations

from typing import Any


def passes_quickly(schema: dict[str, Any], data: Any) -> bool:
    """True when fastjsonschema accepts `data`; False means "ask jsonschema", not "invalid"."""
    import fastjsonschema

    try:
        # use_default=False: check only; fastjsonschema would otherwise fill defaults into `data`.
        fastjsonschema.compile(schema, use_default=False)(data)
    except fastjsonschema.JsonSchemaException:
        return False
    return True
