"""Base class of the Regio Processing algorithms: metadata, dependency check, error translation,
and the progress/cancel callbacks handed to the headless core."""
from __future__ import annotations

from typing import Callable

from qgis.core import QgsProcessingAlgorithm, QgsProcessingException
from qgis.PyQt.QtCore import QCoreApplication

from ..common import deps


def tr(text: str) -> str:
    return QCoreApplication.translate("Regio", text)


class RegioAlgorithm(QgsProcessingAlgorithm):
    """Subclasses set NAME, DISPLAY, GROUP, HELP and implement ``initAlgorithm`` and ``compute``.

    ``compute(parameters, context, feedback) -> dict`` may raise ``centrality.errors.InputError``
    (shown as a QgsProcessingException with the same message) or ``Cancelled``.
    """

    NAME = ""
    DISPLAY = ""
    GROUP = "Regional analysis"
    GROUP_ID = "regional"
    HELP = ""
    PACKAGES: dict[str, str] | None = None  # third-party packages needed (default: deps.CORE_PACKAGES)

    def name(self) -> str:
        return self.NAME

    def displayName(self) -> str:  # noqa: N802
        return tr(self.DISPLAY)

    def group(self) -> str:
        return tr(self.GROUP)

    def groupId(self) -> str:  # noqa: N802
        return self.GROUP_ID

    def shortHelpString(self) -> str:  # noqa: N802
        return tr(self.HELP)

    def createInstance(self):  # noqa: N802
        return type(self)()

    def canExecute(self):  # noqa: N802
        return deps.check(self.PACKAGES)

    def processAlgorithm(self, parameters, context, feedback):  # noqa: N802
        ok, message = deps.check(self.PACKAGES)
        if not ok:
            raise QgsProcessingException(message)
        from centrality.errors import Cancelled, InputError

        from ..common.threads import pin_pyproj_context

        try:
            pin_pyproj_context()  # background Processing runs on QThreadPool threads: see common/threads.py
            return self.compute(parameters, context, feedback)
        except InputError as exc:
            raise QgsProcessingException(str(exc)) from None
        except Cancelled:
            raise QgsProcessingException(tr("Cancelled by the user; no output was written.")) from None

    def compute(self, parameters, context, feedback) -> dict:  # pragma: no cover - abstract
        raise NotImplementedError


def progress_callback(feedback, start: float = 0.0, end: float = 100.0) -> Callable[[int, int], None]:
    """``progress(done, total)`` for the core, mapped onto ``start..end`` percent of ``feedback``."""

    def progress(done: int, total: int) -> None:
        if total:
            feedback.setProgress(start + (end - start) * min(done, total) / total)

    return progress


def stop_callback(feedback) -> Callable[[], bool]:
    """``should_stop()`` for the core: True once the user pressed Cancel."""
    return feedback.isCanceled
