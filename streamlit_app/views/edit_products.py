"""Placeholder until the page lands."""

import streamlit as st

st.title("edit_products")
st.info("This page is being built.")
