"""Placeholder until the page lands."""

import streamlit as st

st.title("refresh")
st.info("This page is being built.")
