#!/usr/bin/env python3
"""Times Lakewatch's local-dialect (DataFusion) SQL on DuckDB over the same local Parquet lake.

The lake-size bench (benches/lake_size.rs) runs each panel's SQL on Lakewatch's local engine and
hands the same SQL to this script, so both engines read the same files in the same run. The SQL
is translated on its syntax tree, as scripts/cross_engine.py does for the Athena dialect, with
the lake's tables as views over `read_parquet` with hive partitioning (the `region`, `accountid`
and `eventday` folder keys as VARCHAR columns, the local engine's view of a table). DuckDB runs
with its defaults (threads = cores, no cache of Parquet footers between queries).

Usage:
    .venv/bin/python scripts/duckdb_bench.py --lake <lake dir> [--rounds N] < cases.json
    .venv/bin/python scripts/duckdb_bench.py --self-test

stdin:  a JSON array of cases, `[{"name": str, "sql": str}, ...]`.
stdout: one JSON object: `{"startup_ms": float, "cases": [...]}`, where startup_ms is the time
        from the interpreter's start until DuckDB is ready (imports and connection), and each
        case is `{"name": str, "first_ms": float, "median_ms": float, "rows": int}` (first_ms
        includes creating the view of a table the first time a case reads it; median_ms is the
        median of the later rounds, first_ms when there is one round) or `{"name": str,
        "error": str}`; and "round_ms", each round's total over the cases answered. Rounds run
        case after case: every case once, then every case again.
The exit status is 0 when every case was answered (failed cases included), 2 on bad input.
"""

from __future__ import annotations

import time

_STARTED = time.perf_counter()

import argparse  # noqa: E402  (imports are part of the startup being timed)
import ipaddress  # noqa: E402
import json  # noqa: E402
import statistics  # noqa: E402
import sys  # noqa: E402
from pathlib import Path  # noqa: E402

import duckdb  # noqa: E402
import sqlglot  # noqa: E402
from sqlglot import exp  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent))
from cross_engine import (  # noqa: E402
    QueryError,
    new_connection,
    referenced_tables,
    resolve_table,
    sql_ident,
    sql_string,
)

# --------------------------------------------------------------------------------------------
# Local dialect -> DuckDB
# --------------------------------------------------------------------------------------------

# An IPv4 address as a number; NULL for text that is not a dotted quad (as cidr_contains, which
# answers false for such text). The pattern admits no leading zeros, as Rust's parser.
_MACROS = [
    r"""CREATE OR REPLACE MACRO lw_ipv4(ip) AS
       CASE WHEN regexp_full_match(ip,
                '((25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])\.){3}'
                '(25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])')
            THEN (split_part(ip, '.', 1)::UBIGINT << 24) + (split_part(ip, '.', 2)::UBIGINT << 16)
               + (split_part(ip, '.', 3)::UBIGINT << 8) + split_part(ip, '.', 4)::UBIGINT
       END""",
    # The first 16 bits of an IPv6 address in text form; NULL for text that is not one (an
    # approximation: hex digits, colons and dots with at least two colons).
    r"""CREATE OR REPLACE MACRO lw_ipv6_head(ip) AS
       CASE WHEN regexp_full_match(ip, '[0-9A-Fa-f:.]*:[0-9A-Fa-f:.]*:[0-9A-Fa-f:.]*')
            THEN CASE WHEN starts_with(ip, '::') THEN 0
                      ELSE ('0x' || split_part(ip, ':', 1))::UBIGINT END
       END""",
]


def _cidr_test(block: str, ip: exp.Expression) -> exp.Expression:
    """`cidr_contains('<block>', ip)` as a DuckDB expression: false for NULL or non-addresses."""
    net = ipaddress.ip_network(block, strict=False)
    shift = net.max_prefixlen - net.prefixlen
    if net.version == 4:
        value = exp.func("lw_ipv4", ip)
        base = int(net.network_address) >> shift
    else:
        if net.prefixlen > 16:
            raise QueryError(f"cidr_contains: IPv6 blocks longer than /16 are not translated: {block}")
        value = exp.func("lw_ipv6_head", ip)
        shift -= 112
        base = int(net.network_address) >> 112 >> shift
    test = exp.EQ(
        this=exp.BitwiseRightShift(this=value, expression=exp.Literal.number(shift)),
        expression=exp.Literal.number(base),
    )
    return exp.func("coalesce", exp.paren(test), exp.false())


