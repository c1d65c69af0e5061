"""Crucible's Allure formatter: allure-behave's, plus business labels, tracker links and plain statuses.

``crucible run`` (or behave.ini) switches it on (``--format crucible.report.formatter:CrucibleFormatter``). On top of allure-behave:

* labels: ``epic`` = the capability (the feature's folder under ``features/``), ``story`` = an
  ``@story:NAME`` tag or else the scenario's (outline's) name, ``owner`` from ``@owner:NAME``,
  ``severity`` from ``@blocker`` ... ``@trivial`` (the most specific tag wins);
* links: ``@issue:KEY`` and ``@tms:KEY`` through the ``report.issue_pattern`` / ``report.tms_pattern`` settings;
* statuses: every behave outcome maps to an Allure status with a message in plain words (no
  ``AssertionError:`` prefix, no traceback as the headline), and a ``defect`` label saying whose
  problem it is: ``product`` (an expectation failed), ``contract`` (a service broke its OpenAPI document or a
  consumer's pact: a ContractViolation), ``environment`` (a CrucibleError: the
  harness or the stack broke) or ``test`` (undefined or pending step, any other exception);
* secrets: the results are written by :class:`~crucible.report.writer.MaskedFileLogger`, so every name,
  message, trace and text attachment is masked with the run's secrets as it is written, and the console
  streams of the behave process (those of the formatters named after this one too) are masked the same way.
"""

from __future__ import annotations

import logging
import os
import re
import traceback
from dataclasses import dataclass
from pathlib import Path

import allure_commons
from allure_behave.formatter import AllureFormatter
from allure_behave.listener import AllureListener
from allure_commons.model2 import Label, Link, Status, StatusDetails
from allure_commons.types import LabelType, LinkType, Severity
from allure_commons.utils import now
from behave.exception import ConfigError
from behave.model_core import Status as Behave
from behave.runner_util import make_undefined_step_snippet

from crucible import console, secrets, settings
from crucible.errors import ContractViolation, CrucibleError, SettingsError
from crucible.parallel.claims import WORKER_ENV
from crucible.settings import Settings
from crucible.report import safety
from crucible.report.results import ReportError
from crucible.report.writer import MaskedFileLogger

log = logging.getLogger(__name__)

PRODUCT, CONTRACT, ENVIRONMENT, TEST = "product", "contract", "environment", "test"
DEFECT_LABEL = "defect"
SEVERITIES = tuple(severity.value for severity in Severity)
# Short tags: @owner:NAME, @story:NAME, @issue:KEY, @tms:KEY.
SHORT_TAG = re.compile(r"^(owner|story|issue|tms):(.+)$")
LINK_KINDS = {"issue": LinkType.ISSUE, "tms": LinkType.TEST_CASE}
HOOK = re.compile(r"HOOK-ERROR in (\w+)")
INTERRUPTS = (KeyboardInterrupt, SystemExit)


@dataclass(frozen=True)
class Outcome:
    """An Allure status with its plain-language message, trace and the kind of defect it shows."""

    status: str
    message: str | None = None
    trace: str | None = None
    defect: str | None = None

    def details(self) -> StatusDetails | None:
        """The Allure statusDetails, or None when there is nothing to say."""
        if self.message is None and self.trace is None:
            return None
        return StatusDetails(message=self.message, trace=self.trace)


PASSED = Outcome(Status.PASSED)


def capability(filename: str, bases: list[str]) -> str | None:
    """The capability a feature file belongs to: its first folder under features/ (or a base path), in words.

    >>> capability("features/stock_across_stores/transfers.feature", ["features"])
    'Stock across stores'
    """
    path = Path(filename).resolve()
    parts = path.parts
    if "features" in parts[:-1]:
        after = parts[len(parts) - parts[::-1].index("features"):]
        return _words(after[0]) if len(after) > 1 else None
    for base in bases:
        try:
            inside = path.relative_to(Path(base).resolve()).parts
        except ValueError:
            continue
        return _words(inside[0]) if len(inside) > 1 else None
    return _words(path.parent.name) if path.parent.name else None


def _words(folder: str) -> str:
    """A folder name as words with a capital: 'stock_across_stores' -> 'Stock across stores'."""
    text = re.sub(r"[_-]+", " ", folder).strip()
    return text[:1].upper() + text[1:]


