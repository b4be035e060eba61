"""Placeholder until the page lands."""

import streamlit as st

st.title("edit_customers")
st.info("This page is being built.")
