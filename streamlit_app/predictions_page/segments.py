"""The Predictions page's customer segments (K-means on recency, frequency and
monetary value): segment sizes, the clusters on two principal components, the
profiles, the choice of k, and the clusters against the rule-based RFM segments.
"""

from __future__ import annotations

import pandas as pd
import plotly.express as px
import plotly.graph_objects as go
import streamlit as st

from streamlit_app import ui
from streamlit_app.predictions_page.model_status import SEGMENTS, Models


def section(
    profiles: pd.DataFrame,
    points: pd.DataFrame,
    k_selection: pd.DataFrame,
    crosstab: pd.DataFrame,
    models: Models,
) -> None:
    st.subheader("Customer segments (K-means)")
    if profiles.empty:
        models.not_fitted(SEGMENTS, "customer segments")
        return
    chosen_k = k_selection[k_selection["is_chosen"]]
    k = int(chosen_k["k"].iloc[0]) if len(chosen_k) else len(profiles)
    silhouette = chosen_k["silhouette"].iloc[0] if len(chosen_k) else None
    st.caption(
        f"K-means on standardised log recency, frequency and monetary value; k = {k} "
        "chosen by the silhouette score"
        + (f" ({silhouette:.3f})" if silhouette is not None else "")
        + " among 2 to 8. Each cluster is named from its profile."
    )
    names = ui.safe_text(profiles["segment_name"])
    colors = {name: ui.COLORS[i % len(ui.COLORS)] for i, name in enumerate(names)}
    left, right = st.columns(2)
    with left:
        st.markdown("**Segment sizes**")
        ui.chart(_sizes(profiles, names), height=380)
    with right:
        segmented = int(points["customers"].iloc[0]) if len(points) else 0
        st.markdown(
            f"**Clusters** ({len(points):,} of {segmented:,} customers, on the first "
            "two principal components)"
        )
        ui.chart(_clusters(points, names, colors), height=380)

    _profiles_table(profiles)

    left, right = st.columns([2, 3])
    with left:
        st.markdown("**Choice of k**")
        _k_choice(k_selection, chosen_k)
    with right:
        st.markdown("**Against the rule-based RFM segments**")
        st.caption(
            "Each row: how the customers of one rule-based RFM segment (dbt, "
            "`rpt_customer_rfm`) split across the K-means clusters."
        )
        _rfm_heatmap(crosstab, profiles)
    _crosstab_table(crosstab)


def _sizes(profiles: pd.DataFrame, names: list[str]) -> go.Figure:
    fig = go.Figure()
    for column, label, color, count in (
        ("share_pct", "Share of customers", ui.COLORS[0], "customers"),
        ("revenue_share_pct", "Share of revenue", ui.COLORS[1], None),
    ):
        fig.add_bar(
            x=names,
            y=profiles[column] / 100,
            name=label,
            marker_color=color,
            customdata=profiles[["customers"]] if count else None,
            hovertemplate="%{x}<br>%{y:.1%} of "
            + ("customers (%{customdata[0]:,})" if count else "net_revenue")
            + "<extra></extra>",
        )
    fig.update_layout(
        barmode="group",
        yaxis_tickformat=".0%",
        xaxis_title=None,
    )
    return fig


def _clusters(
    points: pd.DataFrame, names: list[str], colors: dict[str, str]
) -> go.Figure:
    shown_points = points.assign(segment=ui.safe_text(points["segment_name"]))
    fig = px.scatter(
        shown_points,
        x="pc1",
        y="pc2",
        color="segment",
        color_discrete_map=colors,
        category_orders={"segment": names},
        custom_data=["customer_id", "recency_days", "frequency", "monetary"],
        labels={
            "pc1": "Principal component 1",
            "pc2": "Principal component 2",
            "segment": "Segment",
        },
        opacity=0.6,
    )
    fig.update_traces(
        marker={"size": 5},
        hovertemplate="Customer %{customdata[0]}<br>%{customdata[1]} days since "
        "last order<br>%{customdata[2]} orders, %{customdata[3]:,.2f}"
        "<extra>%{fullData.name}</extra>",
    )
    return fig


