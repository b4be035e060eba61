"""The predictions' scalable path against the straightforward one, on the test
warehouse: the per-customer summary summed up in SQL against pandas on purchase
days, BG/NBD fitted on grouped (x, t_x, T) triples against `lifetimes` fitted on
one row per customer, K-means fitted on a sample against K-means on everyone."""

from __future__ import annotations

import warnings
from datetime import timedelta

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import adjusted_rand_score

from core import db
from predict import customers, segments
from predict.customer_summary import read_customer_summary
from predict.run import read_inputs, run_predictions, segment_features

with warnings.catch_warnings():
    # lifetimes sets a pandas option that pandas 3 deprecates, on import
    warnings.simplefilter("ignore")
    from lifetimes import BetaGeoFitter, GammaGammaFitter

# what the predictions read before the summary moved into SQL: one row per
# (customer, purchase day)
PURCHASE_DAYS_SQL = """
select
    customer_id,
    order_date,
    count(*)::integer as orders,
    sum(net_revenue)::float8 as revenue
from marts.fct_orders
where is_sale and customer_id is not null
group by customer_id, order_date
"""
RFM_SQL = """
select customer_id, segment_name as rfm_segment
from marts.rpt_customer_rfm
"""
HOLDOUT_DAYS = customers.HORIZON_DAYS
# two optimisers on the same likelihood: they stop at slightly different points
PARAMETER_TOLERANCE = 1e-3


def frame(env: dict[str, str], statement: str) -> pd.DataFrame:
    with db.connect(env) as conn, conn.cursor() as cur:
        cur.execute(statement)
        return pd.DataFrame(cur.fetchall(), columns=[c.name for c in cur.description])


@pytest.fixture(scope="module")
def reference(built_warehouse) -> dict:
    """The run's tables, and the straightforward per-customer frame (pandas on
    purchase days) of the same marts."""
    env = built_warehouse["env"]
    summary = run_predictions(env, seed=42)
    as_of = pd.Timestamp(summary["as_of_date"]).date()
    cutoff = as_of - timedelta(days=HOLDOUT_DAYS)
    days = frame(env, PURCHASE_DAYS_SQL)
    per_customer = customers.summarise(days, as_of, cutoff)
    with db.connect(env) as conn:
        from_sql = read_customer_summary(conn, as_of, cutoff)
    return {
        "env": env,
        "summary": summary,
        "as_of": as_of,
        "days": days,
        "pandas": per_customer,
        "sql": from_sql,
        "clv": frame(env, "select * from ml.customer_clv order by customer_id"),
    }


def test_the_sql_summary_equals_the_pandas_one(reference):
    pandas_frame, sql_frame = reference["pandas"], reference["sql"]
    assert len(sql_frame) == len(pandas_frame) > 100
    assert list(sql_frame["customer_id"]) == list(pandas_frame["customer_id"])
    for column in (
        "repeat_purchases",
        "active_span_days",
        "customer_age_days",
        "days_since_last_order",
        "orders",
        "calibration_repeat_purchases",
        "holdout_purchases",
        "first_order_date",
        "last_order_date",
    ):
        np.testing.assert_array_equal(
            sql_frame[column].to_numpy(), pandas_frame[column].to_numpy(), column
        )
    for column in (
        "revenue",
        "first_day_revenue",
        "avg_repeat_value",
        "calibration_span_days",
    ):
        np.testing.assert_allclose(
            sql_frame[column].to_numpy(float),
            pandas_frame[column].to_numpy(float),
            rtol=1e-9,
            atol=1e-9,
            err_msg=column,
        )
    rfm = frame(reference["env"], RFM_SQL).set_index("customer_id")["rfm_segment"]
    expected = rfm.reindex(sql_frame["customer_id"]).to_numpy(object)
    assert list(sql_frame["rfm_segment"].astype(object)) == list(expected)


def weeks_triples(summary: pd.DataFrame) -> tuple[pd.Series, pd.Series, pd.Series]:
    return (
        summary["repeat_purchases"].astype(float),
        summary["active_span_days"] / customers.DAYS_PER_WEEK,
        summary["customer_age_days"] / customers.DAYS_PER_WEEK,
    )


