"""Density clustering on weighted locations: the algorithms behind :func:`find_clusters`.

Private to socecon_geo. Organisations at one coordinate are one location weighted by
their number; the core distance of a location is the distance within which
``min_organisations`` organisations lie (its own included, scikit-learn's convention),
the minimum spanning tree comes from the ``hdbscan`` package's exact Borůvka algorithm on
those core distances, and cluster sizes and stabilities count organisations. DBSCAN is
scikit-learn's, with the weights as ``sample_weight``.
"""

from __future__ import annotations

import math
from typing import Any, Final

import numpy as np

_CUT_M: Final = 1e12  # length given to spanning-tree links cut at distance_m


class _CoreDistances:
    """Stands in for the k-d tree whose ``query`` gives ``hdbscan``'s core distances.

    The ``hdbscan`` package's Borůvka algorithm takes the core distance of each point
    from column ``k`` of the distances this returns, and tries the neighbours in the
    index columns before it as first edges (valid only within the core distance, so
    those beyond are replaced by the point itself, which the algorithm skips).
    """

    def __init__(self, data: np.ndarray, distances: np.ndarray, indices: np.ndarray) -> None:
        self.data = data
        self._answer = (distances, indices)

    def query(self, data: Any, k: int, **_: Any) -> tuple[np.ndarray, np.ndarray]:
        return self._answer


