"""Exact TreeSHAP for a few rows at a time, by per-leaf tables (the "v2" idea of FastTreeSHAP, Yang 2022).

LightGBM's ``pred_contrib`` runs the recursive path-dependent TreeSHAP for every row; for the course
ranker's trees and the ten courses a recommendation explains it is the largest single cost of that request. The same values can be looked up instead of recomputed:

For one leaf with value ``v`` whose root path splits on the distinct features ``U`` (``d`` of them), the
path-dependent expectation given the features in ``S`` is ``v × Π_{j∈U} (o_j if j ∈ S else z_j)``: ``o_j``
is 1 when the row satisfies every split on ``j`` along the path, ``z_j`` the product of the training-data
shares of those splits. Its Shapley values over ``U`` therefore depend on the row only through the bits
``o``: ``φ_i = Σ_{S⊆U∖{i}} |S|!(d−|S|−1)!/d! × Π_{j∈S} o_j Π_{j∉S∪{i}} z_j × (o_i − z_i)``. Building the
table of ``φ`` for all 2^d bit patterns of every leaf once (at model load) turns a row's TreeSHAP into one
decision per split node, one bit pattern per leaf and ``d`` additions per leaf (an order of magnitude
less work a row), compiled with numba (a dependency of shap already). The base value is ``Σ_leaves v × Π z``.

Numeric splits only, as LightGBM decides them (NaN as 0 unless missing values have their own direction,
``missing_type`` Zero / NaN going ``default_left``). Boosters with categorical splits, very deep leaves
(more than :data:`MAX_DEPTH` distinct features on a path) or tables over :data:`MAX_TABLE_BYTES` in all
are refused with ValueError; callers keep LightGBM's ``pred_contrib`` for those. ``tests/test_treeshap.py`` checks the values against ``pred_contrib``.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

MAX_DEPTH = 12  # distinct features on one root-to-leaf path: a table of 2^12 × 12 values for such a leaf
MAX_TABLE_BYTES = 64 * 2**20  # all leaves' tables; a larger (deeper) model keeps LightGBM's pred_contrib
_K_ZERO = 1e-35  # LightGBM's kZeroThreshold: |x| at or below it counts as zero for missing_type Zero
_NONE, _ZERO, _NAN = 0, 1, 2


class TreeTables:
    """Per-leaf Shapley tables of a LightGBM booster; :meth:`contributions` equals ``pred_contrib``."""

    def __init__(self, booster: Any):
        dump = booster.dump_model()
        self.n_features = int(dump["max_feature_idx"]) + 1
        feat, thr, dleft, miss = [], [], [], []
        e_node, e_left, e_slot = [], [], []
        leaf_elems, leaf_d, leaf_feats, leaf_off = [0], [], [], []
        uniq_feat: list[int] = []
        tables: list[np.ndarray] = []
        base, offset = 0.0, 0
        for tree in dump["tree_info"]:
            stack = [(tree["tree_structure"], ())]
            while stack:
                node, path = stack.pop()
                if "split_feature" not in node:  # a leaf (a one-leaf tree has an empty path)
                    value = float(node["leaf_value"])
                    slots: dict[int, int] = {}
                    for _, _, f, _ in path:
                        slots.setdefault(f, len(slots))
                    d = len(slots)
                    if d > MAX_DEPTH:
                        raise ValueError(f"a leaf splits on {d} distinct features (at most {MAX_DEPTH})")
                    z = np.ones(d)
                    for n, left, f, share in path:
                        z[slots[f]] *= share
                        e_node.append(n)
                        e_left.append(left)
                        e_slot.append(slots[f])
                    base += value * float(np.prod(z))
                    if (offset + 2**d * d) * 8 > MAX_TABLE_BYTES:
                        raise ValueError(f"the Shapley tables would take over {MAX_TABLE_BYTES // 2**20} MiB")
                    table = value * shapley_table(z)
                    tables.append(table.ravel())
                    leaf_elems.append(len(e_node))
                    leaf_d.append(d)
                    leaf_off.append(offset)
                    leaf_feats.append(len(uniq_feat))
                    uniq_feat.extend(slots)
                    offset += table.size
                    continue
                if node["decision_type"] != "<=":
                    raise ValueError(f"categorical split on feature {node['split_feature']}: numeric splits only")
                k = len(feat)
                feat.append(int(node["split_feature"]))
                thr.append(float(node["threshold"]))
                dleft.append(bool(node["default_left"]))
                miss.append({"None": _NONE, "Zero": _ZERO, "NaN": _NAN}[node["missing_type"]])
                count = float(node["internal_count"])
                for child, left in ((node["right_child"], False), (node["left_child"], True)):
                    share = float(child.get("internal_count", child.get("leaf_count", 0))) / count if count else 0.0
                    stack.append((child, (*path, (k, left, int(node["split_feature"]), share))))
        leaf_feats.append(len(uniq_feat))
        self.base = base
        i64 = np.int64  # the kernel's arguments after X, out and base, in its order
        self.arrays = tuple(np.asarray(values, dtype=dtype) for values, dtype in (
            (feat, i64), (thr, np.float64), (dleft, np.bool_), (miss, np.int8),  # split nodes
            (e_node, i64), (e_left, np.bool_), (e_slot, i64),  # path elements, leaf by leaf
            (leaf_elems, i64), (leaf_d, i64), (leaf_off, i64), (leaf_feats, i64), (uniq_feat, i64)))  # leaves
        self.table = np.concatenate(tables) if tables else np.zeros(0)

    @property
    def nbytes(self) -> int:
        return int(self.table.nbytes + sum(a.nbytes for a in self.arrays))

    def contributions(self, X: np.ndarray) -> np.ndarray:
        """``booster.predict(X, pred_contrib=True)``: rows × (features + 1), the base value last."""
        X = np.ascontiguousarray(X, dtype=np.float64)
        if X.ndim != 2 or X.shape[1] != self.n_features:
            raise ValueError(f"X must have {self.n_features} columns, got shape {X.shape}")
        out = np.zeros((len(X), self.n_features + 1))
        _kernel()(X, out, self.base, *self.arrays, self.table)
        return out


def shapley_table(z: np.ndarray) -> np.ndarray:
    """Shapley values of ``Π_j (o_j if j ∈ S else z_j)`` for every bit pattern ``o`` (row m: bit j of m).

    Returns (2^d, d). ``φ_i = (o_i − z_i) × Σ_s s!(d−s−1)!/d! × e_s``, with ``e_s`` the coefficient of t^s
    in ``Π_{j≠i} (z_j + o_j t)``, all patterns at once."""
    d = len(z)
    if d == 0:
        return np.zeros((1, 0))
    o = ((np.arange(2**d)[:, None] >> np.arange(d)[None, :]) & 1).astype(float)
    weight = np.array([math.factorial(s) * math.factorial(d - s - 1) / math.factorial(d) for s in range(d)])
    out = np.empty((2**d, d))
    for i in range(d):
        poly = np.zeros((2**d, d))
        poly[:, 0] = 1.0
        for j in range(d):
            if j != i:
                shifted = np.zeros_like(poly)
                shifted[:, 1:] = poly[:, :-1] * o[:, j : j + 1]
                poly = poly * z[j] + shifted
        out[:, i] = (poly @ weight) * (o[:, i] - z[i])
    return out


_KERNEL = None


def _kernel():
    """The compiled row loop (numba, cached on disk next to this module; compiled on first use)."""
    global _KERNEL
    if _KERNEL is None:
        import numba

        @numba.njit(cache=True, nogil=True)
        def kernel(X, out, base, node_feat, node_thr, node_default_left, node_missing, elem_node, elem_left,
                   elem_slot, leaf_elems, leaf_d, leaf_off, leaf_feats, uniq_feat, table):  # pragma: no cover
            n_nodes = node_feat.shape[0]
            n_leaves = leaf_d.shape[0]
            left = np.empty(n_nodes, dtype=np.bool_)
            m = X.shape[1]
            for r in range(X.shape[0]):
                for k in range(n_nodes):
                    x = X[r, node_feat[k]]
                    kind = node_missing[k]
                    if np.isnan(x) and kind != 2:
                        x = 0.0
                    if (kind == 1 and abs(x) <= 1e-35) or (kind == 2 and np.isnan(x)):
                        left[k] = node_default_left[k]
                    else:
                        left[k] = x <= node_thr[k]
                for leaf in range(n_leaves):
                    d = leaf_d[leaf]
                    fail = 0
                    for e in range(leaf_elems[leaf], leaf_elems[leaf + 1]):
                        if left[elem_node[e]] != elem_left[e]:
                            fail |= 1 << elem_slot[e]
                    pattern = ((1 << d) - 1) ^ fail
                    at = leaf_off[leaf] + pattern * d
                    first = leaf_feats[leaf]
                    for k in range(d):
                        out[r, uniq_feat[first + k]] += table[at + k]
                out[r, m] = base

        _KERNEL = kernel
    return _KERNEL
