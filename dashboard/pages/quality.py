"""Quality: scores and latency over time, by region, poor-audio rules, MOS histogram, worst meetings."""
from __future__ import annotations

from urllib.parse import quote

from ..figures import BAND_COLORS, bars, grouped_bars, time_series
from ..page import Context, Page, Panel, table
from ..timerange import local_label


def build_series(ctx: Context):
    rows = ctx.data("quality.series")
    fig = time_series(rows, ctx.tz, [("avg_audio_quality", "audio score (1-5)"), ("avg_video_quality", "video score (1-5)"),
                                     ("avg_mos", "MOS"), ("avg_latency_ms", "latency ms", "y2"),
                                     ("p95_latency_ms", "p95 latency ms", "y2")],
                      ctx.uirevision, y_title="score", y2_title="latency (ms)")
    return fig, [{"bucket_start": local_label(r["t"], ctx.tz), "bucket_start_ms": r["t"],
                  **{k: v for k, v in r.items() if k != "t"}} for r in rows]


def build_regions(ctx: Context):
    rows = ctx.data("quality.regions")
    fig = grouped_bars([r["region"] for r in rows],
                       [("audio score", [r["avg_audio_quality"] for r in rows]),
                        ("video score", [r["avg_video_quality"] for r in rows]),
                        ("MOS", [r["avg_mos"] for r in rows])], ctx.uirevision, y_title="score (1-5)",
                       y2=("poor audio %", [r["poor_audio_pct"] for r in rows]), y2_title="poor audio (%)")
    return fig, rows


def build_poor(ctx: Context):
    d = ctx.data("quality.poor")
    labels = ["latency > 500 ms", "packet loss > 10 %", "jitter > 30 ms", "several rules"]
    values = [d["by_latency"], d["by_loss"], d["by_jitter"], d["by_several"]]
    fig = bars(labels, values, ctx.uirevision, y_title="poor samples flagged", horizontal=True,
               colors=[BAND_COLORS["poor"], "#f97316", "#a855f7", "#64748b"])
    if d["samples"]:
        share = "–" if d["poor_audio_pct"] is None else f"{d['poor_audio_pct']:.1f}"
        fig.update_layout(title=dict(text=f"poor audio: {share}% of {d['samples']:,} samples",
                                     x=0.01, font=dict(size=13)), margin=dict(l=140, r=24, t=36, b=40))
    return fig, [{"rule": lab, "samples_flagged": v} for lab, v in zip(labels, values)] + [
        {"rule": "poor (any rule)", "samples_flagged": d["poor"]}, {"rule": "all samples", "samples_flagged": d["samples"]}]


def build_mos(ctx: Context):
    rows = ctx.data("quality.mos")
    colors = [BAND_COLORS["good"] if r["mos_from"] >= 4 else BAND_COLORS["fair"] if r["mos_from"] >= 3
              else BAND_COLORS["poor"] for r in rows]
    fig = bars([f"{r['mos_from']:.2f}–{r['mos_to']:.2f}" for r in rows], [r["samples"] for r in rows],
               ctx.uirevision, x_title="MOS", y_title="samples", colors=colors)
    return fig, rows


WORST_COLUMNS = (("meeting_id", "Meeting", 0), ("avg_mos", "MOS", 2), ("poor_pct", "Poor %", 1),
                 ("avg_latency_ms", "Latency ms", 0), ("avg_packet_loss_pct", "Loss %", 2),
                 ("avg_audio_quality", "Audio 1-5", 2), ("samples", "Samples", 0),
                 ("participants", "Participants", 0))


def build_worst(ctx: Context):
    rows = ctx.data("quality.worst")["rows"]
    return table(rows, WORST_COLUMNS, link=lambda r: f"/meetings/{quote(r['meeting_id'], safe='')}{ctx.search}",
                 link_column="meeting_id", table_id="worst-meetings"), rows


PAGE = Page(
    key="quality", path="/quality", title="Quality",
    panels=[
        Panel("quality-series", "Audio and video quality and latency", build_series, width=12),
        Panel("quality-regions", "Quality by region", build_regions, width=6),
        Panel("quality-poor", "Poor audio and the rule that flagged it", build_poor, width=6,
              subtitle="a sample can break several rules"),
        Panel("quality-mos", "MOS distribution", build_mos, width=6),
        Panel("quality-worst", "Worst meetings of the range", build_worst, kind="html", width=6,
              subtitle="lowest mean MOS; open one for its drill-down"),
    ],
)
