"""A local stand-in for the parts of Databricks `dbutils` the notebooks use.

Behaviour follows Databricks where a notebook could notice the difference: a passed parameter
beats a widget's declared default, reading an undeclared widget without a parameter fails,
task values must be JSON, and `notebook.exit` ends the notebook with a string.
"""

from __future__ import annotations

import json
import logging
from typing import Any

from medallion.errors import ParameterError

__all__ = ["LocalDbutils", "NotebookExit", "TaskValues", "Widgets", "display"]

log = logging.getLogger(__name__)


class NotebookExit(Exception):
    """Raised by `dbutils.notebook.exit`; the executor catches it and returns `value`."""

    def __init__(self, value: str):
        super().__init__(value)
        self.value = value


class Widgets:
    """`dbutils.widgets`: declared widgets with defaults, overridden by the run's parameters."""

    def __init__(self, params: dict[str, str] | None = None):
        self._params = {str(k): str(v) for k, v in (params or {}).items()}
        self._defaults: dict[str, str] = {}

    def text(self, name: str, defaultValue: str = "", label: str | None = None) -> None:
        self._defaults[name] = str(defaultValue)

    def dropdown(self, name: str, defaultValue: str, choices: list[str], label: str | None = None) -> None:
        self._check_choice(name, defaultValue, choices)
        self._defaults[name] = str(defaultValue)

    def combobox(self, name: str, defaultValue: str, choices: list[str], label: str | None = None) -> None:
        self._defaults[name] = str(defaultValue)

    def multiselect(self, name: str, defaultValue: str, choices: list[str], label: str | None = None) -> None:
        for value in str(defaultValue).split(","):
            if value:
                self._check_choice(name, value, choices)
        self._defaults[name] = str(defaultValue)

    def get(self, name: str) -> str:
        if name in self._params:
            return self._params[name]
        if name in self._defaults:
            return self._defaults[name]
        raise ParameterError(
            f"No input widget named {name!r} is defined (declare it with dbutils.widgets.text "
            "or pass it as a job/notebook parameter)"
        )

    def getArgument(self, name: str, optional: str | None = None) -> str | None:
        """Deprecated Databricks spelling of `get` that returns `optional` instead of failing."""
        try:
            return self.get(name)
        except ParameterError:
            return optional

    def getAll(self) -> dict[str, str]:
        return {**self._defaults, **self._params}

    def remove(self, name: str) -> None:
        if name not in self._defaults:
            raise ParameterError(f"No input widget named {name!r} is defined, so it cannot be removed")
        del self._defaults[name]

    def removeAll(self) -> None:
        self._defaults.clear()

    @staticmethod
    def _check_choice(name: str, value: str, choices: list[str]) -> None:
        if value not in choices:
            raise ParameterError(f"widget {name!r}: default {value!r} is not one of the choices {choices}")


class TaskValues:
    """`dbutils.jobs.taskValues`, backed by one dict per job run shared by all its tasks."""

    def __init__(self, store: dict[str, dict[str, Any]] | None = None, task_key: str = "notebook"):
        self.store = store if store is not None else {}
        self.task_key = task_key

    def set(self, key: str, value: Any) -> None:
        try:
            text = json.dumps(value)
        except (TypeError, ValueError) as exc:
            raise TypeError(f"task value {key!r} must be JSON-serialisable: {exc}") from None
        # Stored as the JSON round trip so a reader sees what Databricks would give it.
        self.store.setdefault(self.task_key, {})[key] = json.loads(text)

    def get(self, taskKey: str, key: str, default: Any = None, debugValue: Any = None) -> Any:
        values = self.store.get(taskKey, {})
        if key in values:
            return values[key]
        if default is not None:
            return default
        if debugValue is not None:
            return debugValue
        raise ValueError(
            f"no task value {key!r} set by task {taskKey!r} (tasks with values: {', '.join(self.store) or 'none'})"
        )


class _Jobs:
    def __init__(self, task_values: TaskValues):
        self.taskValues = task_values


class _Notebook:
    def exit(self, value: Any) -> None:
        raise NotebookExit(value if isinstance(value, str) else str(value))


class LocalDbutils:
    """`dbutils` for one local notebook run: widgets, task values and notebook exit."""

    def __init__(
        self,
        params: dict[str, str] | None = None,
        *,
        task_key: str = "notebook",
        task_values: dict[str, dict[str, Any]] | None = None,
    ):
        self.widgets = Widgets(params)
        self.jobs = _Jobs(TaskValues(task_values, task_key))
        self.notebook = _Notebook()


def display(obj: Any) -> None:
    """Notebook `display`: a Spark DataFrame is shown as a table, anything else printed."""
    if type(obj).__module__.startswith("pyspark.sql") and callable(getattr(obj, "show", None)):
        obj.show(20, truncate=False)
    else:
        print(obj)