def test_bgnbd_on_grouped_triples_equals_lifetimes_on_every_customer(reference):
    """The parameters written to ml.clv_parameters, and the per-customer
    predictions in ml.customer_clv, against `lifetimes` on the pandas frame."""
    x, t_x, big_t = weeks_triples(reference["pandas"])
    fitter = BetaGeoFitter().fit(x, t_x, big_t)
    ours = reference["summary"]["parameters"]["bgnbd"]
    for name in ("r", "alpha", "a", "b"):
        assert ours[name] == pytest.approx(
            fitter.params_[name], rel=PARAMETER_TOLERANCE
        ), name
    clv_rows = reference["clv"]
    assert list(clv_rows["customer_id"]) == list(reference["pandas"]["customer_id"])
    np.testing.assert_allclose(
        clv_rows["p_alive"],
        fitter.conditional_probability_alive(x, t_x, big_t),
        rtol=1e-3,
        atol=1e-4,
    )
    horizon = customers.HORIZON_DAYS / customers.DAYS_PER_WEEK
    np.testing.assert_allclose(
        clv_rows["expected_purchases_12m"],
        fitter.conditional_expected_number_of_purchases_up_to_time(
            horizon, x, t_x, big_t
        ),
        rtol=1e-3,
        atol=1e-4,
    )


def test_gamma_gamma_equals_lifetimes_on_the_repeat_buyers(reference):
    table = reference["pandas"]
    value = table["avg_repeat_value"]
    repeat = (table["repeat_purchases"] > 0) & (value > 0)
    fitter = GammaGammaFitter().fit(
        table.loc[repeat, "repeat_purchases"], value[repeat]
    )
    ours = reference["summary"]["parameters"]["gamma_gamma"]
    assert ours is not None
    for name, theirs in (("p", "p"), ("q", "q"), ("gamma", "v")):
        assert ours[name] == pytest.approx(
            fitter.params_[theirs], rel=PARAMETER_TOLERANCE
        ), name
    expected = fitter.conditional_expected_average_profit(
        table.loc[repeat, "repeat_purchases"], value[repeat]
    )
    stored = reference["clv"].loc[repeat.to_numpy(), "expected_avg_value"]
    np.testing.assert_allclose(
        stored.to_numpy(float), expected.to_numpy(float), rtol=1e-3, atol=0.01
    )


def test_the_calibration_from_sql_equals_the_one_from_purchase_days(reference):
    from_days = customers.calibration(
        reference["days"], reference["as_of"], holdout_days=HOLDOUT_DAYS
    )
    from_sql = customers.calibration_from_summary(
        reference["sql"], reference["as_of"], holdout_days=HOLDOUT_DAYS
    )
    assert from_sql.holdout_start == from_days.holdout_start
    pd.testing.assert_frame_equal(
        from_sql.table, from_days.table, check_exact=False, rtol=1e-6
    )
    stored = frame(reference["env"], "select * from ml.clv_calibration")
    totals = stored.set_index("frequency_group").loc["all"]
    expected = from_days.table.set_index("frequency_group").loc["all"]
    assert totals["customers"] == expected["customers"]
    assert totals["actual_total"] == expected["actual_total"]


def test_kmeans_on_a_sample_assigns_everyone_as_on_everyone(reference, monkeypatch):
    """With the final K-means fitted on a third of the customers, the clusters
    of everyone agree with K-means fitted on everyone."""
    inputs = read_inputs(reference["env"])
    features = segment_features(inputs["customers"])
    monkeypatch.setattr(segments, "FIT_SAMPLE", len(features) + 1)
    everyone = segments.segment(features, seed=42)
    monkeypatch.setattr(segments, "FIT_SAMPLE", len(features) // 3)
    sampled = segments.segment(features, seed=42, k=everyone.k)
    assert adjusted_rand_score(everyone.labels, sampled.labels) >= 0.9
    assert sampled.names == everyone.names
    np.testing.assert_allclose(sampled.centres, everyone.centres, atol=0.15)
