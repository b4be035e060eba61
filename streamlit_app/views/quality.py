"""Data quality: load batches and rejects, the last dbt build, freshness, data as of.

This page also works before the marts exist: it then shows what dbt reported.
"""

from datetime import UTC, datetime

import pandas as pd
import plotly.express as px
import streamlit as st

from core.errors import MartMissing
from streamlit_app import ui, warehouse
from streamlit_app.queries import dbt_artifacts, quality

TOP_REASONS = 12
st.title("Data quality")
state = st.session_state.get("warehouse_state", "ready")


def section(render) -> None:
    """Run one section; a missing mart only hides that section."""
    try:
        render()
    except MartMissing as exc:
        st.info(
            f"Not available until `ecom build` has run: {exc}.",
            icon=":material/construction:",
        )


def age(moment: datetime | None) -> str:
    if moment is None:
        return "–"
    seconds = (datetime.now(UTC) - moment).total_seconds()
    if seconds < 3600:
        return f"{seconds / 60:.0f} min ago"
    if seconds < 48 * 3600:
        return f"{seconds / 3600:.1f} h ago"
    return f"{seconds / 86400:.0f} days ago"


def optional(load):
    """The result of load(), or None when its mart does not exist yet."""
    try:
        return load()
    except MartMissing:
        return None


results = dbt_artifacts.build_results()
tests = (
    results.nodes[results.nodes["kind"].isin(["test", "unit_test"])]
    if results
    else None
)
loaded = warehouse.gather(
    batches=lambda: optional(quality.load_batches),
    fresh=lambda: optional(quality.freshness) if state == "ready" else None,
    reasons=lambda: optional(quality.reject_reasons),
)
batches, fresh = loaded["batches"], loaded["fresh"]

cards = st.columns([1.5, 1, 1, 1, 1])
if fresh is not None:
    orders = fresh[fresh["data"] == "orders"].iloc[0]
    ui.kpi(
        cards[0],
        "Data as of",
        f"{orders['latest_event']:%Y-%m-%d}",
        help=f"Latest order: {orders['latest_event']:%Y-%m-%d %H:%M} UTC.",
    )
else:
    ui.kpi(cards[0], "Data as of", "–", help="No orders in the warehouse yet.")
if batches is not None:
    ui.kpi(cards[1], "Rows loaded", ui.count(batches["rows_loaded"].sum()))
    ui.kpi(
        cards[2],
        "Rows rejected",
        ui.count(batches["rows_rejected"].sum()),
        help="Rows the loader set aside in raw.load_rejects, with the reason.",
    )
if tests is not None:
    passed = int(tests["status"].eq("pass").sum())
    problems = int(tests["status"].isin(["fail", "error"]).sum())
    ui.kpi(cards[3], "Tests passed", ui.count(passed))
    ui.kpi(cards[4], "Tests failed", ui.count(problems))

st.subheader("Latest dbt run")
if results is None:
    st.info(
        "No dbt results found yet: run `ecom build`. (Looked for run_results.json "
        "in the dbt target folder.)",
        icon=":material/info:",
    )
else:
    when = results.generated_at
    st.caption(
        f"`dbt {results.command}` finished "
        + (f"{when:%Y-%m-%d %H:%M} UTC ({age(when)})" if when else "at an unknown time")
        + (f" in {results.elapsed_seconds:.0f} s." if results.elapsed_seconds else ".")
        + " Tests: "
        + ", ".join(
            f"{int(tests['status'].eq(status).sum()):,} {label}"
            for status, label in (
                ("pass", "passed"),
                ("fail", "failed"),
                ("warn", "warned"),
                ("error", "errored"),
                ("skipped", "skipped"),
            )
        )
        + "."
    )
    counts = (
        results.nodes.groupby(["kind", "status"], as_index=False)
        .size()
        .rename(columns={"size": "nodes"})
    )
    left, right = st.columns([2, 3])
    with left:
        fig = px.bar(
            counts,
            x="nodes",
            y="kind",
            color="status",
            orientation="h",
            color_discrete_map={
                "pass": "#2e7d32",
                "success": "#2e7d32",
                "warn": "#f9a825",
                "fail": "#c62828",
                "error": "#c62828",
                "skipped": "#9e9e9e",
                "no-op": "#bdbdbd",
            },
            labels={"nodes": "Nodes", "kind": "Kind", "status": "Status"},
        )
        fig.update_traces(hovertemplate="%{y}: %{x} %{fullData.name}<extra></extra>")
        ui.chart(fig, height=280)
    with right:
        fine = ["pass", "success", "no-op"]
        issues = results.nodes[~results.nodes["status"].isin(fine)]
        ui.table(
            issues[["kind", "name", "status", "failures", "message"]],
            "dbt_issues",
            column_config={
                "kind": "Kind",
                "name": "Node",
                "status": "Status",
                "failures": st.column_config.NumberColumn("Failing rows"),
                "message": "Message",
            },
            empty="Every model, snapshot, seed and test of the last run succeeded.",
        )
    with st.expander("All nodes of the last run"):
        ui.table(
            results.nodes.drop(columns=["unique_id"]),
            "dbt_run_results",
            column_config={
                "seconds": st.column_config.NumberColumn("Seconds", format="%.2f")
            },
        )

