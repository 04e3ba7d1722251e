"""The console logger of every run: Dagster's colored console logger, with failures in one short
paragraph.

A failed step is printed as its step, the error's class and message: the build summary repeats the
message, and a stack trace from inside Dagster helps nobody who only misplaced a raw file. The run
failure that follows it only repeats it and is left out. ``verbose: true`` (``mmassets build
--verbose``) prints both whole, traces included.
"""

import logging

import dagster as dg
from dagster._core.events import DagsterEventType
from dagster._core.log_manager import LOG_RECORD_METADATA_ATTR
from dagster._loggers import create_console_logger
from dagster._utils.log import coerce_valid_log_level

TRACE_HINT = "(mmassets build --verbose prints the trace)"


def short_error(error) -> str:
    """``Class: message`` of a serialized error's root cause (Dagster wraps user errors)."""
    while error.cause is not None:
        error = error.cause
    message = error.message.strip()
    qualified, _, rest = message.partition(": ")
    if qualified.endswith(error.cls_name or "\0"):  # Dagster prefixes the qualified class name
        message = rest.strip()
    return f"{error.cls_name}: {message or '(no message)'}"


class ShortFailures(logging.Filter):
    """Rewrites step failures to one paragraph and drops run failures."""

    def filter(self, record: logging.LogRecord) -> bool:
        meta = getattr(record, LOG_RECORD_METADATA_ATTR, None) or {}
        event = meta.get("dagster_event")
        if event is None:
            return True
        if event.event_type == DagsterEventType.RUN_FAILURE:
            return False
        if event.event_type == DagsterEventType.STEP_FAILURE:
            error = getattr(event.event_specific_data, "error", None)
            what = short_error(error) if error is not None else "failed"
            record.msg, record.args = f"{meta.get('step_key') or event.step_key} failed: {what} {TRACE_HINT}", ()
        return True


@dg.logger(config_schema={"log_level": dg.Field(str, default_value="INFO"),
                          "name": dg.Field(str, default_value="dagster"),
                          "verbose": dg.Field(bool, default_value=False,
                                              description="print failures whole, with their stack traces")},
           description="Dagster's colored console logger; failures in one paragraph unless verbose.")
def console_logger(init_context) -> logging.Logger:
    config = init_context.logger_config
    logger = create_console_logger(name=config["name"], level=coerce_valid_log_level(config["log_level"]))
    if not config["verbose"]:
        for handler in logger.handlers:
            handler.addFilter(ShortFailures())
    return logger
