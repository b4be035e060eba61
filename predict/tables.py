"""The tables of schema `ml`: their DDL, and an atomic replace with COPY.

Column descriptions live in dbt_project/models/marts/ml/_ml__sources.yml (dbt docs
shows them); tests/test_predict.py checks that file against these definitions.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterator
from typing import Any

import numpy as np
import pandas as pd
import psycopg
from psycopg import sql

SCHEMA = "ml"
WRITE_CHUNK = 50_000  # rows per block of COPY

# table -> [(column, type)], in the order written; the first entries with
# "primary key" in PRIMARY_KEYS form the key
TABLES: dict[str, list[tuple[str, str]]] = {
    "revenue_forecast": [
        ("category", "text not null"),
        ("model", "text not null"),
        ("actual", "numeric(18, 2)"),
        ("fitted", "numeric(18, 2)"),
        ("forecast", "numeric(18, 2)"),
        ("lo80", "numeric(18, 2)"),
        ("hi80", "numeric(18, 2)"),
        ("lo95", "numeric(18, 2)"),
        ("hi95", "numeric(18, 2)"),
        ("is_forecast", "boolean not null"),
        ("month", "date not null"),
    ],
    "forecast_backtest": [
        ("category", "text not null"),
        ("model", "text not null"),
        ("model_spec", "text not null"),
        ("horizon", "integer not null"),
        ("actual", "numeric(18, 2) not null"),
        ("predicted", "numeric(18, 2) not null"),
        ("ape_pct", "double precision"),
        ("lo80", "numeric(18, 2)"),
        ("hi80", "numeric(18, 2)"),
        ("lo95", "numeric(18, 2)"),
        ("hi95", "numeric(18, 2)"),
        ("origin_month", "date not null"),
        ("month", "date not null"),
    ],
    "forecast_metrics": [
        ("category", "text not null"),
        ("model", "text not null"),
        ("model_label", "text not null"),
        ("forecasts", "integer not null"),
        ("mape_pct", "double precision"),
        ("mape_h1_pct", "double precision"),
        ("coverage80_pct", "double precision"),
        ("coverage95_pct", "double precision"),
        ("rank", "integer not null"),
        ("beats_baselines", "boolean"),
    ],
    "customer_clv": [
        ("customer_id", "text not null"),
        ("clv_tier", "text not null"),
        ("repeat_purchases", "integer not null"),
        ("orders", "integer not null"),
        ("active_span_days", "integer not null"),
        ("customer_age_days", "integer not null"),
        ("days_since_last_order", "integer not null"),
        ("historical_revenue", "numeric(18, 2) not null"),
        ("avg_repeat_value", "numeric(18, 2)"),
        ("p_alive", "double precision not null"),
        ("expected_purchases_12m", "double precision not null"),
        ("expected_avg_value", "numeric(18, 2) not null"),
        ("expected_value_12m", "numeric(18, 2) not null"),
        ("clv_rank", "integer not null"),
        ("is_at_risk", "boolean not null"),
        ("first_order_date", "date not null"),
        ("last_order_date", "date not null"),
    ],
    "clv_calibration": [
        ("frequency_group", "text not null"),
        ("group_order", "integer not null"),
        ("customers", "integer not null"),
        ("predicted_mean", "double precision not null"),
        ("actual_mean", "double precision not null"),
        ("predicted_total", "double precision not null"),
        ("actual_total", "double precision not null"),
        ("error_pct", "double precision"),
        ("holdout_start_date", "date not null"),
        ("holdout_end_date", "date not null"),
    ],
    "clv_parameters": [
        ("model", "text not null"),
        ("fitted_on", "text not null"),
        ("parameter", "text not null"),
        ("value", "double precision not null"),
        ("customers", "integer not null"),
    ],
    "customer_segments": [
        ("customer_id", "text not null"),
        ("cluster", "integer not null"),
        ("segment_name", "text not null"),
        ("rfm_segment", "text"),
        ("recency_days", "integer not null"),
        ("frequency", "integer not null"),
        ("monetary", "numeric(18, 2) not null"),
        ("pc1", "double precision not null"),
        ("pc2", "double precision not null"),
    ],
    "segment_profiles": [
        ("cluster", "integer not null"),
        ("segment_name", "text not null"),
        ("top_rfm_segment", "text"),
        ("customers", "integer not null"),
        ("share_pct", "double precision not null"),
        ("revenue_share_pct", "double precision not null"),
        ("mean_recency_days", "double precision not null"),
        ("median_recency_days", "double precision not null"),
        ("mean_frequency", "double precision not null"),
        ("median_frequency", "double precision not null"),
        ("mean_monetary", "numeric(18, 2) not null"),
        ("median_monetary", "numeric(18, 2) not null"),
        ("centre_recency_days_z", "double precision not null"),
        ("centre_frequency_z", "double precision not null"),
        ("centre_monetary_z", "double precision not null"),
        ("top_rfm_segment_pct", "double precision"),
    ],
    "segment_rfm_crosstab": [
        ("cluster", "integer not null"),
        ("segment_name", "text not null"),
        ("rfm_segment", "text not null"),
        ("customers", "integer not null"),
        ("share_of_cluster_pct", "double precision not null"),
        ("share_of_rfm_segment_pct", "double precision not null"),
    ],
    "segment_k_selection": [
        ("k", "integer not null"),
        ("silhouette", "double precision"),
        ("inertia", "double precision not null"),
        ("is_chosen", "boolean not null"),
    ],
}

PRIMARY_KEYS: dict[str, tuple[str, ...]] = {
    "revenue_forecast": ("category", "month"),
    "forecast_backtest": ("category", "model", "origin_month", "month"),
    "forecast_metrics": ("category", "model"),
    "customer_clv": ("customer_id",),
    "clv_calibration": ("frequency_group",),
    "clv_parameters": ("model", "parameter"),
    "customer_segments": ("customer_id",),
    "segment_profiles": ("cluster",),
    "segment_rfm_crosstab": ("cluster", "rfm_segment"),
    "segment_k_selection": ("k",),
}

# One row per run of `run_predictions`, appended (the other tables are replaced).
# `models` and `marts_built_at` came later: added to an older table in place.
MODEL_RUNS_DDL = """
create table if not exists ml.model_runs (
    run_id bigint generated always as identity primary key,
    seed integer not null,
    parameters jsonb not null,
    metrics jsonb not null,
    timings jsonb not null,
    seconds double precision not null,
    as_of_date date not null,
    run_at timestamptz not null default now(),
    models jsonb,
    marts_built_at timestamptz
)
"""
MODEL_RUNS_UPGRADE = (
    "alter table ml.model_runs add column if not exists models jsonb",
    "alter table ml.model_runs add column if not exists marts_built_at timestamptz",
)
MODEL_RUNS_COLUMNS = [
    "run_id",
    "seed",
    "parameters",
    "metrics",
    "timings",
    "seconds",
    "as_of_date",
    "run_at",
    "models",
    "marts_built_at",
]


def _create(cur: psycopg.Cursor, table: str) -> None:
    columns = [
        sql.SQL("{} {}").format(sql.Identifier(name), sql.SQL(kind))
        for name, kind in TABLES[table]
    ]
    key = sql.SQL("primary key ({})").format(
        sql.SQL(", ").join(sql.Identifier(c) for c in PRIMARY_KEYS[table])
    )
    cur.execute(
        sql.SQL("drop table if exists {}").format(sql.Identifier(SCHEMA, table))
    )
    cur.execute(
        sql.SQL("create table {} ({})").format(
            sql.Identifier(SCHEMA, table), sql.SQL(", ").join([*columns, key])
        )
    )


def empty(table: str) -> pd.DataFrame:
    """No rows, the table's columns: what a skipped model writes."""
    return pd.DataFrame(columns=[name for name, _ in TABLES[table]])


