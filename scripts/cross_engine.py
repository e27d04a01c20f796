#!/usr/bin/env python3
"""Runs Lakewatch's Athena-dialect (Trino) SQL on DuckDB over a local Parquet lake.

The cross-engine test (issue 20) checks every kind's Athena SQL on an engine other than the one
that produced the local result. This script is that other engine: it parses the Trino SQL with
sqlglot, rewrites on the AST what DuckDB lacks or means differently (Trino's IPADDRESS type and
its `contains`, `split_part`, `date_diff`, `regexp_extract`, output column names, ...), transpiles
the rest to DuckDB and runs it over the lake's Parquet files, with Glue's database and table names
as DuckDB schemas and views.

Usage:
    .venv/bin/python scripts/cross_engine.py --lake <lake dir>  < cases.json  > results.json
    .venv/bin/python scripts/cross_engine.py --self-test

stdin:  a JSON array of cases, `[{"name": str, "sql": str}, ...]`.
stdout: a JSON array in the same order, one object per case, either
        `{"name": str, "columns": [str, ...], "rows": [[value, ...], ...]}` or
        `{"name": str, "error": str}` (a failing case does not stop the others).
Values: integers as JSON integers, floating and decimal numbers as JSON numbers (NaN and the
infinities as the strings "NaN", "Infinity", "-Infinity"), strings, booleans, null; timestamps
with or without time zone as epoch milliseconds (integers; a timestamp without zone is read as
UTC, Athena's session zone); dates as "YYYY-MM-DD"; arrays as JSON arrays, structs and maps as
JSON objects; an IPADDRESS as Trino's text form of it.
The exit status is 0 when every case was answered (failed cases included), 2 on bad input.
"""

from __future__ import annotations

import argparse
import base64
import datetime as dt
import decimal
import functools
import ipaddress
import json
import math
import re
import sys
import uuid
from dataclasses import dataclass
from pathlib import Path

import duckdb
import sqlglot
from sqlglot import exp

# --------------------------------------------------------------------------------------------
# Trino's IPADDRESS semantics
#
# Trino stores an IPADDRESS as 16 bytes: an IPv6 address as is, an IPv4 address IPv4-mapped
# (::ffff:a.b.c.d). In DuckDB the same 16 bytes travel as a BLOB, so equality and ordering
# (unsigned byte order, as Trino's) carry over unchanged.
# --------------------------------------------------------------------------------------------

_V4_MAPPED_PREFIX = b"\x00" * 10 + b"\xff\xff"


class TrinoError(ValueError):
    """An error Trino would raise, with Trino's message (the query fails with it)."""


