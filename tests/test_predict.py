"""Predictions (package predict/): the CLV models against their published reference
(CDNOW), the forecast against its baselines, segment stability, and the ml tables
written from a real warehouse (recomputed here from the rows and the marts)."""

from __future__ import annotations

from datetime import date

import numpy as np
import pandas as pd
import pytest
import yaml
from psycopg import sql
from sklearn.metrics import adjusted_rand_score, silhouette_score

from core import db
from core.dbt_runner import DBT_PROJECT_DIR
from core.errors import EcomError
from predict import clv, customers, forecast, segments, status, tables
from predict.run import (
    STEPS,
    read_inputs,
    run_predictions,
    segment_features,
)

TOLERANCE = 0.02  # 2 % of the published values
RFM_SQL = """
select customer_id, segment_name as rfm_segment
from marts.rpt_customer_rfm
where customer_id is not null
"""


def frame(env: dict[str, str], statement: str, params=None) -> pd.DataFrame:
    with db.connect(env) as conn, conn.cursor() as cur:
        cur.execute(statement, params)
        return pd.DataFrame(cur.fetchall(), columns=[c.name for c in cur.description])


# ------------------------------------------------------------ CLV reference: CDNOW


def test_bgnbd_reproduces_the_published_cdnow_parameters():
    data = clv.cdnow_summary()
    assert len(data) == 2357
    fitted = clv.fit_bgnbd(data["frequency"], data["recency"], data["age"])
    for name, published in clv.CDNOW_BGNBD.items():
        value = getattr(fitted, name)
        assert value == pytest.approx(published, rel=TOLERANCE), name
    assert fitted.loglik == pytest.approx(clv.CDNOW_BGNBD_LOGLIK, abs=0.1)


def test_gamma_gamma_reproduces_the_published_cdnow_parameters():
    data = clv.cdnow_summary()
    fitted = clv.fit_gamma_gamma(data["frequency"], data["monetary"])
    assert fitted.n_customers == 946  # customers with a repeat purchase
    for name, published in clv.CDNOW_GAMMA_GAMMA.items():
        assert getattr(fitted, name) == pytest.approx(published, rel=TOLERANCE), name


def test_cdnow_raw_transactions_give_the_same_fit_through_our_pipeline():
    """From the raw CDNOW transactions, the purchase-day summary and the
    calibration split (39 + 39 weeks) reproduce the published fit."""
    raw = clv.cdnow_transactions()
    days = (
        raw.groupby(["customer_id", "date"])
        .agg(orders=("cds", "size"), revenue=("value", "sum"))
        .reset_index()
        .rename(columns={"date": "order_date"})
    )
    days["order_date"] = days["order_date"].dt.date
    result = customers.calibration(days, date(1998, 6, 30), holdout_days=273)
    assert result.holdout_start == date(1997, 10, 1)
    for name, published in clv.CDNOW_BGNBD.items():
        value = getattr(result.bgnbd, name)
        assert value == pytest.approx(published, rel=TOLERANCE), name
    table = result.table.set_index("frequency_group")
    assert table.loc["all", "customers"] == 2357
    # the hold-out total is predicted within 15 % on the reference data
    assert abs(table.loc["all", "error_pct"]) < 15


def test_conditional_and_unconditional_expectations_agree():
    """A customer seen for no time at all is an average new customer: equation 10
    at x = t_x = T = 0 equals equation 9; and P(alive) = 1 without repeats."""
    params = clv.BgNbdParams(0.243, 4.414, 0.793, 2.426, 0.0, 0)
    horizons = np.array([1.0, 10.0, 39.0, 78.0])
    conditional = [
        clv.expected_purchases(params, t, [0], [0], [0])[0] for t in horizons
    ]
    unconditional = clv.unconditional_expected_purchases(params, horizons)
    np.testing.assert_allclose(conditional, unconditional, rtol=1e-9)
    alive = clv.p_alive(params, [0, 3, 3], [0, 30, 5], [39, 39, 39])
    assert alive[0] == 1.0 > alive[1] > alive[2]
    # more purchases, more recently: more expected purchases
    expected = clv.expected_purchases(params, 39, [1, 5, 5], [20, 20, 38], [39] * 3)
    assert expected[0] < expected[1] < expected[2]


