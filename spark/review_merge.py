"""A refresh written into the editors' text, without re-dumping the whole file.

A ruamel round trip (load with comments, dump) of a review file of a few hundred items takes
seconds; a refresh only adds a few items and rewrites a few machine fields. So the daily
refresh reads the file with ruamel's C parser (plain data and each node's line), and writes
by splicing: every line of the editors' text is kept byte for byte, new items go in between
items, and a changed machine field replaces only its own lines. Both are rendered by the
same ruamel dumper, in the same indentation, so the result is the file a round trip would
write for a file in the layout Spark writes.

Anything else returns None and the caller takes the full ruamel round trip: a file that does
not read (ruamel then reports the problem with its line), a layout other than Spark's
(flow-style or differently indented items, other line ends), anchors and aliases, or a
splice next to comments or blank lines, where ruamel's placement of comments decides.
Before any text is accepted it is read back and must hold exactly the merged data.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.resolver import implicit_resolvers

from spark.files import dump_yaml
from spark.review_layout import plain

try:  # PyYAML's binding of libyaml 0.2.5 (ruamel.yaml.clib's older libyaml rejects
    # `{url: https://...}`, a plain scalar with a colon in a flow mapping)
    import yaml
    from yaml._yaml import CParser as _CParser
    from yaml.constructor import ConstructorError, SafeConstructor
    from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode
    from yaml.resolver import BaseResolver
except ImportError:  # pragma: no cover - then every refresh takes the round trip
    yaml = None

ITEM_PREFIX = "  - "  # how Spark's dumper starts an item: the dash at column 2
KEY_COLUMN = 4  # and its keys at column 4
# Line ends other than "\n" (YAML's and Python's differ): leave such text to ruamel.
_ODD_BREAKS = ("\r", "\x0b", "\x0c", "\x1c", "\x1d", "\x1e", "\x85", "\u2028", "\u2029")
_MERGE_TAG = "tag:yaml.org,2002:merge"
_DIRECTIVE = re.compile(r"^%", re.MULTILINE)


class _Unsupported(Exception):
    """The text is valid but not in a layout this module splices into."""


if yaml is not None:

    class _Resolver(BaseResolver):
        """YAML 1.2's implicit types, from ruamel's own table: `yes` is text, as the round
        trip reads it (PyYAML's default rules are YAML 1.1's)."""

    for _versions, _tag, _regexp, _first in implicit_resolvers:
        if (1, 2) in _versions:
            _Resolver.add_implicit_resolver(_tag, _regexp, _first)

    class _Constructor(SafeConstructor):
        def construct_mapping(self, node: Any, deep: bool = False) -> Any:
            mapping = super().construct_mapping(node, deep=deep)
            if len(mapping) != len(node.value):
                # The round trip refuses a key given twice and says where; leave it to it.
                raise ConstructorError(None, None, "duplicate key", node.start_mark)
            return mapping

        def construct_yaml_int(self, node: Any) -> int:
            # YAML 1.2: 017 is seventeen (1.1 read it as octal).
            text = str(self.construct_scalar(node)).replace("_", "")
            sign = -1 if text[:1] == "-" else 1
            text = text.lstrip("+-")
            for prefix, base in (("0b", 2), ("0o", 8), ("0x", 16)):
                if text.startswith(prefix):
                    return sign * int(text[2:], base)
            return sign * int(text)

    _Constructor.add_constructor("tag:yaml.org,2002:int", _Constructor.construct_yaml_int)

    class _Loader(_CParser, _Constructor, _Resolver):
        def __init__(self, stream: str) -> None:
            _CParser.__init__(self, stream)
            _Constructor.__init__(self)
            _Resolver.__init__(self)


@dataclass
class _Key:
    first: int  # line of the key
    last: int  # last line of its value
    replaceable: bool  # only its own lines, no comment among them


@dataclass
class _ItemText:
    start: int  # line of "  - id: ..."
    end: int  # the line after its last line of content
    block_end: int  # where the next item starts (comments and blank lines in between)
    keys: dict[str, _Key] = field(default_factory=dict)


@dataclass
class FastFile:
    """A review file's body read for a text-level merge."""

    data: dict[str, Any]
    lines: list[str]
    items: list[_ItemText]
    nodes: list[Any]  # the plain item mappings as read, to find them after the merge


