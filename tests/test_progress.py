"""The progress channel: steps reach the installed reporter and cost nothing without one."""

from features import progress


class Recorder:
    def __init__(self) -> None:
        self.events: list[tuple] = []

    def start(self, description, total):
        self.events.append(("start", description, total))
        return description

    def advance(self, handle, amount):
        self.events.append(("advance", handle, amount))

    def finish(self, handle):
        self.events.append(("finish", handle))


def test_steps_reach_the_installed_reporter_and_finish_even_on_error():
    recorder = Recorder()
    with progress.use(recorder):
        with progress.step("folds", total=2) as advance:
            advance()
            advance(1)
        try:
            with progress.step("horizons", total=3) as advance:
                advance()
                raise RuntimeError("stop")
        except RuntimeError:
            pass
    assert recorder.events == [
        ("start", "folds", 2), ("advance", "folds", 1), ("advance", "folds", 1), ("finish", "folds"),
        ("start", "horizons", 3), ("advance", "horizons", 1), ("finish", "horizons"),
    ]
    with progress.step("unwatched", total=1) as advance:  # outside ``use``: nothing is recorded
        advance()
    assert len(recorder.events) == 7
