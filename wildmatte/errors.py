"""User-facing errors: one line naming the file and the problem, shown without a traceback."""


class WildmatteError(Exception):
    """An error caused by the user's input (a file, an option), not by a bug."""


class InputError(WildmatteError):
    """A bad input file: the message names the file and the problem."""

    def __init__(self, path: object, problem: str) -> None:
        self.path = str(path)
        self.problem = problem
        super().__init__(f"{self.path}: {problem}")
