"""Off-policy evaluation against the simulator: is the IPS / DR estimate of a candidate ranker's gain within
its interval of the gain the simulator measures when employees are actually shown that ranker's lists?

    OMP_NUM_THREADS=1 .venv/bin/python -m bench.off_policy [--employees 2000 --months 36 --seed 7]
        [--k 5 --pool 20 --shares 0.1,0.3,1.0 --logs 5 --follow 0.5 --replays 100 --home /tmp/offpolicy]

1. The demo company: simulate → ingest → features → Feast; train the course ranker twice (job defaults:
   the champion; ``CANDIDATE`` parameters: the candidate). Built once under ``--home`` and reused.
2. At the last month of data, every employee with candidates is one request. The logging policy is the
   champion with the exploration share (``models.learning_plans.exploration``): its top k, or with
   probability ``share`` k courses drawn from its top ``pool``; shown courses and propensities go through
   the recommendation log (``models.learning_plans.store``), the plans too.
3. The simulator plays the employees (``features.simulator.plans``): a plan is accepted with probability
   ``follow``, completed with the simulator's odds, the true effect is gained, and the reward is the rating
   change at the next review on the job's skills the course teaches.
4. IPS and DR gain of the candidate (and of the popularity baseline) over the champion, with 95 % intervals,
   from the logged rewards only (``evaluation.off_policy``).
5. The gain measured by the simulator: it plays the candidate's and the champion's own top-k lists
   (``replays`` times, fresh draws) and the mean reward difference per request is the measured gain; the
   exact expected gain (no draws) is shown too.
"""

from __future__ import annotations

import argparse
import sqlite3
import time
from contextlib import closing
from pathlib import Path

import numpy as np
import pandas as pd

CANDIDATE = {"tree_weight": 1.0, "effect_weight": 0.0}


def build(home: Path, employees: int, months: int, seed: int):
    from features import store
    from features.build import build_features
    from features.ingest import ingest
    from features.settings import Settings
    from features.simulator import simulate

    settings = Settings(home=home / "home")
    if (home / "DONE").exists():
        return settings
    import training_jobs.course_ranker as job

    t0 = time.perf_counter()
    simulate(home / "company", employees=employees, months=months, seed=seed, dirty_rate=0)
    ingest(home / "company", settings)
    build_features(settings)
    store.apply(settings)
    job.run(settings)
    job.run(settings, model_params=CANDIDATE)
    (home / "DONE").write_text(f"{time.perf_counter() - t0:.0f} s\n")
    return settings


def load(settings, version: str):
    import mlflow

    from training_jobs.tracking import configure

    configure(settings)
    return mlflow.pyfunc.load_model(f"models:/course_ranker/{version}").unwrap_python_model().model


def truth_rows(settings, frame: pd.DataFrame, truth_dir: Path, month: pd.Timestamp) -> pd.DataFrame:
    """One row per (candidate row, skill the course teaches): the simulator's state at ``month``."""
    from evaluation.course_ranker_oracle import load_truth
    from features.offline import read_clean

    effects, levels = load_truth(truth_dir)
    levels = levels[levels["month"] <= month.to_period("M")].sort_values("month")
    levels = levels.drop_duplicates(["employee_id", "skill_id"], keep="last")
    cs = read_clean(settings, "course_skills")[["course_id", "skill_id", "target_level"]]
    req = read_clean(settings, "job_skill_requirements")[["job_id", "skill_id", "required_level"]]
    x = frame[["employee_id", "course_id", "job_id"]].astype(str).assign(row=np.arange(len(frame)))
    x = x.merge(effects.astype({"course_id": str, "skill_id": str}), on="course_id")
    x = x.merge(cs.astype({"course_id": str, "skill_id": str}), on=["course_id", "skill_id"], how="left")
    x = x.merge(req.astype({"job_id": str, "skill_id": str}), on=["job_id", "skill_id"], how="left")
    x = x.merge(levels[["employee_id", "skill_id", "true_level"]].astype({"employee_id": str, "skill_id": str}),
                on=["employee_id", "skill_id"], how="left")
    x["required_level"] = x["required_level"].where(x["true_level"].notna())
    return x.assign(true_level=x["true_level"].fillna(1.0), target_level=x["target_level"].fillna(5.0))


