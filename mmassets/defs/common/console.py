"""The console logger of every run: Dagster's colored console logger, with failures in one short
paragraph.

A failed step is printed as its step, the error's class and message: the build summary repeats the
message, and a stack trace from inside Dagster helps nobody who only misplaced a raw file. The run
failure that follows it only repeats it and is left out, and so are Dagster's lines for the steps
it did not execute because a step they depend on failed (``Dependencies for step … Not
executing.``): the summary lists those assets as skipped, and why. ``verbose: true`` (``mmassets
build --verbose``) prints them all, whole, traces included. The run's event log keeps everything.
"""

import logging

import dagster as dg
from dagster._core.events import DagsterEventType
from dagster._core.log_manager import LOG_RECORD_METADATA_ATTR
from dagster._loggers import create_console_logger
from dagster._utils.log import coerce_valid_log_level

TRACE_HINT = "(mmassets build --verbose prints the trace)"
BLOCKED = "DagsterAssetCheckFailedError"
"""The error of a step whose asset failed a blocking check (Dagster fails the step after storing it)."""


def short_error(error) -> str:
    """``Class: message`` of a serialized error's root cause (Dagster wraps user errors)."""
    while error.cause is not None:
        error = error.cause
    message = error.message.strip()
    qualified, _, rest = message.partition(": ")
    if qualified.endswith(error.cls_name or "\0"):  # Dagster prefixes the qualified class name
        message = rest.strip()
    return f"{error.cls_name}: {message or '(no message)'}"


def _not_executed(meta: dict) -> bool:
    """Whether a log record is Dagster's error for a step whose dependencies failed (or were not
    executed): ``Dependencies for step <key> failed: [...]. Not executing.``"""
    message = meta.get("orig_message") or ""
    return message.startswith("Dependencies for step ") and message.endswith("Not executing.")


class ShortFailures(logging.Filter):
    """Rewrites step failures to one paragraph, drops run failures and the errors of steps not
    executed because a dependency failed."""

    def filter(self, record: logging.LogRecord) -> bool:
        meta = getattr(record, LOG_RECORD_METADATA_ATTR, None) or {}
        event = meta.get("dagster_event")
        if event is None:
            return not _not_executed(meta)
        if event.event_type == DagsterEventType.RUN_FAILURE:
            return False
        if event.event_type == DagsterEventType.STEP_FAILURE:
            step = meta.get("step_key") or event.step_key
            error = getattr(event.event_specific_data, "error", None)
            if error is not None and error.cls_name == BLOCKED:  # no trace to see: a check said no
                failed = "; ".join(line.strip() for line in error.message.splitlines()[1:] if line.strip())
                record.msg = (f"{step} blocked by a failed check ({failed}): its exports are not written and "
                              "nothing is built from it")
            else:
                what = short_error(error) if error is not None else "failed"
                record.msg = f"{step} failed: {what} {TRACE_HINT}"
            record.args = ()
        return True


@dg.logger(config_schema={"log_level": dg.Field(str, default_value="INFO"),
                          "name": dg.Field(str, default_value="dagster"),
                          "verbose": dg.Field(bool, default_value=False,
                                              description="print failures whole, with their stack traces")},
           description="Dagster's colored console logger; failures in one paragraph, and no line for the "
                       "steps not executed after a failure, unless verbose.")
def console_logger(init_context) -> logging.Logger:
    config = init_context.logger_config
    logger = create_console_logger(name=config["name"], level=coerce_valid_log_level(config["log_level"]))
    if not config["verbose"]:
        for handler in logger.handlers:
            handler.addFilter(ShortFailures())
    return logger
