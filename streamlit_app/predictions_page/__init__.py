"""The sections of the Predictions page (views/predictions.py runs them in order):
`run_status` (reading schema ml, the empty and error states), `model_status` (the
run's caption, a warning when the fit is older than the latest build, what each
model did), `kpi_cards`, `forecast`, `backtest`, `lifetime_value` (CLV tiers and
the model's calibration), `customer_lists` (top predicted value, at risk) and
`segments` (K-means).
"""