def ordered_tags(scenario) -> list[str]:
    """The scenario's tags with those of its parents first (feature, rule, outline), most specific last."""
    chain, node = [], scenario
    while node is not None:
        chain.insert(0, list(getattr(node, "tags", [])))
        node = getattr(node, "parent", None) or (getattr(node, "feature", None) if node is scenario else None)
    seen, tags = set(), []
    for group in chain:
        for tag in group:
            tag = str(tag)
            if tag not in seen:
                seen.add(tag)
                tags.append(tag)
    return tags


def _trace(exception: BaseException | None, tb) -> str | None:
    """The full Python traceback for the details pane (never the headline)."""
    if exception is None:
        return None
    if isinstance(tb, list):
        return "\n".join(tb)
    return "".join(traceback.format_exception(type(exception), exception, tb))


def plain(exception: BaseException) -> str:
    """An exception as a person reads it: the message of an expectation or harness error as is."""
    text = str(exception).strip()
    if isinstance(exception, (AssertionError, CrucibleError)):
        return text or "an expectation failed (the step gave no message; the trace shows which check)"
    name = type(exception).__name__
    return f"{name}: {text}" if text else name


def defect_of(exception: BaseException | None) -> str:
    """Whose problem an unexpected exception shows: the environment's (CrucibleError) or the test's."""
    if exception is None or isinstance(exception, (CrucibleError, *INTERRUPTS)):
        return ENVIRONMENT
    return TEST


def step_outcome(step) -> Outcome:
    """The Allure outcome of one behave step, for every status behave 1.3 knows."""
    status, exception = step.status, getattr(step, "exception", None)
    title = f"{step.keyword} {step.name}"
    trace = _trace(exception, getattr(step, "exc_traceback", None))
    if status is Behave.passed:
        return PASSED
    if status in (Behave.undefined, Behave.untested_undefined):
        return Outcome(Status.BROKEN, f'Undefined step: no step definition matches "{title}"',
                       "You can implement it with this snippet:\n\n" + make_undefined_step_snippet(step), TEST)
    if status in (Behave.pending, Behave.untested_pending):
        reason = str(exception).strip() if exception is not None else ""
        return Outcome(Status.BROKEN, f'Step not implemented yet: "{title}"' + (f" ({reason})" if reason else ""),
                       trace, TEST)
    if status is Behave.pending_warn:
        return Outcome(Status.SKIPPED, f'Step not implemented yet (accepted by @wip): "{title}"')
    if status in (Behave.skipped, Behave.untested):
        return Outcome(Status.SKIPPED)
    if status is Behave.failed and isinstance(exception, AssertionError):
        return Outcome(Status.FAILED, plain(exception), trace,
                       CONTRACT if isinstance(exception, ContractViolation) else PRODUCT)
    if isinstance(exception, INTERRUPTS):
        return Outcome(Status.BROKEN, "The run was interrupted (Ctrl-C or SIGTERM) during this step",
                       trace, ENVIRONMENT)
    if status is Behave.hook_error:
        return Outcome(Status.BROKEN, "A step hook failed: " + (plain(exception) if exception else "see the console"),
                       trace, defect_of(exception))
    if exception is not None:
        return Outcome(Status.BROKEN, plain(exception), trace, defect_of(exception))
    return Outcome(Status.BROKEN, f"behave reported the step as {status.name} without an error", None, TEST)


def hook_outcome(statement, what: str) -> Outcome:
    """The outcome of a failed before_/after_ hook of a scenario or feature ('what')."""
    exception = getattr(statement, "exception", None)
    found = HOOK.search(getattr(statement, "error_message", None) or "")
    hook = found.group(1) if found else "hook"
    phase = f"Set-up before the {what}" if hook.startswith("before") else f"Clean-up after the {what}"
    if exception is None or isinstance(exception, INTERRUPTS):
        reason = "it was interrupted" if exception is not None or not found else "see the console output"
        return Outcome(Status.BROKEN, f"{phase} failed ({hook}): {reason}", None, ENVIRONMENT)
    return Outcome(Status.BROKEN, f"{phase} failed ({hook}): {plain(exception)}",
                   _trace(exception, getattr(statement, "exc_traceback", None)), defect_of(exception))


