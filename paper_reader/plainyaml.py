"""YAML as plain, bounded data: configs, question sets, reading lists and notes' front matter.

Any of them may come from a cloned notes repository. yaml.safe_load builds no Python objects, but
an alias is cheap to load and dear to use: nine anchors of nine aliases each (a kilobyte) stand for
a billion strings once the tool prints or walks them, and 100,000 nested brackets exhaust the stack.
So a document is refused while it is composed (before anything is built) when it nests deeper than
MAX_DEPTH or stands, with every alias expanded, for more than MAX_NODES nodes, or an alias refers
to the node that holds it. Plain reuse (`tags: *ml` a few times) is fine.
"""

from __future__ import annotations

import yaml
from yaml.composer import ComposerError
from yaml.nodes import MappingNode, SequenceNode

MAX_DEPTH = 64
MAX_NODES = 100_000


class _Bounded:
    """Composer bounds, mixed into a PyYAML loader class."""

    def __init__(self, stream):
        super().__init__(stream)
        self._depth = 0
        self._sizes: dict[int, int] = {}  # id(node) -> nodes it stands for, aliases expanded

    def compose_node(self, parent, index):
        event = self.peek_event()
        if isinstance(event, yaml.AliasEvent):
            node = super().compose_node(parent, index)
            if id(node) not in self._sizes:  # still being composed: the alias is inside its own anchor
                raise ComposerError(None, None, f"the alias *{event.anchor} refers to a node that holds it",
                                    event.start_mark)
            return node
        self._depth += 1
        try:
            if self._depth > MAX_DEPTH:
                raise ComposerError(None, None, f"nested more than {MAX_DEPTH} levels deep", event.start_mark)
            node = super().compose_node(parent, index)
        finally:
            self._depth -= 1
        size = 1
        if isinstance(node, SequenceNode):
            size += sum(self._sizes[id(child)] for child in node.value)
        elif isinstance(node, MappingNode):
            size += sum(self._sizes[id(k)] + self._sizes[id(v)] for k, v in node.value)
        if size > MAX_NODES:
            raise ComposerError(None, None, f"stands for more than {MAX_NODES:,} values once its aliases "
                                "are expanded", event.start_mark)
        self._sizes[id(node)] = size
        return node


class SafeLoader(_Bounded, yaml.SafeLoader):
    """yaml.SafeLoader, bounded."""


class BaseLoader(_Bounded, yaml.BaseLoader):
    """yaml.BaseLoader (every value as text), bounded."""


class BadValue(yaml.YAMLError):
    """A value YAML parses but Python cannot build: a 2023-02-30 date, an integer of 5,000 digits."""


def load(text: str, loader: type = SafeLoader):
    """Like yaml.safe_load, bounded; a document past a bound raises yaml.YAMLError, as bad YAML
    does, and a value that cannot be built raises BadValue (a YAMLError too)."""
    try:
        return yaml.load(text, Loader=loader)
    except RecursionError:  # not expected within MAX_DEPTH; a clear error rather than a crash if it is
        raise ComposerError(None, None, "nested too deeply", None) from None
    except (ValueError, TypeError, OverflowError) as exc:
        raise BadValue(f"a value cannot be read ({' '.join(str(exc).split())[:120]})") from None


MAX_NUMBER_CHARS = 100  # PyYAML builds 1:1:1:... (base 60) and 0x... integers in time quadratic in their length


def _bounded_number(construct):
    def build(loader, node):
        if len(node.value) > MAX_NUMBER_CHARS:
            raise BadValue(f"a number of {len(node.value):,} characters (at most {MAX_NUMBER_CHARS})")
        return construct(loader, node)

    return build


SafeLoader.add_constructor("tag:yaml.org,2002:int", _bounded_number(yaml.SafeLoader.construct_yaml_int))
SafeLoader.add_constructor("tag:yaml.org,2002:float", _bounded_number(yaml.SafeLoader.construct_yaml_float))