class Player:
    """Plays any subset of the candidate rows with the simulator's plan follower."""

    def __init__(self, frame: pd.DataFrame, skills: pd.DataFrame, follow: float):
        self.frame, self.skills, self.follow = frame, skills, follow
        self.by_row = skills.groupby("row").indices

    def play(self, rows: np.ndarray, rng: np.random.Generator):
        from features.simulator.plans import play

        shown = pd.DataFrame({"hours": self.frame["hours"].to_numpy()[rows],
                              "format_match": self.frame["format_affinity"].to_numpy()[rows]})
        idx = [self.by_row.get(r, np.zeros(0, np.int64)) for r in rows]
        pos = np.repeat(np.arange(len(rows)), [len(i) for i in idx])
        sk = self.skills.iloc[np.concatenate(idx) if idx else []].assign(row=pos)
        return play(shown, sk, self.follow, rng)


def top_rows(groups: dict, score: np.ndarray, k: int) -> np.ndarray:
    return np.concatenate([g[np.lexsort((g, -score[g]))][:k] for g in groups.values()])


def log_policy(frame, groups, champion, k, share, pool, rng, con, player):
    """Show, log (recommendation log + plans) and play; returns the logged rows with rewards."""
    from models.learning_plans import exploration
    from models.learning_plans import store as plans_store

    rows, props, rids, ranks = [], [], [], []
    for rid, g in groups.items():
        order = g[np.lexsort((g, -champion[g]))]
        shown = exploration.choose(len(order), k, share, rng, pool)
        rows.append(order[shown.positions])
        props.append(shown.propensities)
        rids += [rid] * len(shown.positions)
        ranks += list(range(1, len(shown.positions) + 1))
    rows, props = np.concatenate(rows), np.concatenate(props)
    now = pd.Timestamp.now(tz="UTC").isoformat()
    ids = frame["course_id"].astype(str).to_numpy()
    plans_store.log_shown(con, [plans_store.Logged(f"{share}-{r}", str(r), None, ids[i], rank, float(champion[i]),
                                                   "course_ranker", "1", float(p), share > 0, share, now)
                                for r, i, p, rank in zip(rids, rows, props, ranks, strict=True)])
    played = player.play(rows, rng)
    for r, i, acc in zip(rids, rows, played.accepted, strict=True):
        plans_store.record_plan(con, caller_key_id="bench", idempotency_key=f"{share}-{r}-{ids[i]}", employee_id=str(r),
                                org_unit_id=None, course_id=ids[i], status="accepted" if acc else "declined",
                                shown=plans_store.last_shown(con, str(r), ids[i], f"{share}-{r}"), note=None,
                                recorded_by="bench")
    logged = plans_store.read_log(con)
    logged = logged[logged["request_id"].str.startswith(f"{share}-")]
    reward = pd.DataFrame({"request_id": [f"{share}-{r}" for r in rids], "course_id": ids[rows],
                           "reward": played.reward, "row": rows})
    return logged.merge(reward, on=["request_id", "course_id"])


