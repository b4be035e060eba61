"""The editing pages' widgets, on the editing layer (`core.editing`).

- `state`: session-state keys of a page, its mode, closing the form;
- `messages`: messages shown once (flash), errors in plain words, and guards
  that turn a failing callback or part of a page into a message;
- `form`: the form's fields, search-as-you-type selectors of foreign keys, and
  reading and filling the form;
- `list_view`: the list (server-side search, filters, sort, pages) and the
  picker that opens a row;
- `editor`: the create / edit form with save, delete confirmation and the
  optimistic-concurrency conflict panel;
- `entity_page`: a whole editing page of a simple entity.

State lives in `st.session_state` under keys starting with the page's prefix
(the entity name): `<prefix>.mode` ("list", "create" or "edit"), `<prefix>.row`
(the row as it was when the form was opened: its `updated_at` is the version a
save compares), `<prefix>.f.<field>` (the form's widgets), and so on. Actions
run as widget callbacks, so a page never needs `st.rerun()` and a callback may
set the widgets' values.

Data text is shown only with st.dataframe, st.text and widget labels/options,
never as Markdown: messages passed to st.error / st.success are fixed text from
the editing layer (labels and numbers).
"""
