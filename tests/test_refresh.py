"""The "Refresh warehouse" page and its background build, on a real warehouse.

A small warehouse of its own (the tests edit it) is generated, loaded and built
once; the app runs as the launcher starts it (the least-privilege role ecom_app,
the build credentials in ECOM_BUILD_PGUSER / ECOM_BUILD_PGPASSWORD). Edits go
through the editing pages' API (core.editing, as ecom_app), then one
refresh, started from the page, must bring them to the marts: a new order moves
the Overview's revenue and order count by exactly its own lines' amount and 1, a
price change leaves past revenue alone while the snapshot keeps both prices, a
soft-deleted order leaves the facts. A build that fails is reported and
recorded as failed.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import UTC, date, datetime
from datetime import time as day_time
from decimal import Decimal
from pathlib import Path

import pytest
from conftest import LIBPQ, app_account, build_warehouse, point_app_at
from streamlit.testing.v1 import AppTest

from core import db, editing
from streamlit_app import launch, refresh, ui
from streamlit_app import warehouse as wh
from streamlit_app.filters import Filters
from streamlit_app.queries import overview

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parent.parent
APP = ROOT / "streamlit_app" / "app.py"
REFRESH_PAGE = "views/refresh.py"

BUILD_TIMEOUT_SECONDS = 600


# ---------------------------------------------------------------------- fixtures


@pytest.fixture(scope="module")
def warehouse(pg_env, tmp_path_factory) -> Iterator[dict]:
    """Scale 0.05 generated, loaded and built into a database of this module."""
    built = build_warehouse(
        pg_env, tmp_path_factory, "ecom_refresh", scale=0.05, seed=11
    )
    env, target = built["env"], built["target_path"]
    editor = app_account(env, "editor")
    yield {"env": env, "target": target, "editor": editor}
    refresh.wait(BUILD_TIMEOUT_SECONDS)
    db.drop_database(pg_env, env["PGDATABASE"])


@pytest.fixture
def app_env(warehouse, monkeypatch) -> dict[str, str]:
    """Point this process (AppTest runs the app in it) at the warehouse, with the
    environment the launcher gives the app."""
    env = launch.database_env(warehouse["env"])
    point_app_at(monkeypatch, env, warehouse["target"])
    return env


# ----------------------------------------------------------------------- helpers


def sql(env: dict[str, str], statement: str, params=None) -> list[tuple]:
    with db.connect(env) as conn:
        return conn.execute(statement, params).fetchall()


def one(env: dict[str, str], statement: str, params=None) -> tuple:
    rows = sql(env, statement, params)
    assert len(rows) == 1, rows
    return rows[0]


def edit(entity: str, key: int, values: dict, user) -> dict:
    """Change a row through the editing pages' API (as the signed-in user)."""
    row = editing.get_row(entity, key)
    assert row is not None, (entity, key)
    return editing.update_row(entity, key, values, row["updated_at"], user)


def kpis(start: date, end: date) -> overview.Kpis:
    """What the Overview's cards show, through the app's own query."""
    wh.clear_cache()
    return overview.kpis(Filters(start=start, end=end))


def app_test(user) -> AppTest:
    at = AppTest.from_file(str(APP), default_timeout=120)
    at.session_state["user"] = user
    return at


def open_refresh_page(user) -> AppTest:
    at = app_test(user)
    at.run()
    at.switch_page(REFRESH_PAGE).run()
    assert not at.exception, [e.value for e in at.exception]
    assert [t.value for t in at.title] == ["Refresh warehouse"]
    return at


def run_until_done(at: AppTest) -> refresh.RefreshState:
    """Re-run the page (as its polling fragment would) until the refresh ends."""
    deadline = time.monotonic() + BUILD_TIMEOUT_SECONDS
    seen_progress = False
    while True:
        state = refresh.latest()
        assert state is not None
        if not state.running:
            break
        assert time.monotonic() < deadline, "the refresh did not finish in time"
        seen_progress = seen_progress or bool(at.get("progress"))
        time.sleep(1.0)
        at.run()
        assert not at.exception, [e.value for e in at.exception]
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    assert seen_progress, "the page never showed the refresh's progress"
    return state