def _profiles_table(profiles: pd.DataFrame) -> None:
    ui.table(
        profiles,
        "segment_profiles",
        column_config={
            "cluster": st.column_config.NumberColumn("Cluster", format="%d"),
            "segment_name": "Segment",
            "customers": st.column_config.NumberColumn("Customers", format="%,d"),
            "share_pct": st.column_config.NumberColumn(
                "% of customers", format="%.1f%%"
            ),
            "revenue_share_pct": st.column_config.NumberColumn(
                "% of revenue", format="%.1f%%"
            ),
            "median_recency_days": st.column_config.NumberColumn(
                "Median days since order", format="%.0f"
            ),
            "median_frequency": st.column_config.NumberColumn(
                "Median orders", format="%.0f"
            ),
            "median_monetary": st.column_config.NumberColumn(
                "Median revenue", format="%,.2f"
            ),
            "mean_recency_days": st.column_config.NumberColumn(
                "Avg days since order", format="%.0f"
            ),
            "mean_frequency": st.column_config.NumberColumn(
                "Avg orders", format="%.1f"
            ),
            "mean_monetary": st.column_config.NumberColumn(
                "Avg revenue", format="%,.2f"
            ),
            "top_rfm_segment": "Main RFM segment",
            "top_rfm_segment_pct": st.column_config.NumberColumn(
                "% in main RFM segment", format="%.1f%%"
            ),
            "centre_recency_days_z": st.column_config.NumberColumn(
                "Centre: recency (z)", format="%+.2f"
            ),
            "centre_frequency_z": st.column_config.NumberColumn(
                "Centre: frequency (z)", format="%+.2f"
            ),
            "centre_monetary_z": st.column_config.NumberColumn(
                "Centre: monetary (z)", format="%+.2f"
            ),
        },
    )


def _k_choice(k_selection: pd.DataFrame, chosen_k: pd.DataFrame) -> None:
    """Silhouette score per k tried (the chosen k starred), and the table."""
    fig = go.Figure()
    fig.add_scatter(
        x=k_selection["k"],
        y=k_selection["silhouette"],
        mode="lines+markers",
        name="Silhouette",
        line={"color": ui.COLORS[0]},
        hovertemplate="k = %{x}<br>Silhouette %{y:.3f}<extra></extra>",
    )
    fig.add_scatter(
        x=chosen_k["k"],
        y=chosen_k["silhouette"],
        mode="markers",
        name="Chosen",
        marker={"color": ui.GOOD, "size": 14, "symbol": "star"},
        hovertemplate="k = %{x} (chosen)<br>Silhouette %{y:.3f}<extra></extra>",
    )
    fig.update_layout(
        xaxis={"title": "Number of clusters k", "dtick": 1},
        yaxis_title="Silhouette score",
        showlegend=False,
    )
    ui.chart(fig, height=260)
    ui.table(
        k_selection,
        "segment_k_selection",
        column_config={
            "k": st.column_config.NumberColumn("k", format="%d"),
            "silhouette": st.column_config.NumberColumn("Silhouette", format="%.3f"),
            "inertia": st.column_config.NumberColumn("Inertia", format="%,.0f"),
            "is_chosen": st.column_config.CheckboxColumn("Chosen"),
        },
    )


def _rfm_heatmap(crosstab: pd.DataFrame, profiles: pd.DataFrame) -> None:
    """Share of each RFM segment in each K-means cluster."""
    grid = crosstab.pivot_table(
        index="rfm_segment",
        columns="segment_name",
        values="share_of_rfm_segment_pct",
        aggfunc="first",
        fill_value=0.0,
    ).reindex(columns=list(profiles["segment_name"]), fill_value=0.0)
    customers = crosstab.pivot_table(
        index="rfm_segment",
        columns="segment_name",
        values="customers",
        aggfunc="first",
        fill_value=0,
    ).reindex(index=grid.index, columns=grid.columns, fill_value=0)
    fig = go.Figure(
        go.Heatmap(
            z=grid.values / 100,
            x=ui.safe_text(grid.columns),
            y=ui.safe_text(grid.index),
            customdata=customers.values,
            colorscale="Blues",
            zmin=0,
            zmax=1,
            texttemplate="%{z:.0%}",
            colorbar={"title": "Share", "tickformat": ".0%"},
            hovertemplate="RFM %{y} → %{x}<br>%{z:.1%} of the RFM segment "
            "(%{customdata:,} customers)<extra></extra>",
        )
    )
    fig.update_layout(
        xaxis_title="K-means segment",
        yaxis={"title": None, "autorange": "reversed"},
    )
    ui.chart(fig, height=max(300, 32 * len(grid) + 120))


def _crosstab_table(crosstab: pd.DataFrame) -> None:
    ui.table(
        crosstab,
        "segment_rfm_crosstab",
        column_config={
            "cluster": st.column_config.NumberColumn("Cluster", format="%d"),
            "segment_name": "Segment",
            "rfm_segment": "RFM segment",
            "customers": st.column_config.NumberColumn("Customers", format="%,d"),
            "share_of_cluster_pct": st.column_config.NumberColumn(
                "% of the cluster", format="%.1f%%"
            ),
            "share_of_rfm_segment_pct": st.column_config.NumberColumn(
                "% of the RFM segment", format="%.1f%%"
            ),
        },
    )
