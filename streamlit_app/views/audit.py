"""Audit trail (admins): every insert, update and delete on the raw tables, as
written by the database triggers; filtered and paged on the server, newest first,
with a detail view of one entry's old and new values."""

from datetime import date

import streamlit as st

from core import editing
from streamlit_app import auth, ui
from streamlit_app.editing.messages import show_error

P = "audit"
ANY = "Any"

auth.require("admin")
st.title("Audit trail")
st.caption(
    "Every change to the source tables, recorded by database triggers: who (the "
    "signed-in user, or the database role for changes made outside the app), when, "
    "and the row's values before and after. Bulk loads are recorded in the load "
    "batches instead. Times are UTC."
)

top = st.columns(4)
table = top[0].selectbox("Table", [ANY, *editing.AUDIT_TABLES], key=f"{P}.table")
action = top[1].selectbox("Action", [ANY, *editing.AUDIT_ACTIONS], key=f"{P}.action")
user = top[2].text_input(
    "User",
    key=f"{P}.user",
    placeholder="Part of a name",
    help="Who made the change.",
    max_chars=editing.MAX_SEARCH_CHARS,
)
key = top[3].text_input(
    "Row id",
    key=f"{P}.key",
    placeholder="e.g. 1000000001",
    help="The row's key.",
    max_chars=editing.MAX_SEARCH_CHARS,
)
dates = st.columns([1, 1, 1, 1])
date_from = dates[0].date_input(
    "From", key=f"{P}.from", value=None, min_value=date(2000, 1, 1)
)
date_to = dates[1].date_input(
    "To", key=f"{P}.to", value=None, min_value=date(2000, 1, 1)
)
page_size = dates[2].selectbox(
    "Rows", editing.PAGE_SIZES, index=2, key=f"{P}.page_size"
)

question = {
    "table": None if table == ANY else table,
    "action": None if action == ANY else action,
    "user": user,
    "key": key,
    "date_from": date_from,
    "date_to": date_to,
}
signature = repr((sorted(question.items(), key=str), page_size))
if st.session_state.get(f"{P}.signature") != signature:
    st.session_state[f"{P}.signature"] = signature
    st.session_state[f"{P}.page"] = 1

try:
    frame, total = editing.list_audit(
        **question, page=st.session_state.get(f"{P}.page", 1), page_size=page_size
    )
except editing.CrudError as exc:
    show_error(exc)
    st.stop()

pages = editing.page_count(total, page_size)
page = min(int(st.session_state.get(f"{P}.page", 1) or 1), pages)
if page != st.session_state.get(f"{P}.page"):
    st.session_state[f"{P}.page"] = page
    frame, total = editing.list_audit(**question, page=page, page_size=page_size)
dates[3].number_input(
    f"Page (of {pages:,})", min_value=1, max_value=pages, step=1, key=f"{P}.page"
)
st.caption(f"{total:,} changes match; newest first.")
ui.table(
    frame,
    f"audit page {page}",
    column_config={
        "changed_at": st.column_config.DatetimeColumn(
            "changed at", format="YYYY-MM-DD HH:mm:ss", timezone="UTC"
        ),
        "row_key": "row key",
        "changed_by": "changed by",
        "database_role": "database role",
        "changed_fields": "fields changed",
    },
    empty="No changes match these filters.",
)

if not frame.empty:
    st.subheader("Details")
    labels = {
        int(row["audit_id"]): (
            f"#{row['audit_id']} · {row['table_name']} · {row['action']} · "
            f"{row['row_key']} · {row['changed_by']} · "
            f"{editing.as_utc(row['changed_at']):%Y-%m-%d %H:%M:%S}"
        )
        for row in frame.to_dict("records")
    }
    chosen = st.selectbox(
        "Change", list(labels), key=f"{P}.entry", format_func=labels.get
    )
    entry = editing.get_audit(chosen) if chosen is not None else None
    if entry is None:
        st.info("That entry is gone.", icon=":material/info:")
    else:
        changes = editing.audit_changes(entry)
        changed = changes[changes["changed"]]
        if entry["action"] == "update":
            st.caption(f"{len(changed):,} fields changed (shown first).")
        elif entry["action"] == "insert":
            st.caption("A new row: its values.")
        else:
            st.caption("A deleted row: its last values.")
        st.dataframe(
            changes,
            hide_index=True,
            width="stretch",
            column_config={
                "old": "old value",
                "new": "new value",
                "changed": st.column_config.CheckboxColumn("changed"),
            },
        )
        st.text(
            f"Changed by {entry['changed_by']} (database role "
            f"{entry['database_role']}) at "
            f"{editing.as_utc(entry['changed_at']):%Y-%m-%d %H:%M:%S} UTC"
        )
