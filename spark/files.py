"""Reading and writing the files people edit: YAML with positions, atomic writes."""

from __future__ import annotations

import datetime
import io
import os
import re
import shutil
import stat
import tempfile
from pathlib import Path
from typing import Any, ClassVar

import ruamel.yaml.resolver
import yaml as pyyaml
from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.error import MarkedYAMLError, YAMLError

from spark.errors import InputError, Problem


def round_trip_yaml() -> YAML:
    """The one YAML dialect Spark reads and writes: round-trip, comments kept."""
    yaml = YAML(typ="rt")
    yaml.indent(mapping=2, sequence=4, offset=2)
    yaml.width = 100
    yaml.preserve_quotes = True
    yaml.allow_duplicate_keys = False
    return yaml


def _problem_from_yaml_error(path: Path, exc: YAMLError) -> Problem:
    if isinstance(exc, MarkedYAMLError) and exc.problem_mark is not None:
        mark = exc.problem_mark
        if "end of stream" in str(exc.problem) and exc.context_mark is not None:
            # An unclosed quote or bracket: point at where it opened, not at the file's end.
            mark = exc.context_mark
        what = exc.problem or "invalid YAML"
        context = f" ({exc.context})" if exc.context else ""
        fix = "check indentation (spaces, not tabs), quotes and colons on this line"
        if "duplicate key" in str(exc):
            what = "a key appears twice in the same block"
            fix = "keep one of the two keys, or rename one"
        elif "\\t" in str(exc) or "tab" in str(exc).lower():
            fix = "indent with spaces; YAML does not allow tab characters for indentation"
        return Problem(
            f"this is not valid YAML: {what}{context}",
            path,
            mark.line + 1,
            mark.column + 1,
            fix,
        )
    return Problem(f"this is not valid YAML: {exc}", path, fix="check the file's syntax")


def parse_yaml(text: str, path: Path, error: type[InputError] = InputError) -> Any:
    """Parse YAML text; a syntax error becomes `error` with a 1-based line:column."""
    try:
        return round_trip_yaml().load(text)
    except YAMLError as exc:
        raise error(_problem_from_yaml_error(path, exc)) from exc


class FastYAMLUnsupported(ValueError):
    """The text uses YAML that `fast_load_yaml` cannot read exactly as `parse_yaml` does."""


class _FastLoader(getattr(pyyaml, "CSafeLoader", pyyaml.SafeLoader)):  # type: ignore[misc]
    """libyaml's parser with the implicit types of YAML 1.2, the version Spark reads."""

    yaml_implicit_resolvers: ClassVar[dict[str, list[tuple[str, re.Pattern[str]]]]] = {}

    def resolve(self, kind: Any, value: Any, implicit: Any) -> Any:
        # Called for nodes without a tag, or with the non-specific `!`, which libyaml
        # reads as text and the round-trip parser does not: leave those to it.
        if implicit is False or implicit == (False, False):
            raise FastYAMLUnsupported("a node tagged `!`")
        return super().resolve(kind, value, implicit)


# Taken from ruamel.yaml itself, so that a scalar gets the type `parse_yaml` gives it
# (YAML 1.2: `yes`, `on`, `1:20` stay text).
for _versions, _tag, _regexp, _first in ruamel.yaml.resolver.implicit_resolvers:
    if (1, 2) in _versions:
        _FastLoader.add_implicit_resolver(_tag, _regexp, _first)

_ODD_BREAKS = ("\x0b", "\x0c", "\x1c", "\x1d", "\x1e", "\x85", "\u2028", "\u2029")
_LENIENT = re.compile(r"[|>][-+0-9]*#")
_ANCHOR = re.compile(r"(?:^|[\s\[{,])&\S")
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_STR = "tag:yaml.org,2002:str"
_NULL = "tag:yaml.org,2002:null"
_BOOL = "tag:yaml.org,2002:bool"
_TIMESTAMP = "tag:yaml.org,2002:timestamp"
_MAP = "tag:yaml.org,2002:map"
_SEQ = "tag:yaml.org,2002:seq"


def fast_load_yaml(text: str) -> Any:
    """Parse YAML for reading only, about ten times faster than `parse_yaml`.

    Gives the same data as `parse_yaml` (CommentedMap / CommentedSeq, with each node's own
    line but no key positions and no comments), for the YAML editors' files contain:
    mappings, lists, text, true/false, null and dates. Anything else (a syntax error, a
    duplicate key, a number, a time, a tag, an anchor, a directive, a tab) raises
    FastYAMLUnsupported: the caller then reads the text with `parse_yaml`, which also
    locates every problem.
    """
    if text.startswith("%") or "\n%" in text:
        raise FastYAMLUnsupported("a YAML directive")
    if "\t" in text or any(c in text for c in _ODD_BREAKS):
        # libyaml accepts tabs, and line breaks of YAML 1.1, where the round-trip parser
        # refuses them.
        raise FastYAMLUnsupported("a tab or an unusual line break")
    if _LENIENT.search(text):
        # A block scalar's header run into a comment: libyaml takes it, ruamel does not.
        raise FastYAMLUnsupported("a block scalar header followed by `#`")
    if _ANCHOR.search(text):
        # Anchor names end at different characters in libyaml and in ruamel; without an
        # anchor, an alias is an error to both.
        raise FastYAMLUnsupported("what may be an anchor")
    try:
        node = pyyaml.compose(text, Loader=_FastLoader)
    except pyyaml.YAMLError as exc:
        raise FastYAMLUnsupported(str(exc)) from exc
    return None if node is None else _fast_value(node)


