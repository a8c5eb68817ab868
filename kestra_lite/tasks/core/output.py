"""io.kestra.plugin.core.output.OutputValues"""
from kestra_lite.tasks.base import RunContext


class OutputValues:
    def run(self, ctx: RunContext):
        return {"values": ctx.render(ctx.task.props.get("values") or {})}
