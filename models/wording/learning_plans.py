"""Sentences about learning plans, in English and Chinese."""

from __future__ import annotations

STATUS = {"accepted": {"en": "accepted", "zh": "已接受"}, "planned": {"en": "planned", "zh": "已列入计划"},
          "declined": {"en": "declined", "zh": "已拒绝"}}


def recorded(status: str, title: str, rank: int | None, replayed: bool, lang: str) -> str:
    """What the API says after recording a plan (``rank`` None: a plan the ranker did not recommend)."""
    s = STATUS[status][lang]
    if lang == "zh":
        where = f"（推荐列表第{rank}位）" if rank is not None else "（非推荐课程，按主动申请记录）"
        again = "该请求此前已记录，未重复写入。" if replayed else ""
        return f"{again}课程《{title}》{where}{s}。"
    where = f" (rank {rank} of the recommended list)" if rank is not None else \
        " (not recommended: recorded as an unsolicited plan)"
    again = "This request was already recorded; nothing was written twice. " if replayed else ""
    return f"{again}Course “{title}”{where}: {s}."


def not_recommended(employee_id: str, course_id: str) -> str:
    return (f"course {course_id} was not recommended to employee {employee_id} (no such course in the "
            "recommendation log); send \"unsolicited\": true to record a plan that was not recommended")