def scenario_outcome(scenario) -> Outcome:
    """The scenario's outcome: its first failed or broken step, else a failed hook or clean-up, else passed/skipped."""
    steps = [step_outcome(step) for step in scenario.all_steps]
    first = next((o for o in steps if o.status in (Status.FAILED, Status.BROKEN)), None)
    hook = hook_outcome(scenario, "scenario") if scenario.hook_failed else None
    if first is not None:
        if hook is not None:
            return Outcome(first.status, first.message, f"{first.trace or ''}\n\nAlso: {hook.message}", first.defect)
        return first
    if hook is not None:
        return hook
    if scenario.status is Behave.cleanup_error:
        return Outcome(Status.BROKEN, "Clean-up after the scenario failed: the console output shows why",
                       None, ENVIRONMENT)
    if steps and all(o.status == Status.PASSED for o in steps):
        return PASSED
    noted = next((o for o in steps if o.status == Status.SKIPPED and o.message), None)
    if noted is not None:
        return noted
    if not steps and scenario.status is Behave.passed:
        return PASSED
    reason = getattr(scenario, "skip_reason", None)
    return Outcome(Status.SKIPPED, reason or ("no step ran" if steps else "the scenario has no steps"))


class LinkPatternError(ReportError, ConfigError):
    """A tracker URL pattern in behave.ini cannot be used (behave prints it as a ConfigError)."""


def link_patterns(options: Settings) -> dict[str, str | None]:
    """The issue and tms URL patterns from the settings; each must contain {} once, where the key goes."""
    patterns = {}
    for kind in LINK_KINDS:
        key = f"report.{kind}_pattern"
        pattern = str(options[key] or "").strip() or None
        if pattern is not None and pattern.count("{}") != 1:
            raise LinkPatternError(f"{options.where(key)} = {pattern}: it must contain {{}} exactly "
                                   f"once, where the key goes, e.g. https://tracker.example/browse/{{}}")
        patterns[kind] = pattern
    return patterns


class CrucibleListener(AllureListener):
    """allure-behave's listener with Crucible's labels, links and outcomes."""

    def __init__(self, behave_config, patterns: dict[str, str | None]):
        super().__init__(behave_config)
        self.patterns = {**patterns, "issue": patterns.get("issue") or self.issue_pattern}
        self.issue_pattern = self.issue_pattern or self.patterns["issue"]
        self.bases = [str(p) for p in (getattr(behave_config, "paths", None) or ["features"])]
        self._closing = None
        self._forced: Outcome | None = None
        self.reported: set[int] = set()

    def start_scenario(self, scenario):
        """Schedule the scenario's result, then add Crucible's labels and links."""
        super().start_scenario(scenario)
        self.decorate(self.logger.get_test(self.current_scenario_uuid), scenario)

    def decorate(self, result, scenario) -> None:
        """Add epic, story, owner, severity labels and tracker links from the folder and the short tags."""
        tags = ordered_tags(scenario)
        short = [(m.group(1), m.group(2)) for m in map(SHORT_TAG.match, tags) if m]
        consumed = {f"{kind}:{value}" for kind, value in short}
        labels = [label for label in result.labels if not (label.name == LabelType.TAG and label.value in consumed)]
        names = {label.name for label in labels}
        severity = [tag for tag in tags if tag in SEVERITIES]
        if severity:
            labels = [label for label in labels if label.name != LabelType.SEVERITY]
            labels.append(Label(name=LabelType.SEVERITY, value=severity[-1]))
        epic = capability(scenario.filename, self.bases) if scenario.filename else None
        if LabelType.EPIC not in names:
            labels.append(Label(name=LabelType.EPIC, value=epic or scenario.feature.name))
        stories = [value for kind, value in short if kind == "story"]
        if LabelType.STORY not in names:
            story = stories[-1] if stories else (getattr(scenario, "_row", None) and _outline_name(scenario))
            labels.append(Label(name=LabelType.STORY, value=story or scenario.name or scenario.keyword))
        worker = os.environ.get(WORKER_ENV)
        if worker:  # crucible run --workers: the timeline shows which worker ran what
            labels = [label for label in labels if label.name != LabelType.THREAD]
            labels.append(Label(name=LabelType.THREAD, value=f"worker {worker}"))
        owners = [value for kind, value in short if kind == "owner"]
        if owners:
            labels = [label for label in labels if label.name != "owner"]
            labels.append(Label(name="owner", value=owners[-1]))
        result.labels[:] = labels
        for kind, key in short:
            if kind in LINK_KINDS:
                self._link(result, kind, key)

    def _link(self, result, kind: str, key: str) -> None:
        """Add one tracker link, or keep the tag as it is when no pattern is configured."""
        pattern = self.patterns[kind]
        if pattern is None:
            log.warning("@%s:%s has no link: set report.%s_pattern in the settings", kind, key, kind)
            result.labels.append(Label(name=LabelType.TAG, value=f"{kind}:{key}"))
            return
        url = pattern.format(key)
        if all(link.url != url for link in result.links):
            result.links.append(Link(type=LINK_KINDS[kind], url=url, name=key))

    def stop_behave_step(self, result):
        """Close the current Allure step with Crucible's status and plain message."""
        outcome = step_outcome(result)
        self.logger.stop_step(self.current_step_uuid, stop=now(), status=outcome.status,
                              statusDetails=outcome.details())

    def stop_scenario(self, scenario):
        """Close the scenario; report_result below replaces allure-behave's status with Crucible's."""
        self._closing = scenario
        self.reported.add(id(scenario))
        try:
            super().stop_scenario(scenario)
        finally:
            self._closing = None

    @allure_commons.hookimpl(tryfirst=True)
    def report_result(self, result):
        """Before the result is written: set its status, message and defect label."""
        if self._closing is None:
            return
        outcome = self._forced or scenario_outcome(self._closing)
        result.status = outcome.status
        result.statusDetails = outcome.details()
        attempt = getattr(self._closing, "crucible_attempt", 1)
        if attempt > 1 and outcome.status == Status.PASSED:
            # Opt-in retry: a pass that needed another attempt is flaky, never silently green.
            result.statusDetails = StatusDetails(flaky=True, message=f"Flaky: passed only on attempt {attempt}")
        result.labels[:] = [label for label in result.labels if label.name != DEFECT_LABEL]
        if outcome.defect and outcome.status in (Status.FAILED, Status.BROKEN):
            result.labels.append(Label(name=DEFECT_LABEL, value=outcome.defect))

    def report_unrun(self, feature) -> None:
        """Write a broken result for each scenario that a failed before_feature hook kept from running."""
        if not feature.hook_failed:
            return
        outcome = hook_outcome(feature, "feature")
        for scenario in feature.walk_scenarios():
            if id(scenario) in self.reported or not scenario.should_run(self.behave_config):
                continue
            self.start_scenario(scenario)
            self.steps.clear()
            self._forced = outcome
            try:
                self.stop_scenario(scenario)
            finally:
                self._forced = None


