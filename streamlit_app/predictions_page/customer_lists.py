"""The Predictions page's customer lists: the top customers by predicted 12-month
value, and those at risk (high past value, low probability of still being active)
for win-back actions.
"""

from __future__ import annotations

import pandas as pd
import streamlit as st

from streamlit_app import ui

CUSTOMER_COLUMNS = {
    "clv_rank": st.column_config.NumberColumn("Rank", format="%d"),
    "customer_id": st.column_config.TextColumn("Id"),
    "customer_name": "Customer",
    "email": "Email",
    "region_name": "Region",
    "clv_tier": "Tier",
    "orders": st.column_config.NumberColumn("Orders", format="%,d"),
    "historical_revenue": st.column_config.NumberColumn("Past revenue", format="%,.2f"),
    "last_order_date": st.column_config.DateColumn("Last order"),
    "days_since_last_order": st.column_config.NumberColumn("Days since", format="%,d"),
    "p_alive": st.column_config.ProgressColumn(
        "P(alive)", min_value=0.0, max_value=1.0, format="%.2f"
    ),
    "expected_purchases_12m": st.column_config.NumberColumn(
        "Expected purchases", format="%.1f"
    ),
    "expected_avg_value": st.column_config.NumberColumn(
        "Value per purchase", format="%,.2f"
    ),
    "expected_value_12m": st.column_config.NumberColumn(
        "Predicted value", format="%,.2f"
    ),
}
TOP_ORDER = [
    "clv_rank",
    "customer_name",
    "expected_value_12m",
    "expected_purchases_12m",
    "expected_avg_value",
    "p_alive",
    "orders",
    "historical_revenue",
    "last_order_date",
    "clv_tier",
    "region_name",
    "customer_id",
]
AT_RISK_ORDER = [
    "customer_name",
    "email",
    "historical_revenue",
    "orders",
    "p_alive",
    "last_order_date",
    "days_since_last_order",
    "expected_value_12m",
    "clv_tier",
    "region_name",
    "customer_id",
]


def section(top: pd.DataFrame, at_risk: pd.DataFrame) -> None:
    if top.empty:  # no CLV on this run: the section above says why
        return
    st.markdown("**Top predicted-value customers**")
    ui.table(
        top[TOP_ORDER],
        "top_predicted_value_customers",
        column_config=CUSTOMER_COLUMNS,
    )

    st.markdown("**At risk: high past value, low probability alive**")
    if len(at_risk):
        st.caption(_at_risk_summary(at_risk))
    ui.table(
        at_risk[AT_RISK_ORDER],
        "customers_at_risk",
        column_config=CUSTOMER_COLUMNS,
        empty="No customer is at risk: every high-value customer is likely active.",
    )


def _at_risk_summary(at_risk: pd.DataFrame) -> str:
    """How many customers are at risk, what they spent, and how many are listed."""
    return (
        f"{int(at_risk['at_risk_customers'].iloc[0]):,} customers in the top 20 % "
        "by past revenue have a probability of still being active below 0.5; "
        f"together they spent {ui.money(at_risk['at_risk_revenue'].iloc[0])}. "
        + (
            f"The {len(at_risk)} biggest past spenders"
            if len(at_risk) < at_risk["at_risk_customers"].iloc[0]
            else "All of them"
        )
        + ", for win-back actions."
    )