# ------------------------------------------------------------- model pieces


def test_silhouette_equals_sklearn():
    rng = np.random.default_rng(3)
    x = np.vstack([rng.normal(c, 1.0, size=(300, 3)) for c in (0, 3, 6)])
    labels = np.repeat([0, 1, 2], 300)
    rng.shuffle(labels[:200])
    assert segments.silhouette(x, labels) == pytest.approx(
        silhouette_score(x, labels), abs=1e-12
    )


def test_clusters_are_named_after_the_nearest_archetype_once_each():
    centres = np.array([segments.ARCHETYPES[n] for n in ("lapsed", "VIP", "new")])
    assert segments.name_clusters(centres + 0.1) == ["lapsed", "VIP", "new"]
    same = np.array([segments.ARCHETYPES["VIP"]] * 3)
    assert len(set(segments.name_clusters(same))) == 3


def test_baselines():
    history = np.arange(1.0, 25.0)  # 24 months: 1 .. 24
    assert list(forecast.seasonal_naive(history, 3).mean) == [13.0, 14.0, 15.0]
    assert list(forecast.moving_average(history, 2).mean) == [23.0, 23.0]


def test_monthly_revenue_keeps_complete_months_only():
    items = pd.DataFrame(
        {
            "month": [date(2024, 1, 1), date(2024, 2, 1), date(2024, 3, 1)],
            "category": ["toys", "books", "toys"],
            "revenue": [10.0, 5.0, 7.0],
        }
    )
    series = forecast.monthly_revenue(
        items, pd.Timestamp("2024-01-01"), pd.Timestamp("2024-03-30")
    )
    assert list(series.columns) == ["all", "books", "toys"]
    assert list(series.index.strftime("%Y-%m")) == ["2024-01", "2024-02"]
    assert series.loc["2024-02-01"].tolist() == [5.0, 5.0, 0.0]


def seasonal_history(months: int, start: float = 100.0) -> np.ndarray:
    """Revenue growing 2 % a month with a yearly peak, strictly positive."""
    t = np.arange(months)
    return start * 1.02**t * (1 + 0.3 * np.sin(2 * np.pi * t / 12))


def test_each_series_is_forecast_by_the_rules():
    full = seasonal_history(36)
    chosen = forecast.predict_series(full, 6)
    assert (chosen.fallback, chosen.reason) == (False, None)
    assert chosen.forecast.spec == "ETS(A,A,A) on log"
    assert set(chosen.forecast.lower) == {80, 95}

    # a month without sales: ETS on revenue (the log of zero is undefined)
    gap = full.copy()
    gap[20] = 0.0
    chosen = forecast.predict_series(gap, 6)
    assert not chosen.fallback and chosen.forecast.spec == "ETS(A,A,A)"
    assert (
        chosen.reason == "1 month without sales: fitted on revenue, not on log revenue"
    )

    # stopped selling: the moving average of the last 3 months, zero
    stopped = full.copy()
    stopped[-4:] = 0.0
    chosen = forecast.predict_series(stopped, 6)
    assert chosen.fallback and chosen.forecast.spec == "moving average (3)"
    assert list(chosen.forecast.mean) == [0.0] * 6
    assert chosen.reason == "no sales in the last 4 months: the series stopped selling"

    # 14 months of sales (a category added 22 months into 36): last year's month
    late = np.concatenate([np.zeros(22), full[:14]])
    chosen = forecast.predict_series(late, 3)
    assert chosen.fallback and chosen.forecast.spec == "seasonal naive"
    assert list(chosen.forecast.mean) == list(full[2:5])
    assert chosen.reason == ("14 months of sales: ETS with yearly seasonality needs 24")
    chosen = forecast.predict_series(full[:9], 2)
    assert chosen.forecast.spec == "moving average (3)"
    assert list(chosen.forecast.mean) == [pytest.approx(full[6:9].mean())] * 2

    with pytest.raises(forecast.ForecastError, match="no sales in the 36"):
        forecast.predict_series(np.zeros(36), 6)