st.subheader("Loads")


def loads() -> None:
    if batches is None:
        raise MartMissing("marts.rpt_load_batches")
    if batches.empty:
        st.info("No file loaded yet: run `ecom load`.", icon=":material/info:")
        return
    reasons = loaded["reasons"]
    if reasons is None:
        raise MartMissing("marts.rpt_load_quality")
    if reasons.empty:
        st.success("No row was rejected by the loader.", icon=":material/check_circle:")
    else:
        # the 12 most frequent reasons, the rest summed up per table
        top = reasons.head(TOP_REASONS)
        rest = reasons.iloc[TOP_REASONS:].groupby("table_name", as_index=False)
        rest = rest["rejects"].sum().assign(reason="(all other reasons)")
        shown = pd.concat([top, rest], ignore_index=True)
        shown["label"] = ui.safe_text(
            shown["reason"]
            .str.slice(0, 70)
            .where(
                shown["reason"].str.len() <= 70, shown["reason"].str.slice(0, 69) + "…"
            )
        )
        fig = px.bar(
            shown,
            x="rejects",
            y="label",
            color="table_name",
            orientation="h",
            labels={
                "rejects": "Rejected rows",
                "label": "Reason",
                "table_name": "Table",
            },
            color_discrete_sequence=ui.COLORS,
        )
        fig.update_traces(
            hovertemplate="%{y}<br>%{x:,} rows<extra>%{fullData.name}</extra>"
        )
        fig.update_layout(yaxis={"categoryorder": "total ascending"}, yaxis_title=None)
        ui.chart(fig, height=max(260, 30 * shown["label"].nunique() + 120))
        ui.table(
            reasons,
            "reject_reasons",
            column_config={
                "table_name": "Table",
                "reason": "Reason",
                "rejects": st.column_config.NumberColumn("Rows", format="%,d"),
                "batches": st.column_config.NumberColumn("Batches", format="%,d"),
                "example_file": "Example file",
                "first_line_number": st.column_config.NumberColumn("First line"),
            },
        )
    st.caption("Load batches, newest first (one per file loaded).")
    ui.table(
        batches,
        "load_batches",
        column_config={
            "batch_id": st.column_config.NumberColumn("Batch", format="%d"),
            "table_name": "Table",
            "file_name": "File",
            "load_method": "Method",
            "file_bytes": st.column_config.NumberColumn("Size", format="bytes"),
            "rows_read": st.column_config.NumberColumn("Read", format="%,d"),
            "rows_loaded": st.column_config.NumberColumn("Loaded", format="%,d"),
            "rows_rejected": st.column_config.NumberColumn("Rejected", format="%,d"),
            "reject_rate": st.column_config.NumberColumn(
                "Reject rate", format="percent"
            ),
            "load_seconds": st.column_config.NumberColumn("Seconds", format="%.2f"),
            "started_at": st.column_config.DatetimeColumn(
                "Started", format="YYYY-MM-DD HH:mm:ss"
            ),
            "finished_at": None,
        },
    )


section(loads)

st.subheader("Freshness")


def freshness() -> None:
    if fresh is None:
        st.info("No data in the warehouse yet.", icon=":material/info:")
        return
    st.caption("Latest record of each kind of data in the marts (times in UTC).")
    shown = fresh.assign(
        event_age=[age(t) for t in fresh["latest_event"]],
        update_age=[age(t) for t in fresh["latest_update"]],
    )
    ui.table(
        shown[["data", "latest_event", "event_age", "latest_update", "update_age"]],
        "freshness",
        column_config={
            "data": "Data",
            "latest_event": st.column_config.DatetimeColumn(
                "Latest event", format="YYYY-MM-DD HH:mm"
            ),
            "event_age": "Age",
            "latest_update": st.column_config.DatetimeColumn(
                "Latest update", format="YYYY-MM-DD HH:mm"
            ),
            "update_age": "Age ",
        },
    )
    sources = dbt_artifacts.source_freshness()
    if sources is not None and not sources.empty:
        st.caption("`dbt source freshness` (last run):")
        ui.table(sources, "source_freshness")


section(freshness)
