"""A picture of an application's schema: its models as boxes on a grid, its relations as lines
labelled with their field names. Plain SVG written here: no library, no script, no CDN."""

from __future__ import annotations

import math
from dataclasses import dataclass

from django.utils.html import escape

from .models import Application, DataModel, Relation

BOX_WIDTH = 220
HEADER = 28
ROW = 18
SHOWN_PROPERTIES = 10  # a longer list ends in "… n more"
GAP_X, GAP_Y, MARGIN = 140, 90, 30

STYLE = """
.model rect { fill: #fff; stroke: #417690; stroke-width: 1.5; }
.model .title { fill: #417690; }
.model .name { font: bold 14px sans-serif; fill: #fff; }
.model .property { font: 12px monospace; fill: #333; }
.relation line, .relation path { stroke: #79aec8; stroke-width: 2; fill: none; }
.relation.habtm line, .relation.habtm path { stroke-dasharray: 6 4; }
.relation text { font: 12px sans-serif; fill: #333; paint-order: stroke;
                 stroke: #fff; stroke-width: 4px; }
"""


@dataclass
class Box:
    x: float
    y: float
    height: float

    @property
    def center(self) -> tuple[float, float]:
        return self.x + BOX_WIDTH / 2, self.y + self.height / 2

    def edge_toward(self, point: tuple[float, float]) -> tuple[float, float]:
        """Where the line from this box's center to `point` leaves the box."""
        (cx, cy), (px, py) = self.center, point
        dx, dy = px - cx, py - cy
        scale = min(BOX_WIDTH / 2 / abs(dx) if dx else math.inf,
                    self.height / 2 / abs(dy) if dy else math.inf)
        return round(cx + dx * scale, 1), round(cy + dy * scale, 1)


def schema_svg(application: Application) -> str:
    """The application's models and relations as an SVG document."""
    data_models = list(application.data_models.prefetch_related("properties"))
    relations = list(application.relations.select_related("source", "target"))
    boxes = lay_out(data_models)
    width = max((box.x + BOX_WIDTH for box in boxes.values()), default=BOX_WIDTH) + MARGIN
    height = max((box.y + box.height for box in boxes.values()), default=HEADER) + MARGIN
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width:.0f}" height="{height:.0f}" '
        f'viewBox="0 0 {width:.0f} {height:.0f}" role="img">',
        f"<title>Schema of {escape(application.slug)}</title><style>{STYLE}</style>",
        *(model_svg(dm, boxes[dm.pk]) for dm in data_models),
        *(relation_svg(relation, boxes) for relation in relations),
        "</svg>",
    ]
    if not data_models:
        parts.insert(-1, f'<text x="{MARGIN}" y="{MARGIN}">No data models yet.</text>')
    return "\n".join(parts)


def lay_out(data_models: list[DataModel]) -> dict[int, Box]:
    """Boxes on a near-square grid, in name order; each grid row as tall as its tallest box."""
    columns = max(1, math.ceil(math.sqrt(len(data_models))))
    boxes: dict[int, Box] = {}
    y = MARGIN
    for start in range(0, len(data_models), columns):
        row = data_models[start:start + columns]
        heights = [box_height(dm) for dm in row]
        for column, (dm, box_h) in enumerate(zip(row, heights, strict=True)):
            boxes[dm.pk] = Box(MARGIN + column * (BOX_WIDTH + GAP_X), y, box_h)
        y += max(heights) + GAP_Y
    return boxes


def shown_rows(data_model: DataModel) -> list[str]:
    props = list(data_model.properties.all())
    rows = [f"{prop.name}: {prop.kind}" for prop in props[:SHOWN_PROPERTIES]]
    if len(props) > SHOWN_PROPERTIES:
        rows.append(f"… {len(props) - SHOWN_PROPERTIES} more")
    return rows


def box_height(data_model: DataModel) -> float:
    return HEADER + ROW * max(1, len(shown_rows(data_model))) + 8


def model_svg(data_model: DataModel, box: Box) -> str:
    rows = "".join(
        f'<text class="property" x="{box.x + 10}" y="{box.y + HEADER + ROW * (i + 1) - 4}">'
        f"{escape(text)}</text>"
        for i, text in enumerate(shown_rows(data_model))
    )
    return (
        f'<g class="model" data-model="{escape(data_model.name)}">'
        f'<rect x="{box.x}" y="{box.y}" width="{BOX_WIDTH}" height="{box.height}" rx="4"/>'
        f'<rect class="title" x="{box.x}" y="{box.y}" width="{BOX_WIDTH}" height="{HEADER}" '
        f'rx="4"/><text class="name" x="{box.x + 10}" y="{box.y + 19}">'
        f"{escape(data_model.name)}</text>{rows}</g>"
    )


def relation_svg(relation: Relation, boxes: dict[int, Box]) -> str:
    """A line between the edges of the two boxes (a loop on the box's right for a model's
    relation to itself), labelled `source_field → target_field`."""
    label = escape(f"{relation.source_field} → {relation.target_field}")
    css = "relation habtm" if relation.kind == Relation.Kind.HABTM else "relation"
    name = escape(f"{relation.source.name}.{relation.source_field}")
    source, target = boxes[relation.source_id], boxes[relation.target_id]
    if relation.source_id == relation.target_id:
        x, y = source.x + BOX_WIDTH, source.y + HEADER / 2
        shape = f'<path d="M {x} {y} c 60 0 60 {HEADER} 0 {HEADER}"/>'
        label_x, label_y = x + 50, y + HEADER / 2 + 4
    else:
        (x1, y1), (x2, y2) = source.edge_toward(target.center), target.edge_toward(source.center)
        shape = f'<line x1="{x1}" y1="{y1}" x2="{x2}" y2="{y2}"/>'
        label_x, label_y = (x1 + x2) / 2, (y1 + y2) / 2 - 6
    return (
        f'<g class="{css}" data-relation="{name}">{shape}'
        f'<text x="{label_x}" y="{label_y}" text-anchor="middle">{label}</text></g>'
    )
