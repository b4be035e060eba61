"""Predictions on histories that used to crash them or mislead their readers.

Each shop is generated, edited in raw (months without sales, a category that
stops selling, only five customers) or generated short (14 months), then built
by dbt, on a real PostgreSQL. Every model must fit, fall back to a simpler model
or be skipped, with its reason recorded in ml.model_runs; nothing escapes
`run_predictions`, and no NaN or infinity reaches JSON or the ml tables. The
command line prints what each model did; the app's refresh shows a failed refit
as a failure, and the Predictions page flags a fit older than the latest build.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from conftest import app_account, point_app_at
from psycopg import sql
from streamlit.testing.v1 import AppTest

from core import db, editing
from core.dbt_runner import run_dbt
from loader.generate import generate
from loader.load import load_directory
from predict import run_predictions, tables
from streamlit_app import launch, refresh, ui

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[2]
APP = ROOT / "streamlit_app" / "app.py"
ECOM = Path(sys.executable).with_name("ecom")
BUILD_TIMEOUT_SECONDS = 600
SCALE = 0.05

# ------------------------------------------------------------------ the shops


def make_shop(
    pg_env: dict[str, str],
    tmp_path_factory,
    prefix: str,
    edits: tuple[str, ...] = (),
    **generate_args,
) -> dict:
    """Generate and load a small shop, run `edits` on raw, then `dbt build`."""
    env = db.create_database(pg_env, f"{prefix}_{int(time.time() * 1000) % 10**9}")
    data_dir = tmp_path_factory.mktemp(f"{prefix}_data")
    generate(data_dir, scale=SCALE, seed=5, **generate_args)
    load_directory(env, data_dir)
    with db.connect(env) as conn:
        for statement in edits:
            conn.execute(statement)
        conn.commit()
    target = tmp_path_factory.mktemp(f"{prefix}_target")
    result = run_dbt(["build"], env, target_path=target, capture=True)
    assert result.returncode == 0, result.stdout[-5000:]
    return {"env": env, "target": target}


@pytest.fixture(scope="module")
def shops(pg_env, tmp_path_factory) -> Iterator[dict]:
    """Built shops by name, made when first asked for; dropped at the end."""
    made: dict[str, dict] = {}

    def shop(name: str, *edits: str, **generate_args) -> dict:
        if name not in made:
            made[name] = make_shop(
                pg_env, tmp_path_factory, f"ecom_pred_{name}", edits, **generate_args
            )
        return made[name]

    yield shop
    refresh.wait(BUILD_TIMEOUT_SECONDS)
    for built in made.values():
        db.drop_database(pg_env, built["env"]["PGDATABASE"])


def without_orders(condition: str) -> tuple[str, str]:
    """Raw statements deleting the orders matching `condition` (on raw.orders)."""
    return (
        "delete from raw.order_items where order_id in"
        f" (select order_id from raw.orders where {condition})",
        f"delete from raw.orders where {condition}",
    )


# Two months without a single order, and toys no longer sold after June 2025 (its
# lines are gone; orders left without lines are gone too).
GAPS_AND_A_STOP = (
    *without_orders("ordered_at >= '2024-05-01' and ordered_at < '2024-06-01'"),
    *without_orders("ordered_at >= '2025-09-01' and ordered_at < '2025-10-01'"),
    "delete from raw.order_items where order_id in (select order_id from raw.orders"
    " where ordered_at >= '2025-07-01') and product_id in (select product_id from"
    " raw.products where category = 'toys')",
    "delete from raw.orders o where not exists"
    " (select from raw.order_items i where i.order_id = o.order_id)",
)

# Orders keep coming in the last six months, but every one is cancelled: no sale,
# so no revenue, in the whole backtest window (this wrote NaN into JSON).
QUIET_END = (
    "update raw.orders set status = 'cancelled' where ordered_at >= '2025-07-01'",
)

# The five customers with the most orders keep theirs; everyone else has none.
FIVE_CUSTOMERS = without_orders(
    "customer_id not in (select customer_id from raw.orders group by customer_id"
    " order by count(*) desc, customer_id limit 5)"
)


# A tenth of the orders have no customer (anonymous orders, as real exports
# have): picked by a hash of the id, so every month and category keeps some.
ANONYMOUS_TENTH = (
    "update raw.orders set customer_id = null where abs(hashtext(order_id)) % 10 = 0",
)

# -------------------------------------------------------------------- helpers


def rows(env: dict[str, str], statement, params=None) -> list[tuple]:
    with db.connect(env) as conn:
        return conn.execute(statement, params).fetchall()


def statuses(summary: dict) -> dict[tuple[str, str], dict]:
    return {(m["model"], m["scope"]): m for m in summary["models"]}


def forecast_statuses(summary: dict) -> dict[str, dict]:
    return {
        scope: m
        for (model, scope), m in statuses(summary).items()
        if model == "revenue_forecast"
    }


def assert_explained(summary: dict) -> None:
    """Every model has a known status; what fell back or was skipped says why;
    the run's row in ml.model_runs holds the same statuses."""
    models = summary["models"]
    assert {m["model"] for m in models} == {
        "revenue_forecast",
        "forecast_backtest",
        "customer_clv",
        "clv_calibration",
        "customer_segments",
    }
    for model in models:
        assert model["status"] in ("fitted", "fallback", "skipped"), model
        if model["status"] != "fitted":
            assert model["reason"], model
        if model["status"] != "skipped":
            assert model["method"], model


