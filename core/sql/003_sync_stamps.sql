-- When each raw row was last written, by the warehouse's clock: the watermark
-- the incremental facts read their changes from (see the doc block
-- def_incremental_facts in dbt_project). `updated_at` is the source's own clock
-- (an export may backdate it); `synced_at` is stamped here, on insert by its
-- default and on every update by a trigger, whoever writes (loader, app, psql).
-- The loader never reads it from a file.

create or replace function raw.stamp_synced_at() returns trigger
language plpgsql as $$
begin
    new.synced_at := now();
    return new;
end;
$$;

-- Orders and lines deleted outright (the app soft-deletes; psql or a script may
-- not): the order a deleted row belonged to, stamped like a write, so the facts
-- rewrite (or drop) that order. A truncate writes one row with no order id:
-- "every order may be gone".
create table if not exists raw.order_deletions (
    deletion_id bigint generated always as identity primary key,
    order_id varchar(64) collate "C",
    synced_at timestamptz not null default now()
);
create index if not exists order_deletions_synced_at_idx
on raw.order_deletions (synced_at);

create or replace function raw.record_order_deletion() returns trigger
language plpgsql as $$
begin
    if tg_op = 'TRUNCATE' then
        insert into raw.order_deletions (order_id) values (null);
    else
        insert into raw.order_deletions (order_id) values (old.order_id);
    end if;
    return null;
end;
$$;

do $$
declare
    t text;
begin
    foreach t in array array[
        'regions', 'channels', 'customers', 'products', 'promotions',
        'orders', 'order_items'
    ]
    loop
        -- on a table with rows: one constant default, no rewrite of the table
        execute format(
            'alter table raw.%I add column if not exists synced_at timestamptz '
            'not null default now()',
            t
        );
        execute format(
            'create or replace trigger stamp_synced_at before update on raw.%I '
            'for each row execute function raw.stamp_synced_at()',
            t
        );
    end loop;
    foreach t in array array['orders', 'order_items']
    loop
        execute format(
            'create index if not exists %I on raw.%I (synced_at)',
            t || '_synced_at_idx', t
        );
        execute format(
            'create or replace trigger record_order_deletion after delete on raw.%I '
            'for each row execute function raw.record_order_deletion()',
            t
        );
        execute format(
            'create or replace trigger record_order_truncate after truncate on raw.%I '
            'for each statement execute function raw.record_order_deletion()',
            t
        );
    end loop;
end;
$$;

-- The deletion triggers run as whoever deletes: the app and the loader may add
-- to the log, dbt reads it.
do $$
begin
    if exists (select 1 from pg_roles where rolname = 'ecom_app') then
        grant insert on raw.order_deletions to ecom_app, ecom_loader;
        grant select on raw.order_deletions to ecom_dbt;
    end if;
exception
    when insufficient_privilege then
        raise notice 'grants on raw.order_deletions not applied: %', sqlerrm;
end;
$$;