def checked(table: str, frame: pd.DataFrame) -> pd.DataFrame:
    """`frame` with infinities as missing values; raises ValueError naming the
    column when a value is missing where the table requires one (a model that
    produced NaN), so that the model is skipped rather than the write failing.
    A frame without infinities is returned as it is (no copy)."""
    for name, _ in TABLES[table]:
        if name not in frame:
            raise ValueError(f"ml.{table} has no column {name}")
    infinite = [
        name
        for name in frame.columns
        if pd.api.types.is_float_dtype(frame[name])
        and np.isinf(frame[name].to_numpy()).any()
    ]
    if infinite:
        frame = frame.copy()
        frame[infinite] = frame[infinite].replace([np.inf, -np.inf], np.nan)
    for name, kind in TABLES[table]:
        if "not null" in kind and frame[name].isna().any():
            raise ValueError(f"ml.{table}.{name} would hold missing or infinite values")
    return frame


def finite(value: Any) -> Any:
    """JSON-ready: NaN and infinities become null (JSON has neither), numpy
    numbers plain numbers, in nested dicts and lists."""
    if isinstance(value, dict):
        return {str(k): finite(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [finite(v) for v in value]
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def as_json(value: Any) -> str:
    return json.dumps(finite(value), sort_keys=True, allow_nan=False, default=str)


def _csv_field(value: Any) -> str:
    """One field of any other column: null (unquoted empty) or quoted text."""
    if value is None or value is pd.NA or value is pd.NaT:
        return ""
    if isinstance(value, float) and not math.isfinite(value):
        return ""
    return '"' + str(value).replace('"', '""') + '"'


def _csv_column(column: pd.Series) -> list[str]:
    """A column's fields as CSV text (COPY's null: an unquoted empty field;
    NaN and infinities are null). Floats are written by `repr`, the shortest
    text that reads back as the same number, as pandas' to_csv does, but several
    times faster on a million rows."""
    kind = column.dtype.kind
    if kind == "f":
        values = column.to_numpy()
        fields = list(map(repr, values.tolist()))
        for i in np.flatnonzero(~np.isfinite(values)):
            fields[i] = ""
        return fields
    if kind in "iub":
        return list(map(str, column.to_numpy().tolist()))
    if kind == "M":
        values = column.to_numpy().astype("datetime64[D]")
        fields = np.datetime_as_string(values).tolist()
        for i in np.flatnonzero(np.isnat(values)):
            fields[i] = ""
        return fields
    return list(map(_csv_field, column.to_numpy(object).tolist()))


def _csv_chunks(frame: pd.DataFrame, columns: list[str]) -> Iterator[bytes]:
    """CSV for COPY, WRITE_CHUNK rows at a time (the text of a large table is
    never all in memory)."""
    for start in range(0, len(frame), WRITE_CHUNK):
        part = frame.iloc[start : start + WRITE_CHUNK]
        fields = [_csv_column(part[name]) for name in columns]
        text = "\n".join(map(",".join, zip(*fields, strict=True)))
        yield (text + "\n").encode("utf-8")


def replace_all(
    conn: psycopg.Connection,
    frames: dict[str, pd.DataFrame],
    run: dict,
) -> int:
    """Replace every table of TABLES with `frames` and append `run` to
    ml.model_runs, in one transaction: readers see the old results or the new
    ones, never a mix. Returns the run_id."""
    missing = set(TABLES) - set(frames)
    if missing:
        raise ValueError(f"no data for ml tables: {sorted(missing)}")
    with conn.transaction(), conn.cursor() as cur:
        cur.execute(
            sql.SQL("create schema if not exists {}").format(sql.Identifier(SCHEMA))
        )
        for table, spec in TABLES.items():
            _create(cur, table)
            columns = [name for name, _ in spec]
            statement = sql.SQL("copy {} ({}) from stdin (format csv)").format(
                sql.Identifier(SCHEMA, table),
                sql.SQL(", ").join(sql.Identifier(c) for c in columns),
            )
            with cur.copy(statement) as copy:
                for block in _csv_chunks(frames[table], columns):
                    copy.write(block)
        cur.execute(MODEL_RUNS_DDL)
        for statement in MODEL_RUNS_UPGRADE:
            cur.execute(statement)
        # The app's least-privilege role may read the results (see 002_app_schema).
        cur.execute(
            "select app.grant_read_to_app('ml')"
            " where to_regprocedure('app.grant_read_to_app(text)') is not null"
        )
        cur.execute(
            "insert into ml.model_runs (seed, parameters, metrics, timings,"
            " seconds, as_of_date, models, marts_built_at)"
            " values (%s, %s, %s, %s, %s, %s, %s, %s) returning run_id",
            (
                run["seed"],
                as_json(run["parameters"]),
                as_json(run["metrics"]),
                as_json(run["timings"]),
                run["seconds"],
                run["as_of_date"],
                as_json(run["models"]),
                run["marts_built_at"],
            ),
        )
        (run_id,) = cur.fetchone()
    return int(run_id)
