"""The Allure results written with every secret hidden at the source.

allure-commons writes each result, container and attachment through a file logger; Crucible's
formatter registers :class:`MaskedFileLogger` in its place, so every text a behave process puts
into the results folder (scenario and step names, parameters, failure messages and traces, every
attachment that is text) passes through :func:`crucible.secrets.mask` before it is written.
Binary attachments (images) are written as they are. The search of the results after the run
(:mod:`crucible.report.safety`) stays as the second line of defence.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import attr
from allure_commons import hookimpl
from allure_commons.logger import AllureFileLogger

from crucible import secrets

TEXT_SAMPLE = 8192


def masked(item: Any) -> Any:
    """An Allure model object (a result, its steps, labels, parameters ...) with every string masked, in place."""
    if attr.has(type(item)):
        for field in attr.fields(type(item)):
            setattr(item, field.name, masked(getattr(item, field.name)))
        return item
    if isinstance(item, list):
        return [masked(value) for value in item]
    if isinstance(item, dict):
        return {key: masked(value) for key, value in item.items()}
    if isinstance(item, str):
        return secrets.mask(item)
    return item


def text_of(body: bytes | str) -> str | None:
    """An attachment's body as text, or None when it is binary (an image, a zip)."""
    if isinstance(body, str):
        return body
    if b"\0" in body[:TEXT_SAMPLE]:
        return None
    try:
        return body.decode("utf-8")
    except UnicodeDecodeError:
        return None


class MaskedFileLogger(AllureFileLogger):
    """allure-commons' file logger, with every text hidden by :func:`crucible.secrets.mask` before it is written."""

    def _report_item(self, item):
        super()._report_item(masked(item))

    @hookimpl
    def report_attached_file(self, source, file_name):
        body = Path(source).read_bytes()
        text = text_of(body)
        if text is None:
            super().report_attached_file(source, file_name)
            return
        self.report_attached_data(text, file_name)

    @hookimpl
    def report_attached_data(self, body, file_name):
        text = text_of(body)
        super().report_attached_data(body if text is None else secrets.mask(text), file_name)
