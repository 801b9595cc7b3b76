"""Training points (积分制): rules from the workspace's ``points.yaml`` (:mod:`models.points.rules`), balances
and projected year-end attainment per person and completion rates per unit (:mod:`models.points.balances`),
the app-database store (:mod:`models.points.store`) and a small knapsack that picks ranked courses reaching a
person's remaining target within hours and budget (:mod:`models.points.plan`). See docs/points.md."""
