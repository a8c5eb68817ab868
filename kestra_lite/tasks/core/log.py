"""io.kestra.plugin.core.log.Log"""
from kestra_lite.tasks.base import LEVELS, RunContext, TaskFailed


class Log:
    def run(self, ctx: RunContext):
        level = str(ctx.prop("level", "INFO")).upper()
        if level not in LEVELS:
            raise TaskFailed(f"Invalid log level `{level}`, expected one of {', '.join(LEVELS)}")
        messages = ctx.task.props.get("message")
        for message in messages if isinstance(messages, list) else [messages]:
            ctx.logger.log(level, ctx.render(message))
        return None