def _fast_value(node: Any) -> Any:
    tag = node.tag
    if isinstance(node, pyyaml.ScalarNode):
        value: str = node.value
        if tag == _STR:
            return value
        if tag == _NULL and value in ("", "~", "null", "Null", "NULL"):
            return None
        if tag == _BOOL and value.lower() in ("true", "false"):
            return value.lower() == "true"
        if tag == _TIMESTAMP and _DATE.match(value):
            return datetime.date.fromisoformat(value)
        raise FastYAMLUnsupported(f"a scalar tagged {tag}")
    if isinstance(node, pyyaml.MappingNode) and tag == _MAP:
        out = CommentedMap()
        out._yaml_set_line_col(node.start_mark.line, node.start_mark.column)
        for key_node, value_node in node.value:
            key = _fast_value(key_node)
            if not isinstance(key, str) or key in out:
                raise FastYAMLUnsupported("a duplicate key, or a key that is not text")
            out[key] = _fast_value(value_node)
        return out
    if isinstance(node, pyyaml.SequenceNode) and tag == _SEQ:
        seq = CommentedSeq(_fast_value(v) for v in node.value)
        seq._yaml_set_line_col(node.start_mark.line, node.start_mark.column)
        return seq
    raise FastYAMLUnsupported(f"a node tagged {tag}")


def load_yaml(path: Path, error: type[InputError] = InputError) -> Any:
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError as exc:
        raise error(Problem("file not found", path, fix="create it, or check --root")) from exc
    except UnicodeDecodeError as exc:
        raise error(Problem("the file is not UTF-8 text", path, fix="save it as UTF-8")) from exc
    return parse_yaml(text, path, error)


def dump_yaml(data: Any) -> str:
    buf = io.StringIO()
    round_trip_yaml().dump(data, buf)
    return buf.getvalue()


def key_line(node: Any, key: str | int) -> tuple[int | None, int | None]:
    """1-based line and column of a mapping key (or sequence index) in its file."""
    if isinstance(node, CommentedMap):
        try:
            line, col = node.lc.key(key)
            return line + 1, col + 1
        except (KeyError, TypeError):
            pass
    if isinstance(node, CommentedSeq) and isinstance(key, int):
        try:
            line, col = node.lc.item(key)
            return line + 1, col + 1
        except (KeyError, TypeError, IndexError):
            pass
    return node_line(node), None


def value_line(node: Any, key: str | int) -> tuple[int | None, int | None]:
    """1-based line and column of the value under a key."""
    if isinstance(node, CommentedMap):
        try:
            line, col = node.lc.value(key)
            return line + 1, col + 1
        except (KeyError, TypeError):
            pass
    return key_line(node, key)


def node_line(node: Any) -> int | None:
    lc = getattr(node, "lc", None)
    if lc is not None and getattr(lc, "line", None) is not None:
        return int(lc.line) + 1
    return None


def atomic_write_text(path: Path, text: str, *, backup: bool = False, durable: bool = True) -> bool:
    """Write through a temporary file and a rename, so a reader never sees half a file.

    Returns False (and writes nothing) when the file already holds exactly this text,
    so that rebuilding unchanged output leaves modification times alone. `durable=False`
    skips flushing to disk before the rename: for generated files that the next run
    rewrites anyway if a crash left them wrong (the archive's site/), never editors' files.
    """
    return atomic_write_bytes(path, text.encode("utf-8"), backup=backup, durable=durable)


def atomic_write_bytes(
    path: Path, data: bytes, *, backup: bool = False, durable: bool = True
) -> bool:
    try:
        if path.read_bytes() == data:
            return False
    except FileNotFoundError:
        pass
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        # mkstemp makes the file private (0600); the result gets the mode the file had, or
        # a new file's usual mode, so a web server or a colleague can still read it.
        os.fchmod(fd, _file_mode(path))
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            if durable:
                fh.flush()
                os.fsync(fh.fileno())
        if backup and path.exists():
            # A copy, not a move: the file must exist at every instant.
            shutil.copy2(path, path.with_name(path.name + ".bak"))
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return True


def _file_mode(path: Path) -> int:
    try:
        return stat.S_IMODE(path.stat().st_mode)
    except FileNotFoundError:
        return 0o666 & ~_UMASK


def _read_umask() -> int:
    # os.umask can only be read by setting it: done once, at import, before any thread.
    umask = os.umask(0o022)
    os.umask(umask)
    return umask


_UMASK = _read_umask()
