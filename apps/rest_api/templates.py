"""URL templates (`tasks/:id/comments`): what they match, and which two could match one URL."""

from __future__ import annotations

import re
from dataclasses import dataclass

LITERAL = re.compile(r"^[A-Za-z0-9._~-]+$")  # RFC 3986's unreserved characters
VARIABLE = re.compile(r"^:[_A-Za-z][_0-9A-Za-z]*$")  # a GraphQL name after the colon
RESERVED = "openapi.json"  # /api/<app>/rest/openapi.json describes the endpoints
MAX_SEGMENTS = 20


class BadTemplate(ValueError):
    """A template that cannot be used; the message says which segment and why."""


@dataclass(frozen=True)
class UrlTemplate:
    text: str  # normalised: no leading or trailing slash
    segments: tuple[str, ...]  # literal text, or ":name"

    @classmethod
    def parse(cls, text: str) -> UrlTemplate:
        normal = text.strip().strip("/")
        if not normal:
            raise BadTemplate("The URL template is empty; write the part after /rest/, "
                              "such as tasks/:id.")
        if any(char in normal for char in "?#"):
            raise BadTemplate("A URL template is a path only: query-string variables need no "
                              "place in it (?done=true reaches $done by itself).")
        segments = tuple(normal.split("/"))
        if len(segments) > MAX_SEGMENTS:
            raise BadTemplate(f"A URL template has at most {MAX_SEGMENTS} segments.")
        seen = set()
        for position, segment in enumerate(segments, 1):
            if segment.startswith(":"):
                if not VARIABLE.match(segment):
                    raise BadTemplate(f"Segment {position} ({segment!r}) is no variable name: "
                                      "after the colon, letters, digits and _ (not first a "
                                      "digit), as GraphQL names its variables.")
                if segment in seen:
                    raise BadTemplate(f"{segment} appears twice; each segment variable "
                                      "may appear once.")
                seen.add(segment)
            elif not LITERAL.match(segment):
                raise BadTemplate(f"Segment {position} ({segment!r}) may hold only letters, "
                                  "digits and . _ ~ - (an empty segment is a doubled /).")
        if segments == (RESERVED,):
            raise BadTemplate(f"{RESERVED} is where the endpoints' OpenAPI document is "
                              "served; choose another URL.")
        return cls(normal, segments)

    @property
    def variables(self) -> list[str]:
        return [s[1:] for s in self.segments if s.startswith(":")]

    def match(self, parts: list[str]) -> dict[str, str] | None:
        """The segment variables' texts when `parts` (a request path's segments) match."""
        if len(parts) != len(self.segments):
            return None
        captured = {}
        for segment, part in zip(self.segments, parts, strict=True):
            if segment.startswith(":"):
                if not part:
                    return None
                captured[segment[1:]] = part
            elif segment != part:
                return None
        return captured

    def overlaps(self, other: UrlTemplate) -> bool:
        """Whether some URL matches both: as long, and no position with two different
        literals."""
        return len(self.segments) == len(other.segments) and all(
            a == b or a.startswith(":") or b.startswith(":")
            for a, b in zip(self.segments, other.segments, strict=True))

    def openapi_path(self) -> str:
        """/tasks/{id}: how OpenAPI writes the template."""
        return "/" + "/".join("{" + s[1:] + "}" if s.startswith(":") else s
                              for s in self.segments)