def test_a_backtest_without_sales_has_no_percentage_errors():
    months = pd.date_range("2023-01-01", periods=36, freq="MS")
    values = seasonal_history(36)
    values[-6:] = 0.0  # the whole backtest window
    series = pd.DataFrame({"all": values}, index=months)
    rows = forecast.backtest(series, origins=6, horizon=6)
    assert rows["ape"].isna().all()
    # ETS only where it is used: until the series has gone 3 months without sales
    assert sorted(rows.loc[rows["model"] == "ets", "origin"].unique()) == [
        months[29].date(),
        months[30].date(),
        months[31].date(),
    ]
    metrics = forecast.metrics(rows).set_index("model")
    assert metrics["mape"].isna().all() and (metrics["forecasts"] == 0).all()
    assert metrics.loc["ets", "beats_baselines"] is None


def test_no_nan_or_infinity_reaches_json_or_a_required_column():
    value = {"a": float("nan"), "b": [np.float64("inf"), 1.5], "c": np.int64(3)}
    assert tables.as_json(value) == '{"a": null, "b": [null, 1.5], "c": 3}'
    frame = pd.DataFrame(
        {
            "k": [2, 3],
            "silhouette": [np.inf, 0.5],
            "inertia": [1.0, 2.0],
            "is_chosen": [True, False],
        }
    )
    assert tables.checked("segment_k_selection", frame)["silhouette"].isna().sum() == 1
    frame["inertia"] = [np.nan, 2.0]
    with pytest.raises(ValueError, match=r"ml\.segment_k_selection\.inertia"):
        tables.checked("segment_k_selection", frame)


def test_a_failing_model_is_skipped_with_its_reason():
    found = status.Statuses()
    assert found.attempt("customer_clv", lambda: 1 / 0) is None
    assert found.attempt("customer_segments", lambda: 7) == 7
    assert found.as_list() == [
        {
            "model": "customer_clv",
            "scope": "all",
            "status": "skipped",
            "method": None,
            "reason": "the fit failed (ZeroDivisionError: division by zero)",
        }
    ]


# ---------------------------------------------------------- on a real warehouse


@pytest.fixture(scope="module")
def predicted(built_warehouse) -> dict:
    """The predictions run once on the session's warehouse (scale 0.2)."""
    env = built_warehouse["env"]
    steps = []
    summary = run_predictions(env, seed=42, progress=lambda s, d, t: steps.append(d))
    assert steps == list(range(len(STEPS) + 1))
    return {"env": env, "summary": summary}


def test_ml_tables_have_the_documented_columns(predicted):
    documented = yaml.safe_load(
        (DBT_PROJECT_DIR / "models/marts/ml/_ml__sources.yml").read_text()
    )["sources"][0]
    assert documented["schema"] == tables.SCHEMA
    in_yaml = {
        t["name"]: [c["name"] for c in t["columns"]] for t in documented["tables"]
    }
    assert all(c.get("description") for t in documented["tables"] for c in t["columns"])
    in_db = frame(
        predicted["env"],
        "select table_name, column_name from information_schema.columns"
        " where table_schema = 'ml' order by table_name, ordinal_position",
    )
    actual = in_db.groupby("table_name", sort=True)["column_name"].apply(list)
    assert {k: sorted(v) for k, v in in_yaml.items()} == {
        k: sorted(v) for k, v in actual.items()
    }
    expected = {t: [c for c, _ in spec] for t, spec in tables.TABLES.items()}
    expected["model_runs"] = tables.MODEL_RUNS_COLUMNS
    assert dict(actual) == expected


