"""Shared building blocks for the pages: number formats, KPI cards, charts,
tables with a CSV download, and the empty / error states.

Text that comes from the data is never rendered as HTML or Markdown: tables go
through st.dataframe, chart labels are HTML-escaped (Plotly understands a few
tags in labels), and messages use st.text or code spans of fixed text.
"""

from __future__ import annotations

import html
import math
import re
from collections.abc import Iterable

import pandas as pd
import plotly.express as px
import plotly.graph_objects as go
import streamlit as st

from core.errors import MartMissing, WarehouseError, WarehouseUnavailable
from streamlit_app import warehouse

PLOTLY_CONFIG = {
    "displaylogo": False,
    "modeBarButtonsToRemove": ["lasso2d", "select2d"],
}
COLORS = px.colors.qualitative.Safe
GOOD = "#2e7d32"
BAD = "#c62828"
WARN = "#f9a825"

# ------------------------------------------------------------------------ formats


def _missing(value: float | None) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value))


def money(value: float | None) -> str:
    """1234567.891 -> '1,234,568' (whole currency units)."""
    return "–" if _missing(value) else f"{value:,.0f}"


def money2(value: float | None) -> str:
    """85.318 -> '85.32'."""
    return "–" if _missing(value) else f"{value:,.2f}"


def count(value: float | None) -> str:
    return "–" if _missing(value) else f"{value:,.0f}"


def percent(value: float | None, digits: int = 1) -> str:
    """A ratio (0.345) as '34.5%'."""
    return "–" if _missing(value) else f"{100 * value:.{digits}f}%"


def change(current: float | None, previous: float | None) -> str | None:
    """Relative change as '+12.3%' / '-4.0%'; None when there is no base."""
    if _missing(current) or _missing(previous) or previous == 0:
        return None
    return f"{100 * (current - previous) / abs(previous):+.1f}%"


def percentage(value: float | None, digits: int = 1) -> str:
    """A percentage (34.5) as '34.5%'."""
    return "–" if _missing(value) else f"{value:.{digits}f}%"


def points(current: float | None, previous: float | None) -> str | None:
    """Difference of two percentages in percentage points, '+1.2 pp'."""
    if _missing(current) or _missing(previous):
        return None
    return f"{current - previous:+.1f} pp"


NOT_AVAILABLE = "not available"


def margin_labels(values: pd.Series) -> pd.Series:
    """Margin percentages for chart hover labels: '34.5%', or 'not available'
    where a cost is unknown (a number format would show 'NaN%')."""
    return values.map(lambda v: NOT_AVAILABLE if _missing(v) else f"{v:.1f}%")


# ---------------------------------------------------------------------- elements


def kpi(
    column,
    label: str,
    value: str,
    delta: str | None = None,
    help: str | None = None,
) -> None:
    """A KPI card; a delta that rounds to zero is shown grey, without an arrow."""
    flat = delta is not None and re.fullmatch(r"[+-]?0(\.0+)?( ?%| pp)", delta)
    column.metric(
        label,
        value,
        delta.lstrip("+-") if flat else delta,
        help=help,
        border=True,
        delta_color="off" if flat else "normal",
        delta_arrow="off" if flat else "auto",
    )


# Characters that Markdown (and Streamlit's extensions: colours, icons, LaTeX)
# gives a meaning to; a backslash makes each one literal.
_MARKDOWN_SPECIALS = re.compile(r"([\\`*_{}\[\]<>()#+\-.!|~:$=])")


def plain(text: object) -> str:
    """Data text made literal for an element that renders Markdown (captions,
    titles, messages, labels): no emphasis, links or remote images."""
    return _MARKDOWN_SPECIALS.sub(r"\\\1", str(text))


def safe_text(values: Iterable) -> list[str]:
    """Escape data text for Plotly labels, which understand a few HTML tags."""
    return [html.escape(str(v), quote=False) for v in values]


def escape_columns(frame: pd.DataFrame, columns: Iterable[str]) -> pd.DataFrame:
    """A copy of frame with the text columns escaped for a Plotly chart."""
    frame = frame.copy()
    for column in columns:
        frame[column] = safe_text(frame[column])
    return frame


