-- What the app's editing pages need beside the raw tables: accounts, the audit
-- trail, id sequences, the updated_at version bump, and least-privilege roles.
-- Applied idempotently after 001_raw_tables.sql; never drops anything.

create schema if not exists app;

-- Local accounts of the app (passwords hashed with argon2 by loader/accounts.py).
create table if not exists app.users (
    user_id integer generated always as identity primary key,
    username varchar(60) not null constraint users_username_key unique
        constraint username_format check (username ~ '^[a-z0-9_.-]{2,60}$'),
    password_hash text not null,
    role varchar(10) not null
        constraint user_role_known check (role in ('viewer', 'editor', 'admin')),
    is_active boolean not null default true,
    created_at timestamptz not null default now(),
    updated_at timestamptz not null default now()
);

-- Signed-in browser sessions: the cookie holds a random token, this table only
-- its SHA-256, so a copy of the table signs nobody in.
create table if not exists app.sessions (
    token_sha256 char(64) primary key,
    username varchar(60) not null references app.users (username),
    created_at timestamptz not null default now(),
    expires_at timestamptz not null
);

-- The client a session was issued to (address and browser): a token presented
-- by another client is refused (core.sign_in).
alter table app.sessions add column if not exists client varchar(200) not null
default '';

-- Every sign-in attempt, for throttling and for admins to see (core.sign_in).
create table if not exists app.sign_in_attempts (
    attempt_id bigint generated always as identity primary key,
    username varchar(60) not null,
    client varchar(200) not null,
    succeeded boolean not null,
    attempted_at timestamptz not null default now()
);
create index if not exists sign_in_attempts_username_idx
on app.sign_in_attempts (username, attempted_at);
create index if not exists sign_in_attempts_client_idx
on app.sign_in_attempts (client, attempted_at);

-- Every insert, update and delete on the raw tables, written by triggers.
create table if not exists app.audit_log (
    audit_id bigint generated always as identity primary key,
    table_name varchar(63) not null,
    row_key jsonb not null,
    action varchar(6) not null
        constraint audit_action_known check (action in ('insert', 'update', 'delete')),
    old_values jsonb,
    new_values jsonb,
    changed_by text not null,
    database_role text not null,
    changed_at timestamptz not null default clock_timestamp()
);

create index if not exists audit_log_changed_at_idx on app.audit_log (changed_at);
create index if not exists audit_log_table_key_idx on app.audit_log (
    table_name, row_key
);

-- Warehouse refreshes started from the app (dbt build of what raw edits touched).
create table if not exists app.refresh_runs (
    run_id integer generated always as identity primary key,
    requested_by text not null,
    selection text not null,
    status varchar(10) not null default 'running'
        constraint refresh_status_known
        check (status in ('running', 'success', 'failed')),
    models_built integer,
    tests_passed integer,
    tests_failed integer,
    message text,
    started_at timestamptz not null default clock_timestamp(),
    finished_at timestamptz
);

-- The trigger records who (the app's signed-in user, set per transaction with
-- `set local ecom.app_user`, else the database role) and what changed. Bulk
-- loads skip it only when the session is a superuser or a member of ecom_loader
-- and has said so (`set local ecom.bulk_load = on`): the app's role cannot.
create or replace function app.audit_row_change() returns trigger
language plpgsql security definer set search_path = pg_catalog, app as $$
declare
    key_columns text[] := tg_argv;
    old_row jsonb := case when tg_op <> 'INSERT' then to_jsonb(old) end;
    new_row jsonb := case when tg_op <> 'DELETE' then to_jsonb(new) end;
    key_row jsonb;
begin
    -- Only the raw tables' own triggers write the trail (a temporary table named
    -- like a raw one must not): see also the revoke below.
    if tg_table_schema <> 'raw' then
        raise exception 'the audit trail records only the raw tables, not %.%',
            tg_table_schema, tg_table_name;
    end if;
    if current_setting('ecom.bulk_load', true) = 'on' and (
        (select r.rolsuper from pg_roles as r where r.rolname = session_user)
        or exists (
            select 1 from pg_roles as r
            where r.rolname = 'ecom_loader'
              and pg_has_role(session_user, r.oid, 'member')
        )
    ) then
        return null;
    end if;
    if tg_op = 'UPDATE' and old_row = new_row then
        return null;
    end if;
    select jsonb_object_agg(k, coalesce(new_row, old_row) -> k)
    into key_row
    from unnest(key_columns) as k;
    insert into app.audit_log (
        table_name, row_key, action, old_values, new_values, changed_by, database_role
    )
    values (
        tg_table_name,
        key_row,
        lower(tg_op),
        old_row,
        new_row,
        coalesce(nullif(current_setting('ecom.app_user', true), ''), session_user),
        session_user
    );
    return null;
end;
$$;

