"""Streamlit dashboards on the warehouse marts."""
