"""Off-policy evaluation of a course ranker on logged recommendations: inverse propensity (IPS) and doubly
robust (DR) estimates of the value of a ranker's top-k lists, and of its gain over a reference ranker.

Logged data (one row per course shown): ``request_id``, ``course_id``, ``propensity`` (the logging policy's
probability of showing that course in that request, ``models.learning_plans.exploration``) and ``reward``
(what followed: e.g. the improvement at the next review). A ranker to evaluate is given by the courses it
would show per request (``request_id``, ``course_id``: its top k of that request's candidates).

The value of a list is the sum of its courses' rewards (an employee's response to one course does not
depend on the others shown, which is how the simulator plays it, ``features.simulator.plans``). Then, for
request i, target list T_i, shown set S_i with propensities p and a reward model q̂:

    IPS_i = Σ_{c ∈ S_i ∩ T_i} r_ic / p_ic
    DR_i  = Σ_{c ∈ T_i} q̂_ic + Σ_{c ∈ S_i ∩ T_i} (r_ic − q̂_ic) / p_ic

and the gain of ranker A over B is the mean over requests of A_i − B_i, with a normal 95 % interval from
the requests' spread (requests are independent draws of the logging policy). Both are unbiased when every
course of T_i had a positive propensity; ``support`` reports the share of the target's courses that did
(a course the logging policy could never show is invisible to IPS and is only modelled by DR).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

Z = 1.959963984540054  # 95 % normal quantile
LOG_COLUMNS = ("request_id", "course_id", "propensity", "reward")


def _check(logged: pd.DataFrame) -> None:
    missing = [c for c in LOG_COLUMNS if c not in logged.columns]
    if missing:
        raise ValueError(f"logged data is missing column(s) {missing}")
    p = logged["propensity"].to_numpy(float)
    if len(p) and not ((p > 0) & (p <= 1)).all():
        raise ValueError("every logged propensity must be in (0, 1]: a course shown had a chance to be shown")


def per_request(logged: pd.DataFrame, target: pd.DataFrame, q: pd.DataFrame | None = None) -> pd.DataFrame:
    """IPS and DR value of ``target``'s list for each logged request: ``request_id``, ``ips``, ``dr``,
    ``support`` (share of the target's courses with a positive propensity in the log's policy, when ``q``
    carries ``propensity`` for every candidate; else the share shown)."""
    _check(logged)
    requests = pd.Index(logged["request_id"].unique(), name="request_id")
    t = target[["request_id", "course_id"]].drop_duplicates()
    t = t[t["request_id"].isin(requests)].assign(in_target=True)
    hit = logged.merge(t, on=["request_id", "course_id"], how="inner")
    if q is not None:
        hit = hit.merge(q[["request_id", "course_id", "q"]], on=["request_id", "course_id"], how="left")
        hit["q"] = hit["q"].fillna(0.0)
    else:
        hit["q"] = 0.0
    w = 1.0 / hit["propensity"].to_numpy(float)
    r = hit["reward"].to_numpy(float)
    hit = hit.assign(ips=w * r, corr=w * (r - hit["q"].to_numpy(float)))
    out = pd.DataFrame(index=requests)
    out["ips"] = hit.groupby("request_id")["ips"].sum()
    out["corr"] = hit.groupby("request_id")["corr"].sum()
    if q is not None:
        tq = t.merge(q, on=["request_id", "course_id"], how="left")
        out["model"] = tq.groupby("request_id")["q"].sum()
        if "propensity" in q.columns:
            out["support"] = tq.assign(s=tq["propensity"].fillna(0) > 0).groupby("request_id")["s"].mean()
    out = out.fillna({"ips": 0.0, "corr": 0.0, "model": 0.0})
    if "model" not in out:
        out["model"] = 0.0
    out["dr"] = out["model"] + out["corr"]
    if "support" not in out:
        shown = hit.groupby("request_id").size()
        size = t.groupby("request_id").size()
        out["support"] = (shown / size).reindex(out.index).fillna(0.0)
    return out[["ips", "dr", "support"]].reset_index()


def _mean_ci(values: np.ndarray) -> dict[str, float]:
    n = len(values)
    mean = float(np.mean(values)) if n else float("nan")
    se = float(np.std(values, ddof=1) / np.sqrt(n)) if n > 1 else float("nan")
    return {"estimate": mean, "lo": mean - Z * se, "hi": mean + Z * se, "se": se}


def on_policy(logged: pd.DataFrame) -> pd.DataFrame:
    """The logging policy's own value per request: the sum of the rewards of the courses it showed (no
    weighting: the lists were drawn by that policy); as :func:`per_request`, with support 1."""
    _check(logged)
    value = logged.groupby("request_id", sort=False)["reward"].sum()
    return pd.DataFrame({"request_id": value.index, "ips": value.to_numpy(float), "dr": value.to_numpy(float),
                         "support": 1.0})


def evaluate(logged: pd.DataFrame, targets: dict[str, pd.DataFrame], reference: str,
             q: pd.DataFrame | None = None, logging_name: str | None = None) -> dict:
    """IPS and DR value of every ranker in ``targets`` (name → its lists) and its gain over ``reference``.

    ``logging_name``: also report the logging policy itself under that name (its on-policy value,
    :func:`on_policy`); it may be the ``reference``."""
    per = {name: per_request(logged, t, q).set_index("request_id") for name, t in targets.items()}
    if logging_name is not None:
        per[logging_name] = on_policy(logged).set_index("request_id")
    if reference not in per:
        raise ValueError(f"reference ranker {reference!r} is not among the rankers given: {sorted(per)}")
    base = per[reference]
    out: dict = {"requests": int(logged["request_id"].nunique()), "shown": int(len(logged)),
                 "reference": reference, "rankers": {}}
    for name, v in per.items():
        row = {"support": float(v["support"].mean())}
        for est in ("ips", "dr"):
            row[f"value_{est}"] = _mean_ci(v[est].to_numpy())
            row[f"gain_{est}"] = _mean_ci((v[est] - base[est]).to_numpy())
        out["rankers"][name] = row
    return out


def predict_rewards(candidates: pd.DataFrame, logged: pd.DataFrame, features: Sequence[str], folds: int = 2,
                    seed: int = 0) -> pd.DataFrame:
    """q̂ for every (request, candidate course) of ``candidates`` from the model fitted on the other folds'
    logged rows: ``request_id``, ``course_id``, ``q`` (plus ``propensity`` when ``candidates`` has it)."""
    _check(logged)
    requests = logged["request_id"].unique()
    rng = np.random.default_rng(seed)
    fold_of = pd.Series(rng.integers(0, folds, len(requests)), index=requests)
    lf = logged["request_id"].map(fold_of).to_numpy()
    x = np.nan_to_num(np.column_stack([np.ones(len(logged)), logged[list(features)].to_numpy(float)]))
    y = logged["reward"].to_numpy(float)
    w = np.sqrt(1.0 / logged["propensity"].to_numpy(float))
    cf = candidates["request_id"].map(fold_of).to_numpy()
    xc = np.nan_to_num(np.column_stack([np.ones(len(candidates)), candidates[list(features)].to_numpy(float)]))
    q = np.zeros(len(candidates))
    for k in range(folds):
        train = lf != k
        if train.sum() <= x.shape[1]:
            raise ValueError(f"too few logged rows to fit the reward model ({int(train.sum())})")
        beta, *_ = np.linalg.lstsq(x[train] * w[train, None], y[train] * w[train], rcond=None)
        q[cf == k] = xc[cf == k] @ beta
    cols = ["request_id", "course_id", *(["propensity"] if "propensity" in candidates.columns else [])]
    return candidates[cols].assign(q=q)


def top_k(scored: pd.DataFrame, score_col: str, k: int, group: str = "request_id") -> pd.DataFrame:
    """Each request's ``k`` highest-scored courses (ties broken by course id): ``request_id``, ``course_id``."""
    s = scored.sort_values([group, score_col, "course_id"], ascending=[True, False, True], kind="mergesort")
    return s.groupby(group, sort=False).head(k)[[group, "course_id"]].reset_index(drop=True)