-- No role but the owner may attach the audit function to a table (creating a
-- trigger needs EXECUTE on its function; firing one does not).
revoke execute on function app.audit_row_change() from public;

-- updated_at is the row version the app's optimistic concurrency compares: an
-- update that does not move it forward gets it moved here.
create or replace function app.bump_updated_at() returns trigger
language plpgsql as $$
begin
    if new.updated_at is not distinct from old.updated_at then
        new.updated_at := greatest(now(), old.updated_at + interval '1 microsecond');
    end if;
    return new;
end;
$$;

do $$
declare
    t record;
begin
    for t in
        select *
        from (
            values
            ('regions', 'region_id'),
            ('channels', 'channel_id'),
            ('customers', 'customer_id'),
            ('products', 'product_id'),
            ('promotions', 'promotion_id'),
            ('orders', 'order_id'),
            ('order_items', 'order_item_id')
        ) as v (table_name, key_column)
    loop
        execute format(
            'create or replace trigger audit_row_change '
            'after insert or update or delete '
            'on raw.%I for each row execute function app.audit_row_change(%L)',
            t.table_name, t.key_column
        );
        execute format(
            'create or replace trigger bump_updated_at before update on raw.%I '
            'for each row execute function app.bump_updated_at()',
            t.table_name
        );
        -- Rows created in the app take ids 'app-' || nextval(<table>_app_id_seq);
        -- the loader refuses ids starting with 'app-' in files, so a loaded row
        -- and an app-created one can never collide.
        execute format(
            'create sequence if not exists raw.%I as bigint start with 1000000001',
            t.table_name || '_app_id_seq'
        );
    end loop;
end;
$$;

-- dbt (on-run-end) and `ecom predict` call this after writing marts / ml: the
-- app's role may read those schemas, including tables created by later runs.
create or replace function app.grant_read_to_app(schema_name text) returns void
language plpgsql as $$
begin
    if schema_name not in ('marts', 'ml') then
        raise exception 'the app reads only marts and ml, not %', schema_name;
    end if;
    if exists (select 1 from pg_roles where rolname = 'ecom_app') then
        execute format('grant usage on schema %I to ecom_app', schema_name);
        execute format(
            'grant select on all tables in schema %I to ecom_app', schema_name
        );
        execute format(
            'alter default privileges in schema %I grant select on tables to ecom_app',
            schema_name
        );
    end if;
end;
$$;

-- Least-privilege roles. Creating roles needs CREATEROLE: without it the roles
-- are left out (and `ecom app` connects as the current user, with a warning).
do $$
begin
    if not exists (select 1 from pg_roles where rolname = 'ecom_app') then
        create role ecom_app login;
    end if;
    if not exists (select 1 from pg_roles where rolname = 'ecom_dbt') then
        create role ecom_dbt login;
    end if;
    if not exists (select 1 from pg_roles where rolname = 'ecom_loader') then
        create role ecom_loader login;
    end if;
exception
    when insufficient_privilege then
        raise notice 'roles ecom_app, ecom_dbt, ecom_loader not created: %', sqlerrm;
end;
$$;

do $$
declare
    db text := current_database();
begin
    if not exists (select 1 from pg_roles where rolname = 'ecom_app') then
        return;
    end if;
    -- Nobody creates objects in the public schema (the default since PostgreSQL 15).
    execute 'revoke create on schema public from public';
    execute format('grant connect on database %I to ecom_app, ecom_dbt, ecom_loader', db);
    execute format('grant create on database %I to ecom_dbt', db);

    -- The app: edit raw (orders are soft-deleted, never deleted), read the
    -- audit trail, manage accounts. Marts and ml are granted by dbt and predict.
    grant usage on schema raw, app to ecom_app;
    grant select, insert, update on
        raw.regions, raw.channels, raw.customers, raw.products, raw.promotions,
        raw.orders, raw.order_items
    to ecom_app;
    grant delete on
        raw.regions, raw.channels, raw.customers, raw.products, raw.promotions,
        raw.order_items
    to ecom_app;
    grant usage on all sequences in schema raw to ecom_app;
    grant select on app.audit_log to ecom_app;
    grant select, insert, update on app.users, app.refresh_runs to ecom_app;
    grant select, insert, delete on app.sessions to ecom_app;
    grant select, insert on app.sign_in_attempts to ecom_app;

    -- dbt: read raw (sources), build its own schemas.
    grant usage on schema raw, app to ecom_dbt;
    grant select on all tables in schema raw to ecom_dbt;

    -- The loader: write raw and its bookkeeping.
    grant usage on schema raw to ecom_loader;
    grant select, insert, update on all tables in schema raw to ecom_loader;
exception
    -- A login that does not own the database cannot grant on it: leave the
    -- roles as they are (the app then reports what it may not do).
    when insufficient_privilege then
        raise notice 'grants to the ecom_* roles not applied: %', sqlerrm;
end;
$$;