def assert_stored(env: dict[str, str], summary: dict) -> None:
    """The run as stored: its statuses and build, valid JSON without NaN, and no
    NaN or infinity in any number column of schema ml."""
    (stored, built, metrics), *_ = rows(
        env,
        "select models, marts_built_at, metrics::text from ml.model_runs"
        " where run_id = %s",
        (summary["run_id"],),
    )
    assert stored == summary["models"]
    (expected_build,) = rows(
        env,
        "select greatest((select max(refreshed_at) from marts.fct_orders),"
        " (select max(refreshed_at) from marts.fct_order_items))",
    )[0]
    assert built == expected_build is not None
    json.loads(metrics)  # PostgreSQL's jsonb already refuses NaN; this is text
    for table, spec in tables.TABLES.items():
        for column, kind in spec:
            if kind.split()[0] not in ("numeric(18,", "double"):
                continue
            (bad,) = rows(
                env,
                sql.SQL(
                    "select count(*) from {} where {} in ('NaN', 'Infinity',"
                    " '-Infinity')"
                ).format(sql.Identifier("ml", table), sql.Identifier(column)),
            )[0]
            assert bad == 0, (table, column)


def check_skipped_tables(env: dict[str, str], *names: str) -> None:
    for name in names:
        assert rows(
            env, sql.SQL("select count(*) from {}").format(sql.Identifier("ml", name))
        ) == [(0,)], name


# -------------------------------------------------------- histories to survive


def test_gaps_and_a_category_that_stops_selling(shops):
    env = shops("gaps", *GAPS_AND_A_STOP)["env"]
    summary = run_predictions(env, seed=42)
    assert_explained(summary)
    assert_stored(env, summary)
    series = forecast_statuses(summary)
    # the months without sales: ETS on revenue (the log of zero is undefined)
    total = series["all"]
    assert total["status"] == "fitted" and total["method"] == "ETS(A,A,A)"
    assert total["reason"].startswith("2 months without sales")
    # toys stopped selling: a moving average of its last three months, zero
    toys = series["toys"]
    assert toys["status"] == "fallback"
    assert toys["method"] == "moving average (3)"
    assert "no sales in the last 6 months" in toys["reason"]
    toys_ahead = rows(
        env,
        "select forecast, lo80 from ml.revenue_forecast"
        " where category = 'toys' and is_forecast",
    )
    assert toys_ahead == [(0, None)] * 6
    # the other models fit as usual
    for model in ("forecast_backtest", "customer_clv", "customer_segments"):
        assert statuses(summary)[model, "all"]["status"] == "fitted"
    # a backtest month without sales has no percentage error, the others do
    (undefined, scored) = rows(
        env,
        "select count(*) filter (where ape_pct is null),"
        " count(*) filter (where ape_pct is not null)"
        " from ml.forecast_backtest where category = 'all'",
    )[0]
    assert undefined > 0 and scored > 0