def _parse_inet(text: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address:
    """Parses an address as Guava's `InetAddresses.forString` (which Trino uses) does.

    Both accept dotted-quad IPv4 without leading zeros, and IPv6 in any RFC 4291 text form
    (compressed `::`, an embedded dotted quad, a `%scope` suffix); neither accepts whitespace,
    host names or prefix lengths. Raises ValueError otherwise.
    """
    if not isinstance(text, str) or text != text.strip() or "/" in text:
        raise ValueError(text)
    return ipaddress.ip_address(text)


def _address_bytes(addr: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bytes:
    """The address as Java's `InetAddress.getAddress()` gives it: 4 bytes for IPv4 and for an
    IPv4-mapped IPv6 address (Java turns ::ffff:a.b.c.d into an Inet4Address), else 16."""
    if isinstance(addr, ipaddress.IPv6Address) and addr.ipv4_mapped is not None:
        return addr.ipv4_mapped.packed
    return addr.packed


@functools.lru_cache(maxsize=65536)
def _cast_to_ipaddress(text: str) -> bytes:
    """Trino's `CAST(varchar AS IPADDRESS)`: the 16-byte value, or TrinoError."""
    try:
        raw = _address_bytes(_parse_inet(text))
    except ValueError:
        raise TrinoError(f"Cannot cast value to IPADDRESS: {text}") from None
    return _V4_MAPPED_PREFIX + raw if len(raw) == 4 else raw


def trino_cast_ipaddress(text: str) -> bytes:
    """`CAST(x AS IPADDRESS)`: a non-address fails the whole query, as in Trino."""
    return _cast_to_ipaddress(text)


def trino_try_cast_ipaddress(text: str) -> bytes | None:
    """`TRY_CAST(x AS IPADDRESS)`: NULL for text that is not an address ('', '-', names...)."""
    try:
        return _cast_to_ipaddress(text)
    except TrinoError:
        return None


def trino_ipaddress_to_varchar(value: bytes) -> str:
    """`CAST(ipaddress AS VARCHAR)`, also how a Trino client shows an IPADDRESS: dotted quad for
    an IPv4(-mapped) address, RFC 5952 text (lowercase, longest zero run compressed) otherwise."""
    if len(value) != 16:
        raise TrinoError("Invalid IP address binary length: %d" % len(value))
    if value.startswith(_V4_MAPPED_PREFIX):
        return str(ipaddress.IPv4Address(value[12:]))
    return str(ipaddress.IPv6Address(value))


def _java_parse_int(text: str) -> int:
    """Java's `Integer.parseInt`: an optional sign and ASCII digits, in int range."""
    if not re.fullmatch(r"[+-]?[0-9]+", text) or not -(2**31) <= int(text) < 2**31:
        # Trino lets the NumberFormatException through; its message is Java's.
        raise TrinoError(f'For input string: "{text}"')
    return int(text)


@functools.lru_cache(maxsize=4096)
def _cidr(network: str) -> tuple[bytes, int]:
    """The CIDR block of Trino's `contains(network, address)`: (base bytes, prefix length).

    Follows Trino's IpAddressFunctions.contains step by step, with its messages and in its order:
    no '/' -> "Invalid CIDR"; a base that is not an address -> "Invalid network IP address"; a
    prefix that is not an integer -> Java's NumberFormatException; a negative prefix -> "Invalid
    prefix length"; a prefix past the address -> "Prefix length exceeds address length"; an IPv4
    block with host bits set ('10.0.0.1/8') -> "Invalid CIDR" (Trino checks host bits for IPv4
    blocks only, so '2001:db8::1/32' is a valid block). An IPv4-mapped base is an IPv4 block.
    """
    separator = network.find("/")
    if separator == -1:
        raise TrinoError("Invalid CIDR")
    try:
        base = _address_bytes(_parse_inet(network[:separator]))
    except ValueError:
        raise TrinoError("Invalid network IP address") from None
    prefix = _java_parse_int(network[separator + 1 :])
    if prefix < 0:
        raise TrinoError("Invalid prefix length")
    bits = len(base) * 8
    if prefix > bits:
        raise TrinoError("Prefix length exceeds address length")
    if len(base) == 4:
        host_mask = 0xFFFFFFFF >> prefix
        if int.from_bytes(base, "big") & host_mask:
            raise TrinoError("Invalid CIDR")
    return base, prefix


def trino_ip_contains(network: str, address: bytes) -> bool:
    """Trino's `contains(varchar network, ipaddress address)`.

    The block is validated first (see `_cidr`). Then, as Trino did before release 427 (Athena
    engine v3 may run such a Trino), an address of the other family than the block's fails the
    query with "IP address version should be the same" (427 and later answer false instead). An
    IPv4 address is IPv4-mapped in an IPADDRESS, so it is IPv4 here, whichever text it came from.
    NULL arguments never reach this function: DuckDB answers NULL for them, as Trino does.
    """
    base, prefix = _cidr(network)
    raw = address[12:] if len(address) == 16 and address.startswith(_V4_MAPPED_PREFIX) else address
    if len(raw) not in (4, 16):
        raise TrinoError("Invalid IP address")
    if len(raw) != len(base):
        raise TrinoError("IP address version should be the same")
    if prefix == 0:
        return True
    shift = len(base) * 8 - prefix
    return int.from_bytes(base, "big") >> shift == int.from_bytes(raw, "big") >> shift


# The UDFs the rewritten SQL calls, with their DuckDB signatures.
_IP_UDFS = {
    "trino_cast_ipaddress": (trino_cast_ipaddress, ["VARCHAR"], "BLOB"),
    "trino_try_cast_ipaddress": (trino_try_cast_ipaddress, ["VARCHAR"], "BLOB"),
    "trino_ipaddress_to_varchar": (trino_ipaddress_to_varchar, ["BLOB"], "VARCHAR"),
    "trino_ip_contains": (trino_ip_contains, ["VARCHAR", "BLOB"], "BOOLEAN"),
}
# Functions whose result is a Trino IPADDRESS (see `_is_ipaddress`).
_IP_PRODUCERS = {"trino_cast_ipaddress", "trino_try_cast_ipaddress"}

# SQL macros for Trino functions whose DuckDB namesake answers differently.
_MACROS = [
    # Trino's split_part gives NULL past the last field (DuckDB's gives ''), and fails for an
    # index below 1.
    """CREATE OR REPLACE MACRO trino_split_part(s, delimiter, idx) AS
       CASE WHEN idx < 1 THEN error('Index must be greater than zero')
            ELSE string_split(s, delimiter)[idx] END""",
    # Trino's regexp_extract gives NULL when the pattern does not match (DuckDB's gives '').
    """CREATE OR REPLACE MACRO trino_regexp_extract(s, pattern, grp := 0) AS
       CASE WHEN regexp_matches(s, pattern) THEN regexp_extract(s, pattern, grp) END""",
]


def _null_in_null_out(fn):
    """`fn`, answering NULL (None) for any NULL argument without calling it."""

    @functools.wraps(fn)  # keeps fn's signature, from which DuckDB counts the parameters
    def wrapper(*args):
        if any(a is None for a in args):
            return None
        return fn(*args)

    return wrapper


def register_functions(con: duckdb.DuckDBPyConnection) -> None:
    """Registers the Trino-semantics UDFs and macros on a connection."""
    for name, (fn, params, ret) in _IP_UDFS.items():
        # 'special' NULL handling, because TRY_CAST returns NULL itself (DuckDB's default
        # handling rejects a NULL result); `_null_in_null_out` then gives NULL for a NULL
        # argument without calling the function, as Trino does for all of these. Exceptions
        # propagate, so a TrinoError fails the query, as in Trino.
        con.create_function(
            name, _null_in_null_out(fn), params, ret, type="native", null_handling="special"
        )
    for macro in _MACROS:
        con.execute(macro)


# --------------------------------------------------------------------------------------------
# The lake: Glue database/table names -> DuckDB schemas/views over read_parquet
# --------------------------------------------------------------------------------------------

_DATABASE_RE = re.compile(r"amazon_security_lake_glue_db_[a-z0-9_]+")
_TABLE_RE = re.compile(
    r"amazon_security_lake_table_(?P<region>[a-z0-9_]+?)_(?P<source>vpc_flow|sh_findings|cloud_trail_mgmt|route53|waf|s3_data|lambda_execution)"
    r"_(?P<major>[12])_0"
)
_SOURCE_DIRS = {
    "vpc_flow": "VPC_FLOW",
    "sh_findings": "SH_FINDINGS",
    "cloud_trail_mgmt": "CLOUD_TRAIL_MGMT",
    "route53": "ROUTE53",
    "waf": "WAF",
    "s3_data": "S3_DATA",
    "lambda_execution": "LAMBDA_EXECUTION",
}
# Athena's implicit catalog; `awsdatacatalog.db.table` names the same table as `db.table`.
_CATALOG = "awsdatacatalog"


class QueryError(Exception):
    """A case that cannot run, with the message to report."""


@dataclass(frozen=True)
class LakeTable:
    """A Security Lake Glue table and where its Parquet lives."""

    database: str
    table: str
    folder: Path
    version: int  # 1 or 2


def resolve_table(lake: Path, database: str, table: str) -> LakeTable:
    """The lake folder of a Glue table (src/lake/mod.rs: `aws/<SOURCE>/<1.0|2.0>`).

    Every region's table reads the whole folder, as the local engine does: a rollup region's
    table holds all contributing regions, told apart by the `region` partition.
    """
    full = f"{_CATALOG}.{database}.{table}"
    m = _TABLE_RE.fullmatch(table)
    if not _DATABASE_RE.fullmatch(database) or not m:
        raise QueryError(f"Table '{full}' does not exist")
    folder = lake / "aws" / _SOURCE_DIRS[m["source"]] / f"{m['major']}.0"
    if not folder.is_dir():
        raise QueryError(f"Table '{full}' does not exist: the lake has no folder {folder}")
    return LakeTable(database, table, folder, int(m["major"]))


def create_view(con: duckdb.DuckDBPyConnection, t: LakeTable) -> None:
    """Creates schema `database` and view `table` over the table's Parquet files.

    The view shows the table as Glue/Athena does: every column name lowercase, the partition
    columns `region`, `accountid` (folder key `accountId`) and, in v1 tables only, `eventday`
    (folder key `eventDay`; v2 tables are Iceberg tables partitioned by `time_dt`, whose Athena
    schema has no `eventday`), all VARCHAR: eventday stays the string '20240601' and accountid a
    string, never numbers.
    """
    glob = (t.folder / "region=*" / "accountId=*" / "eventDay=*" / "*.parquet").as_posix()
    source = (
        f"read_parquet({sql_string(glob)}, hive_partitioning = true, "
        "hive_types = {'region': 'VARCHAR', 'accountId': 'VARCHAR', 'eventDay': 'VARCHAR'})"
    )
    try:
        described = con.execute(f"DESCRIBE SELECT * FROM {source}").fetchall()
    except duckdb.Error as e:
        raise QueryError(
            f"Table '{_CATALOG}.{t.database}.{t.table}': cannot read {t.folder}: {e}"
        ) from None
    partitions = {"region": "region", "accountid": "accountId", "eventday": "eventDay"}
    if t.version != 1:
        del partitions["eventday"]
    data = [row[0] for row in described if row[0] not in ("region", "accountId", "eventDay")]
    columns = [f"{sql_ident(c)} AS {sql_ident(c.lower())}" for c in data]
    columns += [f"{sql_ident(src)} AS {sql_ident(name)}" for name, src in partitions.items()]
    con.execute(f"CREATE SCHEMA IF NOT EXISTS {sql_ident(t.database)}")
    con.execute(
        f"CREATE OR REPLACE VIEW {sql_ident(t.database)}.{sql_ident(t.table)} AS "
        f"SELECT {', '.join(columns)} FROM {source}"
    )


def sql_ident(name: str) -> str:
    """A double-quoted SQL identifier."""
    return '"' + name.replace('"', '""') + '"'


def sql_string(text: str) -> str:
    """A single-quoted SQL string literal."""
    return "'" + text.replace("'", "''") + "'"


# --------------------------------------------------------------------------------------------
# Trino SQL -> DuckDB SQL
# --------------------------------------------------------------------------------------------


def _is_ipaddress(node: exp.Expression) -> bool:
    """Whether an expression, rewritten or not, is of Trino type IPADDRESS.

    The lake has no IPADDRESS columns, so such a value comes from a cast to IPADDRESS, possibly
    through COALESCE, CASE, IF, NULLIF or parentheses.
    """
    if isinstance(node, exp.Cast):  # also TRY_CAST, before its rewrite
        return _is_ip_type(node.args.get("to"))
    if isinstance(node, exp.Anonymous):
        return node.name.lower() in _IP_PRODUCERS
    if isinstance(node, exp.Paren):
        return _is_ipaddress(node.this)
    if isinstance(node, (exp.Coalesce, exp.Nullif)):
        return _is_ipaddress(node.this)
    if isinstance(node, exp.If):
        return _is_ipaddress(node.args["true"])
    if isinstance(node, exp.Case):
        return any(_is_ipaddress(i.args["true"]) for i in node.args.get("ifs") or [])
    return False


def _is_ip_type(dtype: exp.DataType | None) -> bool:
    return isinstance(dtype, exp.DataType) and dtype.this == exp.DataType.Type.IPADDRESS


def _timestamp_precision(dtype: exp.DataType) -> int | None:
    """The p of TIMESTAMP(p) [WITH TIME ZONE], or None when not written."""
    params = dtype.expressions
    if params and isinstance(params[0], exp.DataTypeParam):
        try:
            return int(params[0].name)
        except ValueError:
            return None
    return None


def _call(name: str, *args: exp.Expression) -> exp.Anonymous:
    return exp.Anonymous(this=name, expressions=list(args))


def _rewrite_node(node: exp.Expression) -> exp.Expression:
    """One rewrite step of `_rewrite_tree` (the node's children are already rewritten)."""
    # CAST / TRY_CAST to IPADDRESS (also the typed literal IPADDRESS '...', which sqlglot reads as
    # a CAST): DuckDB has no such type (its inet extension is neither built in nor Trino's).
    # TryCast is a subclass of Cast, so it is tested first.
    if isinstance(node, exp.TryCast) and _is_ip_type(node.args.get("to")):
        return _call("trino_try_cast_ipaddress", node.this)
    if isinstance(node, exp.Cast) and _is_ip_type(node.args.get("to")):
        if _is_ipaddress(node.this):
            return node.this
        return _call("trino_cast_ipaddress", node.this)
    # CAST(ipaddress AS VARCHAR): Trino's text form, not the BLOB's bytes.
    if (
        isinstance(node, exp.Cast)
        and _is_ipaddress(node.this)
        and node.to.this in (exp.DataType.Type.VARCHAR, exp.DataType.Type.TEXT)
    ):
        return _call("trino_ipaddress_to_varchar", node.this)
    # Trino's `contains` is two functions: contains(array, element) and contains(varchar CIDR,
    # ipaddress). sqlglot reads both as ARRAY_CONTAINS, which DuckDB would run as array
    # membership, or, for a varchar first argument, as a substring test. The IP form is told by
    # its IPADDRESS argument.
    if isinstance(node, exp.ArrayContains):
        network, address = node.this, node.expression
        if _is_ipaddress(address):
            return _call("trino_ip_contains", network, address)
        if isinstance(network, exp.Literal) and network.is_string:
            raise QueryError(
                "Unexpected parameters (varchar, ...) for function contains: the second "
                "argument of contains(<CIDR>, <address>) must be an IPADDRESS"
            )
        return node
    # split_part: Trino gives NULL past the last field; see _MACROS.
    if isinstance(node, exp.SplitPart):
        return _call(
            "trino_split_part", node.this, node.args["delimiter"], node.args["part_index"]
        )
    # regexp_extract: Trino gives NULL when nothing matches; see _MACROS.
    if isinstance(node, exp.RegexpExtract):
        args = [node.this, node.expression]
        if node.args.get("group") is not None:
            args.append(node.args["group"])
        return _call("trino_regexp_extract", *args)
    # date_diff: Trino counts whole units elapsed (23:00 -> 01:00 next day is 0 days); DuckDB's
    # date_diff counts boundaries crossed (1), its date_sub counts whole units, as Trino.
    if isinstance(node, exp.DateDiff):
        unit = node.args.get("unit")
        unit_text = unit.name if unit is not None else "day"
        return _call(
            "date_sub", exp.Literal.string(unit_text.lower()), node.expression, node.this
        )
    # A timestamp literal, TIMESTAMP '2024-06-01 00:00:00.000', is CAST('...' AS TIMESTAMP(3))
    # to sqlglot, and DuckDB makes TIMESTAMP(3) its TIMESTAMP_MS, which in a comparison with a
    # microsecond column could truncate the column to milliseconds. Trino compares at the larger
    # precision. A literal of at most 6 fractional digits is exact in DuckDB's microsecond
    # TIMESTAMP, so it becomes one. (A CAST of a column keeps its precision: there Trino rounds.)
    if (
        isinstance(node, exp.Cast)
        and isinstance(node.this, exp.Literal)
        and node.this.is_string
        and node.to.this in (exp.DataType.Type.TIMESTAMP, exp.DataType.Type.TIMESTAMPTZ)
        and _timestamp_precision(node.to) is not None
        and _timestamp_precision(node.to) <= 6
    ):
        node.set("to", exp.DataType(this=node.to.this, nested=False))
        return node
    # awsdatacatalog.db.table names db.table (DuckDB would look for a database
    # 'awsdatacatalog').
    if isinstance(node, exp.Table) and node.args.get("catalog") is not None:
        if node.catalog.lower() == _CATALOG:
            node.set("catalog", None)
    return node


def _rewrite_tree(node: exp.Expression) -> exp.Expression:
    """Applies `_rewrite_node` bottom-up (children first) and returns the new root.

    sqlglot's own `transform` goes top-down and does not visit the children of a node it
    replaced, which would leave a CAST(x AS IPADDRESS) inside a rewritten contains() untouched.
    """
    for child in list(node.iter_expressions()):
        _rewrite_tree(child)
    new = _rewrite_node(node)
    if new is not node and node.parent is not None:
        node.replace(new)
    return new


def _name_outputs(select: exp.Select) -> None:
    """Names the outermost SELECT's columns as Trino does, and shows IPADDRESS values as text.

    Trino names an unaliased column or field reference by its (last) name and any other
    unaliased expression `_col<N>`, N its 0-based position; DuckDB would name it by its text.
    A star expands to an unknown number of columns, so positions after one are not known and
    those expressions keep DuckDB's name.
    """
    star_seen = False
    for i, item in enumerate(list(select.expressions)):
        if isinstance(item, exp.Star) or (isinstance(item, exp.Column) and item.is_star):
            star_seen = True
            continue
        if isinstance(item, exp.Alias):
            inner, name = item.this, item.alias
        else:
            # sqlglot's output_name also names a CAST or a literal by its text: Trino does not.
            named = isinstance(item, (exp.Column, exp.Dot)) and item.output_name
            inner, name = item, named or ("" if star_seen else f"_col{i}")
        if _is_ipaddress(inner):
            inner = _call("trino_ipaddress_to_varchar", inner.copy())
        elif isinstance(item, exp.Alias) or not name:
            continue
        item.replace(exp.alias_(inner.copy(), name, quoted=True) if name else inner)


def _outermost_selects(tree: exp.Expression) -> list[exp.Select]:
    """The SELECTs whose columns are the query's output (both sides of a UNION, etc.)."""
    if isinstance(tree, exp.Select):
        return [tree]
    if isinstance(tree, exp.SetOperation):
        return _outermost_selects(tree.this) + _outermost_selects(tree.expression)
    if isinstance(tree, exp.Subquery):
        return _outermost_selects(tree.this)
    return []


def referenced_tables(tree: exp.Expression) -> list[tuple[str, str]]:
    """The (database, table) pairs the query reads; CTE names and table functions excluded.

    An unqualified table that is not a CTE is an error: Athena would read it from the query's
    default database, which this runner is not told.
    """
    ctes = {cte.alias_or_name.lower() for cte in tree.find_all(exp.CTE)}
    found: list[tuple[str, str]] = []
    for table in tree.find_all(exp.Table):
        if not isinstance(table.this, exp.Identifier):
            continue  # a table function such as UNNEST(...) or read_parquet(...)
        name, db = table.name, table.db
        if not db:
            if name.lower() in ctes:
                continue
            raise QueryError(
                f"Table '{name}' is not qualified with a database (this runner has no default "
                "database; write \"<database>\".\"<table>\")"
            )
        pair = (db.lower(), name.lower())
        if pair not in found:
            found.append(pair)
    return found


def to_duckdb(sql: str) -> tuple[str, list[tuple[str, str]]]:
    """Transpiles one Trino statement to DuckDB SQL; also returns the tables it reads."""
    try:
        statements = [s for s in sqlglot.parse(sql, read="trino") if s is not None]
    except sqlglot.errors.ParseError as e:
        # sqlglot underlines the offending token with terminal escape codes: drop them.
        message = re.sub(r"\x1b\[[0-9;]*m", "", str(e))
        raise QueryError(f"cannot parse the Trino SQL: {message}") from None
    if len(statements) != 1:
        raise QueryError(f"expected one SQL statement, got {len(statements)}")
    tree = _rewrite_tree(statements[0])
    for select in _outermost_selects(tree):
        _name_outputs(select)
    tables = referenced_tables(tree)
    try:
        text = tree.sql(dialect="duckdb", unsupported_level=sqlglot.ErrorLevel.RAISE)
    except sqlglot.errors.UnsupportedError as e:
        raise QueryError(f"no DuckDB equivalent: {e}") from None
    return text, tables


# --------------------------------------------------------------------------------------------
# Running cases and encoding results
# --------------------------------------------------------------------------------------------

_EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.timezone.utc)


def to_json_value(value):
    """A DuckDB result value as the JSON value the interface promises (see the module doc)."""
    if value is None or isinstance(value, (bool, str)):
        return value
    if isinstance(value, int):
        return value
    if isinstance(value, float):
        if math.isnan(value):
            return "NaN"
        if math.isinf(value):
            return "Infinity" if value > 0 else "-Infinity"
        return value
    if isinstance(value, decimal.Decimal):
        return to_json_value(float(value))
    if isinstance(value, dt.datetime):
        # A timestamp without zone is a UTC wall clock (Athena's session zone is UTC).
        aware = value if value.tzinfo is not None else value.replace(tzinfo=dt.timezone.utc)
        return (aware - _EPOCH) // dt.timedelta(milliseconds=1)
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, dt.time):
        return value.isoformat()
    if isinstance(value, dt.timedelta):
        return value // dt.timedelta(milliseconds=1)
    if isinstance(value, (bytes, bytearray, memoryview)):
        return base64.b64encode(bytes(value)).decode("ascii")
    if isinstance(value, uuid.UUID):
        return str(value)
    if isinstance(value, dict):
        return {str(k): to_json_value(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [to_json_value(v) for v in value]
    return str(value)


class Runner:
    """One DuckDB connection over a lake; views are created as cases first name their tables."""

    def __init__(self, lake: Path):
        self.lake = lake
        self.con = new_connection()
        self.views: set[tuple[str, str]] = set()

    def ensure_tables(self, tables: list[tuple[str, str]]) -> None:
        """Creates the views of the tables a query reads, or fails naming the missing one."""
        for database, table in tables:
            if (database, table) in self.views:
                continue
            create_view(self.con, resolve_table(self.lake, database, table))
            self.views.add((database, table))

    def run(self, case: dict) -> dict:
        """Runs one case; the answer is columns and rows, or an error message."""
        name = case.get("name")
        try:
            sql = case.get("sql")
            if not isinstance(sql, str):
                raise QueryError("the case has no \"sql\" string")
            text, tables = to_duckdb(sql)
            self.ensure_tables(tables)
            cursor = self.con.execute(text)
            columns = [d[0] for d in cursor.description]
            rows = [[to_json_value(v) for v in row] for row in cursor.fetchall()]
            return {"name": name, "columns": columns, "rows": rows}
        except QueryError as e:
            return {"name": name, "error": str(e)}
        except duckdb.Error as e:
            return {"name": name, "error": _duckdb_message(e)}


def _duckdb_message(e: duckdb.Error) -> str:
    """DuckDB's error text; a Trino error raised in a UDF keeps Trino's message up front."""
    text = str(e)
    m = re.search(r"TrinoError: (.*)", text)
    if m:
        return f"{m.group(1).strip()} ({text.splitlines()[0]})"
    return text


def new_connection() -> duckdb.DuckDBPyConnection:
    """An in-memory DuckDB connection with Trino's session semantics where settings exist."""
    con = duckdb.connect(":memory:")
    # parquet, json and icu are linked into the wheel: nothing is ever downloaded.
    con.execute("SET autoinstall_known_extensions = false")
    con.execute("SET autoload_known_extensions = false")
    # Athena's session time zone: timestamps with zone, from_unixtime, ... in UTC.
    con.execute("SET TimeZone = 'UTC'")
    # Trino's `/` on two integers is integer division truncating toward zero (7 / 2 = 3,
    # -7 / 2 = -3), which is what this setting makes DuckDB's `/` do; on decimals and doubles
    # it still divides exactly. Division by zero fails in both.
    con.execute("SET integer_division = true")
    # Trino sorts NULLs last, ascending and descending alike.
    con.execute("SET default_null_order = 'nulls_last'")
    register_functions(con)
    return con


# --------------------------------------------------------------------------------------------
# Self-test
# --------------------------------------------------------------------------------------------


def self_test() -> bool:
    """Asserts the Trino semantics of the UDFs and rewrites; prints failures; True if all pass."""
    failures: list[str] = []

    def check(label: str, got, want) -> None:
        if got != want:
            failures.append(f"{label}: got {got!r}, want {want!r}")

    def raises(label: str, fn, message: str) -> None:
        try:
            got = fn()
        except TrinoError as e:
            if message not in str(e):
                failures.append(f"{label}: raised {e!r}, want {message!r}")
            return
        failures.append(f"{label}: returned {got!r}, want error {message!r}")

    ip = trino_cast_ipaddress
    # CAST / TRY_CAST
    check("IPv4 is IPv4-mapped", ip("10.1.2.3"), bytes(10) + b"\xff\xff" + bytes([10, 1, 2, 3]))
    check("::ffff:a.b.c.d is the same IPADDRESS", ip("::ffff:10.1.2.3"), ip("10.1.2.3"))
    check("compressed IPv6", ip("2001:db8::1"), ip("2001:0db8:0000:0000:0000:0000:0000:0001"))
    check("uppercase IPv6", ip("2001:DB8::FF00:ABCD:12EF"), ip("2001:db8::ff00:abcd:12ef"))
    check("::", ip("::"), bytes(16))
    check("::1", ip("::1"), bytes(15) + b"\x01")
    check("embedded dotted quad", ip("64:ff9b::10.0.0.0"), ip("64:ff9b::a00:0"))
    for bad in ["-", "", "localhost", "10.0.0.256", "010.0.0.1", "1.2.3", " 10.0.0.1",
                "2001:db8::1::1", "10.0.0.0/8", "1:2:3:4:5:6:7:8:9"]:
        raises(f"CAST({bad!r} AS IPADDRESS)", lambda b=bad: ip(b),
               f"Cannot cast value to IPADDRESS: {bad}")
        check(f"TRY_CAST({bad!r} AS IPADDRESS)", trino_try_cast_ipaddress(bad), None)
    check("text of IPv4", trino_ipaddress_to_varchar(ip("10.0.0.1")), "10.0.0.1")
    check("text of IPv6", trino_ipaddress_to_varchar(ip("2001:0DB8:0:0:1::1")), "2001:db8::1:0:0:1")

    # contains
    c = trino_ip_contains
    check("10.0.0.0/8 has 10.255.255.255", c("10.0.0.0/8", ip("10.255.255.255")), True)
    check("10.0.0.0/8 lacks 11.0.0.0", c("10.0.0.0/8", ip("11.0.0.0")), False)
    check("10.0.1.0/24 has 10.0.1.18", c("10.0.1.0/24", ip("10.0.1.18")), True)
    check("0.0.0.0/0 has everything IPv4", c("0.0.0.0/0", ip("255.255.255.255")), True)
    check("0.0.0.0/0 has a mapped address", c("0.0.0.0/0", ip("::ffff:ffff:ffff")), True)
    check("/32", c("10.0.0.1/32", ip("10.0.0.1")), True)
    check("::/0 has IPv6", c("::/0", ip("2001:db8::1")), True)
    check("2001:db8::/32", c("2001:db8::/32", ip("2001:db8:ffff::1")), True)
    check("2001:db8::/32 lacks 2001:db9::", c("2001:db8::/32", ip("2001:db9::")), False)
    check("fe80::/10", c("fe80::/10", ip("febf::1")), True)
    check("fc00::/7", c("fc00::/7", ip("fdff::1")), True)
    check("IPv6 block with host bits is valid", c("2001:db8::1/32", ip("2001:db8::2")), True)
    check("mapped block is IPv4", c("::ffff:10.0.0.0/8", ip("10.9.9.9")), True)
    raises("host bits", lambda: c("10.0.0.1/8", ip("10.0.0.1")), "Invalid CIDR")
    raises("host bits /1", lambda: c("129.0.0.0/1", ip("0.0.0.0")), "Invalid CIDR")
    raises("no slash", lambda: c("10.0.0.0", ip("10.0.0.0")), "Invalid CIDR")
    raises("bad base", lambda: c("x.x.x.x/1", ip("0.0.0.0")), "Invalid network IP address")
    raises("negative prefix", lambda: c("0.0.0.0/-1", ip("0.0.0.0")), "Invalid prefix length")
    raises("long prefix", lambda: c("10.0.0.0/33", ip("10.0.0.0")),
           "Prefix length exceeds address length")
    raises("long IPv6 prefix", lambda: c("::/129", ip("::")),
           "Prefix length exceeds address length")
    raises("mapped block past 32", lambda: c("::ffff:10.0.0.0/104", ip("10.0.0.0")),
           "Prefix length exceeds address length")
    raises("IPv6 block, IPv4 address", lambda: c("64:ff9b::10.0.0.0/64", ip("0.0.0.0")),
           "IP address version should be the same")
    raises("IPv4 block, IPv6 address", lambda: c("0.0.0.0/0", ip("64:ff9b::10.0.0.0")),
           "IP address version should be the same")
    raises("::/0 and IPv4", lambda: c("::/0", ip("10.0.0.1")),
           "IP address version should be the same")

    # Through DuckDB: rewrites, NULLs, errors failing the query.
    con = new_connection()

    def run(sql: str):
        text, _ = to_duckdb(sql)
        return con.execute(text).fetchall()

    def run_fails(label: str, sql: str, message: str) -> None:
        try:
            got = run(sql)
        except (duckdb.Error, QueryError) as e:
            if message not in str(e):
                failures.append(f"{label}: failed with {e!r}, want {message!r}")
            return
        failures.append(f"{label}: returned {got!r}, want error {message!r}")

    check("TRY_CAST of '-', '', NULL", run(
        "SELECT TRY_CAST('-' AS IPADDRESS) IS NULL, TRY_CAST('' AS IPADDRESS) IS NULL, "
        "TRY_CAST(NULL AS IPADDRESS) IS NULL"), [(True, True, True)])
    check("contains with NULL address", run(
        "SELECT contains('10.0.0.0/8', TRY_CAST('-' AS IPADDRESS)), "
        "contains('10.0.0.1/8', TRY_CAST(NULL AS IPADDRESS)), "
        "contains(NULL, IPADDRESS '10.0.0.1')"), [(None, None, None)])
    check("contains in SQL", run(
        "SELECT contains('10.0.0.0/8', CAST('10.2.3.4' AS IPADDRESS)), "
        "contains('10.0.0.0/8', IPADDRESS '192.168.0.1'), "
        "contains('2001:db8::/32', TRY_CAST('2001:db8::5' AS IPADDRESS))"),
        [(True, False, True)])
    check("array contains stays array contains", run(
        "SELECT contains(ARRAY[1, 2], 2), contains(ARRAY['a'], 'b')"), [(True, False)])
    run_fails("CAST fails the query", "SELECT CAST('-' AS IPADDRESS)",
              "Cannot cast value to IPADDRESS: -")
    run_fails("host bits fail the query",
              "SELECT contains('10.0.0.1/8', IPADDRESS '10.0.0.1')", "Invalid CIDR")
    run_fails("mixed family fails the query",
              "SELECT contains('::/0', IPADDRESS '10.0.0.1')",
              "IP address version should be the same")
    check("IPADDRESS output as text", run(
        "SELECT CAST('2001:DB8::1' AS IPADDRESS), CAST(IPADDRESS '10.0.0.1' AS VARCHAR)"),
        [("2001:db8::1", "10.0.0.1")])
    check("integer division", run(
        "SELECT 7 / 2, -7 / 2, 1717200123456 / 300000 * 300000, 7.0 / 2, 7e0 / 2"),
        [(3, -3, 1717200000000, 3.5, 3.5)])
    check("split_part past the end", run(
        "SELECT split_part('a b', ' ', 2), split_part('a b', ' ', 3), split_part('ab', ' ', 1)"),
        [("b", None, "ab")])
    check("element_at", run(
        "SELECT element_at(ARRAY[1, 2, 3], -1), element_at(ARRAY[1], 5), "
        "element_at(MAP(ARRAY['k'], ARRAY['v']), 'k'), element_at(MAP(ARRAY['k'], ARRAY['v']), 'x'), "
        "element_at(split('a/b/c', '/'), -1), cardinality(ARRAY[1, 2])"),
        [(3, None, "v", None, "c", 2)])
    check("regexp", run(
        "SELECT regexp_like('abc', 'b'), regexp_extract('abc', 'x'), regexp_extract('abc', 'b(c)', 1), "
        "strpos('a:b', ':'), strpos('ab', ':')"), [(True, None, "c", 2, 0)])
    check("times", run(
        "SELECT to_unixtime(from_unixtime(1717200000.5)), "
        "to_unixtime(date_trunc('hour', TIMESTAMP '2024-06-01 10:11:12.345')), "
        "to_unixtime(date_add('day', 1, TIMESTAMP '2024-06-01 00:00:00')), "
        "date_diff('day', TIMESTAMP '2024-06-01 23:00:00', TIMESTAMP '2024-06-02 01:00:00'), "
        "date_diff('hour', TIMESTAMP '2024-06-01 23:00:00', TIMESTAMP '2024-06-02 01:00:00')"),
        [(1717200000.5, 1717236000.0, 1717286400.0, 0, 2)])
    check("timestamp(3) literal against microseconds", run(
        "SELECT CAST('2024-06-01 23:59:59.999500' AS TIMESTAMP(6)) "
        "BETWEEN TIMESTAMP '2024-06-01 00:00:00.000' AND TIMESTAMP '2024-06-01 23:59:59.999'"),
        [(False,)])
    check("output names", to_duckdb(
        'SELECT "a"."b", x, x + 1, y AS "Z" FROM "d"."t"')[0],
        'SELECT "a"."b" AS "b", x AS "x", x + 1 AS "_col2", y AS "Z" FROM "d"."t"')
    check("COUNT(DISTINCT)", run(
        "SELECT COUNT(DISTINCT x), approx_distinct(x) FROM (VALUES (1), (1), (2), (NULL)) AS t(x)"),
        [(2, 2)])
    check("NULLs sort last", run(
        "SELECT x FROM (VALUES (1), (NULL), (2)) AS t(x) ORDER BY x DESC"),
        [(2,), (1,), (None,)])
    check("JSON values", [to_json_value(v) for v in (
        dt.datetime(2024, 6, 1, 0, 0, 0, 123456), dt.date(2024, 6, 1), decimal.Decimal("1.5"),
        float("nan"), [1, {"a": None}])], [1717200000123, "2024-06-01", 1.5, "NaN", [1, {"a": None}]])

    for f in failures:
        print("FAIL", f, file=sys.stderr)
    print(f"self-test: {'FAILED' if failures else 'ok'} ({len(failures)} failures)",
          file=sys.stderr)
    return not failures


# --------------------------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--lake", type=Path, help="the lake folder (the one that holds aws/)")
    parser.add_argument("--self-test", action="store_true", help="check the Trino semantics")
    parser.add_argument("--show-sql", action="store_true",
                        help="add the DuckDB SQL of each case to its answer (as \"duckdb_sql\")")
    args = parser.parse_args(argv)
    if args.self_test:
        return 0 if self_test() else 1
    if args.lake is None:
        parser.error("--lake is required (or --self-test)")
    try:
        cases = json.load(sys.stdin)
    except json.JSONDecodeError as e:
        print(f"cross_engine: stdin is not JSON: {e}", file=sys.stderr)
        return 2
    if not isinstance(cases, list) or not all(isinstance(c, dict) for c in cases):
        print('cross_engine: stdin must be a JSON array of {"name", "sql"} objects',
              file=sys.stderr)
        return 2
    runner = Runner(args.lake)
    answers = []
    for case in cases:
        answer = runner.run(case)
        if args.show_sql:
            try:
                answer["duckdb_sql"] = to_duckdb(case.get("sql") or "")[0]
            except QueryError:
                pass
        answers.append(answer)
    json.dump(answers, sys.stdout)
    sys.stdout.write("\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
