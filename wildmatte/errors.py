"""User-facing errors: one line naming the file and the problem, shown without a traceback."""


class WildmatteError(Exception):
    """An error caused by the user's input (a file, an option), not by a bug."""


class InputError(WildmatteError, ValueError):
    """A bad input file or option: the message names it and the problem.

    Also a ValueError, so that API callers meet the error type they expect for bad values."""

    def __init__(self, path: object, problem: str) -> None:
        self.path = str(path)
        self.problem = problem
        super().__init__(f"{self.path}: {problem}")


def first_line(err: Exception) -> str:
    """The first line of an exception's message (its type name when the message is empty)."""
    text = str(err).strip()
    return text.splitlines()[0] if text else type(err).__name__


# The modules `pip install wildmatte[train]` adds (pyproject.toml).
TRAIN_EXTRA = ("yaml", "matplotlib", "pycocotools", "pydantic")


class MissingExtraError(WildmatteError):
    """A command needs an optional dependency group (pyproject's extras) that is not installed."""

    def __init__(self, command: str, module: str | None, extra: str) -> None:
        super().__init__(
            f"{command} needs {module or 'a package'}, which is not installed: "
            f"pip install 'wildmatte[{extra}]'"
        )


class Interrupted(WildmatteError):
    """A run stopped by a signal after saving what it needs to resume."""

    def __init__(self, signum: int, message: str) -> None:
        self.signum = signum
        self.exit_code = 128 + signum  # the shell's convention: 130 for SIGINT, 143 for SIGTERM
        super().__init__(message)