def test_fourteen_months_of_history(shops):
    env = shops("short", start=date(2024, 11, 1), end=date(2025, 12, 31))["env"]
    summary = run_predictions(env, seed=42)
    assert_explained(summary)
    assert_stored(env, summary)
    assert summary["metrics"]["months"] == 14
    for scope, status in forecast_statuses(summary).items():
        # too short for ETS with yearly seasonality: last year's month instead
        assert status["status"] == "fallback", (scope, status)
        assert status["method"] in ("seasonal naive", "moving average (3)"), status
        assert "ETS with yearly seasonality needs 24" in status["reason"], status
    backtest = statuses(summary)["forecast_backtest", "all"]
    assert backtest["status"] == "fitted"
    assert backtest["reason"] == (
        "ETS not scored on any series: it was not used at any origin"
    )
    assert rows(env, "select distinct model from ml.forecast_backtest order by 1") == [
        ("moving_average_3",),
        ("seasonal_naive",),
    ]
    assert statuses(summary)["customer_segments", "all"]["status"] == "fitted"
    assert rows(env, "select count(*) > 0 from ml.customer_segments") == [(True,)]


def test_a_shop_with_five_customers(shops):
    env = shops("five", *FIVE_CUSTOMERS)["env"]
    assert rows(
        env, "select count(distinct customer_id) from marts.fct_orders where is_sale"
    ) == [(5,)]
    summary = run_predictions(env, seed=42)
    assert_explained(summary)
    assert_stored(env, summary)
    found = statuses(summary)
    assert found["customer_clv", "all"]["status"] == "skipped"
    assert found["customer_clv", "all"]["reason"] == (
        "BG/NBD needs at least 20 customers with a sale, there are 5"
    )
    assert found["clv_calibration", "all"]["status"] == "skipped"
    assert found["customer_segments", "all"]["status"] == "skipped"
    assert found["customer_segments", "all"]["reason"] == (
        "K-means needs at least 20 customers with a sale, there are 5"
    )
    check_skipped_tables(
        env, "customer_clv", "clv_calibration", "clv_parameters", "customer_segments"
    )
    assert summary["metrics"]["customers"] == 5
    assert summary["metrics"]["at_risk_customers"] is None
    # the shop's revenue is still forecast, whatever each series fell back to
    assert found["revenue_forecast", "all"]["status"] in ("fitted", "fallback")
    assert rows(
        env,
        "select count(*) from ml.revenue_forecast where category = 'all'"
        " and is_forecast and forecast >= 0",
    ) == [(6,)]


def test_anonymous_orders_count_in_the_forecast_not_as_customers(shops):
    env = shops("anonymous", *ANONYMOUS_TENTH)["env"]
    ((anonymous_revenue,),) = rows(
        env,
        "select sum(net_revenue) from marts.fct_orders"
        " where is_sale and customer_id is null",
    )
    assert anonymous_revenue > 0
    summary = run_predictions(env, seed=42)
    assert_explained(summary)
    assert_stored(env, summary)
    # customers: only those with an id, each once, ids stored as text
    known = rows(
        env,
        "select count(distinct customer_id) from marts.fct_orders"
        " where is_sale and customer_id is not null",
    )
    for table in ("customer_clv", "customer_segments"):
        assert rows(
            env,
            sql.SQL(
                "select count(*), count(distinct customer_id)"
                " from {} where customer_id is not null and customer_id <> ''"
            ).format(sql.Identifier("ml", table)),
        ) == [known[0] * 2], table
    (kind,) = rows(
        env,
        "select data_type from information_schema.columns"
        " where table_schema = 'ml' and table_name = 'customer_clv'"
        " and column_name = 'customer_id'",
    )
    assert kind == ("text",)
    assert summary["metrics"]["customers"] == known[0][0]
    # the forecast's history is every sale, anonymous ones included
    history = rows(
        env,
        "select month, actual from ml.revenue_forecast"
        " where category = 'all' and not is_forecast order by month",
    )
    marts = rows(
        env,
        "select date_trunc('month', order_date)::date, sum(net_revenue)"
        " from marts.fct_order_items where is_sale group by 1 order by 1",
    )
    assert [m for m, _ in history] == [m for m, _ in marts][-len(history) :]
    actual = dict(history)
    for month, revenue in marts[-len(history) :]:
        assert abs(actual[month] - revenue) <= 0.01, month


# ------------------------------------------------------------- the command line


def run_command(env: dict[str, str], *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        list(args),
        env=db.child_env(env),
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
        stdin=subprocess.DEVNULL,
    )