def metric(at: AppTest, label: str) -> str:
    found = [m.value for m in at.metric if m.label == label]
    assert found, f"no metric {label!r} among {[m.label for m in at.metric]}"
    return found[0]


def texts(elements) -> list[str]:
    return [str(e.value) for e in elements]


def refresh_run(env: dict[str, str], run_id: int) -> tuple:
    return one(
        env,
        "select status, selection, requested_by, models_built, tests_passed,"
        " tests_failed, message, finished_at is not null"
        " from app.refresh_runs where run_id = %s",
        (run_id,),
    )


# -------------------------------------------------------------- what to build


def test_progress_and_error_lines_are_read_from_dbt():
    assert (
        refresh.node_name("sql view model staging.stg_shop__orders ............ [RUN]")
        == "stg_shop__orders"
    )
    assert (
        refresh.node_name("test not_null_dim_promotions_promo_code ..... [RUN]")
        == "not_null_dim_promotions_promo_code"
    )
    assert refresh.error_line(
        "Database Error in model stg_shop__regions (models/staging/x.sql)\n"
        "  permission denied for schema staging\n"
        "  compiled code at target/run/ecom/models/staging/x.sql"
    ) == ("Database Error: permission denied for schema staging")
    assert refresh.dbt_error(
        [
            "01:06:20  Finished running  in 0 hours 0 minutes and 0.06 seconds.",
            "01:06:20  Encountered an error:",
            "Runtime Error",
            "  'nope' is not a valid method name",
        ]
    ) == ("Runtime Error 'nope' is not a valid method name")
    assert refresh.selectors(["orders", "order_items", "orders"]) == [
        "source:shop.order_items+",
        "source:shop.orders+",
    ]


def test_dbt_gets_the_build_credentials(monkeypatch):
    for name in (*LIBPQ, launch.BUILD_USER_VARIABLE, launch.BUILD_PASSWORD_VARIABLE):
        monkeypatch.delenv(name, raising=False)
    app = {"PGHOST": "db.example", "PGUSER": "ecom_app", "PGPASSWORD": "app-secret"}
    for name, value in (app | {"PGDATABASE": "shop"}).items():
        monkeypatch.setenv(name, value)
    # no build credentials: the app's own
    assert refresh.build_env()["PGUSER"] == "ecom_app"
    monkeypatch.setenv(launch.BUILD_USER_VARIABLE, "builder")
    monkeypatch.setenv(launch.BUILD_PASSWORD_VARIABLE, "build-secret")
    env = refresh.dbt_env(refresh.build_env(), Path("target"))
    assert (env["PGHOST"], env["PGDATABASE"]) == ("db.example", "shop")
    assert (env["PGUSER"], env["PGPASSWORD"]) == ("builder", "build-secret")
    assert env["DBT_TARGET_PATH"] == "target"
    # started without a user name: the login's default, not the app's role
    monkeypatch.setenv(launch.BUILD_USER_VARIABLE, "")
    monkeypatch.setenv(launch.BUILD_PASSWORD_VARIABLE, "")
    env = refresh.dbt_env(refresh.build_env(), Path("target"))
    assert "PGUSER" not in env and env["PGPASSWORD"] == ""


def test_selection_follows_the_edited_tables(warehouse, app_env):
    editor = warehouse["editor"]
    # a bulk load is not an edit: nothing to do yet
    assert refresh.pending().selectors == []
    with pytest.raises(refresh.NothingChanged):
        refresh.start(editor.username)
    at = open_refresh_page(editor)
    assert any("Nothing was edited" in text for text in texts(at.info))
    assert at.button(key="refresh_full").label == "Full build anyway"
    assert not [b for b in at.button if b.key == "refresh_start"]

    # an edit of one promotion selects what promotions feed, and only that
    (promotion_id, promo_code) = one(
        warehouse["env"],
        "select promotion_id, promo_code from raw.promotions"
        " order by promotion_id limit 1",
    )
    edit("promotions", promotion_id, {"promo_code": promo_code + "X"}, editor)
    pending = refresh.pending()
    assert pending.tables == ["promotions"]
    assert pending.selectors == ["source:shop.promotions+"]
    at = open_refresh_page(editor)
    assert at.button(key="refresh_start").label == "Refresh warehouse"
    assert any("`source:shop.promotions+`" in text for text in texts(at.caption))


