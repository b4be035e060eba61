"""The simulated shop: places, channels, categories, personas and behaviour curves.

Pure data, read by `loader.generate`. Changing a number here changes the generated
data set (for the same seed); docs/generator.md explains what each knob does.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Country:
    code: str  # ISO 3166-1 alpha-2
    locale: str  # Faker locale for names and cities
    calling_code: str
    tax_rate: float
    share: float  # share of the region's customers


@dataclass(frozen=True)
class Region:
    name: str
    share: float  # share of all customers
    shipping_cents: int  # fee below the free-shipping threshold
    delivery_days: tuple[int, int]  # min, max days from shipping to delivery
    countries: tuple[Country, ...]


REGIONS: tuple[Region, ...] = (
    Region(
        "Western Europe",
        0.22,
        499,
        (1, 4),
        (
            Country("FR", "fr_FR", "33", 0.20, 0.45),
            Country("DE", "de_DE", "49", 0.19, 0.40),
            Country("NL", "nl_NL", "31", 0.21, 0.15),
        ),
    ),
    Region(
        "Southern Europe",
        0.10,
        599,
        (2, 5),
        (
            Country("ES", "es_ES", "34", 0.21, 0.55),
            Country("IT", "it_IT", "39", 0.22, 0.45),
        ),
    ),
    Region(
        "Northern Europe",
        0.07,
        699,
        (2, 5),
        (
            Country("SE", "sv_SE", "46", 0.25, 0.60),
            Country("DK", "da_DK", "45", 0.25, 0.40),
        ),
    ),
    Region(
        "British Isles",
        0.14,
        399,
        (1, 3),
        (
            Country("GB", "en_GB", "44", 0.20, 0.85),
            Country("IE", "en_IE", "353", 0.23, 0.15),
        ),
    ),
    Region(
        "Central Europe",
        0.09,
        549,
        (2, 6),
        (
            Country("PL", "pl_PL", "48", 0.23, 0.60),
            Country("AT", "de_AT", "43", 0.20, 0.40),
        ),
    ),
    Region(
        "North America",
        0.24,
        699,
        (2, 7),
        (
            Country("US", "en_US", "1", 0.07, 0.85),
            Country("CA", "en_CA", "1", 0.13, 0.15),
        ),
    ),
    Region(
        "Latin America",
        0.07,
        1299,
        (4, 12),
        (
            Country("BR", "pt_BR", "55", 0.17, 0.60),
            Country("MX", "es_MX", "52", 0.16, 0.40),
        ),
    ),
    Region(
        "Asia Pacific",
        0.07,
        1499,
        (4, 10),
        (
            Country("AU", "en_AU", "61", 0.10, 0.75),
            Country("NZ", "en_NZ", "64", 0.15, 0.25),
        ),
    ),
)

# name, type, share of customer acquisition
CHANNELS: tuple[tuple[str, str, float], ...] = (
    ("Website", "online", 0.38),
    ("Mobile App", "online", 0.24),
    ("Amazon Marketplace", "marketplace", 0.16),
    ("eBay Marketplace", "marketplace", 0.08),
    ("Retail Stores", "offline", 0.14),
)
MOBILE_GROWTH = 0.3  # yearly growth of the Mobile App's share of new customers
LOYAL_CHANNEL = 0.7  # P(an order uses the customer's acquisition channel)
# payment method mix per channel type (same order as core.enums.PAYMENT_METHODS,
# i.e. seeds/payment_methods.csv)
PAYMENT_MIX = {
    "online": (0.52, 0.24, 0.08, 0.07, 0.09),
    "marketplace": (0.62, 0.28, 0.0, 0.0, 0.10),
    "offline": (0.85, 0.0, 0.0, 0.0, 0.15),
}
EMAIL_DOMAINS: tuple[tuple[str, float], ...] = (
    ("gmail.com", 0.36),
    ("outlook.com", 0.13),
    ("yahoo.com", 0.10),
    ("hotmail.com", 0.08),
    ("icloud.com", 0.08),
    ("proton.me", 0.03),
    ("gmx.net", 0.06),
    ("web.de", 0.04),
    ("orange.fr", 0.04),
    ("libero.it", 0.03),
    ("wp.pl", 0.03),
    ("mail.com", 0.02),
)

# order lifecycle (online and marketplace orders; store sales are handed over
# at once and can only be returned)
FAILED_PAYMENT_RATE = 0.018  # payment declined: cancelled + failed
CANCEL_RATE = 0.024  # cancelled by the customer before shipping
RETURN_RATE = 0.05  # of the orders that were not cancelled
SOFT_DELETE_RATE = 0.002  # test / fraud orders soft-deleted soon after creation
EXPRESS_RATE = 0.08  # express shipping, +7.00
EXPRESS_CENTS = 700
FREE_SHIPPING_CENTS = 5_000  # orders from 50.00 (after discounts) ship free


@dataclass(frozen=True)
class Category:
    """A product category: catalogue share, demand, prices, margins, season."""

    name: str
    catalog_share: float  # share of the product catalogue
    demand: float  # relative popularity of its products
    median_price: float
    price_range: tuple[float, float]
    margin_range: tuple[float, float]  # (list price - unit cost) / list price
    extra_units: float  # mean extra units per order line (quantity - 1)
    season: tuple[float, ...]  # Jan..Dec demand, relative to the other categories
    subcategories: dict[str, tuple[str, ...]]  # subcategory -> product nouns


CATEGORIES: tuple[Category, ...] = (
    Category(
        name="electronics",
        catalog_share=0.16,
        demand=0.8,
        median_price=75,
        price_range=(9, 1800),
        margin_range=(0.10, 0.28),
        extra_units=0.05,
        season=(0.85, 0.8, 0.88, 0.88, 0.9, 0.9, 0.9, 0.95, 1.0, 1.0, 1.35, 1.6),
        subcategories={
            "smartphones": ("Smartphone", "Phone", "Foldable Phone"),
            "laptops": ("Laptop", "Notebook", "Ultrabook"),
            "audio": ("Headphones", "Earbuds", "Speaker", "Soundbar"),
            "cameras": ("Camera", "Action Cam", "Lens"),
            "accessories": ("Charger", "USB-C Cable", "Phone Case", "Power Bank"),
            "smart home": ("Smart Plug", "Smart Bulb", "Doorbell Camera"),
        },
    ),
    Category(
        name="home",
        catalog_share=0.16,
        demand=0.9,
        median_price=40,
        price_range=(5, 900),
        margin_range=(0.30, 0.55),
        extra_units=0.15,
        season=(0.95, 0.9, 1.05, 1.1, 1.05, 1.0, 0.95, 0.95, 1.0, 1.0, 1.1, 1.15),
        subcategories={
            "kitchen": ("Coffee Maker", "Chef's Knife", "Frying Pan", "Blender"),
            "furniture": ("Desk Chair", "Bookshelf", "Side Table", "Sofa"),
            "decor": ("Vase", "Wall Clock", "Picture Frame", "Candle Set"),
            "bedding": ("Duvet Cover", "Pillow", "Blanket", "Sheet Set"),
            "lighting": ("Desk Lamp", "Floor Lamp", "String Lights"),
        },
    ),
    Category(
        name="fashion",
        catalog_share=0.20,
        demand=1.0,
        median_price=35,
        price_range=(6, 300),
        margin_range=(0.45, 0.70),
        extra_units=0.10,
        season=(0.85, 0.8, 1.05, 1.1, 1.05, 1.0, 0.9, 0.95, 1.1, 1.1, 1.1, 1.1),
        subcategories={
            "women": ("Dress", "Blouse", "Skirt", "Cardigan"),
            "men": ("Shirt", "Chinos", "Jacket", "Sweater"),
            "shoes": ("Sneakers", "Boots", "Sandals", "Loafers"),
            "accessories": ("Scarf", "Belt", "Backpack", "Sunglasses", "Wallet"),
            "kids": ("T-Shirt", "Hoodie", "Pyjamas"),
        },
    ),
    Category(
        name="beauty",
        catalog_share=0.10,
        demand=0.8,
        median_price=20,
        price_range=(3, 180),
        margin_range=(0.50, 0.75),
        extra_units=0.35,
        season=(0.95, 1.05, 1.0, 1.0, 1.05, 1.0, 0.95, 0.95, 0.95, 1.0, 1.1, 1.25),
        subcategories={
            "skincare": ("Face Cream", "Serum", "Cleanser", "Sunscreen"),
            "makeup": ("Lipstick", "Mascara", "Foundation", "Eyeshadow Palette"),
            "fragrance": ("Eau de Parfum", "Eau de Toilette", "Body Mist"),
            "haircare": ("Shampoo", "Conditioner", "Hair Dryer", "Hair Oil"),
        },
    ),
    Category(
        name="sports",
        catalog_share=0.10,
        demand=0.7,
        median_price=45,
        price_range=(5, 1200),
        margin_range=(0.28, 0.50),
        extra_units=0.10,
        season=(1.1, 0.95, 1.0, 1.05, 1.15, 1.2, 1.15, 1.05, 0.95, 0.9, 0.85, 0.9),
        subcategories={
            "fitness": ("Yoga Mat", "Dumbbell Set", "Resistance Bands", "Kettlebell"),
            "outdoor": ("Tent", "Sleeping Bag", "Hiking Backpack", "Headlamp"),
            "cycling": ("Bike Helmet", "Bike Light", "Cycling Gloves", "Road Bike"),
            "running": ("Running Shoes", "Running Jacket", "Sports Watch"),
            "team sports": ("Football", "Basketball", "Shin Guards"),
        },
    ),
    Category(
        name="books",
        catalog_share=0.12,
        demand=0.6,
        median_price=14,
        price_range=(4, 70),
        margin_range=(0.18, 0.38),
        extra_units=0.15,
        season=(0.95, 0.9, 0.95, 0.95, 0.95, 1.0, 1.05, 1.05, 1.0, 1.0, 1.05, 1.3),
        subcategories={
            "fiction": ("Novel", "Thriller", "Short Stories"),
            "non-fiction": ("Biography", "History", "Essays"),
            "children": ("Picture Book", "Bedtime Stories"),
            "comics": ("Graphic Novel", "Manga Volume"),
            "cookbooks": ("Cookbook", "Baking Book"),
        },
    ),
    Category(
        name="grocery",
        catalog_share=0.08,
        demand=0.7,
        median_price=7,
        price_range=(1.5, 45),
        margin_range=(0.15, 0.35),
        extra_units=0.9,
        season=(1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.05, 1.15),
        subcategories={
            "coffee & tea": ("Coffee Beans", "Ground Coffee", "Green Tea", "Capsules"),
            "snacks": ("Dark Chocolate", "Granola Bars", "Trail Mix"),
            "pantry": ("Olive Oil", "Pasta", "Honey", "Spice Set"),
            "beverages": ("Sparkling Water", "Juice Box", "Energy Drink"),
        },
    ),
    Category(
        name="toys",
        catalog_share=0.08,
        demand=0.6,
        median_price=28,
        price_range=(5, 250),
        margin_range=(0.35, 0.55),
        extra_units=0.10,
        season=(0.7, 0.7, 0.8, 0.8, 0.85, 0.85, 0.85, 0.85, 0.9, 1.0, 1.5, 2.2),
        subcategories={
            "games": ("Board Game", "Card Game"),
            "puzzles": ("Jigsaw Puzzle", "3D Puzzle"),
            "building sets": ("Building Set", "Marble Run"),
            "dolls": ("Doll", "Dollhouse", "Plush Toy"),
            "outdoor toys": ("Water Blaster", "Kite", "Scooter"),
        },
    ),
)
ADJECTIVES = (
    "Classic",
    "Essential",
    "Premium",
    "Compact",
    "Pro",
    "Ultra",
    "Eco",
    "Deluxe",
    "Everyday",
    "Smart",
    "Lite",
    "Urban",
    "Nordic",
    "Vintage",
    "Signature",
)
BRAND_SUFFIXES = ("", " Labs", " & Co", " Works", " Studio", " Goods", " Supply")
PRODUCTS_PER_SCALE = 400  # catalogue size at scale 1; grows with scale ** 0.4
LAUNCHED_SHARE = 0.15  # products launched during the range (the rest exist before)
DISCONTINUED_SHARE = 0.06  # products taken off sale during the range
LOW_STOCK_SHARE = 0.10  # products below their reorder point at the end
RESTOCK_DAILY = 0.35  # P(a product below its reorder point is restocked that day)

# (category, subcategory) of A and of B for the planted basket pairs
PLANTED_PAIRS = (
    ("electronics", "smartphones", "electronics", "accessories"),
    ("home", "kitchen", "grocery", "coffee & tea"),
    ("sports", "outdoor", "sports", "outdoor"),
    ("fashion", "shoes", "fashion", "accessories"),
    ("toys", "building sets", "books", "children"),
)
PAIR_PROBABILITY = 0.4  # P(B is added | A in the basket)


@dataclass(frozen=True)
class Personas:
    """Customer personas; every field is indexed by persona number."""

    names: tuple[str, ...] = ("one_timer", "bargain_hunter", "regular", "vip")
    share: tuple[float, ...] = (0.36, 0.25, 0.29, 0.10)
    first_order: tuple[float, ...] = (0.80, 0.90, 0.94, 0.97)  # P(ever orders)
    orders_per_month: tuple[float, ...] = (0.18, 0.48, 0.58, 1.4)  # when engaged
    churn: tuple[float, ...] = (0.85, 0.12, 0.06, 0.02)  # P(stop) after an order
    decay_days: tuple[float, ...] = (30.0, 45.0, 75.0, 120.0)
    decay_floor: tuple[float, ...] = (0.10, 0.20, 0.25, 0.40)
    promo_lift: tuple[float, ...] = (0.5, 3.0, 0.4, 0.2)  # intensity on promo days
    promo_use: tuple[float, ...] = (0.5, 0.9, 0.45, 0.3)  # P(use an active code)
    basket_lines: tuple[float, ...] = (1.4, 1.7, 2.1, 2.5)  # mean lines per order
    extra_units: tuple[float, ...] = (0.0, 0.1, 0.1, 0.35)
    price_tilt: tuple[float, ...] = (-0.1, -0.4, 0.0, 0.15)  # exponent on price
    alive_before_start: tuple[float, ...] = (0.15, 0.65, 0.8, 0.9)
    # consumer, corporate, home_office
    segment_mix: tuple[tuple[float, float, float], ...] = (
        (0.86, 0.04, 0.10),
        (0.88, 0.02, 0.10),
        (0.80, 0.07, 0.13),
        (0.60, 0.28, 0.12),
    )


PERSONAS = Personas()

CUSTOMERS_PER_SCALE = 10_000  # customers over a three-year range at scale 1
PRE_EXISTING_SHARE = 0.3  # of them signed up before the generated range
SIGNUP_GROWTH = 0.55  # yearly growth of new sign-ups (linear)
CLOSED_ACCOUNT_SHARE = 0.035  # accounts closed (is_active false) before the end
PROFILE_EDIT_SHARE = 0.25  # customers whose row was edited after sign-up

# demand curves: month of year, weekday, hour of day (UTC)
MONTH_FACTOR = (0.84, 0.80, 0.90, 0.92, 0.95, 0.94, 0.92, 0.91, 0.97, 1.02, 1.22, 1.32)
WEEKDAY_FACTOR = (1.10, 1.03, 1.00, 0.98, 0.92, 0.84, 1.13)  # Monday..Sunday
# Black Friday (+0), the weekend (+1, +2) and Cyber Monday (+3)
BLACK_FRIDAY_BOOST = ((0, 2.4), (1, 1.6), (2, 1.5), (3, 2.0))
CHRISTMAS_DIP = ((24, 0.7), (25, 0.45), (26, 0.8))  # December day, multiplier
HOUR_WEIGHTS = (
    0.3, 0.2, 0.15, 0.1, 0.1, 0.15, 0.3, 0.6, 0.9, 1.1, 1.2, 1.25,
    1.3, 1.25, 1.2, 1.2, 1.25, 1.35, 1.5, 1.65, 1.7, 1.5, 1.0, 0.6,
)  # fmt: skip
PROMO_SIGNUP_LIFT = 0.4  # extra sign-ups on promotion days
