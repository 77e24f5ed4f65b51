"""Processing algorithm: build a routable road network (links + nodes) from lines or OSM PBF."""
from __future__ import annotations

from qgis.core import (
    QgsProcessing,
    QgsProcessingException,
    QgsProcessingParameterFeatureSink,
    QgsProcessingParameterFile,
)

from . import params as P
from .base import RegioAlgorithm, progress_callback, tr


def nodes_frame(network):
    """Network nodes as a point GeoDataFrame (node_id, degree) in the network CRS."""
    import geopandas as gpd
    import numpy as np

    xy = np.asarray(network.node_xy, dtype=float)
    links = network.links
    degree = np.bincount(np.concatenate([links["u"].to_numpy(), links["v"].to_numpy()]).astype(np.int64),
                         minlength=len(xy))
    return gpd.GeoDataFrame({"node_id": np.arange(len(xy), dtype=np.int64), "degree": degree},
                            geometry=gpd.points_from_xy(xy[:, 0], xy[:, 1]), crs=network.crs)


def links_frame(network):
    """Network links with ``link_id`` as a column, plus fields that let the layer be read back as a
    road layer: ``time_fw_min``/``time_bw_min`` (minutes, the allowed direction's time copied into
    a closed one) and ``oneway`` ("yes" = digitised direction only, "-1" = opposite only, "no")."""
    import numpy as np

    links = network.links.reset_index(names="link_id") if "link_id" not in network.links.columns \
        else network.links.reset_index(drop=True)
    fw, bw = links["time_fw_s"].to_numpy(float), links["time_bw_s"].to_numpy(float)
    links["oneway"] = np.where(np.isnan(bw), "yes", np.where(np.isnan(fw), "-1", "no"))
    links["time_fw_min"] = np.where(np.isnan(fw), bw, fw) / 60.0
    links["time_bw_min"] = np.where(np.isnan(bw), fw, bw) / 60.0
    with np.errstate(divide="ignore", invalid="ignore"):
        links["speed_kmh"] = links["length_m"].to_numpy(float) / np.fmin(fw, bw) * 3.6  # faster direction
    return links


class BuildNetworkAlgorithm(RegioAlgorithm):
    NAME = "build_network"
    DISPLAY = "Build road network"
    GROUP = "network"
    ICON = "build_network"
    TAGS = ("network", "routing", "graph", "osm", "openstreetmap", "roads")
    HELP = (
        "Builds the routable road network the travel-time tools use, from a road line layer or an "
        "OpenStreetMap PBF file.<br><b>Lines</b>: choose a speed field (km/h) or travel-time fields "
        "(per direction, minutes or seconds), optionally a one-way/direction field; line ends closer "
        "than the snapping tolerance are joined. <b>OSM PBF</b>: speeds come from maxspeed or the "
        "road class; ferries get their crossing time plus waiting time.<br>Outputs: <b>links</b> "
        "(u, v, length_m, time_fw_s/time_bw_s in seconds, NULL = direction not allowed, kind, speed_kmh) and "
        "<b>nodes</b>. Only the largest strongly connected part is kept; what was dropped is listed "
        "in the log. To use the links layer as the road layer of the other Regio tools, choose travel "
        "time fields time_fw_min / time_bw_min (minutes) and direction field oneway."
    )
    OSM_PBF = "OSM_PBF"
    LINKS = "LINKS"
    NODES = "NODES"

    def initAlgorithm(self, config=None):  # noqa: N802
        P.add_road_parameters(self, optional_layer=True)
        self.addParameter(QgsProcessingParameterFile(
            self.OSM_PBF, tr("… or an OpenStreetMap PBF file (instead of the line layer)"),
            extension="pbf", optional=True))
        self.addParameter(QgsProcessingParameterFeatureSink(self.LINKS, tr("Network links"), QgsProcessing.TypeVectorLine))
        self.addParameter(QgsProcessingParameterFeatureSink(
            self.NODES, tr("Network nodes"), QgsProcessing.TypeVectorPoint, optional=True, createByDefault=True))

    def check(self, parameters, context) -> list[str]:
        has_roads = parameters.get(P.ROADS) not in (None, "")
        has_pbf = bool(self.parameterAsFile(parameters, self.OSM_PBF, context))
        if has_roads == has_pbf:
            return [tr("Give either a road line layer or an OSM PBF file (exactly one of them).")]
        return P.check_roads(self, parameters, context) if has_roads else []

    def compute(self, parameters, context, feedback):
        pbf = self.parameterAsFile(parameters, self.OSM_PBF, context)
        if pbf:
            from ..common import deps

            ok, message = deps.check(deps.OSM_PACKAGES)
            if not ok:
                raise QgsProcessingException(message)
            from centrality.builders.osm import network_from_osm_pbf

            feedback.pushInfo(tr(f"Reading OSM roads from {pbf} ..."))
            network = network_from_osm_pbf(pbf, progress=progress_callback(feedback, 0, 80))
            feedback.setProgress(80)
        else:
            network = P.build_network(self, parameters, context, feedback, progress=(0, 80))
        if pbf:
            P.report_network(feedback, network)
        from ..core.styling import LayerStyle

        links = links_frame(network)
        style = LayerStyle("speed_kmh", "lines", "Road network: speed (km/h)", "km/h")
        out = {self.LINKS: self.write_output(parameters, context, self.LINKS, links, style)}
        if parameters.get(self.NODES) not in (None, ""):
            out[self.NODES] = self.write_output(parameters, context, self.NODES, nodes_frame(network),
                                                LayerStyle("degree", "plain", "Network nodes", "degree"))
        km = links["length_m"].sum() / 1000.0
        ferries = int((links["kind"] == "ferry").sum()) if "kind" in links.columns else 0
        from ..core.outputs import fmt

        feedback.pushInfo(tr(f"{fmt(len(links))} links, {fmt(km)} km of road"
                             + (f", {ferries} ferry links" if ferries else "") + "."))
        feedback.setProgress(100)
        return out


ALGORITHMS = [BuildNetworkAlgorithm]
