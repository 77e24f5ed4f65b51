"""Processing algorithm: car travel times (minutes) from origin zones to destination zones within a cutoff."""
from __future__ import annotations

from types import SimpleNamespace

from qgis.core import QgsProcessing, QgsProcessingParameterFeatureSink

from . import params as P
from .base import RegioAlgorithm, progress_callback, stop_callback, tr

ORIGINS = "ORIGINS"
ORIGIN_ID_FIELD = "ORIGIN_ID_FIELD"
DESTINATIONS = "DESTINATIONS"
DEST_ID_FIELD = "DEST_ID_FIELD"
OUTPUT = "OUTPUT"


def snapped(network, zones, id_col: str, access_speed_kmh: float, max_snap_m: float):
    """centrality.zones.Zones for points/polygons ``zones`` (ids from ``id_col``) snapped to ``network``.

    Travel times do not depend on population or jobs; the snapping needs the columns, so they are 1.
    """
    from centrality.zones import load_zones, snap_zones

    frame = zones[[id_col, zones.geometry.name]].assign(_population=1.0, _jobs=1.0)
    points = load_zones(frame, id_col=id_col, pop_col="_population", jobs_col="_jobs")
    return snap_zones(points, network, id_col=id_col, pop_col="_population", jobs_col="_jobs",
                      access_speed_kmh=access_speed_kmh, max_snap_m=max_snap_m)


def od_frame(network, origins, destinations=None, *, cutoff_min: float, workers: int = 1, progress=None,
             should_stop=None):
    """origin_id, dest_id, minutes for every pair within ``cutoff_min`` (destinations default: the origins).

    Separate destinations are appended to the origins as extra zones; only origin rows are searched
    and only pairs ending at a destination are kept.
    """
    import numpy as np
    import pandas as pd

    from centrality.paths import od_times

    if destinations is None:
        od = od_times(network, origins, cutoff_min=cutoff_min, workers=workers, progress=progress,
                      should_stop=should_stop)
        return od.to_frame(origins)
    n_o = len(origins.ids)
    both = SimpleNamespace(node=np.concatenate([origins.node, destinations.node]),
                           access_s=np.concatenate([origins.access_s, destinations.access_s]))
    od = od_times(network, both, cutoff_min=cutoff_min, workers=workers, origins=np.arange(n_o),
                  progress=progress, should_stop=should_stop)
    keep = od.dest >= n_o
    return pd.DataFrame({"origin_id": np.asarray(origins.ids)[od.origin[keep]],
                         "dest_id": np.asarray(destinations.ids)[od.dest[keep] - n_o],
                         "minutes": od.time_s[keep] / 60.0})


class OdMatrixAlgorithm(RegioAlgorithm):
    NAME = "od_matrix"
    DISPLAY = "Travel-time matrix"
    GROUP = "traveltimes"
    ICON = "od_matrix"
    TAGS = ("od", "origin", "destination", "matrix", "travel time", "car")
    HELP = (
        "Car travel time in minutes from every origin to every destination that is within the maximum "
        "travel time: origin point to the nearest road at the access speed, fastest road route, road to "
        "the destination. Without a destinations layer the origins are also the destinations (including "
        "origin = destination, 2 × the access time).<br>Output table: origin_id, dest_id, minutes. Points "
        "or polygons (a point inside each polygon); zones further from a road than the maximum distance "
        "are left out and listed in the log. Road options as in 'Build road network'."
    )

    def initAlgorithm(self, config=None):  # noqa: N802
        P.add_zone_parameters(self, ORIGINS, ORIGIN_ID_FIELD, with_values=False, label="Origins (points or polygons)",
                              snapping=False)
        P.add_zone_parameters(self, DESTINATIONS, DEST_ID_FIELD, with_values=False,
                              label="Destinations (default: the origins)", snapping=True, optional=True)
        P.add_road_parameters(self)
        P.add_analysis_parameters(self, with_limits=False, with_decay=False)
        self.addParameter(QgsProcessingParameterFeatureSink(OUTPUT, tr("Travel times (minutes)"), QgsProcessing.TypeVector))

    def check(self, parameters, context) -> list[str]:
        out = P.check_fields(self, parameters, context, ORIGINS, (ORIGIN_ID_FIELD,), "origins")
        if parameters.get(DESTINATIONS) not in (None, ""):
            if not self.parameterAsString(parameters, DEST_ID_FIELD, context):
                out.append(tr("Choose the destination id field (or leave the destinations layer empty)."))
            out += P.check_fields(self, parameters, context, DESTINATIONS, (DEST_ID_FIELD,), "destinations")
        return out + P.check_roads(self, parameters, context)

    def compute(self, parameters, context, feedback):
        cutoff = self.parameterAsDouble(parameters, P.CUTOFF, context)
        opts = P.zone_options(self, parameters, context)
        o_id = self.parameterAsString(parameters, ORIGIN_ID_FIELD, context)
        origins_gdf = P.zones_gdf(self, parameters, context, feedback, ORIGINS, ORIGIN_ID_FIELD, "origins")
        dest_gdf = None
        if parameters.get(DESTINATIONS) not in (None, ""):
            dest_gdf = P.zones_gdf(self, parameters, context, feedback, DESTINATIONS, DEST_ID_FIELD, "destinations")
        network = P.build_network(self, parameters, context, feedback, progress=(0, 20))
        origins = snapped(network, origins_gdf, o_id, **opts)
        P.report_excluded(feedback, origins.excluded)
        dests = None
        if dest_gdf is not None:
            dests = snapped(network, dest_gdf, self.parameterAsString(parameters, DEST_ID_FIELD, context), **opts)
            P.report_excluded(feedback, dests.excluded)
        n_d = len(dests.ids) if dests is not None else len(origins.ids)
        workers = P.workers(self, parameters, context)
        feedback.pushInfo(tr(f"Travel times from {len(origins.ids)} origins to {n_d} destinations (maximum "
                             f"{cutoff:g} min, {workers} threads) …"))
        frame = od_frame(network, origins, dests, cutoff_min=cutoff, workers=workers,
                         progress=progress_callback(feedback, 20, 95), should_stop=stop_callback(feedback))
        from ..core.outputs import fmt

        share = len(frame) / max(len(origins.ids) * n_d, 1)
        feedback.pushInfo(tr(f"{fmt(len(frame))} origin–destination pairs within {cutoff:g} minutes "
                             f"({share:.0%} of all pairs); median {frame['minutes'].median():.1f} min."))
        dest = self.write_output(parameters, context, OUTPUT, frame)
        feedback.setProgress(100)
        return {OUTPUT: dest}


ALGORITHMS = [OdMatrixAlgorithm]