def test_the_run_records_each_model_and_the_build(predicted):
    env = predicted["env"]
    summary = predicted["summary"]
    categories = frame(
        env,
        "select distinct coalesce(category, 'Unknown') as category"
        " from marts.fct_order_items order by 1",
    )["category"].tolist()
    assert [(m["model"], m["scope"]) for m in summary["models"]] == [
        ("revenue_forecast", "all"),
        *(("revenue_forecast", c) for c in categories),
        ("forecast_backtest", "all"),
        ("customer_clv", "all"),
        ("clv_calibration", "all"),
        ("customer_segments", "all"),
    ]
    # on three years of a healthy shop every model fits as designed
    assert {m["status"] for m in summary["models"]} == {"fitted"}
    run = frame(
        env,
        "select models, marts_built_at, run_at from ml.model_runs where run_id = %s",
        (summary["run_id"],),
    ).iloc[0]
    assert run["models"] == summary["models"]
    built = frame(
        env,
        "select greatest((select max(refreshed_at) from marts.fct_orders),"
        " (select max(refreshed_at) from marts.fct_order_items)) as built",
    )["built"][0]
    assert run["marts_built_at"] == built < run["run_at"]
    assert summary["marts_built_at"] == built.isoformat()


def test_backtest_metrics_recomputed_from_the_backtest_rows(predicted):
    env = predicted["env"]
    rows = frame(env, "select * from ml.forecast_backtest")
    metrics = frame(env, "select * from ml.forecast_metrics").set_index(
        ["category", "model"]
    )
    categories = rows["category"].nunique()
    assert len(rows) == categories * len(forecast.MODELS) * 21
    actual = rows["actual"].astype(float)
    predicted_values = rows["predicted"].astype(float)
    ape = 100 * (predicted_values - actual).abs() / actual
    np.testing.assert_allclose(rows["ape_pct"], ape, rtol=1e-12)
    assert rows["horizon"].between(1, 6).all()
    months_ahead = (
        pd.to_datetime(rows["month"]).dt.to_period("M")
        - pd.to_datetime(rows["origin_month"]).dt.to_period("M")
    ).apply(lambda offset: offset.n)
    assert (months_ahead == rows["horizon"]).all()
    for (category, model), group in rows.groupby(["category", "model"]):
        row = metrics.loc[(category, model)]
        assert row["forecasts"] == 21
        assert row["mape_pct"] == pytest.approx(group["ape_pct"].mean(), rel=1e-9)
        h1 = group.loc[group["horizon"] == 1, "ape_pct"].mean()
        assert row["mape_h1_pct"] == pytest.approx(h1, rel=1e-9)
        if model == forecast.ETS:
            inside = (group["actual"] >= group["lo80"]) & (
                group["actual"] <= group["hi80"]
            )
            assert row["coverage80_pct"] == pytest.approx(100 * inside.mean())
            baselines = metrics.loc[
                [(category, b) for b in forecast.BASELINES], "mape_pct"
            ]
            assert row["beats_baselines"] == (row["mape_pct"] < baselines.min())
        else:
            assert pd.isna(row["beats_baselines"])
            assert group["lo80"].isna().all()
    ranks = metrics.groupby("category")["mape_pct"].rank(method="min").astype(int)
    assert (ranks == metrics["rank"]).all()


def test_backtest_actuals_are_the_marts_revenue(predicted):
    env = predicted["env"]
    check = frame(
        env,
        """
        with marts as (
            select
                date_trunc('month', order_date)::date as month,
                category,
                sum(net_revenue) as revenue
            from marts.fct_order_items
            where is_sale
            group by 1, 2
        ),

        with_total as (
            select month, category, revenue from marts
            union all
            select month, 'all', sum(revenue) from marts group by month
        )

        select backtest.category, backtest.month, backtest.actual, with_total.revenue
        from ml.forecast_backtest as backtest
        left join with_total
            on backtest.category = with_total.category
            and backtest.month = with_total.month
        where backtest.model = 'ets'
        """,
    )
    assert len(check) > 0
    assert (check["actual"] == check["revenue"]).all()


