"""The element trees of GS1's event hash ID: an event's JSON as named elements, the way EPCIS's XML binding would
name them, and the strings the generic part of the pre-hash string writes for them.

A field becomes elements named by its key (``{namespace}local`` for an extension); an array repeats its element, a
key ending in ``List`` contains its members under the name without the suffix; typed lists (bizTransactionList,
sourceList, destinationList) write each member's type, then its value; vocabulary-typed values become their URIs.
The ordered fields are kept as trees (`Node`) for `tracechain.epcis._hash` to order; every other field is written
straight to its strings.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final

from tracechain.epcis._context import GS1_PREFIXES, TC_PREFIX, Namespaces, kde_to_epcis
from tracechain.epcis._hashvalues import cached, micros_time, remember, scalar, vocabulary

__all__ = ["ELEMENT", "Builder", "Node", "generic_text"]

_RDFS_COMMENT: Final = "{" + GS1_PREFIXES["rdfs"] + "}comment"
ELEMENT: Final = {
    "epcList": "epc",
    "childEPCs": "epc",
    "inputEPCList": "epc",
    "outputEPCList": "epc",
    "quantityList": "quantityElement",
    "childQuantityList": "quantityElement",
    "inputQuantityList": "quantityElement",
    "outputQuantityList": "quantityElement",
    "sensorElementList": "sensorElement",
}
# bizTransactionList, sourceList and destinationList: anonymous elements whose type is written before the value.
_TYPED_LISTS: Final = {"bizTransactionList": "bizTransaction", "sourceList": "source", "destinationList": "destination"}
_TYPED_KIND: Final = {"bizTransactionList": "bizTransactionType", "sourceList": "sourceDestType"}
_SENSOR_VOCAB: Final = {"type": "measurementType", "exception": "alertType", "component": "component"}


class Node:
    """One element of an ordered field: a name, a text (possibly empty) and child elements."""

    __slots__ = ("children", "keep_order", "name", "text")

    def __init__(self, name: str, text: str = "", children: list[Node] | None = None, keep_order: bool = False):
        self.name = name
        self.text = text
        self.children = [] if children is None else children
        self.keep_order = keep_order  # a typed-list element: type then value, never sorted


class Builder:
    """Turns an event's JSON into element trees (the ordered fields) and element strings (everything else), naming
    extensions ``{namespace}local``.

    ``generic`` and ``strings`` are one rule written twice: ``strings(name, value)`` is what `generic_text` writes for
    each node ``generic(name, value)`` makes, without making the nodes.
    """

    __slots__ = ("keys", "names", "shortcut")

    def __init__(self, names: Namespaces, *, shortcut: bool = True) -> None:
        self.names = names
        self.keys = names.cache.setdefault("key", {})
        self.shortcut = shortcut

    def key(self, key: str) -> str:
        found = self.keys.get(key)
        if found is None:
            split = self.names.split(key)
            found = key if split is None else "{" + split[0] + "}" + split[1]
            remember(self.keys, key, found)
        return found

    def field(self, key: str, value: Any) -> list[Node]:
        """A top-level field of the ordered part, as the element trees the order reads."""
        if key in ("bizStep", "disposition") and isinstance(value, str):
            return [Node(key, vocabulary(key, value))]
        if key == "eventTime" and type(value) is int:
            return [Node(key, micros_time(value))]
        if key == "persistentDisposition" and isinstance(value, Mapping):
            children = [
                Node(name, vocabulary("disposition", v))
                for name in ("set", "unset")
                for v in _as_list(value.get(name))
                if isinstance(v, str)
            ]
            return [Node(key, "", children)] if children else []
        if key == "sensorElementList" and isinstance(value, list):
            members = [self._sensor_element(m) for m in value if isinstance(m, Mapping)]
            return [Node(key, "", members)] if members else []
        name = self.key(key)
        return self.generic(ELEMENT.get(name, name), value, list_name=name if name in ELEMENT else None)

    def field_strings(self, key: str, value: Any) -> list[str]:
        """A top-level field outside the ordered part, as its element strings."""
        if key in _TYPED_LISTS and isinstance(value, list):
            members = [self._typed(key, m) for m in value if isinstance(m, Mapping)]
            return [key + "".join(sorted(members))] if members else []
        if key == "tc:kde":
            if (
                self.shortcut
                and type(value) is dict
                and all(type(v) is str and not k.endswith("List") for k, v in value.items())
            ):
                # The usual KDEs, text under plain names: the elements kde_to_epcis and `strings` would make.
                kde = [self.leaf(self.key(k if ":" in k else f"{TC_PREFIX}:{k}"), v) for k, v in value.items()]
                return [self.key(key) + "".join(sorted(kde))]
            value = kde_to_epcis(value)  # tracechain's form names them bare; the hash sees the EPCIS names
        name = self.key(key)
        if name == _RDFS_COMMENT:
            return []
        return self.strings(ELEMENT.get(name, name), value, list_name=name if name in ELEMENT else None)

    def generic(self, name: str, value: Any, *, list_name: str | None = None) -> list[Node]:
        """Any JSON value under ``name``; an array repeats the element, a ``…List`` name contains its members."""
        if list_name is not None:
            members = [n for m in _as_list(value) for n in self.generic(name, m)]
            return [Node(list_name, "", members)] if members else []
        if name.endswith("List"):
            return self.generic(name[:-4], value, list_name=name)
        if value is None:
            return []  # JSON-LD: null is no value
        if isinstance(value, list):
            return [n for m in value for n in self.generic(name, m)]
        if isinstance(value, Mapping):
            return [Node(name, "", self.children(value))]
        return [Node(name, scalar(value))]

    def strings(self, name: str, value: Any, *, list_name: str | None = None) -> list[str]:
        """What `_generic` writes for each node ``generic(name, value, list_name=…)`` makes."""
        if list_name is not None:
            members = [t for m in _as_list(value) for t in self.strings(name, m)]
            return [list_name + "".join(sorted(members))] if members else []
        if name.endswith("List"):
            return self.strings(name[:-4], value, list_name=name)
        if value is None:
            return []
        if isinstance(value, str):
            return [self.leaf(name, value)]
        if isinstance(value, list):
            return [t for m in value for t in self.strings(name, m)]
        if isinstance(value, Mapping):
            return [name + "".join(sorted(self.child_strings(value)))]
        return [self.leaf(name, scalar(value))]

    def leaf(self, name: str, text: str) -> str:
        text = text.strip()
        if not text:
            return name
        return name + "=" + cached(text, self.names)

    def children(self, obj: Mapping[str, Any]) -> list[Node]:
        out: list[Node] = []
        for key, value in obj.items():
            if key in ("comment", "@context", "#text"):
                continue
            name = self.key(key)
            if name != _RDFS_COMMENT:
                out.extend(self.generic(name, value))
        return out

    def child_strings(self, obj: Mapping[str, Any]) -> list[str]:
        out: list[str] = []
        for key, value in obj.items():
            if key in ("comment", "@context", "#text"):
                continue
            name = self.key(key)
            if name != _RDFS_COMMENT:
                out.extend(self.strings(name, value))
        return out

    def _typed(self, list_key: str, member: Mapping[str, Any]) -> str:
        """One member of a typed list: its type, its value, then anything else, in that order (never sorted)."""
        value_key = _TYPED_LISTS[list_key]
        kind = _TYPED_KIND.get(list_key, "sourceDestType")
        parts: list[str] = []
        kind_value = member.get("type")
        if isinstance(kind_value, str):
            parts.append(self.leaf("type", vocabulary(kind, kind_value)))
        parts.extend(self.strings(value_key, member.get(value_key)))
        parts.extend(t for k, v in member.items() if k not in ("type", value_key) for t in self.strings(self.key(k), v))
        return "".join(parts)

    def _sensor_element(self, element: Mapping[str, Any]) -> Node:
        children: list[Node] = []
        for key, value in element.items():
            if key == "sensorReport":
                for report in _as_list(value):
                    if isinstance(report, Mapping):
                        children.append(Node("sensorReport", "", self._sensor_report(report)))
            else:
                children.extend(self.generic(self.key(key), value))
        return Node("sensorElement", "", children)

    def _sensor_report(self, report: Mapping[str, Any]) -> list[Node]:
        out: list[Node] = []
        for key, value in report.items():
            kind = _SENSOR_VOCAB.get(key)
            if kind is not None and isinstance(value, str):
                out.append(Node(key, vocabulary(kind, value)))
            else:
                out.extend(self.generic(self.key(key), value))
        return out


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [] if value is None else [value]


def generic_text(node: Node, names: Namespaces) -> str:
    """The element as the generic part writes it: name, ``=value`` if it has text, then its children (sorted,
    unless it is a typed-list member)."""
    text = node.text.strip()
    head = node.name + ("=" + cached(text, names) if text else "")
    parts = [generic_text(c, names) for c in node.children]
    return head + "".join(parts if node.keep_order else sorted(parts))
