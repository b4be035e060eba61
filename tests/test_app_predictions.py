"""The Predictions page under Streamlit's AppTest, on a real warehouse.

The page renders after `run_predictions`; its KPI cards and tables equal
independent SQL on schema `ml` (and on the marts); it reads only `marts` and `ml`;
without the ml tables (or without the marts) it says what to run instead.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from conftest import signed_in_viewer
from streamlit.testing.v1 import AppTest

from core import db
from core.accounts import User
from predict import run_predictions
from streamlit_app import ui
from streamlit_app import warehouse as wh
from streamlit_app.queries import predictions

ROOT = Path(__file__).resolve().parent.parent
APP = ROOT / "streamlit_app" / "app.py"
PAGE = "views/predictions.py"


# ----------------------------------------------------------------------- helpers
# (as in test_app_pages.py)


SIGNED_IN: dict[str, User | None] = {"user": None}


def use_database(
    monkeypatch, env: dict[str, str], target: Path | None = None, account: bool = True
) -> None:
    """AppTest runs the app in this process: point this process at `env`, signed
    in as a viewer (an account in that database, unless `account` is False)."""
    SIGNED_IN["user"] = signed_in_viewer(monkeypatch, env, target, account)


def sql(env: dict[str, str], statement: str, params=None) -> list[tuple]:
    with db.connect(env) as conn:
        return conn.execute(statement, params).fetchall()


def open_page(page: str = PAGE) -> AppTest:
    at = AppTest.from_file(str(APP), default_timeout=120)
    at.session_state["user"] = SIGNED_IN["user"]
    at.run()
    if page != "overview":
        at.switch_page(page).run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def metric(at: AppTest, label: str):
    found = [m for m in at.metric if m.label == label]
    assert found, f"no metric {label!r} among {[m.label for m in at.metric]}"
    return found[0]


def titles(at: AppTest) -> list[str]:
    return [t.value for t in at.title]


@pytest.fixture(scope="module")
def predicted(built_warehouse) -> dict:
    """The session's warehouse (scale 0.2) with the predictions written."""
    run_predictions(built_warehouse["env"], seed=42)
    return built_warehouse


@pytest.fixture
def warehouse(predicted, monkeypatch) -> dict[str, str]:
    env = predicted["env"]
    use_database(monkeypatch, env, Path(predicted["target_path"]))
    return env


def infos(at) -> str:
    return " ".join(i.value for i in at.info)


def markdown(at) -> str:
    return " ".join(m.value for m in at.markdown)


def make_marts(env: dict[str, str]) -> None:
    """The smallest marts the app accepts as built and not empty (one order)."""
    with db.connect(env, autocommit=True) as conn:
        conn.execute("create schema marts")
        conn.execute(
            "create table marts.dim_channels (channel_id text, channel_name text)"
        )
        conn.execute("insert into marts.dim_channels values ('1', 'Web')")
        conn.execute(
            "create table marts.dim_regions (region_id text, region_name text)"
        )
        conn.execute("insert into marts.dim_regions values ('1', 'North')")
        conn.execute("create table marts.dim_products (product_id text, category text)")
        conn.execute("insert into marts.dim_products values ('1', 'books')")
        conn.execute("create table marts.dim_customers (customer_id text)")
        conn.execute(
            "create table marts.fct_orders (order_id text, order_date date, "
            "channel_id text, ship_region_id text)"
        )
        conn.execute(
            "insert into marts.fct_orders values ('1', '2025-01-01', '1', '1')"
        )
        conn.execute("create table marts.fct_order_items (order_id text)")


# ------------------------------------------------------------------ with data


def test_page_renders_every_section(warehouse):
    at = open_page()
    assert titles(at) == ["Predictions"]
    assert not at.error, [e.value for e in at.error]
    assert any("sidebar filters do not apply" in c.value for c in at.caption)
    # every model fitted as designed, on the latest build: nothing to warn about
    assert not at.warning, [w.value for w in at.warning]
    assert len(at.metric) == 5
    subheaders = [s.value for s in at.main.subheader]
    assert subheaders == [
        "Revenue forecast",
        "Backtest: ETS against the baselines",
        "Customer lifetime value and churn risk",
        "Customer segments (K-means)",
    ]
    # forecast, horizons, CLV histogram and tiers, calibration, segment sizes,
    # scatter, choice of k, cross-tab
    assert len(at.get("plotly_chart")) == 9
    assert len(at.dataframe) == len(at.download_button) == 10
    for download in at.download_button:
        assert download.proto.label == "Download CSV"