def main() -> None:
    from evaluation import course_ranker_baselines as baselines
    from evaluation import off_policy as ope
    from evaluation import truth as truth_io
    from features.offline import read_clean
    from models.learning_plans import exploration
    from models.learning_plans import store as plans_store
    from training_jobs.off_policy import REWARD_FEATURES, candidate_frame

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--employees", type=int, default=2000)
    parser.add_argument("--months", type=int, default=36)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--k", type=int, default=5)
    parser.add_argument("--pool", type=int, default=20)
    parser.add_argument("--shares", default="0.1,0.3,1.0")
    parser.add_argument("--logs", type=int, default=5, help="independent logs per share")
    parser.add_argument("--follow", type=float, default=0.5)
    parser.add_argument("--replays", type=int, default=100)
    parser.add_argument("--home", type=Path, default=Path("/tmp/talentloop-offpolicy"))
    args = parser.parse_args()

    settings = build(args.home, args.employees, args.months, args.seed)
    truth_dir = truth_io.locate(settings)
    last = pd.to_datetime(read_clean(settings, "competency_ratings")["review_date"]).max()
    month = last.to_period("M").to_timestamp()
    frame = candidate_frame(settings, [month], None)
    frame = frame.reset_index(drop=True)
    scores = {"champion": load(settings, "1").score(frame), "candidate": load(settings, "2").score(frame),
              "popularity": baselines.popularity_within_job(frame)}
    groups = {e: np.asarray(g) for e, g in frame.groupby("employee_id").indices.items()}
    player = Player(frame, truth_rows(settings, frame, truth_dir, month), args.follow)
    lists = {name: top_rows(groups, s, args.k) for name, s in scores.items()}
    rid_of_row = frame["employee_id"].astype(str).to_numpy()

    # the gain measured by the simulator: each ranker's own lists, played `replays` times
    rng = np.random.default_rng(12345)
    measured = {}
    for name, rows in lists.items():
        sums = [pd.Series(player.play(rows, rng).reward).groupby(rid_of_row[rows]).sum().mean()
                for _ in range(args.replays)]
        exact = pd.Series(player.play(rows, rng).expected).groupby(rid_of_row[rows]).sum().mean()
        measured[name] = (np.array(sums), exact)
    print(f"demo company {args.employees} employees × {args.months} months (seed {args.seed}); month {month:%Y-%m}; "
          f"{len(groups)} requests, {len(frame)} candidates; k={args.k}, pool={args.pool}, follow={args.follow}, "
          f"replays={args.replays}")
    for name in ("candidate", "popularity"):
        d = measured[name][0] - measured["champion"][0]
        print(f"  simulator: {name} − champion = {d.mean():+.4f} (± {d.std(ddof=1) / np.sqrt(len(d)):.4f} MC se); "
              f"exact expected {measured[name][1] - measured['champion'][1]:+.4f}")
    print()
    print(f"{'share':>5} {'log':>3} {'ranker':>10} {'support':>7} {'IPS gain [95% CI]':>28} {'DR gain [95% CI]':>28} "
          f"{'simulator':>9} {'IPS in':>6} {'DR in':>5}")
    hits = {"ips": [], "dr": []}
    for share in [float(s) for s in args.shares.split(",")]:
        for log_i in range(args.logs):
            rng = np.random.default_rng(1000 * log_i + int(share * 100))
            with closing(sqlite3.connect(":memory:")) as con:
                plans_store.ensure(con)
                logged = log_policy(frame, groups, scores["champion"], args.k, share, args.pool, rng, con, player)
            logged = logged.assign(**{c: frame[c].to_numpy(float)[logged["row"]] for c in REWARD_FEATURES})
            prop = np.zeros(len(frame))
            for g in groups.values():
                order = g[np.lexsort((g, -scores["champion"][g]))]
                prop[order] = exploration.inclusion_propensities(len(order), args.k, share, args.pool)
            cands = frame[["course_id", *REWARD_FEATURES]].assign(
                request_id=[f"{share}-{e}" for e in rid_of_row], propensity=prop)
            q = ope.predict_rewards(cands, logged, REWARD_FEATURES)
            targets = {name: pd.DataFrame({"request_id": [f"{share}-{e}" for e in rid_of_row[rows]],
                                           "course_id": frame["course_id"].to_numpy()[rows]})
                       for name, rows in lists.items()}
            res = ope.evaluate(logged, targets, "champion", q)
            for name in ("candidate", "popularity"):
                r = res["rankers"][name]
                sim = (measured[name][0] - measured["champion"][0]).mean()
                ins = {e: r[f"gain_{e}"]["lo"] <= sim <= r[f"gain_{e}"]["hi"] for e in ("ips", "dr")}
                if name == "candidate":
                    for e in ins:
                        hits[e].append(ins[e])
                gi, gd = r["gain_ips"], r["gain_dr"]
                print(f"{share:>5.1f} {log_i:>3} {name:>10} {r['support']:>7.0%} "
                      f"{gi['estimate']:>+8.4f} [{gi['lo']:+.4f}, {gi['hi']:+.4f}] "
                      f"{gd['estimate']:>+8.4f} [{gd['lo']:+.4f}, {gd['hi']:+.4f}] {sim:>+9.4f} "
                      f"{'yes' if ins['ips'] else 'NO':>6} {'yes' if ins['dr'] else 'NO':>5}")
    n = len(hits["ips"])
    print(f"\ncandidate: simulator's gain inside the IPS interval {sum(hits['ips'])}/{n}, DR interval "
          f"{sum(hits['dr'])}/{n}")


if __name__ == "__main__":
    main()
