"""``greenlane network``: load the network, print its size, export GeoJSON and a PNG map."""

from __future__ import annotations

import sys
from collections import Counter
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from greenlane.data import DATA_DIR
from greenlane.emissions.errors import GreenlaneError

if TYPE_CHECKING:
    import geopandas
    from matplotlib.axes import Axes

    from greenlane.routing.network.graph import Network

LINESTYLES: dict[str, Any] = {
    "road": "-",
    "rail": (0, (8, 3)),
    "sea": (0, (4, 3)),
    "inland_water": "-.",
    "air": ":",
}
"""Dash pattern per mode, a second channel beside colour (greyscale-safe)."""
HUB_MARKERS = {
    "factory": ("*", "#D55E00", 150),
    "seaport": ("s", "#0072B2", 22),
    "inland_port": ("s", "#56B4E9", 22),
    "airport": ("^", "#CC79A7", 26),
    "rail_terminal": ("D", "#009E73", 22),
    "border_crossing": ("X", "#000000", 36),
    "warehouse": ("p", "#8C564B", 30),
    "customer_site": ("o", "#E69F00", 26),
}
"""Marker, colour and size per hub kind."""
NATURAL_EARTH = ("pyogrio", "tests/fixtures/naturalearth_lowres/naturalearth_lowres.shp")
"""Country outlines: Natural Earth 1:110m (public domain) as shipped with pyogrio's test data."""


def _country_outlines() -> geopandas.GeoDataFrame | None:
    """Natural Earth outlines from an installed package, or None when not shipped."""
    import importlib.util

    spec = importlib.util.find_spec(NATURAL_EARTH[0])
    if spec is None or not spec.submodule_search_locations:
        return None
    path = Path(next(iter(spec.submodule_search_locations))) / NATURAL_EARTH[1]
    if not path.exists():
        return None
    import geopandas

    return geopandas.read_file(path)


PANELS = (
    ("world", (-115.0, 160.0), (-40.0, 62.0)),
    ("Europe", (-10.0, 30.0), (35.0, 56.0)),
    ("China", (78.0, 124.0), (20.0, 47.0)),
)
"""Map panels: name, lon range and lat range [deg]."""


def _draw(
    ax: Axes,
    net: Network,
    outlines: geopandas.GeoDataFrame | None,
    xlim: tuple[float, float],
    ylim: tuple[float, float],
    labels: bool,
) -> None:
    from greenlane.routing.network.geometry import split_antimeridian
    from greenlane.routing.network.graph import MODE_COLOURS

    ax.set_facecolor("#F4F8FB")
    if outlines is not None:
        outlines.plot(ax=ax, color="#E4E4E4", edgecolor="#B0B0B0", linewidth=0.4, zorder=0)
    for lane in net.lanes:
        if lane.reverse_of:
            continue
        for part in split_antimeridian(lane.geometry):
            xs, ys = zip(*part, strict=True)
            ax.plot(
                xs,
                ys,
                color=MODE_COLOURS[lane.mode],
                linestyle=LINESTYLES[str(lane.mode)],
                linewidth=1.1 if str(lane.mode) in ("sea", "rail") else 0.8,
                alpha=0.75,
                zorder=2,
            )
    for kind, (marker, colour, size) in HUB_MARKERS.items():
        pts = [h for h in net.hubs.values() if h.kind == kind]
        if pts:
            ax.scatter(
                [h.lon for h in pts],
                [h.lat for h in pts],
                marker=marker,
                c=colour,
                s=size,
                edgecolors="white",
                linewidths=0.4,
                zorder=4,
            )
    for hub in net.hubs.values():
        inside = xlim[0] <= hub.lon <= xlim[1] and ylim[0] <= hub.lat <= ylim[1]
        if inside and (labels or hub.kind == "factory"):
            ax.annotate(
                hub.hub_id,
                (hub.lon, hub.lat),
                xytext=(3, 3),
                textcoords="offset points",
                fontsize=6,
                zorder=5,
            )
    ax.set_xlim(*xlim)
    ax.set_ylim(*ylim)
    ax.set_aspect("equal")
    ax.set_xlabel("longitude [deg]", fontsize=8)
    ax.set_ylabel("latitude [deg]", fontsize=8)
    ax.tick_params(labelsize=7)
    ax.grid(True, linewidth=0.3, color="#C8D2DC")


