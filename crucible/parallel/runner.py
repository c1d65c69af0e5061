"""The worker's behave runner: runs only the plan items it claims from the board, one feature slice each.

``python -m behave --runner crucible.parallel.runner:ClaimingRunner ...`` with $CRUCIBLE_CLAIMS naming
the board. behave's own runner loads hooks and steps and parses the features as usual; instead of
every feature, it is handed a lazy sequence of slices: a feature holding just one claimed item, taken
only when the previous one has finished. Hooks, formatters and fixtures see ordinary features.
"""

from __future__ import annotations

import copy
import logging
import os
import time
from pathlib import Path

from behave.formatter._registry import make_formatters
from behave.runner import Context, Runner
from behave.runner_util import parse_features

from crucible import settings
from crucible.parallel import plan
from crucible.parallel.claims import ENV, WORKER_ENV, Board

log = logging.getLogger(__name__)


def feature_slice(feature, item):
    """A copy of ``feature`` that holds only ``item`` (its background, tags and description stay)."""
    part = copy.copy(feature)
    part.run_items = [item]
    part.scenarios = [item] if item in feature.scenarios else []
    if hasattr(feature, "rules"):
        part.rules = [item] if item in feature.rules else []
    return part


def outcome(item) -> str:
    """behave's status of a finished run item, as a word: passed, failed, error, skipped, untested ..."""
    return item.status.name


class ClaimingRunner(Runner):
    """behave's runner, running only the items this worker claims on the board."""

    def run_with_paths(self):
        """Load hooks and steps, parse the features, then run the claimed items as they are claimed."""
        self.context = Context(self)
        self.load_hooks()
        self.load_step_definitions()
        locations = [location for location in self.feature_locations() if not self.config.exclude(location)]
        features = parse_features(locations, language=self.config.lang)
        self.features.extend(features)
        board = Board(Path(os.environ[ENV]))
        self.coordinator = os.getppid()
        run_id = board.wait_ready(self._orphaned)
        if run_id is None:
            return True  # the stack did not come up, or the run was stopped: the coordinator says why
        os.environ[settings.env_name("run.attach")] = run_id
        self.formatters = make_formatters(self.config, self.config.outputs)
        return self.run_model(features=self.claimed(board, features))

    def _orphaned(self) -> bool:
        """True when the coordinator that started this worker is gone."""
        return os.getppid() != self.coordinator

    def _stopping(self, board: Board, failures: int) -> bool:
        """True when this worker must claim nothing more (aborted, asked to stop, --stop after a failure)."""
        if self.config.stop and failures:
            board.stop()
        return self.aborted or board.stopped or self._orphaned()

    def claimed(self, board: Board, features: list):
        """Feature slices of the items this worker claims, in plan order; each finished one is recorded."""
        worker = os.environ.get(WORKER_ENV, str(os.getpid()))
        root = Path.cwd()
        found = {plan.item_key(root, feature, item): (feature, item)
                 for feature in features for item in feature.run_items}
        items = board.items
        parallel = [index for index, item in enumerate(items) if not item.disruptive]
        failures = 0
        serial = False
        for index, item in enumerate(items):
            if self._stopping(board, failures):
                return
            if item.disruptive and not serial:
                if not board.claim_serial(worker) or not board.wait_until_done(parallel, self._orphaned):
                    return
                serial = True
            if not board.claim(index, worker):
                continue
            if item.key not in found:
                log.error("Plan item %s (%s) is not among the features this worker parsed", item.key, item.name)
                board.finish(index, "missing", 0.0, worker)
                continue
            feature, run_item = found[item.key]
            started = time.monotonic()
            yield feature_slice(feature, run_item)
            status = outcome(run_item)
            failures += status not in ("passed", "skipped")
            board.finish(index, status, time.monotonic() - started, worker)
