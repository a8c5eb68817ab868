"""io.kestra.plugin.core.kv.Set / Get / Delete / GetKeys"""
import json

from kestra_lite.model.durations import parse_duration
from kestra_lite.tasks.base import RunContext, TaskFailed


def _namespace(ctx: RunContext) -> str:
    return ctx.prop("namespace") or ctx.flow.namespace


class KvSet:
    def run(self, ctx: RunContext):
        key = ctx.prop("key")
        value = ctx.render_typed(ctx.task.props.get("value"))
        kv_type = ctx.prop("kvType")
        if kv_type:
            value = _convert(value, kv_type)
        ttl = ctx.prop("ttl")
        overwrite = str(ctx.prop("overwrite", True)).lower() != "false"
        ctx.services.kv_put(_namespace(ctx), key, value, type=kv_type,
                            ttl=parse_duration(ttl) if ttl else None, overwrite=overwrite)
        return None


def _convert(value, kv_type: str):
    if not isinstance(value, str):
        return value
    if kv_type == "NUMBER":
        return float(value) if any(c in value for c in ".eE") else int(value)
    if kv_type == "BOOLEAN":
        return value.strip().lower() == "true"
    if kv_type == "JSON":
        return json.loads(value)
    return value


class KvGet:
    def run(self, ctx: RunContext):
        namespace, key = _namespace(ctx), ctx.prop("key")
        found, value = ctx.services.kv_get(namespace, key)
        if not found and str(ctx.prop("errorOnMissing", False)).lower() == "true":
            raise TaskFailed(f"The key '{key}' does not exist in the namespace '{namespace}'.")
        return {"value": value if found else None}


class KvDelete:
    def run(self, ctx: RunContext):
        namespace, key = _namespace(ctx), ctx.prop("key")
        deleted = ctx.services.kv_delete(namespace, key)
        if not deleted and str(ctx.prop("errorOnMissing", False)).lower() == "true":
            raise TaskFailed(f"The key '{key}' does not exist in the namespace '{namespace}'.")
        return {"deleted": deleted}


class KvGetKeys:
    def run(self, ctx: RunContext):
        prefix = ctx.prop("prefix")
        return {"keys": ctx.services.kv_keys(_namespace(ctx), prefix)}