def chart(fig: go.Figure, height: int | None = None) -> None:
    fig.update_layout(
        margin={"l": 10, "r": 10, "t": 40 if fig.layout.title.text else 10, "b": 10},
        hoverlabel={"namelength": -1},
        legend={"orientation": "h", "yanchor": "bottom", "y": 1.02, "x": 0},
    )
    if height:
        fig.update_layout(height=height)
    st.plotly_chart(fig, width="stretch", config=PLOTLY_CONFIG)


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "_", text.lower()).strip("_") or "table"


def table(
    frame: pd.DataFrame,
    name: str,
    *,
    column_config: dict | None = None,
    height: int | str = "auto",
    empty: str = "Nothing to show for these filters.",
) -> None:
    """A table with a CSV download of exactly its rows underneath."""
    if frame.empty:
        st.info(empty, icon=":material/info:")
        return
    st.dataframe(
        frame,
        hide_index=True,
        width="stretch",
        height=height,
        column_config=column_config,
    )
    st.download_button(
        "Download CSV",
        frame.to_csv(index=False).encode("utf-8"),
        file_name=f"{_slug(name)}.csv",
        mime="text/csv",
        key=f"csv_{_slug(name)}",
        icon=":material/download:",
        on_click="ignore",
    )


def margin_note(margins: pd.Series, reason: str, what: str = "Gross margin") -> None:
    """Say why margins are missing (blank) from the table or chart above, if any
    are; reason is fixed text such as "no unit costs in the data"."""
    unknown = margins.isna()
    if not unknown.any():
        return
    where = "" if unknown.all() else " where blank"
    st.caption(f"{what} {NOT_AVAILABLE}{where}: {reason}.")


def filters_caption(text: str) -> None:
    st.caption(text)


# -------------------------------------------------------------------------- states


def unreachable(exc: Exception) -> None:
    """Full-page message when the database cannot be reached."""
    st.title("The warehouse database is not reachable")
    st.error(
        "The dashboards cannot load any data right now.", icon=":material/cloud_off:"
    )
    st.text(str(exc))
    st.markdown(
        "What to do:\n"
        "- with the embedded database, start it with `ecom db start` "
        "(or simply run `ecom app`, which starts it);\n"
        "- with your own server, check `PGHOST`, `PGPORT`, `PGUSER`, `PGPASSWORD` "
        "and `PGDATABASE` (or `DATABASE_URL`) and that the server is running;\n"
        "- then press **Try again**."
    )
    _retry_button()


def no_marts(missing: Iterable[str]) -> None:
    """Full-page message when dbt has not built the marts yet."""
    st.title("The warehouse has not been built yet")
    st.warning(
        "The dashboards read the dbt marts, and these tables do not exist yet:",
        icon=":material/construction:",
    )
    st.text(", ".join(f"marts.{name}" for name in missing))
    st.markdown(
        "Run `ecom load` to load your CSV files (or `ecom generate` first for demo "
        "data), then `ecom build` to build the marts, and press **Try again**."
    )
    _retry_button()


def empty_warehouse() -> None:
    """Empty state: the marts exist but hold no orders."""
    st.title("No data in the warehouse yet")
    st.info(
        "The marts are built but contain no orders, so there is nothing to chart.",
        icon=":material/inbox:",
    )
    st.markdown(
        "To fill the warehouse: run `ecom load` with a folder of CSV files "
        "(`ecom generate` writes demo data), then `ecom build`, and press "
        "**Try again**. `ecom demo` does all three."
    )
    _retry_button()


def page_error(exc: WarehouseError) -> None:
    """Shown in place of a page whose query failed."""
    if isinstance(exc, MartMissing):
        st.warning(
            "This page needs a table the last `dbt build` did not create.",
            icon=":material/construction:",
        )
        st.text(str(exc).capitalize() + ".")
        st.markdown("Run `ecom build` to build every mart, then press **Try again**.")
    elif isinstance(exc, WarehouseUnavailable):
        unreachable(exc)
        return
    else:
        st.error("This page could not load its data.", icon=":material/error:")
        st.text(str(exc))
    _retry_button()


def _retry_button() -> None:
    if st.button("Try again", icon=":material/refresh:", key="retry"):
        warehouse.clear_cache()
        st.rerun()


def no_rows(message: str = "No sales match these filters.") -> None:
    st.info(
        message + " Widen the date range or clear a filter.", icon=":material/info:"
    )
