"""The mapping file: how a company's export differs from the contract (YAML, validated with pydantic).

See docs/mapping.md. Every scalar is read as a string (YAML ``yes``/``no`` stay the strings "yes"/"no"),
unknown keys are errors, and every table, column and value map must name something the contract declares.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from features.contract import CONTRACT, FILE_FORMATS
from features.ingest.errors import MappingError

DEFAULT_DATE_FORMATS: tuple[str, ...] = ("%Y-%m-%d",)
AUTO_MAPPING_NAME = "mapping.yaml"


class Derive(BaseModel):
    """A contract column computed from an export column: the year of a date, or a code from a lookup."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    source: str = Field(alias="from", description="Export column the value is computed from.")
    part: Literal["year"] | None = Field(None, description="'year': the year of a date (birth year from a "
                                         "date of birth), parsed with the table's date formats.")
    lookup: dict[str, str] | None = Field(None, description="Export value → contract value; values not "
                                          "listed become empty.")

    @model_validator(mode="after")
    def _one_rule(self) -> Derive:
        if (self.part is None) == (self.lookup is None):
            raise ValueError("give exactly one of 'part' or 'lookup'")
        return self


class TableMapping(BaseModel):
    """How one table's export differs from the contract."""

    model_config = ConfigDict(extra="forbid")

    derive: dict[str, Derive] = Field(default_factory=dict, description="Contract column → how to compute it.")
    unknown_values: dict[str, str] = Field(
        default_factory=dict, description="Coded contract column → the allowed value any other code becomes.")

    file: str | None = Field(None, description="File name inside the feed folder, e.g. staff.xlsx.")
    columns: dict[str, str] = Field(default_factory=dict, description="Export column name → contract column.")
    values: dict[str, dict[str, str]] = Field(
        default_factory=dict, description="Contract column → {export value → contract value}.")
    date_formats: list[str] | None = Field(None, description="strptime formats for this table's dates.")

    @field_validator("file")
    @classmethod
    def _known_format(cls, v: str | None) -> str | None:
        if v is not None and Path(v).suffix.lower().lstrip(".") not in FILE_FORMATS:
            raise ValueError(f"file {v!r} must end in one of {', '.join('.' + f for f in FILE_FORMATS)}")
        return v


class Aliases(BaseModel):
    """Other names for courses and skills (alias → id), added to the alias tables."""

    model_config = ConfigDict(extra="forbid")

    courses: dict[str, str] = Field(default_factory=dict)
    skills: dict[str, str] = Field(default_factory=dict)


class Mapping(BaseModel):
    """The whole mapping file."""

    model_config = ConfigDict(extra="forbid")

    encoding: str = Field("utf-8", description="Text encoding of CSV files (e.g. gbk for legacy exports).")
    date_formats: list[str] = Field(default_factory=lambda: list(DEFAULT_DATE_FORMATS))
    aliases: Aliases = Field(default_factory=Aliases)
    tables: dict[str, TableMapping] = Field(default_factory=dict)

    @field_validator("encoding")
    @classmethod
    def _known_encoding(cls, v: str) -> str:
        import codecs

        try:
            codecs.lookup(v)
        except LookupError as e:
            raise ValueError(f"unknown encoding {v!r}") from e
        return v

    @field_validator("date_formats")
    @classmethod
    def _non_empty(cls, v: list[str]) -> list[str]:
        if not v:
            raise ValueError("date_formats must list at least one strptime format")
        return v

    @model_validator(mode="after")
    def _names_exist(self) -> Mapping:
        for table, tm in self.tables.items():
            if table not in CONTRACT:
                raise ValueError(f"tables.{table}: unknown table; tables are {', '.join(CONTRACT)}")
            _check_columns(table, tm)
            _check_unknown_values(table, tm)
        return self

    def for_table(self, table: str) -> TableMapping:
        """The table's mapping (empty when the file does not mention the table)."""
        return self.tables.get(table, TableMapping())

    def date_formats_for(self, table: str) -> list[str]:
        """The table's date formats, else the global ones."""
        return self.for_table(table).date_formats or self.date_formats


def parse_mapping(text: str, origin: str) -> Mapping:
    """Validate mapping text; errors name the file and the offending key."""
    try:
        data = yaml.load(text, Loader=yaml.BaseLoader)  # noqa: S506 - BaseLoader builds only str/list/dict
    except yaml.YAMLError as e:
        raise MappingError(f"mapping {origin}: not valid YAML: {e}") from e
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise MappingError(f"mapping {origin}: the top level must be a mapping of keys, not {type(data).__name__}")
    try:
        return Mapping.model_validate(data)
    except ValidationError as e:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in err['loc']) or '(top level)'}: {err['msg']}" for err in e.errors())
        raise MappingError(f"mapping {origin}: {problems}") from e


def load_mapping(path: Path) -> Mapping:
    """Read and validate one mapping file."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as e:
        raise MappingError(f"mapping {path}: cannot read it: {e}") from e
    return parse_mapping(text, str(path))


def choose_mapping(source: Path, mapping: Path | None) -> Path | None:
    """The mapping file to use: the one given, else ``source/mapping.yaml`` when present, else none."""
    if mapping is not None:
        if not mapping.is_file():
            raise MappingError(f"mapping {mapping}: no such file")
        return mapping
    auto = source / AUTO_MAPPING_NAME
    return auto if auto.is_file() else None


def _check_columns(table: str, tm: TableMapping) -> None:
    """The export columns, fixed values and derived columns of a table's mapping name its contract columns."""
    known = CONTRACT[table].column_names
    for export, target in tm.columns.items():
        if target not in known:
            raise ValueError(f"tables.{table}.columns.{export}: {target!r} is not a column of {table} "
                             f"({', '.join(known)})")
    targets = list(tm.columns.values())
    for target in set(targets):
        if targets.count(target) > 1:
            raise ValueError(f"tables.{table}.columns: several export columns map to {target!r}")
    for column in tm.values:
        if column not in known:
            raise ValueError(f"tables.{table}.values.{column}: not a column of {table}")
    for column in tm.derive:
        if column not in known:
            raise ValueError(f"tables.{table}.derive.{column}: not a column of {table} ({', '.join(known)})")
        if column in targets:
            raise ValueError(f"tables.{table}.derive.{column}: also mapped from an export column")


def _check_unknown_values(table: str, tm: TableMapping) -> None:
    """Each ``unknown_values`` entry names a coded column of the table and one of its codes."""
    known = CONTRACT[table].column_names
    for column, value in tm.unknown_values.items():
        if column not in known:
            raise ValueError(f"tables.{table}.unknown_values.{column}: not a column of {table}")
        allowed = CONTRACT[table].column(column).allowed
        if not allowed:
            raise ValueError(f"tables.{table}.unknown_values.{column}: the column has no list of codes")
        if value not in allowed:
            raise ValueError(f"tables.{table}.unknown_values.{column}: {value!r} is not one of "
                             f"{', '.join(allowed)}")