def _rewrite(node: exp.Expression) -> exp.Expression:
    """DataFusion's `get_field(s, 'k')` (struct field or map value) and Lakewatch's `cidr_contains` in DuckDB terms."""
    if not isinstance(node, exp.Anonymous):
        return node
    name = node.name.lower()
    if name == "get_field" and len(node.expressions) == 2:
        struct, key = node.expressions
        # `x['k']` reads a struct's field and a map's value alike, as get_field does.
        return exp.Bracket(this=struct, expressions=[key])
    if name == "cidr_contains" and len(node.expressions) == 2:
        block, ip = node.expressions
        if not isinstance(block, exp.Literal) or not block.is_string:
            raise QueryError("cidr_contains: only a literal block is translated")
        return _cidr_test(block.this, ip)
    return node


def to_duckdb(sql: str) -> tuple[str, list[tuple[str, str]]]:
    """The local-dialect statement as DuckDB SQL, and the tables it reads.

    DataFusion follows PostgreSQL where the two differ from DuckDB (NULL order, integer `/`
    with the connection's integer_division), so sqlglot reads it as PostgreSQL.
    """
    try:
        tree = sqlglot.parse_one(sql, read="postgres")
    except sqlglot.errors.ParseError as e:
        raise QueryError(f"cannot parse the local SQL: {e}") from None
    # Innermost calls first (breadth-first order reversed): nested get_field calls.
    for node in reversed(list(tree.find_all(exp.Anonymous))):
        node.replace(_rewrite(node))
    return tree.sql(dialect="duckdb"), referenced_tables(tree)


def create_view(con: duckdb.DuckDBPyConnection, database: str, table: str, lake: Path) -> None:
    """Schema `database` and view `table` over the table's files, with the three folder keys as
    the local engine shows them (lowercase names, VARCHAR values)."""
    folder = resolve_table(lake, database, table).folder
    glob = (folder / "region=*" / "accountId=*" / "eventDay=*" / "*.parquet").as_posix()
    source = (
        f"read_parquet({sql_string(glob)}, hive_partitioning = true, union_by_name = false, "
        "hive_types = {'region': 'VARCHAR', 'accountId': 'VARCHAR', 'eventDay': 'VARCHAR'})"
    )
    keys = {"region": "region", "accountId": "accountid", "eventDay": "eventday"}
    described = con.execute(f"DESCRIBE SELECT * FROM {source}").fetchall()
    columns = [
        f"{sql_ident(name)} AS {sql_ident(keys.get(name, name.lower()))}" for name, *_ in described
    ]
    con.execute(f"CREATE SCHEMA IF NOT EXISTS {sql_ident(database)}")
    con.execute(
        f"CREATE OR REPLACE VIEW {sql_ident(database)}.{sql_ident(table)} AS "
        f"SELECT {', '.join(columns)} FROM {source}"
    )


# --------------------------------------------------------------------------------------------
# Timing
# --------------------------------------------------------------------------------------------


class Bench:
    """One DuckDB connection over a lake; a table's view is made when a case first reads it."""

    def __init__(self, lake: Path):
        self.lake = lake
        self.con = new_connection()
        for macro in _MACROS:
            self.con.execute(macro)
        self.views: set[tuple[str, str]] = set()

    def run_once(self, sql: str, tables: list[tuple[str, str]]) -> tuple[float, int]:
        """Milliseconds to make missing views and run `sql` to its last row; the row count."""
        started = time.perf_counter()
        for database, table in tables:
            if (database, table) not in self.views:
                create_view(self.con, database, table, self.lake)
                self.views.add((database, table))
        rows = len(self.con.execute(sql).fetchall())
        return (time.perf_counter() - started) * 1000.0, rows