def _compose(text: str) -> tuple[Any, Any]:
    loader = _Loader(text)
    try:
        node = loader.get_single_node()
        return node, loader.construct_document(node)
    finally:
        loader.dispose()


def read(body: str) -> FastFile | None:
    """The body (the file below Spark's header) read fast, or None: take ruamel's path."""
    if yaml is None or any(c in body for c in _ODD_BREAKS) or _DIRECTIVE.search(body):
        return None
    try:
        root, data = _compose(body)
        return _layout(root, data, body)
    except Exception:
        return None


def _layout(root: Node, data: Any, body: str) -> FastFile | None:
    if not isinstance(root, MappingNode) or root.flow_style or not isinstance(data, dict):
        return None
    keys = [k.value for k, _ in root.value]
    if "items" not in keys:
        return None
    position = keys.index("items")
    seq = root.value[position][1]
    if not isinstance(seq, SequenceNode) or seq.flow_style or not seq.value:
        return None
    lines = body.splitlines(keepends=True)
    if not lines or not lines[-1].endswith("\n"):
        return None
    after = root.value[position + 1][0].start_mark.line if position + 1 < len(root.value) else None
    seen: set[int] = set()
    items: list[_ItemText] = []
    for node in seq.value:
        items.append(_item(node, lines, seen))
    for index, item in enumerate(items):
        if index + 1 < len(items):
            item.block_end = items[index + 1].start
        else:
            item.block_end = after if after is not None else len(lines)
        if item.block_end < item.end:
            return None
    _walk_rest(root, seen)
    return FastFile(data=data, lines=lines, items=items, nodes=list(data["items"]))


def _item(node: Node, lines: list[str], seen: set[int]) -> _ItemText:
    if not isinstance(node, MappingNode) or node.flow_style or not node.value:
        raise _Unsupported("an item that is not a block mapping")
    start = node.start_mark.line
    if node.start_mark.column != KEY_COLUMN or not lines[start].startswith(ITEM_PREFIX):
        raise _Unsupported("an item not in Spark's indentation")
    item = _ItemText(start=start, end=start + 1, block_end=start + 1)
    for key, value in node.value:
        if not isinstance(key, ScalarNode) or key.tag == _MERGE_TAG:
            raise _Unsupported("a complex or merge key")
        if key.start_mark.column != KEY_COLUMN:
            raise _Unsupported("a key not in Spark's indentation")
        last = max(_last_line(key, seen), _last_line(value, seen))
        first = key.start_mark.line
        item.end = max(item.end, last + 1)
        item.keys[str(key.value)] = _Key(first, last, _clean(first, last, value, lines))
    return item


def _last_line(node: Node, seen: set[int]) -> int:
    """The last line holding the node's content (block collections end at the next token)."""
    if id(node) in seen:
        raise _Unsupported("an alias")
    seen.add(id(node))
    if isinstance(node, ScalarNode):
        end = node.end_mark
        return end.line - 1 if end.column == 0 and end.line > node.start_mark.line else end.line
    if isinstance(node, MappingNode):
        children = [n for pair in node.value for n in pair]
        if any(k.tag == _MERGE_TAG for k, _ in node.value):
            raise _Unsupported("a merge key")
    else:
        children = list(node.value)
    last = node.start_mark.line
    for child in children:
        last = max(last, _last_line(child, seen))
    if getattr(node, "flow_style", False):
        last = max(last, node.end_mark.line)
    return last


def _clean(first: int, last: int, value: Node, lines: list[str]) -> bool:
    """Whether the lines of a key and its value hold nothing else (no comment)."""
    if isinstance(value, ScalarNode) and value.style in ("|", ">"):
        return False
    if first == last:
        end = value.end_mark
        return end.line == first and not lines[first][end.column :].strip()
    return not any("#" in line for line in lines[first : last + 1])


def _walk_rest(root: MappingNode, seen: set[int]) -> None:
    """Aliases and merge keys outside the items: ruamel would keep them; leave it to it."""
    for key, value in root.value:
        if key.tag == _MERGE_TAG:
            raise _Unsupported("a merge key")
        if key.value != "items":
            _last_line(value, seen)


def render(
    fast: FastFile, items_after: Sequence[Any], changes: Mapping[str, Mapping[str, Any]]
) -> str | None:
    """The body after the merge: `items_after` is the merged item list (the mappings read,
    in their order, with new items among them), `changes` the fields set per item id."""
    try:
        text = _splice(fast, items_after, changes)
        _, back = _compose(text)
    except Exception:
        return None
    expected = dict(fast.data)
    expected["items"] = list(items_after)
    return text if plain(back) == plain(expected) else None


