"""Processing algorithm: zone-to-zone car travel times (minutes) within a cutoff, as a table."""
from __future__ import annotations

from qgis.core import QgsProcessing, QgsProcessingParameterFeatureSink

from ..common.convert import write_frame_to_sink
from . import params as P
from .base import RegioAlgorithm, progress_callback, stop_callback, tr
from .centrality_alg import CUTOFF, add_analysis_parameters

OUTPUT = "OUTPUT"


def snapped_zones(network, zones, id_col: str, pop_col: str, jobs_col: str, access_speed_kmh: float,
                  max_snap_m: float):
    """centrality.zones.Zones for ``zones`` (points or polygons; ids from ``id_col``) snapped to ``network``."""
    from centrality.zones import load_zones, snap_zones

    points = load_zones(zones, id_col=id_col, pop_col=pop_col, jobs_col=jobs_col)
    return snap_zones(points, network, id_col=id_col, pop_col=pop_col, jobs_col=jobs_col,
                      access_speed_kmh=access_speed_kmh, max_snap_m=max_snap_m)


def zone_frame(zones, cols: dict):
    """(zones, id, pop, jobs column) for snapping; population/jobs default to 1 when not chosen
    (travel times do not depend on them, but zones need them to be valid)."""
    zones = zones.copy()
    names = []
    for key, default in (("pop_col", "_population"), ("jobs_col", "_jobs")):
        if not cols[key]:
            zones[default] = 1.0
        names.append(cols[key] or default)
    return zones, cols["id_col"], names[0], names[1]


class OdMatrixAlgorithm(RegioAlgorithm):
    NAME = "od_matrix"
    DISPLAY = "Travel-time OD matrix"
    HELP = (
        "Car travel time in minutes between every pair of zones whose total time is within the "
        "maximum: zone point to nearest road at the access speed, fastest road route, road to the "
        "destination zone. Output table: origin_id, dest_id, minutes (origin = destination rows "
        "included, as 2 × access time). Zones further from a road than the maximum snap distance "
        "are left out and listed in the log. Road options as in 'Build road network'."
    )

    def initAlgorithm(self, config=None):  # noqa: N802
        P.add_zone_parameters(self)
        for name in (P.POP_FIELD, P.JOBS_FIELD):  # not needed for travel times
            self.parameterDefinition(name).setFlags(self.parameterDefinition(name).flags()
                                                    | self.parameterDefinition(name).FlagOptional)
        P.add_road_parameters(self)
        add_analysis_parameters(self, with_limits=False)
        self.addParameter(QgsProcessingParameterFeatureSink(OUTPUT, tr("OD travel times"), QgsProcessing.TypeVector))

    def compute(self, parameters, context, feedback):
        from centrality.paths import od_times

        cols = P.zone_columns(self, parameters, context)
        zones = P.zones_gdf(self, parameters, context, feedback)
        network = P.build_network(self, parameters, context, feedback, progress=(0, 20))
        opts = P.zone_options(self, parameters, context)
        snapped = snapped_zones(network, *zone_frame(zones, cols), **opts)
        P.report_excluded(feedback, getattr(snapped, "excluded", None))
        cutoff = self.parameterAsDouble(parameters, CUTOFF, context)
        feedback.pushInfo(tr(f"Travel times between {len(snapped.ids)} zones (cutoff {cutoff:g} min) ..."))
        od = od_times(network, snapped, cutoff_min=cutoff, workers=P.workers(self, parameters, context),
                      progress=progress_callback(feedback, 20, 95),
                      should_stop=stop_callback(feedback))
        frame = od.to_frame(snapped)
        feedback.pushInfo(tr(f"{len(frame)} origin–destination pairs within {cutoff:g} minutes."))
        dest = write_frame_to_sink(self, parameters, context, OUTPUT, frame)
        feedback.setProgress(100)
        return {OUTPUT: dest}
