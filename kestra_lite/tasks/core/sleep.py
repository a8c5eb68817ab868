"""io.kestra.plugin.core.flow.Sleep, and Kestra's test-only io.kestra.core.tasks.test.Sleep."""
from kestra_lite.model.durations import format_duration, parse_duration
from kestra_lite.tasks.base import RunContext


class Sleep:
    def run(self, ctx: RunContext):
        duration = parse_duration(str(ctx.task.props["duration"]))
        ctx.logger.info(f"Waiting for {format_duration(duration)}")
        ctx.sleep(duration.total_seconds())
        return None


class TestSleep:
    """`duration` in milliseconds."""

    def run(self, ctx: RunContext):
        ctx.sleep(int(ctx.task.props["duration"]) / 1000)
        return None
