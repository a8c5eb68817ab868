"""io.kestra.plugin.core.debug.Return and Echo"""
from kestra_lite.tasks.base import RunContext


class Return:
    def run(self, ctx: RunContext):
        value = ctx.prop("format", "")
        ctx.logger.debug(value)
        return {"value": value}


class Echo:
    def run(self, ctx: RunContext):
        ctx.logger.log(str(ctx.prop("level", "INFO")).upper(), ctx.prop("format", ""))
        return None
