-- Raw operational tables: the data contract of docs/data-contract.md.
-- Applied idempotently by `ecom load` (and `ecom db init`); never drops anything.
-- Constraint names are part of the contract: the loader quotes them in reject reasons.
-- {{ name }} stands for the values of the seed seeds/<name>.csv (core.enums), the
-- one definition of each enumeration.

create schema if not exists raw;

create table if not exists raw.regions (
    region_id varchar(64) collate "C" primary key,
    region_name varchar(100) not null constraint regions_region_name_key unique,
    updated_at timestamptz not null default now()
);

create table if not exists raw.channels (
    channel_id varchar(64) collate "C" primary key,
    channel_name varchar(100) not null constraint channels_channel_name_key unique,
    channel_type varchar(20) not null default 'unknown'
        constraint channel_type_known
        check (channel_type in ({{ channel_types }})),
    updated_at timestamptz not null default now()
);

-- Ids are the source's own, compared byte by byte (collation "C"): they are
-- codes, not words, and their indexes build and compare several times faster.

-- Only the id is required: an export may know nothing else of a customer.
create table if not exists raw.customers (
    customer_id varchar(64) collate "C" primary key,
    first_name varchar(100),
    last_name varchar(100),
    email varchar(254) constraint customers_email_key unique
        constraint email_format
        check (email ~ '^[^@[:space:]]+@[^@[:space:]]+\.[^@[:space:]]+$'),
    phone varchar(40),
    birth_date date,
    city varchar(100),
    country_code char(2)
        constraint country_code_format check (country_code ~ '^[A-Z]{2}$'),
    region_id varchar(64) collate "C" references raw.regions (region_id),
    segment varchar(20) not null default 'unknown'
        constraint segment_known
        check (segment in ({{ customer_segments }})),
    acquisition_channel_id varchar(64) collate "C" references raw.channels (channel_id),
    signup_at timestamptz,
    is_active boolean not null default true,
    updated_at timestamptz not null default now()
);

-- An unknown cost or stock is null, never 0: margins and stock states then say
-- "not available" instead of showing 100 % or "out of stock".
create table if not exists raw.products (
    product_id varchar(64) collate "C" primary key,
    sku varchar(64) constraint products_sku_key unique,
    product_name varchar(200),
    category varchar(50),
    subcategory varchar(50),
    brand varchar(100),
    unit_cost numeric
        constraint unit_cost_not_negative check (unit_cost >= 0),
    list_price numeric
        constraint list_price_not_negative check (list_price >= 0),
    stock_quantity integer
        constraint stock_not_negative check (stock_quantity >= 0),
    reorder_point integer
        constraint reorder_point_not_negative check (reorder_point >= 0),
    is_active boolean not null default true,
    created_at timestamptz not null default now(),
    updated_at timestamptz not null default now()
);

create table if not exists raw.promotions (
    promotion_id varchar(64) collate "C" primary key,
    promo_code varchar(40) not null constraint promotions_promo_code_key unique,
    description varchar(200),
    discount_pct numeric not null
        constraint discount_pct_range check (discount_pct > 0 and discount_pct <= 100),
    starts_at timestamptz not null,
    ends_at timestamptz not null,
    updated_at timestamptz not null default now(),
    constraint promotion_dates_in_order check (ends_at >= starts_at)
);

-- An order without a customer is an anonymous order; without a channel or a
-- region, the marts show it under "Unknown".
create table if not exists raw.orders (
    order_id varchar(64) collate "C" primary key,
    customer_id varchar(64) collate "C" references raw.customers (customer_id),
    channel_id varchar(64) collate "C" references raw.channels (channel_id),
    ship_region_id varchar(64) collate "C" references raw.regions (region_id),
    promotion_id varchar(64) collate "C" references raw.promotions (promotion_id),
    ordered_at timestamptz not null,
    status varchar(20) not null default 'delivered'
        constraint order_status_known
        check (status in ({{ order_statuses }})),
    payment_status varchar(20) not null default 'paid'
        constraint payment_status_known
        check (payment_status in ({{ payment_statuses }})),
    payment_method varchar(20) not null default 'unknown'
        constraint payment_method_known
        check (payment_method in ({{ payment_methods }})),
    shipping_amount numeric not null default 0
        constraint shipping_not_negative check (shipping_amount >= 0),
    tax_amount numeric not null default 0
        constraint tax_not_negative check (tax_amount >= 0),
    updated_at timestamptz not null default now(),
    deleted_at timestamptz
);

