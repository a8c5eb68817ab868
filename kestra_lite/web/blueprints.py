"""Blueprints: the bundled example flows (kestra_lite.blueprints), searched through the
filter bar (page "blueprints": `tag:` chips and free text), each with a detail page
showing its description, its YAML, an outline of its tasks and a "Use" button that opens
the flow editor on it.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache

from flask import Blueprint, render_template, request, url_for

from .. import blueprints as catalog
from ..errors import InvalidFlow, NotFound
from ..model.filters import FilterError, add_criterion, parse_filters
from ..model.flow_parser import parse_flow

bp = Blueprint("blueprints", __name__)


@dataclass
class Node:
    """One task of the outline: its id, short type and children by branch name."""
    id: str
    type: str
    branches: list[tuple[str, list["Node"]]] = field(default_factory=list)


def use_url(tenant: str, blueprint_id: str) -> str:
    """The flow editor started on the blueprint (the flows area's `new` endpoint)."""
    return url_for("flows.new", tenant=tenant, blueprint=blueprint_id)


@bp.context_processor
def helpers():
    q = request.args.get("q", "").strip()
    tenant = (request.view_args or {}).get("tenant")
    return {"tag_url": lambda tag: url_for("blueprints.index", tenant=tenant,
                                           q=add_criterion(q if request.endpoint ==
                                                           "blueprints.index" else "",
                                                           "tag", tag)),
            "use_url": use_url}


@bp.get("/blueprints")
def index(tenant: str):
    q = request.args.get("q", "").strip()
    context = {"q": q, "filters": None, "filter_error": None, "results": [],
               "tags": catalog.all_tags()}
    try:
        filters = parse_filters(q, "blueprints")
    except FilterError as error:
        context["filter_error"] = error.message
        return render_template("blueprints/index.html", **context)
    context.update(filters=filters, selected={tag.lower() for tag in filters.tags},
                   results=catalog.search_blueprints(filters.text or "", filters.tags))
    return render_template("blueprints/index.html", **context)


@bp.get("/blueprints/<blueprint_id>")
def detail(tenant: str, blueprint_id: str):
    blueprint = catalog.get_blueprint(blueprint_id)
    if blueprint is None:
        raise NotFound(f"Blueprint '{blueprint_id}' not found.")
    return render_template("blueprints/detail.html", blueprint=blueprint,
                           outline=_outline(blueprint.id))


@lru_cache(maxsize=64)
def _outline(blueprint_id: str) -> dict | None:
    """{"tasks": [Node], "errors": [Node], "triggers": [(id, short type)]} of a blueprint;
    None if it does not parse (the YAML is still shown)."""
    blueprint = catalog.get_blueprint(blueprint_id)
    try:
        flow = parse_flow(blueprint.source, f"{blueprint.id}.yaml")
    except InvalidFlow:
        return None
    return {"tasks": [_node(task) for task in flow.tasks],
            "errors": [_node(task) for task in flow.errors],
            "triggers": [(str(t.get("id", "")), _short(str(t.get("type", ""))))
                         for t in flow.triggers]}


def _short(type_name: str) -> str:
    return type_name.rsplit(".", 1)[-1]


def _node(task) -> Node:
    branches = [(name, [_node(child) for child in children])
                for name, children in task.children.items() if children]
    branches += [(f"case {value}", [_node(child) for child in children])
                 for value, children in task.cases.items()]
    return Node(task.id, _short(task.type), branches)
