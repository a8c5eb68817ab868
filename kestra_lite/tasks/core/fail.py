"""io.kestra.plugin.core.execution.Fail"""
from kestra_lite.engine.expressions import is_truthy
from kestra_lite.tasks.base import RunContext, TaskFailed


class Fail:
    def run(self, ctx: RunContext):
        message = ctx.prop("errorMessage", "Task failure")
        condition = ctx.task.props.get("condition")
        if condition is None:
            raise TaskFailed(message)
        if is_truthy(ctx.render(condition)):
            ctx.logger.error(message)
            raise TaskFailed("Fail on a condition")
        return None
