"""Rename a schema throughout a model, so objects in different schemas can be compared.

Schema-mode fleets keep each tenant in its own schema: the template's `template.accounts` and
tenant acme's `acme.accounts` are the same table. `rename_schema` moves every object of one
schema to another name:

- exactly, in the fields that name a schema: the `schema` of types, sequences, tables, views,
  routines, events, extensions and privileges, `Schema.name`, the schema of a foreign key's
  `references` and of a partition's `partition_of`;
- textually, in every other string (definitions, defaults, column types, `depends_on` keys,
  `inherits`): a schema-qualified name's prefix, quoted (`"acme".`) or bare (`acme.`, not
  preceded by a letter, digit, `_`, `$`, `"` or `.`), becomes the new schema's prefix —
  outside string literals (`'...'`, `E'...'`), which are left as they are (a default of
  'acme.com' stays 'acme.com'), except those cast to a reg* type (`'acme.seq'::regclass` names
  an object). Routine bodies and comments are renamed like code.

The textual part is a tokenizer's worth of care, not parsing: a table alias equal to the
schema's name followed by a dot would be rewritten as well, and so would `acme.` in a comment
or in a string inside a routine body.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Callable
from typing import Any

from dbfleet.schema.model import Constraint, Model, Schema

# Fields (of any model dataclass) that hold a schema name.
_SCHEMA_FIELDS = frozenset({"schema"})


def rename_schema(
    model: Model, old: str, new: str, *, quote: Callable[[str], str] | None = None
) -> Model:
    """`model` with schema `old` called `new` everywhere (see the module's notes)."""
    if old == new:
        return model
    if quote is None:
        from dbfleet.engines import dialect_for

        quote = dialect_for(model.engine).quote_ident
    swap = _text_swapper(old, new, quote)

    def exact(value: Any) -> Any:
        return new if value == old else value

    def walk(value: Any, field: str | None = None) -> Any:
        if isinstance(value, str):
            return exact(value) if field in _SCHEMA_FIELDS else swap(value)
        if isinstance(value, tuple):
            return tuple(walk(v) for v in value)
        if dataclasses.is_dataclass(value) and not isinstance(value, type):
            changes: dict[str, Any] = {}
            for f in dataclasses.fields(value):
                if not f.compare:
                    continue  # warnings and the like: not part of what is compared
                item = getattr(value, f.name)
                if isinstance(value, Schema) and f.name == "name":
                    changes[f.name] = exact(item)
                elif isinstance(value, Constraint) and f.name == "references" and item:
                    changes[f.name] = (exact(item[0]), *walk(tuple(item[1:])))
                elif f.name == "attrs":
                    changes[f.name] = tuple(
                        (
                            k,
                            (exact(v[0]), *walk(tuple(v[1:])))
                            if k == "partition_of" and v
                            else walk(v),
                        )
                        for k, v in item
                    )
                else:
                    changes[f.name] = walk(item, f.name)
            return dataclasses.replace(value, **changes)
        return value

    renamed: Model = walk(model)
    return renamed


def _text_swapper(old: str, new: str, quote: Callable[[str], str]) -> Callable[[str], str]:
    """Replace `old`'s qualified-name prefix with `new`'s in free text."""
    pairs: list[tuple[str, str]] = []
    if quote(old) != old:  # the form the server prints when the name needs quotes
        pairs.append((quote(old) + ".", quote(new) + "."))
    always = '"' + old.replace('"', '""') + '".'  # the form a person may have written
    if all(always != b for b, _ in pairs):
        pairs.append((always, '"' + new.replace('"', '""') + '".'))
    bare = re.compile(r'(?<![\w$".])' + re.escape(old) + r"\.")

    def swap_code(text: str) -> str:
        for before, after in pairs:
            text = text.replace(before, after)
        return bare.sub(lambda _: new + ".", text)

    def swap(text: str) -> str:
        if old not in text and all(b not in text for b, _ in pairs):
            return text
        # String literals are kept as they are, except those cast to a reg* type
        # ('acme.seq'::regclass), which name objects.
        out, at = [], 0
        for match in _LITERAL.finditer(text):
            if match["comment"] or text.startswith("::reg", match.end()):
                continue  # renamed with the code around it
            out += [swap_code(text[at : match.start()]), match.group(0)]
            at = match.end()
        out.append(swap_code(text[at:]))
        return "".join(out)

    return swap


# String literals as the server prints them in definitions: standard, and E'' with backslash
# escapes. Dollar-quoted routine bodies are code (they name their own schema's objects too);
# comments are matched only so that an apostrophe in one ("-- don't") starts no literal.
_LITERAL = re.compile(
    r"""(?P<comment>--[^\n]*|/\*.*?\*/)|[Ee]'(?:[^'\\]|\\.|'')*'|'(?:[^']|'')*'""", re.S
)
