"""io.kestra.plugin.core.execution.Resume"""
from kestra_lite.tasks.base import RunContext


class Resume:
    def run(self, ctx: RunContext):
        execution_id = ctx.prop("executionId") or ctx.execution.id
        inputs = ctx.render(ctx.task.props.get("inputs") or {})
        ctx.services.resume_execution(execution_id, inputs)
        ctx.logger.info(f"Execution {execution_id} resumed")
        return None
