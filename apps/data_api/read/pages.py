"""Which page of a list a request asks for: by offset (limit/offset, or take/skip as Betty
names them) or by cursor (first/after forward, last/before backward, as Relay names them)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from models_registry.models import Application

from ..errors import BadUserInput
from .cursors import CursorCodec

OFFSET_ARGUMENTS = ("limit", "take", "offset", "skip")
CURSOR_ARGUMENTS = ("first", "after", "last", "before")


@dataclass(frozen=True)
class Page:
    size: int
    offset: int = 0
    after: list[Any] | None = None  # the sort keys' values at the cursor, when one is given
    before: list[Any] | None = None
    backward: bool = False  # `last`: the page's records are the last ones before `before`

    @property
    def from_cursor(self) -> bool:
        return self.after is not None or self.before is not None


def page_of(args: dict, application: Application, codec: Callable[[], CursorCodec]) -> Page:
    """The page that `args` ask for; BAD_USER_INPUT for arguments that contradict each other
    or a page larger than the application allows. `codec` gives the cursors of the list
    (made only when a cursor was given)."""
    given = {name for name in OFFSET_ARGUMENTS + CURSOR_ARGUMENTS if args.get(name) is not None}
    by_offset, by_cursor = given & set(OFFSET_ARGUMENTS), given & set(CURSOR_ARGUMENTS)
    if by_offset and by_cursor:
        raise BadUserInput(
            f"Page by offset (limit/offset or take/skip) or by cursor (first/after or "
            f"last/before), not both: got {_names(by_offset)} with {_names(by_cursor)}.",
            field=sorted(by_cursor)[0])
    if not by_cursor:
        return _offset_page(args, application)
    if "first" in given and "last" in given:
        raise BadUserInput("Give first (with after) to page forward or last (with before) to "
                           "page backward, not both.", field="last")
    backward = "last" in given or ("before" in given and "first" not in given
                                   and "after" not in given)
    name = "last" if backward else "first"
    size = args.get(name)
    if size is None:
        size = application.default_page_size
    _check_size(name, size, application, "with after: pageInfo.endCursor" if not backward
                else "with before: pageInfo.startCursor")
    return Page(size,
                after=None if args.get("after") is None else codec().decode(args["after"],
                                                                            "after"),
                before=None if args.get("before") is None else codec().decode(args["before"],
                                                                              "before"),
                backward=backward)


def _offset_page(args: dict, application: Application) -> Page:
    limit = _one_of(args, "limit", "take")
    offset = _one_of(args, "offset", "skip")
    if limit is None:
        limit = application.default_page_size
    _check_size("limit/take", limit, application, "with offset/skip")
    if offset is None:
        offset = 0
    if offset < 0:
        raise BadUserInput(f"offset/skip cannot be negative (got {offset}).", field="offset")
    return Page(limit, offset)


def _check_size(name: str, size: int, application: Application, further: str) -> None:
    most = application.max_page_size
    if size < 0 or size > most:
        raise BadUserInput(f"{name} must be between 0 and {most} (got {size}); fetch further "
                           f"pages {further}.", field=name.split("/")[0])


def _one_of(args: dict, name: str, synonym: str) -> Any:
    if args.get(name) is not None and args.get(synonym) is not None:
        raise BadUserInput(f"Give {name} or {synonym}, not both: they mean the same.",
                           field=name)
    return args.get(name) if args.get(name) is not None else args.get(synonym)


def _names(names: set[str]) -> str:
    return " and ".join(sorted(names))
