"""What every figure in these notebooks shares: UTC time axes, plain number axes, and `show`.

`show(fig)` draws the figure once, displays it as a PNG, and attaches what a reader sees
on each panel (axis labels, legend entries, offset text, bar sizes) as the PNG output's
metadata under "tapedeck/axes". test/interop/notebooks.int.test.ts reads that metadata and
holds every figure to the same rules (a label on every numeric axis, UTC on time axes, no `+1e5`
offsets, a legend where a panel draws more than one thing, no panel of zero bars), so a
figure that breaks one fails the test instead of waiting for someone to look at it.
"""
import io
import re

import matplotlib.dates as mdates
import matplotlib.pyplot as plt
import matplotlib.ticker as mticker
import pandas as pd
from IPython.display import Image, display

_TIME_FORMATTERS = (mdates.ConciseDateFormatter, mdates.DateFormatter, mdates.AutoDateFormatter)


def time_axis(ax, times, what="time"):
    """Formats ax's x axis as UTC clock times and names the UTC date(s) in its label.

    The formatter shows hours and minutes (and the date where a day starts); the date itself
    goes in the label rather than in matplotlib's offset text, which the rules forbid.
    Axes that share x with ax (plt.subplots(sharex=True)) share the formatter too.
    """
    times = pd.to_datetime(pd.Series(list(times)), utc=True)
    first, last = times.min().strftime("%Y-%m-%d"), times.max().strftime("%Y-%m-%d")
    locator = mdates.AutoDateLocator(tz="UTC")
    ax.xaxis.set_major_locator(locator)
    ax.xaxis.set_major_formatter(mdates.ConciseDateFormatter(locator, tz="UTC", show_offset=False))
    ax.set_xlabel(f"{what} (UTC, {first})" if first == last else f"{what} (UTC, {first} to {last})")


def plain_axis(axis, label):
    """Labels an axis and writes its ticks in full: 100,020 rather than 20 and `+1e5`."""
    axis.set_major_formatter(PlainFormatter())
    axis.set_label_text(label)


class PlainFormatter(mticker.ScalarFormatter):
    """matplotlib's own choice of decimals for the tick step, without offset or scientific
    notation, with thousands separated."""

    def __init__(self):
        super().__init__(useOffset=False)
        self.set_scientific(False)

    def __call__(self, x, pos=None):
        decimals = re.search(r"\.(\d+)f", self.format)  # set by set_locs from the tick step
        return f"{x:,.{int(decimals.group(1)) if decimals else 0}f}".replace("-", "\N{MINUS SIGN}")


def quote_currency(symbol, asset):
    """The currency a market's prices are in: USD for Coinbase's BTC-USD, USDT for Binance's
    BTCUSDT (the candles' `asset` column names the base, BTC/USD, whatever the quote)."""
    if "-" in symbol:
        return symbol.split("-", 1)[1]
    base = asset.split("/", 1)[0]
    return symbol[len(base):] if symbol.startswith(base) else asset.split("/", 1)[1]


def show(fig):
    """Displays fig as a PNG with the facts about each of its panels, then closes it."""
    fig.canvas.draw()  # tick labels and offset texts exist only once the figure is drawn
    facts = [_axes_facts(ax) for ax in fig.axes if ax.get_visible()]
    png = io.BytesIO()
    fig.savefig(png, format="png", dpi=100, bbox_inches="tight")
    plt.close(fig)
    display(Image(data=png.getvalue(), format="png"), metadata={"tapedeck/axes": facts})


def _axes_facts(ax):
    legend = ax.get_legend()
    bars = [p.get_height() if c.orientation == "vertical" else p.get_width()
            for c in ax.containers if hasattr(c, "orientation") for p in c.patches]
    return {
        "title": ax.get_title(),
        "xlabel": ax.get_xlabel(),
        "ylabel": ax.get_ylabel(),
        # Panels stacked with sharex show their x tick labels (and need an x label) only at the bottom.
        "x_ticklabels": any(t.get_visible() and t.get_text() for t in ax.get_xticklabels()),
        # Ticks that are words (named categories) label themselves; numbers need a unit.
        "y_categorical": any(re.search(r"[^\W\d_]", t.get_text()) for t in ax.get_yticklabels()),
        "x_time": isinstance(ax.xaxis.get_major_formatter(), _TIME_FORMATTERS),
        "offsets": [ax.xaxis.get_offset_text().get_text(), ax.yaxis.get_offset_text().get_text()],
        "legend": [t.get_text() for t in legend.get_texts()] if legend else [],
        "drawn": len(ax.lines) + len(ax.collections) + len(ax.containers),
        "bars": len(bars),
        "zero_bars": sum(1 for b in bars if b == 0),
    }
