"""A small least-recently-used cache bounded by the bytes of the numpy arrays it holds."""

from collections import OrderedDict
from collections.abc import Callable
from typing import Any


def _nbytes(value: Any) -> int:
    """Size of an array, a tuple of arrays, or any object with an `nbytes` attribute."""
    if isinstance(value, tuple | list):
        return sum(_nbytes(v) for v in value)
    return int(getattr(value, "nbytes", 0))


class LRUCache:
    """Keeps recently used decoded files; each DataLoader worker has its own copy."""

    def __init__(self, max_bytes: int = 256 * 2**20) -> None:
        self.max_bytes = max_bytes
        self._items: OrderedDict = OrderedDict()
        self._bytes = 0

    def get(self, key: Any, make: Callable[[], Any]) -> Any:
        if key in self._items:
            self._items.move_to_end(key)
            return self._items[key]
        value = make()
        size = _nbytes(value)
        if size <= self.max_bytes:
            self._items[key] = value
            self._bytes += size
            while self._bytes > self.max_bytes:
                _, old = self._items.popitem(last=False)
                self._bytes -= _nbytes(old)
        return value

    def __len__(self) -> int:
        return len(self._items)