def _splice(
    fast: FastFile, items_after: Sequence[Any], changes: Mapping[str, Mapping[str, Any]]
) -> str:
    index_of = {id(node): i for i, node in enumerate(fast.nodes)}
    new_nodes = [n for n in items_after if id(n) not in index_of]
    rendered_new = iter(_render_items(new_nodes))
    changed_ids = [str(fast.nodes[i].get("id")) for i in range(len(fast.nodes))]
    rendered_keys = _render_changes(
        {i: changes[item_id] for i, item_id in enumerate(changed_ids) if changes.get(item_id)}
    )
    lines = fast.lines
    out: list[str] = lines[: fast.items[0].start]
    expected_next = 0
    pending: list[list[str]] = []
    for node in items_after:
        index = index_of.get(id(node))
        if index is None:
            pending.append(next(rendered_new))
            continue
        if index != expected_next:
            raise _Unsupported("items moved or removed by the merge")
        expected_next += 1
        if pending:
            if index > 0 and fast.items[index - 1].block_end != fast.items[index - 1].end:
                raise _Unsupported("new items next to comments or blank lines")
            for block in pending:
                out += block
            pending = []
        out += _item_lines(fast, index, rendered_keys.get(index, {}))
    if expected_next != len(fast.nodes):
        raise _Unsupported("items removed by the merge")
    last = fast.items[-1]
    if pending:
        if last.block_end != last.end:
            raise _Unsupported("new items after trailing comments or blank lines")
        for block in pending:
            out += block
    out += lines[last.block_end :]
    return "".join(out)


def _item_lines(fast: FastFile, index: int, keys: Mapping[str, list[str]]) -> list[str]:
    item = fast.items[index]
    lines = fast.lines
    if not keys:
        return lines[item.start : item.block_end]
    replace: dict[int, tuple[int, list[str]]] = {}
    appended: list[str] = []
    for key, text in keys.items():
        where = item.keys.get(key)
        if where is None:
            appended += text
        elif where.replaceable and where.first > item.start:
            replace[where.first] = (where.last, text)
        else:
            raise _Unsupported("a field that shares its lines")
    if appended and item.block_end != item.end:
        raise _Unsupported("a new field after trailing comments or blank lines")
    out: list[str] = []
    number = item.start
    while number < item.end:
        if number in replace:
            last, text = replace[number]
            out += text
            number = last + 1
        else:
            out.append(lines[number])
            number += 1
    return out + appended + lines[item.end : item.block_end]


def _render_items(nodes: Sequence[Any]) -> list[list[str]]:
    """Each node's lines as the dumper writes an item of `items:`."""
    if not nodes:
        return []
    doc = CommentedMap()
    doc["items"] = CommentedSeq(nodes)
    lines = dump_yaml(doc).splitlines(keepends=True)
    if lines[0] != "items:\n":
        raise _Unsupported("unexpected dump")
    blocks: list[list[str]] = []
    for line in lines[1:]:
        if line.startswith(ITEM_PREFIX):
            blocks.append([])
        elif not blocks:
            raise _Unsupported("unexpected dump")
        blocks[-1].append(line)
    if len(blocks) != len(nodes):
        raise _Unsupported("unexpected dump")
    return blocks


def _render_changes(changes: Mapping[int, Mapping[str, Any]]) -> dict[int, dict[str, list[str]]]:
    """Each changed field's lines as the dumper writes it in an item."""
    order = list(changes)
    nodes = []
    for index in order:
        node = CommentedMap()
        node["id"] = "x"  # the first key shares the dash's line; the fields follow it
        for key, value in changes[index].items():
            node[key] = value
        nodes.append(node)
    out: dict[int, dict[str, list[str]]] = {}
    for index, block in zip(order, _render_items(nodes), strict=True):
        fields: list[list[str]] = []
        for line in block[1:]:
            if line[KEY_COLUMN] != " " and line.startswith(" " * KEY_COLUMN):
                fields.append([])
            elif not fields:
                raise _Unsupported("unexpected dump")
            fields[-1].append(line)
        if len(fields) != len(changes[index]):
            raise _Unsupported("unexpected dump")
        out[index] = dict(zip(changes[index], fields, strict=True))
    return out
