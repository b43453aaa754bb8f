"""The instructor's plots, drawn as the feedback pages draw theirs: matplotlib on its own Agg canvas (no
pyplot state), PNG bytes that the page embeds as a data: URL (the pages load nothing from elsewhere)."""

from __future__ import annotations

import base64
import datetime as dt
import io
import math
import threading

_LOCK = threading.Lock()  # rc_context is process-wide
_STYLE = {"text.parse_math": False, "font.size": 10}
ACCENT = "#2e4057"
LATE = "#d1495b"


def data_url(png: bytes) -> str:
    return "data:image/png;base64," + base64.b64encode(png).decode("ascii")


def _figure():
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=(6.4, 3.0), dpi=100)
    FigureCanvasAgg(fig)
    ax = fig.add_subplot(1, 1, 1)
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)
    ax.grid(True, axis="y", alpha=0.3)
    return fig, ax


def _png(fig) -> bytes:
    fig.tight_layout()
    buf = io.BytesIO()
    fig.savefig(buf, format="png")
    return buf.getvalue()


def score_histogram(scores: list[float], max_score: float) -> bytes:
    """How many students have each counted score (bins of one point, or 20 bins for large maxima)."""
    import matplotlib

    with _LOCK, matplotlib.rc_context(_STYLE):
        fig, ax = _figure()
        top = max(max_score, max(scores, default=0.0), 1.0)
        bins = int(math.ceil(top)) if top <= 20 else 20
        edges = [top * i / bins for i in range(bins + 1)]
        edges[-1] += 1e-9  # a full score falls into the last bin
        ax.hist(scores, bins=edges, color=ACCENT, edgecolor="white")
        ax.set_xlim(0, top)
        ax.set_xlabel(f"counted score (of {max_score:g})")
        ax.set_ylabel("students")
        ax.yaxis.get_major_locator().set_params(integer=True)
        ax.set_title(f"Score distribution ({len(scores)} students)")
        return _png(fig)


def submissions_over_time(times: list[dt.datetime], late: list[bool], deadline: dt.datetime | None) -> bytes:
    """Submissions per day (per hour when they span under three days), on time and late stacked; ``times``
    and ``deadline`` are local times of the course (aware), so the days are the course's days."""
    import matplotlib
    from matplotlib import dates as mdates

    with _LOCK, matplotlib.rc_context(_STYLE):
        fig, ax = _figure()
        if times:
            span = max(times) - min(times)
            hourly = span < dt.timedelta(days=3)
            step = dt.timedelta(hours=1) if hourly else dt.timedelta(days=1)

            def bucket(t: dt.datetime) -> dt.datetime:
                t = t.replace(tzinfo=None)  # the local wall clock: a DST change does not shift the days
                return t.replace(minute=0, second=0, microsecond=0) if hourly else t.replace(hour=0, minute=0, second=0, microsecond=0)

            on, off = {}, {}
            for t, is_late in zip(times, late, strict=True):
                target = off if is_late else on
                target[bucket(t)] = target.get(bucket(t), 0) + 1
            keys = sorted(set(on) | set(off))
            width = step / dt.timedelta(days=1) * 0.9
            xs = [mdates.date2num(k + step / 2) for k in keys]
            ons = [on.get(k, 0) for k in keys]
            ax.bar(xs, ons, width=width, color=ACCENT, label="on time")
            ax.bar(xs, [off.get(k, 0) for k in keys], width=width, bottom=ons, color=LATE, label="late")
            tallest = max(a + b for a, b in zip(ons, [off.get(k, 0) for k in keys], strict=True))
            ax.set_ylim(0, tallest * 1.35 + 0.5)  # room for the legend above the bars
            ax.set_xlim(mdates.date2num(keys[0] - step), mdates.date2num(keys[-1] + 2 * step))
            if deadline is not None:
                ax.axvline(mdates.date2num(deadline.replace(tzinfo=None)), color=LATE, linestyle="--", linewidth=1.2, label="deadline")
            ax.xaxis.set_major_formatter(mdates.DateFormatter("%m-%d %H:%M" if hourly else "%m-%d"))
            ax.xaxis.set_major_locator(mdates.AutoDateLocator(minticks=2, maxticks=5))
            ax.legend(frameon=False, ncols=3, loc="upper left")
        ax.yaxis.get_major_locator().set_params(integer=True)
        ax.set_ylabel("submissions")
        ax.set_title(f"Submissions over time ({len(times)})")
        return _png(fig)
