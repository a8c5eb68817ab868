"""The topology of a flow as a drawing: boxes for tasks, clusters for flowables, edges, with
a simple top-to-bottom layered layout computed here (no JavaScript, no graph library).

    layout_flow(flow) -> Layout       # nodes, clusters, edges, branch labels, size

The layout is a nested-box layout: a task list is a column (one task under the other); a
flowable is a cluster (a box with a header) holding its branches side by side (Parallel,
If then/else, Switch cases) or one column (Sequential, ForEach...); a Dag is laid out in
layers by the longest chain of `dependsOn`; `errors` are a dashed box beside what they guard.
Linear in the number of tasks (a 200-task flow takes a few milliseconds).

Pure module: the web layer (`web/topology.py`) turns a Layout into SVG.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from .flow import Flow, Task

NODE_W, NODE_H = 200, 46          # a task box
PILL_W, PILL_H = 96, 28           # start / end markers
GAP_Y = 30                        # between two tasks of a column
GAP_X = 24                        # between two branches
PAD = 14                          # inside a cluster
HEADER = 30                       # a cluster's header (type + id of the flowable)
BRANCH_LABEL = 20                 # room for a branch label (then, else, a case value)
EMPTY_W, EMPTY_H = 60, 6          # an empty branch

PARALLEL_TYPES = ("io.kestra.plugin.core.flow.Parallel",
                  "io.kestra.plugin.core.flow.EachParallel")
IF_TYPE = "io.kestra.plugin.core.flow.If"
SWITCH_TYPE = "io.kestra.plugin.core.flow.Switch"
DAG_TYPE = "io.kestra.plugin.core.flow.Dag"


# -- the drawing ----------------------------------------------------------------------------
@dataclass
class Node:
    id: str
    label: str             # short type name ("Log") or the marker text ("start")
    type: str              # full type, "" for markers
    x: float
    y: float
    w: float
    h: float
    kind: str = "task"     # task | start | end | trigger
    disabled: bool = False


@dataclass
class Cluster:
    id: str
    label: str             # short type name of the flowable, or "errors"
    type: str
    x: float
    y: float
    w: float
    h: float
    kind: str = "flowable"  # flowable | errors
    disabled: bool = False


@dataclass
class Edge:
    points: list[tuple[float, float]]
    kind: str = "next"     # next | error | dag


@dataclass
class Text:
    text: str
    x: float
    y: float


@dataclass
class Layout:
    nodes: list[Node] = field(default_factory=list)
    clusters: list[Cluster] = field(default_factory=list)
    edges: list[Edge] = field(default_factory=list)
    labels: list[Text] = field(default_factory=list)
    width: float = 0
    height: float = 0


def short_type(type_string: str) -> str:
    return type_string.rsplit(".", 1)[-1] if type_string else ""


def _path(x1: float, y1: float, x2: float, y2: float, bend: float | None = None) -> list:
    """An orthogonal path from (x1, y1) down to (x2, y2), turning at height `bend`."""
    if x1 == x2:
        return [(x1, y1), (x2, y2)]
    mid = (y1 + y2) / 2 if bend is None else bend
    return [(x1, y1), (x1, mid), (x2, mid), (x2, y2)]


# -- blocks: measure, then place ------------------------------------------------------------
class Block:
    w: float = 0
    h: float = 0

    def place(self, x: float, y: float, out: Layout) -> None:
        raise NotImplementedError

    # entry (top) and exit (bottom) points, relative to the block's top-left corner
    def entry(self) -> tuple[float, float]:
        return (self.w / 2, 0)

    def exit(self) -> tuple[float, float]:
        return (self.w / 2, self.h)


class Leaf(Block):
    def __init__(self, node_id: str, label: str, type_: str, kind: str = "task",
                 disabled: bool = False):
        self.node_id, self.label, self.type, self.kind = node_id, label, type_, kind
        self.disabled = disabled
        self.w, self.h = (PILL_W, PILL_H) if kind in ("start", "end") else (NODE_W, NODE_H)

    def place(self, x, y, out):
        out.nodes.append(Node(self.node_id, self.label, self.type, x, y, self.w, self.h,
                              self.kind, self.disabled))


class Empty(Block):
    def __init__(self):
        self.w, self.h = EMPTY_W, EMPTY_H

    def place(self, x, y, out):
        out.edges.append(Edge([(x + self.w / 2, y), (x + self.w / 2, y + self.h)]))


class Column(Block):
    """Blocks one under the other, centred, joined by edges."""

    def __init__(self, items: list[Block]):
        self.items = items or [Empty()]
        self.w = max(item.w for item in self.items)
        self.h = sum(item.h for item in self.items) + GAP_Y * (len(self.items) - 1)

    def place(self, x, y, out):
        previous = None
        for item in self.items:
            left = x + (self.w - item.w) / 2
            item.place(left, y, out)
            ex, ey = item.entry()
            if previous is not None:
                out.edges.append(Edge(_path(*previous, left + ex, y + ey)))
            px, py = item.exit()
            previous = (left + px, y + py)
            y += item.h + GAP_Y

    def entry(self):
        first = self.items[0]
        ex, ey = first.entry()
        return ((self.w - first.w) / 2 + ex, ey)

    def exit(self):
        last = self.items[-1]
        ex, ey = last.exit()
        return ((self.w - last.w) / 2 + ex, self.h - last.h + ey)


class Branches(Block):
    """Branches side by side: edges fork from the top centre and join at the bottom centre.
    `fork=False` draws no fork (triggers, which nothing precedes)."""

    def __init__(self, branches: list[tuple[str | None, Block]], fork: bool = True):
        self.branches = branches or [(None, Empty())]
        self.fork = fork
        self.label_h = BRANCH_LABEL if any(label for label, _ in self.branches) else 0
        self.lead = GAP_Y / 2 if fork else 0       # room for the fork's horizontal bar
        self.w = sum(b.w for _, b in self.branches) + GAP_X * (len(self.branches) - 1)
        self.h = (self.lead + self.label_h + max(b.h for _, b in self.branches)
                  + GAP_Y / 2)

    def place(self, x, y, out):
        top = (x + self.w / 2, y)
        bottom_y = y + self.h
        bottom = (x + self.w / 2, bottom_y)
        left = x
        for label, block in self.branches:
            by = y + self.lead + self.label_h
            block.place(left, by, out)
            ex, ey = block.entry()
            if label:
                out.labels.append(Text(label, left + ex + 6, by - 6))
            if self.fork:
                out.edges.append(Edge(_path(*top, left + ex, by + ey, y + self.lead / 2)))
            xx, xy = block.exit()
            out.edges.append(Edge(_path(left + xx, by + xy, *bottom, bottom_y - GAP_Y / 4)))
            left += block.w + GAP_X


class Dag(Block):
    """Tasks in layers: a task sits one layer below the deepest task it depends on."""

    def __init__(self, tasks: list[tuple[str, Block]], depends_on: dict[str, list[str]]):
        self.blocks = dict(tasks) or {"": Empty()}
        self.depends_on = {k: [d for d in v if d in self.blocks and d != k]
                           for k, v in depends_on.items() if k in self.blocks}
        depth = self._depths()
        layers: dict[int, list[str]] = {}
        for task_id in self.blocks:
            layers.setdefault(depth.get(task_id, 0), []).append(task_id)
        self.layers = [layers[i] for i in sorted(layers)]
        self.widths = [sum(self.blocks[t].w for t in layer) + GAP_X * (len(layer) - 1)
                       for layer in self.layers]
        self.heights = [max(self.blocks[t].h for t in layer) for layer in self.layers]
        self.lead = GAP_Y / 2
        self.w = max(self.widths)
        self.h = self.lead + sum(self.heights) + GAP_Y * len(self.layers)

    def _depths(self) -> dict[str, int]:
        depth: dict[str, int] = {}
        # longest path by relaxation, bounded (a cycle cannot loop forever)
        for _ in range(len(self.blocks) + 1):
            changed = False
            for task_id in self.blocks:
                deps = self.depends_on.get(task_id, [])
                value = max((depth.get(d, 0) + 1 for d in deps), default=0)
                if value > len(self.blocks):
                    value = len(self.blocks)
                if depth.get(task_id) != value:
                    depth[task_id] = value
                    changed = True
            if not changed:
                break
        return depth

    def place(self, x, y, out):
        entries: dict[str, tuple] = {}
        exits: dict[str, tuple] = {}
        top = (x + self.w / 2, y)
        ly = y + self.lead
        for layer, width, height in zip(self.layers, self.widths, self.heights):
            left = x + (self.w - width) / 2
            for task_id in layer:
                block = self.blocks[task_id]
                block.place(left, ly, out)
                ex, ey = block.entry()
                xx, xy = block.exit()
                entries[task_id] = (left + ex, ly + ey)
                exits[task_id] = (left + xx, ly + xy)
                left += block.w + GAP_X
            ly += height + GAP_Y
        has_dependents = {d for deps in self.depends_on.values() for d in deps}
        for task_id, (ex, ey) in entries.items():
            deps = self.depends_on.get(task_id) or []
            if not deps:
                out.edges.append(Edge(_path(*top, ex, ey, y + self.lead / 2)))
            for dep in deps:
                out.edges.append(Edge(_path(*exits[dep], ex, ey, ey - GAP_Y / 2), "dag"))
        bottom = (x + self.w / 2, y + self.h)
        for task_id, point in exits.items():
            if task_id not in has_dependents:
                out.edges.append(Edge(_path(*point, *bottom, bottom[1] - GAP_Y / 4)))


class Box(Block):
    """A cluster: a header naming the flowable, its body, and its `errors` beside it."""

    def __init__(self, cluster_id: str, label: str, type_: str, body: Block,
                 errors: Block | None = None, kind: str = "flowable", disabled: bool = False):
        self.cluster_id, self.label, self.type, self.kind = cluster_id, label, type_, kind
        self.body, self.errors, self.disabled = body, errors, disabled
        inner_w = body.w + (GAP_X + errors.w if errors else 0)
        inner_h = max(body.h, errors.h if errors else 0)
        self.w = max(inner_w + 2 * PAD, NODE_W)
        self.h = HEADER + inner_h + 2 * PAD

    def place(self, x, y, out):
        out.clusters.append(Cluster(self.cluster_id, self.label, self.type, x, y, self.w,
                                    self.h, self.kind, self.disabled))
        inner_w = self.body.w + (GAP_X + self.errors.w if self.errors else 0)
        left = x + (self.w - inner_w) / 2
        top = y + HEADER + PAD
        self.body.place(left, top, out)
        head = (x + self.w / 2, y + HEADER)
        ex, ey = self.body.entry()
        out.edges.append(Edge(_path(*head, left + ex, top + ey)))
        if self.kind != "errors":     # nothing follows an errors box
            xx, xy = self.body.exit()
            out.edges.append(Edge(_path(left + xx, top + xy, x + self.w / 2, y + self.h)))
        if self.errors:
            eleft = left + self.body.w + GAP_X
            self.errors.place(eleft, top, out)
            ex, ey = self.errors.entry()
            out.edges.append(Edge(_path(*head, eleft + ex, top + ey, y + HEADER + PAD / 2),
                                  "error"))


# -- from a flow -------------------------------------------------------------------------
def _errors_box(owner: str, tasks: list[Task]) -> Block | None:
    if not tasks:
        return None
    return Box(f"{owner}.errors" if owner else "errors", "errors", "",
               Column([_block(t) for t in tasks]), kind="errors")


def _body(task: Task) -> Block:
    children = {k: v for k, v in task.children.items() if k != "errors"}
    if task.type in PARALLEL_TYPES:
        return Branches([(None, _block(t)) for t in children.get("tasks", [])])
    if task.type == DAG_TYPE:
        return Dag([(t.id, _block(t)) for t in children.get("tasks", [])], task.depends_on)
    if task.type == IF_TYPE:
        branches = [("then", _column(children.get("then", [])))]
        if children.get("else"):
            branches.append(("else", _column(children["else"])))
        return Branches(branches)
    if task.type == SWITCH_TYPE or task.cases:
        branches = [(f"case {key}", _column(tasks)) for key, tasks in task.cases.items()]
        if children.get("defaults"):
            branches.append(("defaults", _column(children["defaults"])))
        return Branches(branches)
    lists = [(name, tasks) for name, tasks in children.items() if tasks]
    if len(lists) > 1:   # a flowable with several named lists (e.g. `tasks` and `finally`)
        return Branches([(name, _column(tasks)) for name, tasks in lists])
    return _column(lists[0][1] if lists else [])


def _column(tasks: list[Task]) -> Block:
    return Column([_block(t) for t in tasks])


def _block(task: Task) -> Block:
    if task.kind != "flowable" and not task.children and not task.cases:
        return Leaf(task.id, short_type(task.type), task.type, disabled=task.disabled)
    return Box(task.id, short_type(task.type), task.type, _body(task),
               _errors_box(task.id, task.child_list("errors")), disabled=task.disabled)


def layout_flow(flow: Flow) -> Layout:
    """The drawing of `flow`: triggers, start, the tasks, end; flow `errors` beside them."""
    items: list[Block] = []
    if flow.triggers:
        items.append(Branches([(None, Leaf(str(trigger.get("id", "")),
                                           short_type(str(trigger.get("type", ""))),
                                           str(trigger.get("type", "")), "trigger"))
                               for trigger in flow.triggers], fork=False))
    items.append(Leaf("__start", "start", "", "start"))
    items.extend(_block(task) for task in flow.tasks)
    items.append(Leaf("__end", "end", "", "end"))
    main: Block = Column(items)
    errors = _errors_box("", flow.errors)
    out = Layout()
    margin = 16
    main.place(margin, margin, out)
    width = main.w
    if errors is not None:
        ex = margin + main.w + GAP_X * 2
        errors.place(ex, margin, out)
        width += GAP_X * 2 + errors.w
        height = max(main.h, errors.h)
    else:
        height = main.h
    out.width = width + 2 * margin
    out.height = height + 2 * margin
    return out
