"""A flow's topology as an SVG drawn on the server (layout: `model/topology.py`).

    render_svg(flow) -> Markup     # a self-contained <svg> (its own small <style>)

Every task is a box with its short type and id (a tooltip when they do not fit); flowables are
clusters; `errors` are dashed. Kept terse: a 200-task flow stays well under 100 KB.
"""
from __future__ import annotations

from markupsafe import Markup, escape

from ..model.flow import Flow
from ..model.topology import Cluster, Edge, Layout, Node, layout_flow

MAX_CHARS = 26          # what fits on a line of a task box
STYLE = (
    "<style>"
    ".tp{font:12px system-ui,sans-serif}"
    ".tp .n rect{fill:#fff;stroke:#b9a6e3;stroke-width:1.2}"
    ".tp .n.trigger rect{fill:#f3effc}"
    ".tp .n.start rect,.tp .n.end rect{fill:#15192b;stroke:none}"
    ".tp .n.start text,.tp .n.end text{fill:#fff}"
    ".tp .n.off rect,.tp .c.off rect{stroke-dasharray:4 3;opacity:.6}"
    ".tp .t{fill:#667085;font-size:11px}"
    ".tp .i{fill:#1d2330;font-weight:600}"
    ".tp .c rect{fill:#faf8ff;stroke:#d9cdf3}"
    ".tp .c.errors rect{fill:#fff7f7;stroke:#f0b8b8;stroke-dasharray:5 3}"
    ".tp .c text{fill:#4b2a8a;font-size:11px}"
    ".tp .e{fill:none;stroke:#98a2b3;stroke-width:1.2}"
    ".tp .e.error{stroke:#e57373;stroke-dasharray:5 3}"
    ".tp .e.dag{stroke:#7c5cc4}"
    ".tp .b{fill:#667085;font-size:11px;font-style:italic}"
    "</style>"
)


def _fit(text: str, limit: int = MAX_CHARS) -> str:
    return text if len(text) <= limit else text[:limit - 1] + "…"


def _n(value: float) -> str:
    return str(int(round(value)))


def _edge(edge: Edge) -> str:
    (x, y), rest = edge.points[0], edge.points[1:]
    d = [f"M{_n(x)} {_n(y)}"]
    for nx, ny in rest:
        if nx == x:
            d.append(f"V{_n(ny)}")
        elif ny == y:
            d.append(f"H{_n(nx)}")
        else:
            d.append(f"L{_n(nx)} {_n(ny)}")
        x, y = nx, ny
    kind = "" if edge.kind == "next" else " " + edge.kind
    return f'<path class="e{kind}" d="{"".join(d)}"/>'


def _node(node: Node) -> str:
    classes = "n" + ("" if node.kind == "task" else " " + node.kind) + \
        (" off" if node.disabled else "")
    x, y, w, h = _n(node.x), _n(node.y), _n(node.w), _n(node.h)
    cx = _n(node.x + node.w / 2)
    if node.kind in ("start", "end"):
        return (f'<g class="{classes}"><rect x="{x}" y="{y}" width="{w}" height="{h}" '
                f'rx="14"/><text x="{cx}" y="{_n(node.y + 18)}" text-anchor="middle">'
                f"{node.label}</text></g>")
    tip = ""   # a tooltip only when the box cannot show everything (keeps big flows small)
    if len(node.id) > MAX_CHARS or len(node.label) > MAX_CHARS or node.disabled:
        tip = "<title>" + escape(f"{node.id} ({node.type})"
                                 + (" — disabled" if node.disabled else "")) + "</title>"
    return (f'<g class="{classes}" data-task="{escape(node.id)}">{tip}'
            f'<rect x="{x}" y="{y}" width="{w}" height="{h}" rx="6"/>'
            f'<text class="t" x="{_n(node.x + 10)}" y="{_n(node.y + 17)}">'
            f"{escape(_fit(node.label))}</text>"
            f'<text class="i" x="{_n(node.x + 10)}" y="{_n(node.y + 35)}">'
            f"{escape(_fit(node.id))}</text></g>")


def _cluster(cluster: Cluster) -> str:
    classes = "c" + ("" if cluster.kind == "flowable" else " " + cluster.kind) + \
        (" off" if cluster.disabled else "")
    if cluster.kind == "errors":
        title = "errors"
    else:
        title = f"{cluster.label} · {cluster.id}"
    tip = escape(f"{cluster.id} ({cluster.type})" if cluster.type else cluster.id)
    data = f' data-task="{escape(cluster.id)}"' if cluster.kind == "flowable" else ""
    return (f'<g class="{classes}"{data}><title>{tip}</title>'
            f'<rect x="{_n(cluster.x)}" y="{_n(cluster.y)}" width="{_n(cluster.w)}" '
            f'height="{_n(cluster.h)}" rx="8"/>'
            f'<text x="{_n(cluster.x + 10)}" y="{_n(cluster.y + 19)}">'
            f"{escape(_fit(title, int(cluster.w / 7)))}</text></g>")


def svg_of(layout: Layout, title: str = "") -> Markup:
    width, height = _n(layout.width), _n(layout.height)
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" class="tp" width="{width}" '
             f'height="{height}" viewBox="0 0 {width} {height}" role="img" '
             f'aria-label="{escape(title or "Flow topology")}">', STYLE]
    parts.extend(_cluster(cluster) for cluster in layout.clusters)
    parts.extend(_edge(edge) for edge in layout.edges)
    parts.extend(_node(node) for node in layout.nodes)
    parts.extend(f'<text class="b" x="{_n(t.x)}" y="{_n(t.y)}">{escape(_fit(t.text, 30))}</text>'
                 for t in layout.labels)
    parts.append("</svg>")
    return Markup("".join(parts))


def render_svg(flow: Flow) -> Markup:
    return svg_of(layout_flow(flow), f"Topology of {flow.namespace}.{flow.id}")
