"""Base class of the Regio Processing algorithms: metadata (group, icon, help), parameter checks
before any work, dependency check, error translation, outputs with stored styles, and the
progress/cancel callbacks handed to the headless core."""
from __future__ import annotations

from pathlib import Path
from typing import Callable

from qgis.core import QgsProcessingAlgorithm, QgsProcessingException
from qgis.PyQt.QtCore import QCoreApplication
from qgis.PyQt.QtGui import QIcon

from ..common import deps

ICONS = Path(__file__).resolve().parents[1] / "icons"
HELP_BASE = "https://github.com/regio-toolkit/regio-toolkit/blob/main/qgis_plugin/README.md"

# group id -> toolbox name, in workflow order (the toolbox sorts groups by name)
GROUPS: dict[str, str] = {
    "network": "1 · Road network",
    "traveltimes": "2 · Travel times",
    "centrality": "3 · Centrality",
    "model": "4 · Attractiveness model",
    "scenarios": "5 · Road scenarios",
}


def tr(text: str) -> str:
    return QCoreApplication.translate("Regio", text)


class RegioAlgorithm(QgsProcessingAlgorithm):
    """Subclasses set NAME, DISPLAY, GROUP (a key of GROUPS), ICON, HELP, HELP_ANCHOR and implement
    ``initAlgorithm``, ``compute`` and optionally ``check`` (problems found before any work).

    ``compute(parameters, context, feedback) -> dict`` may raise ``centrality.errors.InputError``
    (shown as a QgsProcessingException with the same message) or ``Cancelled``. Outputs written
    with :meth:`write_output` get their style stored in the GeoPackage (``layer_styles``) and
    applied when QGIS loads them.
    """

    NAME = ""
    DISPLAY = ""
    GROUP = "centrality"
    ICON = "icon"
    HELP = ""
    HELP_ANCHOR = ""
    TAGS: tuple[str, ...] = ()
    PACKAGES: dict | None = None  # third-party packages needed (default: deps.CORE_PACKAGES)

    def __init__(self):
        super().__init__()
        self._styles: list = []

    def name(self) -> str:
        return self.NAME

    def displayName(self) -> str:  # noqa: N802
        return tr(self.DISPLAY)

    def group(self) -> str:
        return tr(GROUPS[self.GROUP])

    def groupId(self) -> str:  # noqa: N802
        return self.GROUP

    def tags(self) -> list[str]:
        return ["regio", *self.TAGS]

    def icon(self) -> QIcon:
        return QIcon(self.svgIconPath())

    def svgIconPath(self) -> str:  # noqa: N802
        path = ICONS / f"{self.ICON}.svg"
        return str(path if path.is_file() else ICONS / "icon.svg")

    def shortDescription(self) -> str:  # noqa: N802 (toolbox tooltip)
        return tr(self.HELP.split("<br>")[0].split(". ")[0].rstrip(".") + ".")

    def shortHelpString(self) -> str:  # noqa: N802
        return tr(self.HELP) + f'<p><a href="{self.helpUrl()}">{tr("Full help (README)")}</a></p>'

    def helpUrl(self) -> str:  # noqa: N802
        return f"{HELP_BASE}#{self.HELP_ANCHOR or self.NAME.replace('_', '-')}"

    def createInstance(self):  # noqa: N802
        return type(self)()

    def canExecute(self):  # noqa: N802
        return deps.check(self.PACKAGES)

    # ---------------------------------------------------------------------------- checks
    def check(self, parameters, context) -> list[str]:
        """Problems with the parameters that can be found without reading or computing anything."""
        return []

    def checkParameterValues(self, parameters, context):  # noqa: N802
        ok, message = super().checkParameterValues(parameters, context)
        if not ok:
            return ok, message
        problems = list(dict.fromkeys(self.check(parameters, context)))
        if problems:
            return False, "\n".join(problems)
        return True, ""

    # ---------------------------------------------------------------------------- run
    def processAlgorithm(self, parameters, context, feedback):  # noqa: N802
        ok, message = deps.check(self.PACKAGES)
        if not ok:
            raise QgsProcessingException(message)
        clash = deps.native_library_problem()
        if clash:
            raise QgsProcessingException(clash)
        from centrality.errors import Cancelled, InputError

        from ..common.threads import pin_pyproj_context

        self._styles = []
        try:
            pin_pyproj_context()  # background Processing runs on QThreadPool threads: see common/threads.py
            result = self.compute(parameters, context, feedback)
        except InputError as exc:
            raise QgsProcessingException(str(exc)) from None
        except Cancelled:
            raise QgsProcessingException(tr("Cancelled by the user; no output was written.")) from None
        return result

    def postProcessAlgorithm(self, context, feedback):  # noqa: N802
        """Store each styled output's style in its GeoPackage (main thread, after the sinks closed)."""
        from ..core.styling import store_style

        for dest, style in self._styles:
            if not Path(str(dest).split("|")[0]).is_file():  # memory/temporary layers: styled on load
                continue
            error = store_style(dest, style)
            if error and "not a GeoPackage" not in error:
                feedback.pushWarning(tr(f"Style not stored: {error}"))
        self._styles = []
        return {}

    def write_output(self, parameters, context, name: str, frame, style=None, layer_name: str | None = None) -> str:
        """Write ``frame`` to the sink ``name`` (counts of persons and jobs as integers:
        :func:`centrality.fileio.integer_counts`); style it on load and in the GeoPackage.
        Returns the id."""
        from centrality.fileio import integer_counts

        from ..common.convert import write_frame_to_sink
        from ..core.styling import attach_style

        dest = write_frame_to_sink(self, parameters, context, name, integer_counts(frame))
        if style is not None:
            attach_style(context, dest, style, layer_name)
            self._styles.append((dest, style))
        return dest

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
