"""The sections of the Predictions page (views/predictions.py runs them in order):
`run_status` (reading schema ml, the empty and error states, the run caption),
`kpi_cards`, `forecast`, `backtest`, `lifetime_value` (CLV tiers and the model's
calibration), `customer_lists` (top predicted value, at risk) and `segments`
(K-means).
"""