def test_ecom_predict_after_months_without_sales(shops):
    """The case that wrote NaN into JSON and crashed with a traceback."""
    env = shops("quiet", *QUIET_END)["env"]
    result = run_command(env, str(ECOM), "predict")
    output = result.stdout + result.stderr
    assert result.returncode == 0, output[-3000:]
    assert "Traceback" not in output and result.stderr.strip() == "", output[-3000:]
    lines = result.stdout.splitlines()
    assert lines[0].startswith("predictions as of 2025-12-31 (run 1), fitted on")
    total = next(line for line in lines if "revenue forecast, total" in line)
    assert "fallback" in total and "no sales in the last 6 months" in total
    assert any("customer lifetime value" in line for line in lines)
    (metrics,) = rows(env, "select metrics from ml.model_runs where run_id = 1")[0]
    # no month of the backtest had sales: the errors are undefined, stored as null
    assert metrics["mape_total"] == {
        "ets": None,
        "seasonal_naive": None,
        "moving_average_3": None,
    }
    assert rows(
        env,
        "select count(*) from ml.forecast_metrics where mape_pct is not null"
        " and category = 'all'",
    ) == [(0,)]

    # the same through `python -m predict --json`, as the app's refresh runs it
    result = run_command(env, sys.executable, "-m", "predict", "--json")
    assert result.returncode == 0, result.stderr[-3000:]
    printed = json.loads(result.stdout)
    assert printed["run_id"] == 2
    stored = rows(env, "select models from ml.model_runs where run_id = 2")[0][0]
    assert printed["models"] == stored


def test_an_unwritable_ml_schema_is_one_line_and_exit_1(shops):
    env = shops("quiet", *QUIET_END)["env"]
    with db.connect(env, autocommit=True) as conn:
        conn.execute("create schema if not exists ml")
        conn.execute("drop table if exists ml.segment_k_selection")
        conn.execute("create view ml.segment_k_selection as select 1 as k")
    try:
        result = run_command(env, str(ECOM), "predict")
    finally:
        with db.connect(env, autocommit=True) as conn:
            conn.execute("drop view ml.segment_k_selection")
    err = result.stderr.strip()
    assert result.returncode == 1, (result.returncode, err[-2000:])
    assert "Traceback" not in result.stdout + err
    assert err.splitlines() == [
        'error: predictions could not write schema ml: "segment_k_selection" is not'
        " a table"
    ]


# ------------------------------------------------------------------ the app


@pytest.fixture(scope="module")
def app_shop(shops) -> dict:
    """The plain shop, with an editor account for the app."""
    built = shops("app")
    return {**built, "editor": app_account(built["env"], "editor")}


@pytest.fixture
def app_env(app_shop, monkeypatch) -> dict[str, str]:
    """This process (AppTest runs the app in it) on the shop, as the launcher
    starts the app."""
    env = launch.database_env(app_shop["env"])
    point_app_at(monkeypatch, env, app_shop["target"])
    return env


def open_page(user, page: str) -> AppTest:
    at = AppTest.from_file(str(APP), default_timeout=120)
    at.session_state["user"] = user
    at.run()
    at.switch_page(page).run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def texts(elements) -> list[str]:
    return [str(e.value) for e in elements]


def test_predictions_page_warns_when_the_fit_is_older_than_the_build(app_shop, app_env):
    env, editor = app_shop["env"], app_shop["editor"]

    def stale_warnings(at: AppTest) -> list[str]:
        return [w for w in texts(at.warning) if "older than the data" in w]

    run_predictions(env, seed=42)
    (fitted_on,) = rows(env, "select max(refreshed_at) from marts.fct_orders")[0]
    # the facts are rebuilt (from scratch: an incremental run with nothing new
    # rewrites nothing): the shown fit is now older than the marts
    result = run_dbt(
        ["run", "-s", "fct_order_items", "fct_orders", "--full-refresh"],
        env,
        target_path=app_shop["target"],
        capture=True,
    )
    assert result.returncode == 0, result.stdout[-3000:]
    (rebuilt,) = rows(env, "select max(refreshed_at) from marts.fct_orders")[0]
    assert rebuilt > fitted_on
    at = open_page(editor, "views/predictions.py")
    stale = stale_warnings(at)
    assert len(stale) == 1, texts(at.warning)
    assert f"rebuilt at {rebuilt.astimezone(UTC):%Y-%m-%d %H:%M} UTC" in stale[0]
    assert f"build of {fitted_on.astimezone(UTC):%Y-%m-%d %H:%M} UTC" in stale[0]

    # refitted on that build: no warning, and the caption names the build
    summary = run_predictions(env, seed=42)
    at = open_page(editor, "views/predictions.py")
    assert stale_warnings(at) == []
    built = datetime.fromisoformat(summary["marts_built_at"]).astimezone(UTC)
    assert built == rebuilt
    caption = next(c for c in texts(at.caption) if "Fitted by `ecom predict`" in c)
    assert f"on the marts built at {built:%Y-%m-%d %H:%M} UTC" in caption