-- A line gives its unit price, its amount (quantity x unit price, before the
-- discount), or both.
create table if not exists raw.order_items (
    order_item_id varchar(64) collate "C" primary key,
    order_id varchar(64) collate "C" not null references raw.orders (order_id),
    product_id varchar(64) collate "C" not null references raw.products (product_id),
    quantity integer not null constraint quantity_positive check (quantity > 0),
    unit_price numeric
        constraint unit_price_not_negative check (unit_price >= 0),
    line_amount numeric
        constraint line_amount_not_negative check (line_amount >= 0),
    discount_amount numeric not null default 0
        constraint discount_within_line_amount
        check (
            discount_amount >= 0
            and discount_amount <= coalesce(line_amount, quantity * unit_price)
        ),
    updated_at timestamptz not null default now(),
    constraint price_given check (unit_price is not null or line_amount is not null)
);

create index if not exists orders_customer_id_idx on raw.orders (customer_id);
create index if not exists order_items_order_id_idx on raw.order_items (order_id);

-- Bounds every row keeps, so that whatever the tables accept also builds: a number
-- is never 'NaN' (numeric accepts it, and 'NaN' >= 0 is true), timestamps lie in
-- [1970-01-01, 2100-01-01) and birth dates in [1900-01-01, 2100-01-01) (the bounds
-- of the app's editing layer; 'infinity' is outside), and a unique value stays
-- unique the way staging compares it (email lower-cased, codes and names trimmed).
-- They are added here rather than in the tables above so that databases created
-- before get them too: a missing constraint is added NOT VALID (rows already
-- stored cannot block it, new ones are checked) and then validated when the
-- stored rows allow; an index that stored duplicates block is left out with a
-- notice (and tried again on the next run).
do $$
declare
    c record;
    ts text := $t$%1$I >= '1970-01-01 00:00:00+00' and %1$I < '2100-01-01 00:00:00+00'$t$;
begin
    for c in
        with rules (table_name, column_name, suffix) as (
            values
            ('regions', 'updated_at', '_in_range'),
            ('channels', 'updated_at', '_in_range'),
            ('customers', 'signup_at', '_in_range'),
            ('customers', 'updated_at', '_in_range'),
            ('products', 'created_at', '_in_range'),
            ('products', 'updated_at', '_in_range'),
            ('promotions', 'starts_at', '_in_range'),
            ('promotions', 'ends_at', '_in_range'),
            ('promotions', 'updated_at', '_in_range'),
            ('orders', 'ordered_at', '_in_range'),
            ('orders', 'updated_at', '_in_range'),
            ('orders', 'deleted_at', '_in_range'),
            ('order_items', 'updated_at', '_in_range')
        ),

        -- Money is stored exactly as the file gives it (numeric without a scale
        -- never rounds): more decimals than kept, or a value too large, is
        -- rejected, not rounded.
        money (table_name, column_name, decimals) as (
            values
            ('products', 'unit_cost', 4),
            ('products', 'list_price', 4),
            ('promotions', 'discount_pct', 2),
            ('orders', 'shipping_amount', 4),
            ('orders', 'tax_amount', 4),
            ('order_items', 'unit_price', 4),
            ('order_items', 'line_amount', 4),
            ('order_items', 'discount_amount', 4)
        ),

        -- Ids are the source's own (text): printable, no spaces around them.
        ids (table_name, column_name) as (
            values
            ('regions', 'region_id'),
            ('channels', 'channel_id'),
            ('customers', 'customer_id'),
            ('products', 'product_id'),
            ('promotions', 'promotion_id'),
            ('orders', 'order_id'),
            ('order_items', 'order_item_id')
        )

        select table_name, column_name || suffix as constraint_name,
            format(ts, column_name) as expression
        from rules
        union all
        select table_name, column_name || '_is_a_number',
            format($n$%I <> 'NaN'$n$, column_name)
        from money
        union all
        select table_name, column_name || format('_at_most_%s_decimals', decimals),
            format('%1$I = round(%1$I, %2$s)', column_name, decimals)
        from money
        union all
        select table_name, column_name || '_below_1e14',
            format('abs(%I) < 100000000000000', column_name)
        from money
        union all
        select table_name, column_name || '_printable',
            format(
                $p$%I ~ '^[^[:space:][:cntrl:]]([^[:cntrl:]]*[^[:space:][:cntrl:]])?$'$p$,
                column_name
            )
        from ids
        union all
        select 'customers', 'birth_date_in_range',
            $d$birth_date >= '1900-01-01' and birth_date < '2100-01-01'$d$
    loop
        continue when exists (
            select 1 from pg_constraint
            where conrelid = format('raw.%I', c.table_name)::regclass
              and conname = c.constraint_name
        );
        execute format(
            'alter table raw.%I add constraint %I check (%s) not valid',
            c.table_name, c.constraint_name, c.expression
        );
        begin
            execute format(
                'alter table raw.%I validate constraint %I',
                c.table_name, c.constraint_name
            );
        exception
            when check_violation then
                raise notice 'raw.% holds rows that break %: new rows are checked',
                    c.table_name, c.constraint_name;
        end;
    end loop;

    for c in
        select *
        from (
            values
            ('customers', 'customers_email_lower_key', 'lower(email)'),
            ('products', 'products_sku_trim_key', 'trim(sku)'),
            ('promotions', 'promotions_promo_code_trim_key', 'trim(promo_code)'),
            ('regions', 'regions_region_name_trim_key', 'trim(region_name)')
        ) as v (table_name, index_name, expression)
    loop
        begin
            execute format(
                'create unique index if not exists %I on raw.%I ((%s))',
                c.index_name, c.table_name, c.expression
            );
        exception
            when unique_violation then
                raise notice 'index % not created, raw.% holds duplicates of %: %',
                    c.index_name, c.table_name, c.expression, sqlerrm;
        end;
    end loop;
end;
$$;

-- Loader bookkeeping: one row per file loaded, one row per rejected record.
create table if not exists raw.load_batches (
    batch_id bigint generated always as identity primary key,
    table_name varchar(63) not null,
    file_name text not null,
    file_checksum char(64) not null,
    file_bytes bigint not null,
    load_method varchar(20) not null,
    rows_read bigint not null default 0,
    rows_loaded bigint not null default 0,
    rows_rejected bigint not null default 0,
    started_at timestamptz not null,
    finished_at timestamptz not null,
    constraint rows_reconcile check (rows_read = rows_loaded + rows_rejected)
);

-- per money column of the file: {"<column>": {"read": "<sum>", "loaded": ...,
-- "rejected": ...}}, exact decimals as strings (read = loaded + rejected)
alter table raw.load_batches add column if not exists money_totals jsonb;

create index if not exists load_batches_checksum_idx
on raw.load_batches (table_name, file_checksum);

create table if not exists raw.load_rejects (
    reject_id bigint generated always as identity primary key,
    batch_id bigint not null references raw.load_batches (batch_id),
    table_name varchar(63) not null,
    file_name text not null,
    line_number bigint not null,
    record text not null,
    reason text not null,
    rejected_at timestamptz not null default now()
);

create index if not exists load_rejects_batch_id_idx on raw.load_rejects (batch_id);
