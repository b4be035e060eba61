"""The dashboards' data access: one module of queries per page (overview, sales,
products, customers, retention, basket, inventory, quality, predictions), the
global filters in SQL (filtering), measures derived in pandas (measures) and dbt's
reports (dbt_artifacts).

Rules every query module keeps:
- read only the `marts` schema (tables built by dbt), and `ml` for the
  predictions (written by `ecom predict` from the marts), never raw / staging;
- values always travel as psycopg parameters, never formatted into SQL;
- run through `warehouse.query`, which caches results keyed by the database and
  the latest dbt build and turns database problems into `WarehouseError`s.

Pages import the module of their domain: `from streamlit_app.queries import sales`,
then `sales.monthly_sales(f)`.
"""