# -------------------------------------------------------------- one refresh


def choose_rows(env: dict[str, str]) -> dict:
    """What the edits change: a product that sold (its price changes), a past sale
    (deleted), and a customer, channel, region and second product for a new
    order on the last day."""
    (last_day,) = one(env, "select max(order_date) from marts.fct_orders")
    (first_day,) = one(env, "select min(order_date) from marts.fct_orders")
    product_id, old_price = one(
        env,
        """
        select p.product_id, p.list_price
        from marts.dim_products as p
        inner join marts.fct_order_items as i on p.product_id = i.product_id
        group by p.product_id, p.list_price
        order by count(*) desc, p.product_id
        limit 1
        """,
    )
    deleted_order, deleted_revenue, deleted_day = one(
        env,
        """
        select order_id, net_revenue, order_date
        from marts.fct_orders
        where is_sale and order_date < %s and net_revenue > 0
        order by order_id
        limit 1
        """,
        (last_day,),
    )
    customer_id, channel_id, region_id = one(
        env,
        "select customer_id, channel_id, ship_region_id from marts.fct_orders"
        " where is_sale and customer_id is not null order by order_id desc limit 1",
    )
    (other_product,) = one(
        env,
        "select product_id from raw.products where product_id != %s"
        " and is_active order by product_id limit 1",
        (product_id,),
    )
    past_item_revenue = one(
        env,
        "select sum(net_revenue), count(*) from marts.fct_order_items"
        " where product_id = %s and order_id != %s",
        (product_id, deleted_order),
    )
    new_price = (old_price * Decimal("1.25") + 1).quantize(Decimal("0.01"))
    return dict(
        new_day=last_day,
        first_day=first_day,
        product_id=product_id,
        old_price=old_price,
        new_price=new_price,
        past_item_revenue=past_item_revenue,
        deleted_order=deleted_order,
        deleted_revenue=deleted_revenue,
        deleted_day=deleted_day,
        customer_id=customer_id,
        channel_id=channel_id,
        region_id=region_id,
        other_product=other_product,
    )


def figures_before(editor, chosen: dict) -> dict:
    """The Overview's figures the edits will move, as they are before them."""
    first_day, last_day = chosen["first_day"], chosen["new_day"]
    deleted_day = chosen["deleted_day"]
    return dict(
        total_before=kpis(first_day, last_day),
        new_day_before=kpis(last_day, last_day),
        deleted_day_before=kpis(deleted_day, deleted_day),
        overview_before=overview_cards(editor, last_day),
    )


def edit_through_the_app(env: dict[str, str], editor, chosen: dict) -> dict:
    """A new price, a new order, a soft delete; the new order and its amount."""
    product_id = chosen["product_id"]
    edit("products", product_id, {"list_price": chosen["new_price"]}, editor)
    new_order = editing.save_order(
        {
            "customer_id": chosen["customer_id"],
            "channel_id": chosen["channel_id"],
            "ship_region_id": chosen["region_id"],
            "ordered_at": datetime.combine(chosen["new_day"], day_time(12), tzinfo=UTC),
            "status": "placed",
            "payment_status": "paid",
            "payment_method": "card",
        },
        [
            # no unit price: the product's (new) list price is filled in
            {"product_id": product_id, "quantity": 2, "discount_amount": "1.50"},
            {"product_id": chosen["other_product"], "quantity": 1},
        ],
        editor,
    )
    deleted_order = chosen["deleted_order"]
    order = editing.get_row("orders", deleted_order)
    outcome = editing.delete_row("orders", deleted_order, order["updated_at"], editor)
    assert outcome.action == "soft_deleted", outcome
    # the order's amount, from its own lines as saved
    (new_amount,) = one(
        env,
        "select sum(quantity * unit_price - discount_amount) from raw.order_items"
        " where order_id = %s",
        (new_order,),
    )
    return dict(new_order=new_order, new_amount=new_amount)