def test_forecast_beats_both_baselines_on_the_total(predicted):
    env = predicted["env"]
    mape = frame(
        env,
        "select model, mape_pct from ml.forecast_metrics where category = 'all'",
    ).set_index("model")["mape_pct"]
    assert mape[forecast.ETS] < mape[forecast.SEASONAL_NAIVE]
    assert mape[forecast.ETS] < mape[forecast.MOVING_AVERAGE]
    summary = predicted["summary"]["metrics"]
    assert summary["ets_beats_baselines_total"] is True
    assert summary["mape_total"][forecast.ETS] == pytest.approx(
        mape[forecast.ETS], abs=1e-3
    )


def test_revenue_forecast_has_six_months_with_nested_intervals(predicted):
    env = predicted["env"]
    rows = frame(env, "select * from ml.revenue_forecast")
    future = rows[rows["is_forecast"]]
    history = rows[~rows["is_forecast"]]
    categories = rows["category"].unique()
    assert "all" in categories and len(categories) >= 2
    assert (future.groupby("category").size() == 6).all()
    assert future["actual"].isna().all() and history["forecast"].isna().all()
    ordered = (
        (future["lo95"] <= future["lo80"])
        & (future["lo80"] <= future["forecast"])
        & (future["forecast"] <= future["hi80"])
        & (future["hi80"] <= future["hi95"])
    )
    assert ordered.all() and (future["lo95"] > 0).all()
    last_history = history["month"].max()
    assert future["month"].min() == date(
        last_history.year + last_history.month // 12, last_history.month % 12 + 1, 1
    )
    totals = history.pivot(index="month", columns="category", values="actual")
    by_category = totals.drop(columns="all").sum(axis=1)
    np.testing.assert_allclose(
        totals["all"].astype(float), by_category.astype(float), atol=0.01
    )


def test_customer_clv_matches_the_marts(predicted):
    env = predicted["env"]
    clv_rows = frame(env, "select * from ml.customer_clv")
    marts = frame(
        env,
        """
        select
            customer_id,
            count(*)::integer as orders,
            count(distinct order_date)::integer - 1 as repeat_purchases,
            sum(net_revenue) as revenue,
            min(order_date) as first_order_date,
            max(order_date) as last_order_date
        from marts.fct_orders
        where is_sale and customer_id is not null
        group by customer_id
        """,
    )
    merged = clv_rows.merge(marts, on="customer_id", how="outer", indicator=True)
    assert (merged["_merge"] == "both").all()
    assert (merged["orders_x"] == merged["orders_y"]).all()
    assert (merged["repeat_purchases_x"] == merged["repeat_purchases_y"]).all()
    assert (merged["historical_revenue"] == merged["revenue"]).all()
    assert (merged["first_order_date_x"] == merged["first_order_date_y"]).all()
    assert clv_rows["p_alive"].between(0, 1).all()
    assert (clv_rows.loc[clv_rows["repeat_purchases"] == 0, "p_alive"] == 1).all()
    assert (clv_rows["expected_purchases_12m"] >= 0).all()
    assert sorted(clv_rows["clv_rank"]) == list(range(1, len(clv_rows) + 1))
    top = clv_rows.loc[clv_rows["clv_tier"] == "high", "expected_value_12m"].min()
    rest = clv_rows.loc[clv_rows["clv_tier"] != "high", "expected_value_12m"].max()
    assert top >= rest
    at_risk = clv_rows[clv_rows["is_at_risk"]]
    assert len(at_risk) > 0 and (at_risk["p_alive"] < 0.5).all()