def _outline_name(scenario) -> str | None:
    """The name of the outline a generated scenario comes from (without behave's ' -- @1.2 ...' suffix)."""
    outline = getattr(scenario, "parent", None)
    name = getattr(outline, "name", None) if outline is not None and outline is not scenario.feature else None
    return name or scenario.name.split(" -- @")[0]


def mask_console(config) -> None:
    """Mask every line this behave process prints: its standard streams, and the streams behave opened for the
    formatters (those made after this one write through them)."""
    console.mask_streams()
    for opener in getattr(config, "outputs", None) or ():
        if opener.stream is not None:
            opener.stream = console.masked(opener.stream)


class CrucibleFormatter(AllureFormatter):
    """allure-behave's formatter with Crucible's listener (switched on in behave.ini)."""

    name = "crucible-allure"
    description = "Allure results with Crucible's labels, links and plain-language statuses"

    def __init__(self, stream_opener, config):
        try:
            options = settings.load(config.userdata)
            patterns = link_patterns(options)
        except SettingsError as exc:
            raise LinkPatternError(str(exc)) from None
        if settings.overridden("report.results", config.userdata):
            # -D report.results=DIR (or $CRUCIBLE_REPORT_RESULTS) wins over the outfile behave.ini names
            stream_opener.name = str(options.path("report.results"))
        secrets.use(safety.project_secrets(options))
        mask_console(config)
        super().__init__(stream_opener, config)
        for plugin in (self.listener, self.file_logger):
            allure_commons.plugin_manager.unregister(plugin)
        self.listener = CrucibleListener(config, patterns)
        self.file_logger = MaskedFileLogger(self.stream_opener.name)
        for plugin in (self.listener, self.file_logger):
            allure_commons.plugin_manager.register(plugin)
        self.features_run = 0
        self.current_feature = None

    def uri(self, uri):
        self.features_run += 1
        super().uri(uri)

    def feature(self, feature):
        self.current_feature = feature
        super().feature(feature)

    def eof(self):
        if self.current_feature is not None:
            self.listener.report_unrun(self.current_feature)
        super().eof()

    def close(self):
        if self.features_run == 0:
            allure_commons.plugin_manager.hook.global_error(
                message="The run stopped before any feature ran: the set-up before all features failed "
                        "or was interrupted (the console output shows why)",
                trace=None)
        super().close()