def refresh_from_the_page(editor, pending: list[str]) -> AppTest:
    """Start a refresh with the predictions from the page, click again from
    another session while it runs, and follow it to its end."""
    at = open_refresh_page(editor)
    at.checkbox(key="refresh_predictions").check()
    at.button(key="refresh_start").click().run()
    assert not at.exception, [e.value for e in at.exception]
    state = refresh.latest()
    assert state is not None and state.requested_by == editor.username
    assert list(state.selection) == refresh.selectors(pending)
    if state.running:
        # a second click, from another session, gets the running refresh
        again = refresh.start("someone_else")
        assert not again.is_new and again.state.run_id == state.run_id
        other = open_refresh_page(editor)
        assert not [b for b in other.button if b.key == "refresh_start"]
    run_until_done(at)
    return at


@pytest.fixture(scope="module")
def refreshed(warehouse) -> dict:
    """Edits through the app's API (a new price, a new order, a soft delete), then
    one refresh started from the page and run to its end; what the checks
    compare."""
    with pytest.MonkeyPatch.context() as monkeypatch:
        point_app_at(
            monkeypatch, launch.database_env(warehouse["env"]), warehouse["target"]
        )
        env, editor = warehouse["env"], warehouse["editor"]
        chosen = choose_rows(env)
        before = figures_before(editor, chosen)
        edited = edit_through_the_app(env, editor, chosen)
        pending = refresh.pending().tables
        assert {"order_items", "orders", "products"} <= set(pending), pending
        at = refresh_from_the_page(editor, pending)
    return dict(at=at, **edited, **chosen, **before)


def test_refresh_from_the_page(warehouse, app_env, refreshed):
    env, editor = warehouse["env"], warehouse["editor"]
    at = refreshed["at"]
    state = refresh.latest()
    assert state.status == "success", state.errors
    assert state.predictions_ok, state.predictions_message
    assert state.models_built > 0 and state.tests_passed > 0
    assert state.tests_failed == 0 and state.errors == ()
    successes = texts(at.success)
    assert any("Warehouse refreshed" in text for text in successes), successes
    assert any("Predictions refitted" in text for text in successes), successes
    assert metric(at, "Models built") == f"{state.models_built:,}"
    assert metric(at, "Tests failed") == "0"
    status, selection, by, models, passed, failed, message, finished = refresh_run(
        env, state.run_id
    )
    assert (status, by, models, passed, failed, finished) == (
        "success",
        editor.username,
        state.models_built,
        state.tests_passed,
        0,
        True,
    )
    assert selection == " ".join(state.selection)
    assert message == state.message and "models built" in message
    assert refresh.pending().tables == []
    # the predictions were written with the build credentials, after the build
    assert one(
        env,
        "select count(*) > 0 from ml.model_runs where run_at >= %s",
        (state.started_at,),
    ) == (True,)
    # the history lists the run
    assert at.dataframe[-1].value["run"].iloc[0] == state.run_id


def overview_cards(user, day: date) -> dict[str, str]:
    at = app_test(user)
    at.query_params.update({"from": day.isoformat(), "to": day.isoformat()})
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    return {label: metric(at, label) for label in ("Revenue", "Orders")}


def test_new_order_moves_revenue_and_orders_by_its_own_amount(
    warehouse, app_env, refreshed
):
    env = warehouse["env"]
    new_order, amount = refreshed["new_order"], float(refreshed["new_amount"])
    assert one(
        env,
        "select net_revenue, item_count, is_sale from marts.fct_orders"
        " where order_id = %s",
        (new_order,),
    ) == (refreshed["new_amount"], 2, True)
    day = refreshed["new_day"]
    before, after = refreshed["new_day_before"], kpis(day, day)
    assert after.orders == before.orders + 1
    assert after.net_revenue == pytest.approx(before.net_revenue + amount, abs=1e-6)
    # the Overview page of that day shows it
    assert overview_cards(warehouse["editor"], day) == {
        "Revenue": ui.money(before.net_revenue + amount),
        "Orders": ui.count(before.orders + 1),
    }
    assert refreshed["overview_before"] == {
        "Revenue": ui.money(before.net_revenue),
        "Orders": ui.count(before.orders),
    }
    # all the history: one order in, one out
    total = kpis(refreshed["first_day"], day)
    deleted = float(refreshed["deleted_revenue"])
    expected = refreshed["total_before"].net_revenue + amount - deleted
    assert total.orders == refreshed["total_before"].orders
    assert total.net_revenue == pytest.approx(expected, abs=1e-6)


