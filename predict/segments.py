"""Customer segments: K-means on standardised log RFM features.

Features per customer (as in the dbt mart rpt_customer_rfm): recency in days since
the last sale order, frequency = number of sale orders, monetary = net revenue.
They are log-transformed (log1p for recency and monetary, log for frequency >= 1),
standardised, clustered with K-means for k = 2..8, and k is the one with the best
silhouette score. Clusters are numbered by mean revenue (0 = most valuable) and
named by matching their centres to archetypes ("VIP", "new", "at risk", ...).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy.optimize import linear_sum_assignment
from scipy.spatial.distance import cdist
from sklearn.cluster import KMeans
from sklearn.decomposition import PCA
from sklearn.metrics import adjusted_rand_score
from sklearn.preprocessing import StandardScaler

from predict.status import Skip

FEATURES = ("recency_days", "frequency", "monetary")
K_RANGE = range(2, 9)
N_INIT = 10
# k is chosen on a fixed, evenly spaced subset (silhouette is quadratic in the
# number of points); the final model with the chosen k (and the principal
# components) is fitted on a larger one, FIT_SAMPLE evenly spaced customers in
# customer_id order (everyone up to that many; no randomness in the choice), and
# every customer is then assigned to the nearest centre
SELECTION_SAMPLE = 20_000
SILHOUETTE_SAMPLE = 5_000
FIT_SAMPLE = 100_000
# fewest customers to segment: a few per cluster at the smallest k, and enough
# distinct customers to try more than one k
MIN_CUSTOMERS = 20

# Archetypes: centres in standardised log space (recency z > 0 = bought long ago).
# Each cluster gets the name of the nearest archetype, every name at most once
# (an optimal assignment), so k <= len(ARCHETYPES).
ARCHETYPES: dict[str, tuple[float, float, float]] = {
    "VIP": (-0.8, 1.8, 1.6),
    "loyal": (-0.5, 0.9, 0.7),
    "at risk": (0.7, 0.9, 0.8),
    "new": (-1.0, -0.7, -0.3),
    "big one-off spenders": (0.0, -0.6, 1.0),
    "occasional": (0.0, -0.2, -0.2),
    "hibernating": (0.7, 0.0, 0.0),
    "lapsed": (1.0, -0.7, -0.5),
    "low value": (0.0, -0.7, -1.5),
}


@dataclass(frozen=True)
class Segmentation:
    k: int
    labels: np.ndarray  # cluster per customer, 0 = highest mean revenue
    names: list[str]  # name per cluster
    centres: np.ndarray  # k x 3, standardised log space
    selection: pd.DataFrame  # k, silhouette, inertia, is_chosen
    coordinates: np.ndarray  # n x 2, principal components for a scatter plot


def log_features(frame: pd.DataFrame) -> np.ndarray:
    """Standardised log RFM matrix (n x 3) in the order of FEATURES."""
    raw = np.column_stack(
        [
            np.log1p(np.clip(frame["recency_days"].to_numpy(float), 0, None)),
            np.log(np.clip(frame["frequency"].to_numpy(float), 1, None)),
            np.log1p(np.clip(frame["monetary"].to_numpy(float), 0, None)),
        ]
    )
    return StandardScaler().fit_transform(raw)


def _even_rows(n: int, size: int) -> np.ndarray:
    """Evenly spaced row numbers: the same subset whatever the seed."""
    if n <= size:
        return np.arange(n)
    return np.linspace(0, n - 1, size).round().astype(int)


def silhouette(x: np.ndarray, labels: np.ndarray, chunk: int = 1000) -> float:
    """Mean silhouette coefficient (Rousseeuw 1987), Euclidean; the same value
    as sklearn.metrics.silhouette_score, several times faster on few features:
    distances to all points in row chunks, summed per cluster by one product."""
    labels = np.unique(labels, return_inverse=True)[1]
    k = int(labels.max()) + 1
    if k < 2 or k >= len(x):
        return float("nan")
    onehot = np.zeros((len(x), k))
    onehot[np.arange(len(x)), labels] = 1.0
    sizes = onehot.sum(axis=0)
    scores = np.empty(len(x))
    for start in range(0, len(x), chunk):
        sums = cdist(x[start : start + chunk], x) @ onehot
        own = labels[start : start + chunk]
        rows = np.arange(len(own))
        inside = sums[rows, own] / np.maximum(sizes[own] - 1, 1)
        means = sums / sizes
        means[rows, own] = np.inf
        nearest = means.min(axis=1)
        with np.errstate(invalid="ignore", divide="ignore"):
            score = (nearest - inside) / np.maximum(inside, nearest)
        score[(sizes[own] == 1) | ~np.isfinite(score)] = 0.0
        scores[start : start + chunk] = score
    return float(scores.mean())


def _kmeans(x: np.ndarray, k: int, seed: int) -> KMeans:
    return KMeans(n_clusters=k, n_init=N_INIT, random_state=seed).fit(x)


def choose_k(x: np.ndarray, *, seed: int = 42) -> pd.DataFrame:
    """Silhouette score and inertia for k = 2..8 (on a fixed subset of at most
    SELECTION_SAMPLE customers; silhouette on SILHOUETTE_SAMPLE of them)."""
    sample = x[_even_rows(len(x), SELECTION_SAMPLE)]
    rows = _even_rows(len(sample), SILHOUETTE_SAMPLE)
    distinct = len(np.unique(sample, axis=0))
    table = []
    for k in K_RANGE:
        if k >= distinct:
            break
        model = _kmeans(sample, k, seed)
        labels = model.labels_[rows]
        score = silhouette(sample[rows], labels)
        table.append({"k": k, "silhouette": score, "inertia": float(model.inertia_)})
    frame = pd.DataFrame(table)
    best = int(frame.loc[frame["silhouette"].fillna(-1).idxmax(), "k"])
    frame["is_chosen"] = frame["k"] == best
    return frame


def segment(
    frame: pd.DataFrame, *, seed: int = 42, k: int | None = None
) -> Segmentation:
    """Cluster customers (rows of `frame`, sorted by customer_id by the caller).

    k is chosen by silhouette unless given; the final K-means is fitted on at
    most FIT_SAMPLE customers and assigns everyone.
    """
    check_customers(frame)
    x = log_features(frame)
    selection = choose_k(x, seed=seed)
    if k is not None:
        selection["is_chosen"] = selection["k"] == k
    else:
        k = int(selection.loc[selection["is_chosen"], "k"].iloc[0])
    sample = x[_even_rows(len(x), FIT_SAMPLE)]
    model = _kmeans(sample, k, seed)
    labels, centres = _canonical(model.predict(x), model.cluster_centers_, frame)
    coordinates = PCA(n_components=2, random_state=seed).fit(sample).transform(x)
    return Segmentation(
        k=k,
        labels=labels,
        names=name_clusters(centres),
        centres=centres,
        selection=selection,
        coordinates=coordinates,
    )


def check_customers(frame: pd.DataFrame) -> None:
    """Skip when there are too few customers, or too few distinct ones."""
    if len(frame) < MIN_CUSTOMERS:
        raise Skip(
            f"K-means needs at least {MIN_CUSTOMERS} customers with a sale, "
            f"there are {len(frame)}"
        )
    distinct = len(frame[list(FEATURES)].drop_duplicates())
    if distinct < 3:
        raise Skip(
            f"only {distinct} distinct recency, frequency and value profiles: "
            "nothing to segment"
        )


def refit_labels(frame: pd.DataFrame, k: int, seed: int) -> np.ndarray:
    """Cluster labels (canonical numbering) of K-means with a given k and seed,
    without the search over k: for checking stability under reseeding."""
    x = log_features(frame)
    model = _kmeans(x[_even_rows(len(x), FIT_SAMPLE)], k, seed)
    return _canonical(model.predict(x), model.cluster_centers_, frame)[0]


def _canonical(
    labels: np.ndarray, centres: np.ndarray, frame: pd.DataFrame
) -> tuple[np.ndarray, np.ndarray]:
    """Renumber clusters by mean revenue, highest first (ties: by centre)."""
    monetary = frame["monetary"].to_numpy(float)
    means = np.array([monetary[labels == c].mean() for c in range(len(centres))])
    order = np.lexsort((centres[:, 0], -centres[:, 2], -means))
    mapping = np.empty_like(order)
    mapping[order] = np.arange(len(order))
    return mapping[labels], centres[order]


def name_clusters(centres: np.ndarray) -> list[str]:
    """Name each centre after its nearest archetype, each name used once."""
    names = list(ARCHETYPES)
    prototypes = np.array(list(ARCHETYPES.values()))
    cost = np.linalg.norm(centres[:, None, :] - prototypes[None, :, :], axis=2)
    rows, cols = linear_sum_assignment(cost)
    out = [""] * len(centres)
    for r, c in zip(rows, cols, strict=True):
        out[r] = names[c]
    return out


def stability(
    frame: pd.DataFrame, seeds: tuple[int, int], k: int | None = None
) -> float:
    """Adjusted Rand index between the segmentations of two seeds."""
    first = segment(frame, seed=seeds[0], k=k)
    second = segment(frame, seed=seeds[1], k=k)
    return float(adjusted_rand_score(first.labels, second.labels))


def profiles(frame: pd.DataFrame, seg: Segmentation) -> pd.DataFrame:
    """One row per cluster: size, share, means and medians of the features,
    revenue share, the centre in standardised log space, and the most common
    rule-based RFM segment (when `frame` has an rfm_segment column)."""
    data = frame.assign(cluster=seg.labels)
    total_revenue = float(data["monetary"].sum()) or 1.0
    rows = []
    for c in range(seg.k):
        part = data[data["cluster"] == c]
        row = {
            "cluster": c,
            "segment_name": seg.names[c],
            "customers": len(part),
            "share_pct": 100.0 * len(part) / len(data),
            "revenue_share_pct": 100.0 * float(part["monetary"].sum()) / total_revenue,
        }
        for feature in FEATURES:
            row[f"mean_{feature}"] = float(part[feature].mean())
            row[f"median_{feature}"] = float(part[feature].median())
        for i, feature in enumerate(FEATURES):
            row[f"centre_{feature}_z"] = float(seg.centres[c, i])
        if "rfm_segment" in part:
            counts = part["rfm_segment"].fillna("(none)").value_counts()
            top = counts.sort_index().sort_values(ascending=False, kind="stable")
            row["top_rfm_segment"] = str(top.index[0])
            row["top_rfm_segment_pct"] = 100.0 * float(top.iloc[0]) / len(part)
        rows.append(row)
    return pd.DataFrame(rows)


def rfm_crosstab(frame: pd.DataFrame, seg: Segmentation) -> pd.DataFrame:
    """Customers per (K-means cluster, rule-based RFM segment), with the shares
    of the cluster and of the RFM segment."""
    data = pd.DataFrame(
        {
            "cluster": seg.labels,
            "rfm_segment": frame["rfm_segment"].fillna("(none)").to_numpy(),
        }
    )
    table = data.groupby(["cluster", "rfm_segment"]).size().rename("customers")
    table = table.reset_index()
    table["segment_name"] = [seg.names[c] for c in table["cluster"]]
    cluster_size = table.groupby("cluster")["customers"].transform("sum")
    rfm_size = table.groupby("rfm_segment")["customers"].transform("sum")
    table["share_of_cluster_pct"] = 100.0 * table["customers"] / cluster_size
    table["share_of_rfm_segment_pct"] = 100.0 * table["customers"] / rfm_size
    return table[
        [
            "cluster",
            "segment_name",
            "rfm_segment",
            "customers",
            "share_of_cluster_pct",
            "share_of_rfm_segment_pct",
        ]
    ].sort_values(["cluster", "rfm_segment"], ignore_index=True)


def agreement_with_rfm(frame: pd.DataFrame, seg: Segmentation) -> float:
    """Adjusted Rand index between the clusters and the rule-based segments."""
    return float(adjusted_rand_score(frame["rfm_segment"].fillna("(none)"), seg.labels))