def render_png(net: Network, path: Path, dpi: int = 110) -> Path:
    """Draw hubs and lanes coloured by mode on lon/lat axes (matplotlib Agg, offline).

    A world panel and two zooms (Europe, China); country outlines when an installed package
    ships Natural Earth, plain axes otherwise.
    """
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure
    from matplotlib.lines import Line2D

    from greenlane.routing.network.graph import MODE_COLOURS

    fig = Figure(figsize=(16, 13), layout="constrained")
    FigureCanvasAgg(fig)
    grid = fig.add_gridspec(2, 2, height_ratios=(1.0, 0.9))
    axes = [fig.add_subplot(grid[0, :]), fig.add_subplot(grid[1, 0]), fig.add_subplot(grid[1, 1])]
    outlines = _country_outlines()
    for ax, (name, xlim, ylim) in zip(axes, PANELS, strict=True):
        _draw(ax, net, outlines, xlim, ylim, labels=name != "world")
        ax.set_title(name, fontsize=9, loc="left")
    kinds = Counter(str(h.kind) for h in net.hubs.values())
    modes = Counter(str(lane.mode) for lane in net.lanes if not lane.reverse_of)
    handles = [
        Line2D(
            [],
            [],
            color=MODE_COLOURS[m],
            linestyle=LINESTYLES[str(m)],
            linewidth=1.6,
            label=f"{m} ({modes.get(str(m), 0)} lanes)",
        )
        for m in MODE_COLOURS
    ]
    handles += [
        Line2D(
            [],
            [],
            marker=mk,
            color="none",
            markerfacecolor=c,
            markeredgecolor="white",
            markersize=8 if mk != "*" else 12,
            label=f"{k} ({kinds.get(k, 0)})",
        )
        for k, (mk, c, _) in HUB_MARKERS.items()
    ]
    axes[0].legend(handles=handles, loc="lower left", fontsize=7.5, ncol=2, framealpha=0.9)
    fig.suptitle(
        f"greenlane network: {len(net.hubs)} hubs, {sum(modes.values())} lane rows "
        f"({len(net.lanes)} directed lanes). Road, rail and inland water drawn as "
        f"great circles (distance GCD x DAF), sea as searoute paths, air as great "
        f"circles. Data sha256 {net.data_sha256[:12]}",
        fontsize=10,
    )
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=dpi)
    return path


def summary(net: Network) -> str:
    """Counts of hubs by kind and lanes by mode, one line each."""
    kinds = Counter(str(h.kind) for h in net.hubs.values())
    rows = Counter(str(lane.mode) for lane in net.lanes if not lane.reverse_of)
    directed = Counter(str(lane.mode) for lane in net.lanes)
    lines = [
        f"hubs: {len(net.hubs)} (" + ", ".join(f"{k} {n}" for k, n in sorted(kinds.items())) + ")",
        f"lane rows: {sum(rows.values())}, directed lanes: {len(net.lanes)}",
    ]
    lines += [f"  {m}: {rows[m]} rows, {directed[m]} directed" for m in sorted(rows)]
    lines.append(f"data sha256: {net.data_sha256}")
    return "\n".join(lines)


@click.command("network")
@click.option(
    "--geojson",
    "geojson_path",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Write the network as an RFC 7946 GeoJSON FeatureCollection.",
)
@click.option(
    "--png",
    "png_path",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Render a map of hubs and lanes coloured by mode.",
)
@click.option(
    "--include-reverse",
    is_flag=True,
    help="Also export the ':rev' lanes of bidirectional rows to GeoJSON.",
)
@click.option(
    "--data-dir",
    type=click.Path(file_okay=False, exists=True, path_type=Path),
    default=DATA_DIR,
    show_default=True,
    help="Folder with hubs.csv and lanes.csv.",
)
@click.option(
    "--cache-dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Cache of derived distances [default: ~/.cache/greenlane].",
)
def network(
    geojson_path: Path | None,
    png_path: Path | None,
    include_reverse: bool,
    data_dir: Path,
    cache_dir: Path | None,
) -> None:
    """Load the multimodal network, print its size, and export GeoJSON and/or a PNG map."""
    from greenlane.routing.network.graph import load_network

    try:
        net = load_network(data_dir, cache_dir)
    except GreenlaneError as exc:
        click.echo(f"error: {exc}", err=True)
        sys.exit(2)
    click.echo(summary(net))
    if geojson_path is not None:
        net.write_geojson(geojson_path, include_reverse=include_reverse)
        click.echo(f"wrote {geojson_path}")
    if png_path is not None:
        render_png(net, png_path)
        click.echo(f"wrote {png_path}")