def test_predictions_page_explains_the_models_not_fitted(shops, monkeypatch):
    built = shops("five", *FIVE_CUSTOMERS)
    env = built["env"]
    summary = run_predictions(env, seed=42)
    viewer = app_account(env, "viewer")
    point_app_at(monkeypatch, launch.database_env(env), built["target"])
    at = open_page(viewer, "views/predictions.py")
    assert not at.error, texts(at.error)
    explained = [m for m in summary["models"] if m["status"] != "fitted"]
    overview = [w for w in texts(at.warning) if "could not be fitted as designed" in w]
    assert len(overview) == 1, texts(at.warning)
    assert overview[0].startswith(
        f"{len(explained)} of {len(summary['models'])} models"
    )
    for model in explained:
        assert ui.plain(model["reason"]) in overview[0], model
    # each skipped section says why in its place
    infos = texts(at.info)
    for model, what in (
        ("customer_clv", "customer lifetime value"),
        ("customer_segments", "customer segments"),
    ):
        reason = statuses(summary)[model, "all"]["reason"]
        assert f"No {what}: {ui.plain(reason)}" in " ".join(infos), infos
    # the forecast is still drawn, with its KPI cards
    assert [m.label for m in at.metric][:2] == ["6-month forecast", "Backtest MAPE"]
    assert [m.value for m in at.metric][3:] == ["–", "–"]


def run_until_done(at: AppTest) -> refresh.RefreshState:
    deadline = time.monotonic() + BUILD_TIMEOUT_SECONDS
    while (state := refresh.latest()) is not None and state.running:
        assert time.monotonic() < deadline, "the refresh did not finish in time"
        time.sleep(1.0)
        at.run()
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    assert state is not None
    return state


def test_a_refresh_whose_refit_fails_is_not_shown_as_a_success(app_shop, app_env):
    env, editor = app_shop["env"], app_shop["editor"]
    # a mart the predictions read is gone, and the refresh does not rebuild it
    # (a promotion's edit builds only what promotions feed)
    with db.connect(env, autocommit=True) as conn:
        conn.execute("drop table marts.rpt_customer_rfm")
    (promotion_id,) = rows(env, "select min(promotion_id) from raw.promotions")[0]
    row = editing.get_row("promotions", promotion_id)
    editing.update_row(
        "promotions",
        promotion_id,
        {"description": "hostile refit"},
        row["updated_at"],
        editor,
    )
    at = open_page(editor, "views/refresh.py")
    at.checkbox(key="refresh_predictions").check()
    at.button(key="refresh_start").click().run()
    state = run_until_done(at)

    assert state.status == "success", state.errors  # the build itself worked
    assert state.predictions_ok is False
    # shown as a warning and an error, never inside a success box
    assert not [
        s for s in texts(at.success) if "refreshed" in s or "predictions" in s.lower()
    ], texts(at.success)
    warnings = texts(at.warning)
    assert any(
        "Warehouse refreshed" in w and "could not be refitted" in w for w in warnings
    ), warnings
    assert state.predictions_message in texts(at.error)
    reason = (
        "predictions read the marts, but marts.rpt_customer_rfm is missing: run "
        "`dbt build` (or `ecom build`) first"
    )
    assert state.predictions_message == (
        f"The predictions were not refitted: {reason}. The Predictions page still "
        "shows the previous fit."
    )
    # recorded as a successful build whose message names the failed refit
    (status, message), *_ = rows(
        env,
        "select status, message from app.refresh_runs where run_id = %s",
        (state.run_id,),
    )
    assert status == "success" and message == state.message
    assert message.endswith(state.predictions_message)
    history = at.dataframe[-1].value
    shown = history.loc[history["run"] == state.run_id, "status"]
    assert shown.tolist() == ["success, predictions not refitted"]
