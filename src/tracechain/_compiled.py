"""Compiled schema validators: fastjsonschema's generated code, made once per machine and kept on disk.

Making a validator costs tens of milliseconds, most of it Python compiling the source fastjsonschema generates,
and a process that sees events of every product and step needs dozens (one per product and combination of the
values its rules test, see `tracechain._facts`). `compile_validator` returns the validator for a schema, taking
the compiled code from the cache folder when an earlier process made it, else generating it with
`fastjsonschema.compile_to_code` and leaving it there for the next process.

The folder is ``$TRACECHAIN_CACHE_DIR``, else ``$XDG_CACHE_HOME/tracechain``, else ``~/.cache/tracechain``, with a
``validators`` folder inside; an empty ``TRACECHAIN_CACHE_DIR`` turns the cache off. Each file is named by the
SHA-256 of what its code depends on: the schema (as canonical JSON), the names of the custom formats, the options,
the fastjsonschema version and the Python bytecode version. A change to any of them is another file, so nothing is
ever invalidated in place. A file holds a header (this format's magic and the SHA-256 of the body) and the
marshalled code object; a file that does not check out is ignored and replaced.

Safety: the code in the folder is run, so the folder is made with mode 0700 and used only when it belongs to the
user and nobody else may write to it (as for ``~/.ssh``). Concurrent processes are safe: a file is written under a
temporary name in the same folder and renamed into place, so a reader sees a whole file or none; two processes
making the same validator both write it and the last rename wins. A folder that cannot be made, read or written
costs nothing but the cache: the validator is compiled in memory.

This is the only module that imports ``fastjsonschema``.
"""

from __future__ import annotations

import contextlib
import hashlib
import importlib.util
import json
import marshal
import os
import stat
import sys
import tempfile
import types
from collections.abc import Callable, Mapping
from functools import lru_cache, partial
from pathlib import Path
from typing import Any, Final

import fastjsonschema

__all__: list[str] = []  # private to tracechain.profiles

CACHE_ENV: Final = "TRACECHAIN_CACHE_DIR"
VERSION: Final[str] = fastjsonschema.VERSION
ValueException: Final = fastjsonschema.JsonSchemaValueException
"""What a generated validator raises for an invalid instance."""
DefinitionException: Final = fastjsonschema.JsonSchemaDefinitionException
"""What generating a validator raises for a schema fastjsonschema cannot compile."""

Validator = Callable[[Any], Any]
Format = Callable[[Any], bool]

_MAGIC: Final = b"tracechain validator 1\n"
_DIGEST: Final = hashlib.sha256().digest_size
_OPTIONS: Final = "use_default=False"
# fastjsonschema names the validating function after the schema's $id; compile_validator drops $id, so it is this.
_ENTRY: Final = "validate"


def compile_validator(schema: Mapping[str, Any], formats: Mapping[str, Format]) -> Validator:
    """The validator of ``schema`` with the custom ``formats``, from the cache folder or newly compiled.

    Raises `DefinitionException` for a schema fastjsonschema cannot compile.
    """
    definition = {k: v for k, v in schema.items() if k != "$id"}
    folder = cache_folder()
    key = _key(definition, formats) if folder is not None else None
    code = _load(folder / key) if folder is not None and key is not None else None
    if code is None:
        source = fastjsonschema.compile_to_code(definition, formats=dict(formats), use_default=False)
        code = compile(source, "<tracechain validator>", "exec")
        if folder is not None and key is not None:
            _store(folder, key, code)
    namespace: dict[str, Any] = {}
    exec(code, namespace)  # noqa: S102 - fastjsonschema's own code for our schema, as fastjsonschema.compile runs it
    entry: Callable[..., Any] = namespace[_ENTRY]
    return partial(entry, custom_formats=dict(formats)) if formats else entry


def cache_folder() -> Path | None:
    """The folder validators are cached in, made if need be; None when the cache is off or cannot be used."""
    configured = os.environ.get(CACHE_ENV)
    if configured is None:
        base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
        configured = os.path.join(base, "tracechain")
    if not configured:
        return None
    return _usable(os.path.join(configured, "validators"))


@lru_cache(maxsize=8)
def _usable(folder: str) -> Path | None:
    try:
        os.makedirs(folder, mode=0o700, exist_ok=True)
        info = os.stat(folder)
    except OSError:
        return None
    if not stat.S_ISDIR(info.st_mode):
        return None
    # Code is run from here: a folder someone else owns, or may write to, could hand us theirs.
    if hasattr(os, "getuid") and (info.st_uid != os.getuid() or info.st_mode & (stat.S_IWGRP | stat.S_IWOTH)):
        return None
    return Path(folder)


def _key(definition: Mapping[str, Any], formats: Mapping[str, Format]) -> str | None:
    try:
        text = json.dumps(definition, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    except (TypeError, ValueError):  # not JSON (no schema file gives this): compile without the cache
        return None
    parts = [
        _MAGIC.decode(),
        text,
        ",".join(sorted(formats)),
        _OPTIONS,
        VERSION,
        sys.implementation.cache_tag or sys.implementation.name,
        importlib.util.MAGIC_NUMBER.hex(),
    ]
    return hashlib.sha256("\x00".join(parts).encode("utf-8", "surrogatepass")).hexdigest()


def _load(path: Path) -> types.CodeType | None:
    try:
        data = path.read_bytes()
    except OSError:  # not there yet, or unreadable: compile
        return None
    head = len(_MAGIC) + _DIGEST
    if not data.startswith(_MAGIC) or hashlib.sha256(data[head:]).digest() != data[len(_MAGIC) : head]:
        return None
    try:
        code = marshal.loads(data[head:])  # noqa: S302 - our own file, checked by its digest, in a folder only we may write
    except (EOFError, ValueError, TypeError):
        return None
    return code if isinstance(code, types.CodeType) else None


def _store(folder: Path, key: str, code: types.CodeType) -> None:
    body = marshal.dumps(code)
    data = _MAGIC + hashlib.sha256(body).digest() + body
    temporary: str | None = None
    try:
        handle, temporary = tempfile.mkstemp(prefix=f".{key[:16]}-", dir=folder)
        with os.fdopen(handle, "wb") as out:
            out.write(data)
        os.replace(temporary, folder / key)
        temporary = None
    except OSError:  # a full disk or a read-only folder: the validator works all the same, uncached
        pass
    finally:
        if temporary is not None:
            with contextlib.suppress(OSError):
                os.unlink(temporary)
