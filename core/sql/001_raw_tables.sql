-- Raw operational tables: the data contract of docs/data-contract.md.
-- Applied idempotently by `ecom load` (and `ecom db init`); never drops anything.
-- Constraint names are part of the contract: the loader quotes them in reject reasons.
-- {{ name }} stands for the values of the seed seeds/<name>.csv (core.enums), the
-- one definition of each enumeration.

create schema if not exists raw;

create table if not exists raw.regions (
    region_id integer primary key,
    region_name varchar(100) not null constraint regions_region_name_key unique,
    updated_at timestamptz not null default now()
);

create table if not exists raw.channels (
    channel_id integer primary key,
    channel_name varchar(100) not null constraint channels_channel_name_key unique,
    channel_type varchar(20) not null
        constraint channel_type_known
        check (channel_type in ({{ channel_types }})),
    updated_at timestamptz not null default now()
);

create table if not exists raw.customers (
    customer_id bigint primary key,
    first_name varchar(100) not null,
    last_name varchar(100) not null,
    email varchar(254) not null constraint customers_email_key unique
        constraint email_format
        check (email ~ '^[^@[:space:]]+@[^@[:space:]]+\.[^@[:space:]]+$'),
    phone varchar(40),
    birth_date date,
    city varchar(100),
    country_code char(2) not null
        constraint country_code_format check (country_code ~ '^[A-Z]{2}$'),
    region_id integer not null references raw.regions (region_id),
    segment varchar(20) not null
        constraint segment_known
        check (segment in ({{ customer_segments }})),
    acquisition_channel_id integer not null references raw.channels (channel_id),
    signup_at timestamptz not null,
    is_active boolean not null default true,
    updated_at timestamptz not null default now()
);

create table if not exists raw.products (
    product_id bigint primary key,
    sku varchar(40) not null constraint products_sku_key unique,
    product_name varchar(200) not null,
    category varchar(50) not null,
    subcategory varchar(50) not null,
    brand varchar(100) not null,
    unit_cost numeric(12, 2) not null
        constraint unit_cost_not_negative check (unit_cost >= 0),
    list_price numeric(12, 2) not null
        constraint list_price_not_negative check (list_price >= 0),
    stock_quantity integer not null
        constraint stock_not_negative check (stock_quantity >= 0),
    reorder_point integer not null
        constraint reorder_point_not_negative check (reorder_point >= 0),
    is_active boolean not null default true,
    created_at timestamptz not null default now(),
    updated_at timestamptz not null default now()
);

create table if not exists raw.promotions (
    promotion_id integer primary key,
    promo_code varchar(40) not null constraint promotions_promo_code_key unique,
    description varchar(200),
    discount_pct numeric(5, 2) not null
        constraint discount_pct_range check (discount_pct > 0 and discount_pct <= 100),
    starts_at timestamptz not null,
    ends_at timestamptz not null,
    updated_at timestamptz not null default now(),
    constraint promotion_dates_in_order check (ends_at >= starts_at)
);

create table if not exists raw.orders (
    order_id bigint primary key,
    customer_id bigint not null references raw.customers (customer_id),
    channel_id integer not null references raw.channels (channel_id),
    ship_region_id integer not null references raw.regions (region_id),
    promotion_id integer references raw.promotions (promotion_id),
    ordered_at timestamptz not null,
    status varchar(20) not null
        constraint order_status_known
        check (status in ({{ order_statuses }})),
    payment_status varchar(20) not null
        constraint payment_status_known
        check (payment_status in ({{ payment_statuses }})),
    payment_method varchar(20) not null
        constraint payment_method_known
        check (payment_method in ({{ payment_methods }})),
    shipping_amount numeric(12, 2) not null default 0
        constraint shipping_not_negative check (shipping_amount >= 0),
    tax_amount numeric(12, 2) not null default 0
        constraint tax_not_negative check (tax_amount >= 0),
    updated_at timestamptz not null default now(),
    deleted_at timestamptz
);

create table if not exists raw.order_items (
    order_item_id bigint primary key,
    order_id bigint not null references raw.orders (order_id),
    product_id bigint not null references raw.products (product_id),
    quantity integer not null constraint quantity_positive check (quantity > 0),
    unit_price numeric(12, 2) not null
        constraint unit_price_not_negative check (unit_price >= 0),
    discount_amount numeric(12, 2) not null default 0
        constraint discount_within_line_amount
        check (discount_amount >= 0 and discount_amount <= quantity * unit_price),
    updated_at timestamptz not null default now()
);

create index if not exists orders_customer_id_idx on raw.orders (customer_id);
create index if not exists order_items_order_id_idx on raw.order_items (order_id);

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