def test_clv_calibration_counts_the_holdout_purchases(predicted):
    env = predicted["env"]
    table = frame(env, "select * from ml.clv_calibration order by group_order")
    groups, total = table.iloc[:-1], table.iloc[-1]
    assert total["frequency_group"] == "all"
    assert list(groups["frequency_group"]) == [str(i) for i in range(7)] + ["7+"]
    assert groups["customers"].sum() == total["customers"]
    assert groups["actual_total"].sum() == pytest.approx(total["actual_total"])
    assert groups["predicted_total"].sum() == pytest.approx(total["predicted_total"])
    start = total["holdout_start_date"]
    # customers who had bought before the hold-out, and their hold-out purchase days
    (known, purchases), *_ = frame(
        env,
        """
        with days as (
            select distinct customer_id, order_date
            from marts.fct_orders
            where is_sale
        ),

        known as (
            select customer_id from days group by 1 having min(order_date) < %(start)s
        )

        select
            (select count(*) from known) as known,
            (
                select count(*)
                from days
                where
                    order_date >= %(start)s
                    and customer_id in (select known.customer_id from known)
            ) as purchases
        """,
        {"start": start},
    ).itertuples(index=False)
    assert total["customers"] == known
    assert total["actual_total"] == purchases
    # a loose guard: the model is not exact on this simulated shop (see docs)
    assert abs(total["error_pct"]) < 50


def test_segments_are_stable_under_reseeding(predicted):
    env = predicted["env"]
    features = segment_features(read_inputs(env)["customers"])
    first = segments.segment(features, seed=1)
    second = segments.segment(features, seed=2)
    assert first.k == second.k
    assert adjusted_rand_score(first.labels, second.labels) >= 0.9
    assert first.names == second.names
    # the stored segmentation (seed 42) agrees too
    stored = frame(env, "select customer_id, cluster from ml.customer_segments")
    stored = stored.set_index("customer_id").loc[features["customer_id"], "cluster"]
    assert adjusted_rand_score(first.labels, stored.to_numpy()) >= 0.9


def test_segment_tables_are_consistent(predicted):
    env = predicted["env"]
    customers_table = frame(env, "select * from ml.customer_segments")
    profiles = frame(env, "select * from ml.segment_profiles order by cluster")
    crosstab = frame(env, "select * from ml.segment_rfm_crosstab")
    selection = frame(env, "select * from ml.segment_k_selection order by k")
    rfm = frame(env, RFM_SQL)
    assert list(selection["k"]) == list(range(2, 9))
    chosen = selection.loc[selection["is_chosen"], "k"].tolist()
    assert chosen == [len(profiles)]
    assert selection.loc[selection["is_chosen"], "silhouette"].iloc[0] == (
        selection["silhouette"].max()
    )
    assert profiles["segment_name"].is_unique
    assert profiles["customers"].sum() == len(customers_table)
    assert profiles["share_pct"].sum() == pytest.approx(100)
    sizes = customers_table.groupby("cluster").size()
    assert (sizes.to_numpy() == profiles["customers"].to_numpy()).all()
    # cluster 0 is the most valuable
    assert profiles["mean_monetary"].iloc[0] == profiles["mean_monetary"].max()
    assert crosstab["customers"].sum() == len(customers_table)
    merged = customers_table.merge(rfm, on="customer_id", suffixes=("", "_mart"))
    assert (merged["rfm_segment"] == merged["rfm_segment_mart"]).all()
    assert len(merged) == len(rfm) == len(customers_table)


def test_rerun_writes_the_same_tables(predicted):
    env = predicted["env"]

    def snapshot() -> dict[str, pd.DataFrame]:
        return {
            table: frame(
                env,
                sql.SQL("select * from {} order by {}").format(
                    sql.Identifier("ml", table),
                    sql.SQL(", ").join(map(sql.Identifier, tables.PRIMARY_KEYS[table])),
                ),
            )
            for table in tables.TABLES
        }

    before = snapshot()
    runs_before = frame(env, "select count(*) as n from ml.model_runs")["n"][0]
    again = run_predictions(env, seed=42)
    after = snapshot()
    for table in tables.TABLES:
        pd.testing.assert_frame_equal(before[table], after[table], obj=table)
    runs = frame(env, "select * from ml.model_runs order by run_id")
    assert len(runs) == runs_before + 1
    assert runs["run_id"].iloc[-1] == again["run_id"]
    assert runs["metrics"].iloc[-1] == runs["metrics"].iloc[-2]
    assert again["metrics"]["segments_stability_ari"] >= 0.9


def test_predictions_without_marts_say_what_to_do(fresh_db):
    with pytest.raises(EcomError, match="dbt build"):
        run_predictions(fresh_db)