def test_kpis_equal_sql(warehouse):
    at = open_page()
    forecast, months = sql(
        warehouse,
        """
        select sum(forecast), array_agg(month order by month)
        from ml.revenue_forecast
        where category = 'all' and is_forecast
        """,
    )[0]
    assert len(months) == 6
    # the same months a year earlier, from the facts rather than ml
    (year_before,) = sql(
        warehouse,
        """
        select sum(net_revenue) from marts.fct_orders
        where
            is_sale
            and date_trunc('month', order_date)::date
                = any(array(select (m - interval '1 year')::date from unnest(%s) m))
        """,
        [months],
    )[0]
    card = metric(at, "6-month forecast")
    assert card.value == ui.money(float(forecast))
    assert card.delta == ui.change(float(forecast), float(year_before))

    # MAPE and "beats both" recomputed from the backtest rows
    rows = sql(
        warehouse,
        """
        select category, model, avg(ape_pct)
        from ml.forecast_backtest
        group by category, model
        """,
    )
    mape = {(category, model): value for category, model, value in rows}
    assert metric(at, "Backtest MAPE").value == (f"{mape['all', 'ets']:.1f}%")
    categories = {category for category, _ in mape}
    beating = sum(
        mape[c, "ets"] < min(mape[c, "seasonal_naive"], mape[c, "moving_average_3"])
        for c in categories
    )
    assert metric(at, "Beats baselines").value == f"{beating} of {len(categories)}"

    (value,) = sql(warehouse, "select sum(expected_value_12m) from ml.customer_clv")[0]
    assert metric(at, "12-month CLV").value == ui.money(float(value))
    # at risk by its definition: top 20 % past revenue and P(alive) below 0.5
    (at_risk,) = sql(
        warehouse,
        """
        with threshold as (
            select percentile_cont(0.8) within group (order by historical_revenue) as q
            from ml.customer_clv
        )
        select count(*)
        from ml.customer_clv
        cross join threshold
        where historical_revenue >= threshold.q and p_alive < 0.5
        """,
    )[0]
    assert at_risk > 0, "the generated data should have customers at risk"
    assert metric(at, "Customers at risk").value == ui.count(at_risk)


def test_series_selector_shows_that_series(warehouse):
    at = open_page()
    box = at.selectbox(key="prediction_series")
    (categories,) = sql(
        warehouse,
        "select array_agg(distinct category) from ml.revenue_forecast"
        " where category <> 'all'",
    )[0]
    assert box.value == "all"
    assert box.options == ["Total (all categories)", *sorted(categories)]
    category = sorted(categories)[-1]
    box.set_value(category).run()
    assert not at.exception, [e.value for e in at.exception]
    expected = sql(
        warehouse,
        """
        select to_char(month, 'YYYY-MM'), forecast, lo80, hi80, lo95, hi95
        from ml.revenue_forecast
        where category = %s and is_forecast
        order by month
        """,
        [category],
    )
    shown = at.dataframe[0].value
    assert [tuple(row) for row in shown.itertuples(index=False)] == [
        (month, *map(float, rest)) for month, *rest in expected
    ]
    # nested intervals around the point forecast
    assert (shown["lo95"] <= shown["lo80"]).all()
    assert (shown["lo80"] <= shown["forecast"]).all()
    assert (shown["forecast"] <= shown["hi80"]).all()
    assert (shown["hi80"] <= shown["hi95"]).all()


def test_customer_lists_equal_sql(warehouse):
    at = open_page()
    lists = [d.value for d in at.dataframe if "p_alive" in d.value.columns]
    top, at_risk = lists
    assert "clv_rank" in top.columns and "clv_rank" not in at_risk.columns
    expected_top = [
        row[0]
        for row in sql(
            warehouse,
            """
            select customer_id from ml.customer_clv
            order by expected_value_12m desc, customer_id
            limit 25
            """,
        )
    ]
    assert top["customer_id"].tolist() == expected_top
    expected_risk = [
        row[0]
        for row in sql(
            warehouse,
            """
            select customer_id from ml.customer_clv
            where is_at_risk
            order by historical_revenue desc, customer_id
            limit 100
            """,
        )
    ]
    assert at_risk["customer_id"].tolist() == expected_risk
    assert (at_risk["p_alive"] < 0.5).all()
    # names come from the customer dimension
    (name,) = sql(
        warehouse,
        "select full_name from marts.dim_customers where customer_id = %s",
        [expected_top[0]],
    )[0]
    assert top["customer_name"].iloc[0] == name


