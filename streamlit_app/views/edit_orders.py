"""Placeholder until the page lands."""

import streamlit as st

st.title("edit_orders")
st.info("This page is being built.")