def test_price_change_keeps_past_revenue_and_both_prices(warehouse, refreshed):
    env, product_id = warehouse["env"], refreshed["product_id"]
    # past lines of the product: same revenue as before the change
    assert (
        one(
            env,
            "select sum(net_revenue), count(*) from marts.fct_order_items"
            " where product_id = %s and order_id not in (%s, %s)",
            (product_id, refreshed["new_order"], refreshed["deleted_order"]),
        )
        == refreshed["past_item_revenue"]
    )
    # the new order's line carries the new price
    assert one(
        env,
        "select unit_price from marts.fct_order_items"
        " where order_id = %s and product_id = %s",
        (refreshed["new_order"], product_id),
    ) == (refreshed["new_price"],)
    assert one(
        env,
        "select list_price from marts.dim_products where product_id = %s",
        (product_id,),
    ) == (refreshed["new_price"],)
    # the snapshot keeps the old version, closed, and the new one, current
    assert sql(
        env,
        "select list_price, dbt_valid_to is null from snapshots.snap_products"
        " where product_id = %s order by dbt_valid_from",
        (product_id,),
    ) == [(refreshed["old_price"], False), (refreshed["new_price"], True)]


def test_soft_deleted_order_leaves_the_marts(warehouse, app_env, refreshed):
    env, order_id = warehouse["env"], refreshed["deleted_order"]
    assert (
        sql(
            env,
            "select 1 from marts.fct_orders where order_id = %s"
            " union all select 1 from marts.fct_order_items where order_id = %s",
            (order_id, order_id),
        )
        == []
    )
    day = refreshed["deleted_day"]
    before, after = refreshed["deleted_day_before"], kpis(day, day)
    assert after.orders == before.orders - 1
    assert after.net_revenue == pytest.approx(
        before.net_revenue - float(refreshed["deleted_revenue"]), abs=1e-6
    )


# -------------------------------------------------------------- a failing build


def test_failing_build_is_reported_and_recorded(warehouse, app_env, monkeypatch):
    env, editor = warehouse["env"], warehouse["editor"]
    # builds with the app's own role, which may not create anything (or, where
    # that role does not exist, with a role that does not exist at all)
    builder = "ecom_app" if app_env["PGUSER"] == "ecom_app" else "ecom_no_such_role"
    monkeypatch.setenv(launch.BUILD_USER_VARIABLE, builder)
    monkeypatch.setenv(launch.BUILD_PASSWORD_VARIABLE, "")
    region_id, region_name = one(
        env, "select region_id, region_name from raw.regions order by 1 limit 1"
    )
    edit("regions", region_id, {"region_name": region_name + " (renamed)"}, editor)
    at = open_refresh_page(editor)
    at.button(key="refresh_start").click().run()
    run_until_done(at)
    state = refresh.latest()
    assert state.status == "failed" and state.errors
    if builder == "ecom_app":
        assert any(
            line.startswith("model stg_shop__regions:") and "permission denied" in line
            for line in state.errors
        ), state.errors
        assert state.skipped > 0
    for line in state.errors:
        assert "\n" not in line and "Traceback" not in line
    assert any("The refresh failed" in text for text in texts(at.error))
    assert at.code[0].value == "\n".join(state.errors)
    status, selection, _, _, _, _, message, finished = refresh_run(env, state.run_id)
    assert (status, selection, finished) == ("failed", "source:shop.regions+", True)
    assert message == "\n".join(state.errors)
    # a failed refresh leaves the edits to the next one
    assert refresh.pending().tables == ["regions"]