def weighted_core_distances(
    xy: np.ndarray, weights: np.ndarray, min_organisations: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Core distance of each location, counting organisations (its own included).

    Parameters
    ----------
    xy : ndarray (n, 2)
        Distinct locations.
    weights : ndarray (n,)
        Organisations at each location (>= 1).
    min_organisations : int
        How many organisations the core distance must reach.

    Returns
    -------
    core : ndarray (n,)
        The smallest distance within which ``min_organisations`` organisations lie (0
        for a location holding that many itself).
    distances, indices : ndarray (n, k)
        The ``k = min(min_organisations, n)`` nearest locations (the location itself
        first) and their distances.

    Examples
    --------
    >>> import numpy as np
    >>> xy = np.array([[0.0, 0.0], [3.0, 0.0], [10.0, 0.0]])
    >>> core, _, _ = weighted_core_distances(xy, np.array([1, 4, 1]), 5)
    >>> core.tolist()
    [3.0, 3.0, 7.0]
    """
    from scipy.spatial import cKDTree

    n = len(xy)
    k = min(min_organisations, n)
    distances, indices = cKDTree(xy).query(xy, k=k)
    distances = np.asarray(distances, dtype="float64").reshape(n, k)
    indices = np.asarray(indices, dtype=np.intp).reshape(n, k)
    reached = np.cumsum(weights[indices], axis=1) >= min_organisations
    position = np.argmax(reached, axis=1)
    core = distances[np.arange(n), position]
    core[~reached.any(axis=1)] = np.inf
    return core, distances, indices


def spanning_tree(xy: np.ndarray, weights: np.ndarray, min_organisations: int) -> np.ndarray:
    """Minimum spanning tree of the weighted mutual reachability distances.

    The ``hdbscan`` package's exact dual-tree Borůvka algorithm, given the weighted
    core distances of :func:`weighted_core_distances`.

    Parameters
    ----------
    xy : ndarray (n, 2)
        Distinct locations (n >= 2).
    weights : ndarray (n,)
        Organisations at each location.
    min_organisations : int
        For the core distances.

    Returns
    -------
    ndarray (n - 1, 3)
        Edges: the two locations' positions and the mutual reachability distance
        max(core a, core b, distance a-b).
    """
    from hdbscan._hdbscan_boruvka import KDTreeBoruvkaAlgorithm

    n = len(xy)
    core, distances, indices = weighted_core_distances(xy, weights, min_organisations)
    k = distances.shape[1]
    position = np.argmax(distances >= core[:, None], axis=1)
    own = np.arange(n)[:, None]
    columns = np.arange(k)[None, :]
    indices = np.where(columns <= position[:, None], indices, own)
    knn_distances = np.concatenate([distances, core[:, None]], axis=1)
    knn_indices = np.concatenate([indices, own], axis=1)
    data = np.ascontiguousarray(xy, dtype="float64")
    algorithm = KDTreeBoruvkaAlgorithm(
        _CoreDistances(data, knn_distances, knn_indices),
        k,
        metric="euclidean",
        leaf_size=13,
        approx_min_span_tree=False,
        n_jobs=1,
    )
    return np.asarray(algorithm.spanning_tree())


def _weighted_hdbscan(
    xy: np.ndarray,
    weights: np.ndarray,
    min_organisations: int,
    max_distance: float = math.inf,
) -> tuple[np.ndarray, np.ndarray]:
    """HDBSCAN of weighted locations: (label 0.. or -1, membership strength) per location.

    Links of the minimum spanning tree longer than ``max_distance`` (mutual
    reachability, metres) are cut: locations joined to the rest only by such links are
    noise, and the pieces left (DBSCAN*'s clusters at that distance) are candidates
    themselves, the whole included. With ``max_distance`` infinite this is plain
    HDBSCAN, the whole excluded, as the ``hdbscan`` package does by default.
    """
    from hdbscan._hdbscan_linkage import label
    from hdbscan._hdbscan_tree import compute_stability, condense_tree

    n = len(xy)
    if n < 2 or weights.sum() < min_organisations:
        return np.full(n, -1, dtype=np.intp), np.zeros(n)
    tree = spanning_tree(xy, weights, min_organisations)
    cut = _CUT_M
    finite = math.isfinite(max_distance)
    if finite:
        tree[tree[:, 2] > max_distance, 2] = cut
    tree = tree[np.argsort(tree[:, 2], kind="stable")]
    hierarchy = label(tree)
    # sizes of the hierarchy's nodes in organisations, not locations
    size_list = [*weights.astype("float64").tolist(), *([0.0] * (n - 1))]
    left = hierarchy[:, 0].astype(np.intp).tolist()
    right = hierarchy[:, 1].astype(np.intp).tolist()
    for row in range(n - 1):
        size_list[n + row] = size_list[left[row]] + size_list[right[row]]
    hierarchy[:, 3] = size_list[n:]
    condensed = condense_tree(hierarchy, min_organisations)
    # stability counts the organisations that leave a cluster
    weighted = condensed.copy()
    leaves = weighted["child"] < n
    weighted["child_size"][leaves] = weights[weighted["child"][leaves]]
    stability = compute_stability(weighted)
    return _excess_of_mass(condensed, stability, n, allow_root=finite, floor=1.0 / cut)


def _excess_of_mass(
    condensed: np.ndarray, stability: dict[int, float], n: int, *, allow_root: bool, floor: float
) -> tuple[np.ndarray, np.ndarray]:
    """Select clusters by excess of mass and label the leaves, as ``hdbscan`` does.

    The same selection and membership strengths as ``hdbscan``'s ``get_clusters`` (its
    ``eom`` method), with the root allowed as a cluster when ``allow_root``; leaves that
    leave the root at ``floor`` or below (cut links) are noise.
    """
    parents = condensed["parent"].astype(np.intp)
    children = condensed["child"].astype(np.intp)
    lambdas = condensed["lambda_val"].astype("float64")
    root = int(parents.min())
    nodes = root + np.arange(int(parents.max()) - root + 1)
    is_node = children >= n
    parent_of = dict(zip(children[is_node].tolist(), parents[is_node].tolist(), strict=True))
    kids: dict[int, list[int]] = {}
    for child, parent in parent_of.items():
        kids.setdefault(parent, []).append(child)
    stab = {int(k): float(v) for k, v in stability.items()}
    selected: dict[int, bool] = {}
    candidates = sorted(stab, reverse=True)
    if not allow_root:
        candidates = [c for c in candidates if c != root]
    for node in candidates:  # children before parents
        below = sum(stab[c] for c in kids.get(node, []))
        if below > stab[node]:
            selected[node] = False
            stab[node] = below
        else:
            selected[node] = True
            stack = list(kids.get(node, []))
            while stack:
                sub = stack.pop()
                selected[sub] = False
                stack.extend(kids.get(sub, []))
    chosen = sorted(node for node, keep in selected.items() if keep)
    number = {node: i for i, node in enumerate(chosen)}
    owner = np.full(len(nodes), -1, dtype=np.intp)  # selected node owning each node
    for node in nodes.tolist():  # parents before children
        up = parent_of.get(node)
        above = owner[up - root] if up is not None else -1
        owner[node - root] = above if above >= 0 else (node if node in number else -1)
    # deaths: the largest lambda among each node's own rows (hdbscan's max_lambdas)
    deaths = np.zeros(len(nodes))
    np.maximum.at(deaths, parents - root, lambdas)
    leaf = ~is_node
    points, point_parent, point_lambda = children[leaf], parents[leaf], lambdas[leaf]
    owners = owner[point_parent - root]
    labels = np.full(n, -1, dtype=np.intp)
    strength = np.zeros(n)
    member = (owners >= 0) & (point_lambda > floor)
    lookup = np.full(len(nodes), -1, dtype=np.intp)
    for node, i in number.items():
        lookup[node - root] = i
    labels[points[member]] = lookup[owners[member] - root]
    top = deaths[owners[member] - root]
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = np.where(
            (top > 0) & np.isfinite(point_lambda[member]),
            np.minimum(point_lambda[member], top) / top,
            1.0,
        )
    strength[points[member]] = ratio
    # a node of pieces cut apart at the same length can be selected with no member
    _, labels[labels >= 0] = np.unique(labels[labels >= 0], return_inverse=True)
    return labels, strength


def _dbscan(
    xy: np.ndarray, weights: np.ndarray, min_organisations: int, distance_m: float
) -> np.ndarray:
    from sklearn.cluster import DBSCAN

    if len(xy) == 0:
        return np.empty(0, dtype=np.intp)
    model = DBSCAN(eps=float(distance_m), min_samples=min_organisations)
    model.fit(xy, sample_weight=weights)
    return np.asarray(model.labels_, dtype=np.intp)