def test_segment_tables_equal_sql(warehouse):
    at = open_page()
    by_columns = {tuple(d.value.columns): d.value for d in at.dataframe}
    k_table = next(t for c, t in by_columns.items() if "silhouette" in c)
    chosen = sql(
        warehouse,
        """
        select k from ml.segment_k_selection
        order by silhouette desc nulls last, k
        limit 1
        """,
    )[0][0]
    assert k_table.loc[k_table["is_chosen"], "k"].tolist() == [chosen]
    profiles = next(t for c, t in by_columns.items() if "revenue_share_pct" in c)
    sizes = dict(
        sql(
            warehouse,
            "select segment_name, count(*) from ml.customer_segments group by 1",
        )
    )
    assert (
        dict(zip(profiles["segment_name"], profiles["customers"], strict=True)) == sizes
    )
    assert len(profiles) == chosen


def test_caption_says_when_and_on_which_build_the_fit_was_made(warehouse):
    at = open_page()
    (run_id, seed, as_of, run_at, built), *_ = sql(
        warehouse,
        """
        select
            run_id,
            seed,
            as_of_date,
            run_at at time zone 'UTC',
            marts_built_at at time zone 'UTC'
        from ml.model_runs
        order by run_id desc
        limit 1
        """,
    )
    assert built is not None
    expected = (
        f"Fitted by `ecom predict` at {run_at:%Y-%m-%d %H:%M} UTC on the marts built "
        f"at {built:%Y-%m-%d %H:%M} UTC, with orders up to {as_of} (run {run_id}, "
        f"seed {seed})."
    )
    assert any(c.value.startswith(expected) for c in at.caption), [
        c.value for c in at.caption
    ]


def test_page_reads_only_marts_and_ml(warehouse, monkeypatch):
    recorded: list[tuple[str, dict]] = []
    monkeypatch.setattr(wh, "_recorder", recorded)
    open_page()
    statements = [s for s, _ in recorded]
    assert any("from ml." in s for s in statements)
    schemas = {
        schema
        for statement in statements
        for schema in re.findall(r"\b(?:from|join)\s+([a-z_]+)\.", statement)
    }
    assert schemas <= {"marts", "ml"}, schemas


# ------------------------------------------------------------- empty states


def test_without_ml_tables_the_page_says_what_to_run(fresh_db, monkeypatch):
    make_marts(fresh_db)
    use_database(monkeypatch, fresh_db)
    at = open_page()
    assert titles(at) == ["Predictions"]
    assert "No predictions yet" in infos(at)
    assert "`ecom predict`" in markdown(at)
    assert "`ecom demo`" in markdown(at)
    assert not at.error
    assert not at.metric and not at.dataframe
    assert [b.label for b in at.button if b.key == "retry_predictions"] == ["Try again"]
    # the other pages are not affected
    at = open_page("overview")
    assert titles(at) == ["Overview"]


def test_partial_ml_schema_names_the_missing_tables(fresh_db, monkeypatch):
    make_marts(fresh_db)
    with db.connect(fresh_db, autocommit=True) as conn:
        conn.execute("create schema ml")
        conn.execute("create table ml.revenue_forecast (category text)")
    use_database(monkeypatch, fresh_db)
    at = open_page()
    assert "No predictions yet" in infos(at)
    missing = " ".join(t.value for t in at.text)
    assert "ml.customer_clv" in missing
    assert "ml.revenue_forecast" not in missing


def test_not_built_warehouse_says_build_then_predict(fresh_db, monkeypatch):
    use_database(monkeypatch, fresh_db)
    at = open_page()
    assert titles(at) == ["Predictions"]
    assert "No predictions yet" in infos(at)
    assert "`ecom build`" in markdown(at) and "`ecom predict`" in markdown(at)
    assert not at.exception and not at.error


def test_status_stamp_changes_with_every_run(fresh_db, monkeypatch):
    """Each run recreates the ml tables, so cached results never outlive a run."""
    use_database(monkeypatch, fresh_db)
    assert predictions.predictions_status().missing == predictions.ML_TABLES
    with db.connect(fresh_db, autocommit=True) as conn:
        conn.execute("create schema ml")
        for table in predictions.ML_TABLES:
            conn.execute(f"create table ml.{table} (id int)")
    first = predictions.predictions_status()
    assert first.ready and first.stamp
    assert predictions.predictions_status() == first
    with db.connect(fresh_db, autocommit=True) as conn:
        conn.execute("drop table ml.customer_clv")
        conn.execute("create table ml.customer_clv (id int)")
    second = predictions.predictions_status()
    assert second.ready and second.stamp != first.stamp