def render_markdown(result: dict, lang: str = "en") -> str:
    """The off-policy table (en or zh)."""
    zh = lang == "zh"
    if result.get("support_measure") == "shown":  # the candidates' propensities are unknown: the share shown
        col = "已展示占比" if zh else "shown"
    else:
        col = "支持度" if zh else "support"
    head = (f"| 排序模型 | {col} | IPS 增益 [95% 区间] | DR 增益 [95% 区间] | DR 价值 |" if zh else
            f"| ranker | {col} | IPS gain [95% CI] | DR gain [95% CI] | DR value |")
    lines = [("离线策略评估（相对于 {ref}，{n} 个推荐请求）" if zh else
              "Off-policy evaluation (gain over {ref}, {n} logged requests)").format(ref=result["reference"],
                                                                              n=result["requests"]),
             "", head, "|---|---|---|---|---|"]
    for name, r in result["rankers"].items():
        gi, gd, vd = r["gain_ips"], r["gain_dr"], r["value_dr"]
        lines.append(f"| {name} | {r['support']:.0%} | {gi['estimate']:+.4f} [{gi['lo']:+.4f}, {gi['hi']:+.4f}] | "
                     f"{gd['estimate']:+.4f} [{gd['lo']:+.4f}, {gd['hi']:+.4f}] | {vd['estimate']:.4f} |")
    return "\n".join(lines)