def run_cases(bench: Bench, cases: list[dict], rounds: int) -> tuple[list[dict], list[float]]:
    """Every case `rounds` times, round after round; failures reported per case. Also each
    round's total time."""
    prepared: list[tuple[str, list[tuple[str, str]]] | None] = []
    results: list[dict] = []
    for case in cases:
        try:
            prepared.append(to_duckdb(case["sql"]))
            results.append({"name": case.get("name"), "times": []})
        except QueryError as e:
            prepared.append(None)
            results.append({"name": case.get("name"), "error": str(e)})
    totals: list[float] = []
    for _ in range(rounds):
        totals.append(0.0)
        for todo, result in zip(prepared, results):
            if todo is None or "error" in result:
                continue
            try:
                ms, rows = bench.run_once(*todo)
            except (duckdb.Error, QueryError) as e:
                result.pop("times", None)
                result["error"] = str(e).splitlines()[0]
                continue
            result["times"].append(ms)
            result["rows"] = rows
            totals[-1] += ms
    for result in results:
        times = result.pop("times", None)
        if times:
            result["first_ms"] = times[0]
            result["median_ms"] = statistics.median(times[1:] or times)
    return results, totals


# --------------------------------------------------------------------------------------------
# Self-test
# --------------------------------------------------------------------------------------------


def self_test() -> bool:
    """The translation's cidr tests and get_field agree with the local engine's semantics."""
    con = new_connection()
    for macro in _MACROS:
        con.execute(macro)
    cases = [
        ("10.0.0.0/8", "10.1.2.3", True),
        ("10.0.0.0/8", "11.1.2.3", False),
        ("0.0.0.0/0", "52.216.8.21", True),
        ("0.0.0.0/0", "fd00:1::a", False),
        ("0.0.0.0/0", "-", False),
        ("0.0.0.0/0", None, False),
        ("::/0", "fd00:1::a", True),
        ("::/0", "10.0.0.1", False),
        ("fc00::/7", "fd00:1::a", True),
        ("fc00::/7", "2600:1f18:4a3:6902::15", False),
        ("fe80::/10", "fe80::1", True),
        ("172.16.0.0/12", "172.31.255.255", True),
        ("172.16.0.0/12", "172.32.0.0", False),
    ]
    ok = True
    for block, ip, want in cases:
        literal = "NULL::VARCHAR" if ip is None else sql_string(ip)
        sql, _ = to_duckdb(f"SELECT cidr_contains('{block}', {literal})")
        got = con.execute(sql).fetchone()[0]
        if got is not want:
            print(f"cidr_contains({block}, {ip}): got {got}, want {want}", file=sys.stderr)
            ok = False
    sql, _ = to_duckdb(
        "SELECT get_field(get_field(s, 'a'), 'b'), get_field(m, 'k') "
        "FROM (SELECT {'a': {'b': 7}} AS s, map(['k'], ['v']) AS m)"
    )
    if con.execute(sql).fetchone() != (7, "v"):
        print(f"get_field: {sql}", file=sys.stderr)
        ok = False
    sql, _ = to_duckdb("SELECT (7 / 2) * 2 AS x")
    if con.execute(sql).fetchone()[0] != 6:
        print(f"integer division: {sql}", file=sys.stderr)
        ok = False
    print("self-test passed" if ok else "self-test FAILED", file=sys.stderr)
    return ok


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lake", type=Path, help="lake root (the folder holding aws/)")
    parser.add_argument("--rounds", type=int, default=1, help="times to run every case")
    parser.add_argument("--self-test", action="store_true", help="check the translation")
    args = parser.parse_args(argv)
    if args.self_test:
        return 0 if self_test() else 1
    if args.lake is None or args.rounds < 1:
        parser.error("--lake and a positive --rounds are needed")
    try:
        cases = json.load(sys.stdin)
        if not isinstance(cases, list) or not all(
            isinstance(c, dict) and isinstance(c.get("sql"), str) for c in cases
        ):
            raise ValueError("expected a JSON array of {name, sql} objects")
    except ValueError as e:
        print(f"bad input: {e}", file=sys.stderr)
        return 2
    bench = Bench(args.lake)
    startup_ms = (time.perf_counter() - _STARTED) * 1000.0
    results, totals = run_cases(bench, cases, args.rounds)
    json.dump({"startup_ms": startup_ms, "cases": results, "round_ms": totals}, sys.stdout)
    sys.stdout.write("\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
