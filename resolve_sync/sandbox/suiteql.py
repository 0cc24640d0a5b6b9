"""SuiteQL → SQLite: parse with sqlglot (Oracle dialect), check against the account's schema, translate.

What NetSuite refuses, this refuses with NetSuite's words (unknown table, unknown column, denied record,
unsupported search); what SuiteQL clients really send (BUILTIN.DF/CF, TO_CHAR, TO_DATE, TO_TIMESTAMP,
SYSDATE, ADD_MONTHS, NVL, ROWNUM, joins, EXISTS, GROUP BY, aggregates) is translated and run on SQLite.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from functools import lru_cache, partial
from typing import Any

import sqlglot
from sqlglot import exp
from sqlglot.errors import SqlglotError

from resolve_sync.sandbox.schema import INVOICE_STATUS_LABELS, Kind, Table
from resolve_sync.sandbox.sql_functions import STORED, SuiteQLFunctionError, strptime_to_stored

MAX_QUERY_LENGTH = 100_000

# Typed sqlglot expressions allowed as they are (their SQLite rendering means the same thing).
ALLOWED_FUNCTIONS: tuple[type[exp.Expression], ...] = (
    exp.Count,
    exp.Min,
    exp.Max,
    exp.Sum,
    exp.Avg,
    exp.Upper,
    exp.Lower,
    exp.Coalesce,
    exp.Substring,
    exp.Length,
    exp.Round,
    exp.Abs,
    exp.Cast,
    exp.Case,
    exp.If,
    exp.Trim,
    exp.Concat,
    exp.DPipe,
    exp.Nullif,
)
DATETIME_FUNCTIONS = {"NS_SYSDATE", "NS_ADD_MONTHS", "NS_STRPTIME", "NS_TRUNC", "NS_SYS_EXTRACT_UTC"}
NS_FUNCTIONS = {"NS_TO_CHAR", "NS_STRPTIME", "NS_ADD_MONTHS", "NS_SYS_EXTRACT_UTC", "NS_SYSDATE", "NS_TRUNC"}


class SuiteQLError(Exception):
    """A query NetSuite would answer with 400 INVALID_PARAMETER; `detail` is NetSuite's wording."""

    def __init__(self, detail: str) -> None:
        super().__init__(detail)
        self.detail = (
            "Invalid search query. Detailed unprocessed description follows. Search error occurred: " + detail
        )


def unsupported() -> SuiteQLError:
    return SuiteQLError("Invalid or unsupported search")


@dataclass
class CompiledQuery:
    sql: str
    count_sql: str
    kinds: dict[str, Kind | None] = field(default_factory=dict)  # output column -> kind (None: by value)
    star_tables: list[Table] = field(default_factory=list)


def compile_suiteql(query: str, tables: dict[str, Table], denied: set[str]) -> CompiledQuery:
    if not isinstance(query, str) or not query.strip() or len(query) > MAX_QUERY_LENGTH:
        raise unsupported()
    try:
        statements = sqlglot.parse(query, read="oracle")
    except (SqlglotError, RecursionError, ValueError, TypeError):
        raise unsupported() from None
    if len(statements) != 1 or not isinstance(statements[0], exp.Select | exp.Union):
        raise unsupported()
    statement = statements[0]
    aliases = _check_tables(statement, tables, denied)
    _check_columns(statement, tables, aliases)
    _check_account_subsidiary_filter(statement, aliases)
    try:
        statement = _apply_rownum(statement)
        statement = statement.transform(lambda node: _translate(node, tables, aliases))
        _check_functions(statement)
        kinds, star_tables = _output_kinds(statement, tables, aliases)
        sql = statement.sql(dialect="sqlite", identify=True)
        count_sql = _count_sql(statement, sql)
    except SuiteQLError:
        raise
    except (SqlglotError, RecursionError, ValueError, TypeError, AttributeError):
        raise unsupported() from None
    return CompiledQuery(sql=sql, count_sql=count_sql, kinds=kinds, star_tables=star_tables)


def _count_sql(statement: exp.Expression, sql: str) -> str:
    """COUNT(*) of the result. For a plain SELECT the columns and ORDER BY do not change the count, so
    they are dropped (computing TO_CHAR for every row just to count them would dominate a page's cost)."""
    plain = (
        isinstance(statement, exp.Select)
        and not statement.args.get("distinct")
        and not statement.args.get("group")
        and not statement.args.get("limit")
        and not any(
            isinstance(e, exp.AggFunc) for s in statement.expressions for e in s.find_all(exp.AggFunc)
        )
    )
    if not plain:
        return f"SELECT COUNT(*) FROM ({sql})"
    counted = statement.copy()
    counted.set("expressions", [exp.Literal.number(1)])
    counted.set("order", None)
    return f"SELECT COUNT(*) FROM ({counted.sql(dialect='sqlite', identify=True)})"


# -- checks ------------------------------------------------------------------------------------------------


def _check_tables(statement: exp.Expression, tables: dict[str, Table], denied: set[str]) -> dict[str, str]:
    """Every table must exist and be readable by the role; returns alias -> table for the whole query."""
    ctes = {cte.alias_or_name.lower() for cte in statement.find_all(exp.CTE)}
    aliases: dict[str, str] = {}
    for table in statement.find_all(exp.Table):
        name = table.name.lower()
        if not name or table.args.get("db") or table.args.get("catalog"):
            raise unsupported()
        if name in ctes:
            continue
        if name in denied:
            raise SuiteQLError(f"Record '{name}' was not found.")
        if name not in tables:
            raise SuiteQLError(f"Invalid search type: {name}.")
        aliases[(table.alias or name).lower()] = name
        aliases.setdefault(name, name)
    return aliases


def _available(aliases: dict[str, str]) -> str:
    return "{" + ", ".join(f"{alias}={table}" for alias, table in sorted(aliases.items())) + "}"


def _check_columns(statement: exp.Expression, tables: dict[str, Table], aliases: dict[str, str]) -> None:
    select_aliases = {a.alias.lower() for a in statement.find_all(exp.Alias)}
    select_aliases |= {cte.alias_or_name.lower() for cte in statement.find_all(exp.CTE)}
    subquery_aliases = {s.alias.lower() for s in statement.find_all(exp.Subquery) if s.alias}
    for column in statement.find_all(exp.Column):
        if _is_builtin_namespace(column):
            continue
        name = column.name.lower()
        qualifier = column.table.lower()
        if not qualifier and name == "rownum":
            continue
        if qualifier:
            if qualifier in subquery_aliases:
                continue
            table = aliases.get(qualifier)
            if table is None or name not in tables[table].columns:
                raise SuiteQLError(
                    f"Unknown identifier '{column.sql(dialect='oracle')}'. Available identifiers are: {_available(aliases)}."
                )
        elif not any(name in tables[t].columns for t in set(aliases.values())) and name not in select_aliases:
            raise SuiteQLError(
                f"Unknown identifier '{name}'. Available identifiers are: {_available(aliases)}."
            )


def _check_account_subsidiary_filter(statement: exp.Expression, aliases: dict[str, str]) -> None:
    # account.subsidiary is multi-valued in NetSuite; filtering on it fails there, so it fails here.
    for where in statement.find_all(exp.Where):
        for column in where.find_all(exp.Column):
            table = aliases.get(column.table.lower()) if column.table else None
            if column.name.lower() == "subsidiary" and (
                table == "account" or (table is None and set(aliases.values()) == {"account"})
            ):
                raise unsupported()


def _check_functions(statement: exp.Expression) -> None:
    for node in statement.find_all(exp.Func):
        if isinstance(node, exp.Connector | exp.Binary | exp.Unary | exp.Predicate):
            continue  # operators (AND, =, ||, NOT, IN, ...) are Func subclasses in sqlglot
        if isinstance(node, exp.Anonymous):
            if str(node.this).upper() not in NS_FUNCTIONS:
                raise unsupported()
        elif not isinstance(node, ALLOWED_FUNCTIONS):
            raise unsupported()


def _is_builtin_namespace(column: exp.Column) -> bool:
    return column.name.upper() == "BUILTIN" and not column.table


# -- translation -------------------------------------------------------------------------------------------


def _apply_rownum(statement: exp.Expression) -> exp.Expression:
    """`WHERE ROWNUM <= n` (alone or ANDed at the top of WHERE) becomes LIMIT n; any other use is refused."""
    rownums = [c for c in statement.find_all(exp.Column) if c.name.lower() == "rownum" and not c.table]
    if not rownums:
        return statement
    where = statement.args.get("where")
    if not isinstance(statement, exp.Select) or where is None:
        raise unsupported()
    conjuncts = list(where.this.flatten()) if isinstance(where.this, exp.And) else [where.this]
    limit: int | None = None
    kept = []
    for conjunct in conjuncts:
        if (
            isinstance(conjunct, exp.LTE | exp.LT)
            and isinstance(conjunct.this, exp.Column)
            and (conjunct.this.name.lower() == "rownum")
        ):
            if not isinstance(conjunct.expression, exp.Literal) or conjunct.expression.is_string:
                raise unsupported()
            bound = int(conjunct.expression.this) - (1 if isinstance(conjunct, exp.LT) else 0)
            limit = bound if limit is None else min(limit, bound)
        else:
            if any(c.name.lower() == "rownum" for c in conjunct.find_all(exp.Column)):
                raise unsupported()
            kept.append(conjunct)
    statement = statement.copy()
    if kept:
        statement.set("where", exp.Where(this=exp.and_(*kept)))
    else:
        statement.set("where", None)
    return statement.limit(max(limit or 0, 0))


def _resolve(column: exp.Column, tables: dict[str, Table], aliases: dict[str, str]) -> str | None:
    name = column.name.lower()
    if column.table:
        return aliases.get(column.table.lower())
    for table in dict.fromkeys(aliases.values()):
        if name in tables[table].columns:
            return table
    return None


def _translate(node: exp.Expression, tables: dict[str, Table], aliases: dict[str, str]) -> exp.Expression:
    """Rewrite one node; arguments of a rewritten node are translated here because sqlglot's transform
    does not descend into a replacement."""

    def sub(child: exp.Expression) -> exp.Expression:
        return child.transform(lambda n: _translate(n, tables, aliases))

    if isinstance(node, exp.Identifier):
        return exp.to_identifier(node.name.lower(), quoted=False)
    if (
        isinstance(node, exp.Dot)
        and isinstance(node.this, exp.Identifier | exp.Column)
        and (node.this.name.upper() == "BUILTIN")
    ):
        return _builtin(node, tables, aliases)
    if isinstance(node, exp.ToChar):
        args = [sub(node.this)] + ([node.args["format"]] if node.args.get("format") else [])
        return exp.Anonymous(this="NS_TO_CHAR", expressions=args)
    if isinstance(node, exp.StrToDate | exp.StrToTime):
        value, fmt = node.this, node.args["format"]
        if isinstance(value, exp.Literal) and value.is_string and isinstance(fmt, exp.Literal):
            # Folded here: SQLite would otherwise call the function once per row of the scan.
            try:
                return exp.Literal.string(strptime_to_stored(value.this, fmt.this) or "")
            except SuiteQLFunctionError:
                raise unsupported() from None
        return exp.Anonymous(this="NS_STRPTIME", expressions=[sub(value), fmt])
    if isinstance(node, exp.CurrentTimestamp | exp.CurrentDate):
        return exp.Anonymous(this="NS_SYSDATE", expressions=[])
    if isinstance(node, exp.AddMonths):
        return exp.Anonymous(this="NS_ADD_MONTHS", expressions=[sub(node.this), sub(node.expression)])
    if isinstance(node, exp.DateTrunc | exp.TimestampTrunc):
        return exp.Anonymous(this="NS_TRUNC", expressions=[sub(node.this)])
    if isinstance(node, exp.Anonymous):
        name = str(node.this).upper()
        if name == "SYS_EXTRACT_UTC":
            return exp.Anonymous(this="NS_SYS_EXTRACT_UTC", expressions=[sub(e) for e in node.expressions])
        if name == "TRUNC":
            return exp.Anonymous(this="NS_TRUNC", expressions=[sub(e) for e in node.expressions[:1]])
        if name == "TO_DATE" or name == "TO_TIMESTAMP":
            raise unsupported()
    if isinstance(node, exp.ToNumber):
        return exp.Cast(this=sub(node.this), to=exp.DataType.build("REAL"))
    return node


def _builtin(node: exp.Dot, tables: dict[str, Table], aliases: dict[str, str]) -> exp.Expression:
    call = node.expression
    if not isinstance(call, exp.Anonymous) or len(call.expressions) != 1:
        raise unsupported()
    function = str(call.this).upper()
    argument = call.expressions[0]
    if function not in ("DF", "CF") or not isinstance(argument, exp.Column):
        raise unsupported()
    table = _resolve(argument, tables, aliases)
    column = argument.name.lower()
    if table is None:
        raise unsupported()
    if table == "transaction" and column == "status":
        if function == "CF":
            return exp.DPipe(this=exp.Literal.string("CustInvc:"), expression=argument.copy())
        ifs = [
            exp.If(
                this=exp.EQ(this=argument.copy(), expression=exp.Literal.string(k)),
                true=exp.Literal.string(v),
            )
            for k, v in INVOICE_STATUS_LABELS.items()
        ]
        return exp.Case(ifs=ifs, default=argument.copy())
    if table == "transaction" and column == "type" and function == "DF":
        return exp.Case(
            ifs=[
                exp.If(
                    this=exp.EQ(this=argument.copy(), expression=exp.Literal.string("CustInvc")),
                    true=exp.Literal.string("Invoice"),
                )
            ],
            default=argument.copy(),
        )
    reference = tables[table].references.get(column)
    if function == "DF" and reference is not None:
        ref_table, ref_column = reference
        return exp.Subquery(
            this=exp.select(exp.column(ref_column, table="_df"))
            .from_(exp.to_table(ref_table).as_("_df"))
            .where(exp.EQ(this=exp.column("id", table="_df"), expression=argument.copy()))
        )
    return argument.copy()


def _output_kinds(
    statement: exp.Expression, tables: dict[str, Table], aliases: dict[str, str]
) -> tuple[dict[str, Kind | None], list[Table]]:
    """Name unnamed expressions exprN (as NetSuite does) and record each output column's kind."""
    select = statement if isinstance(statement, exp.Select) else statement.find(exp.Select)
    kinds: dict[str, Kind | None] = {}
    star_tables: list[Table] = []
    if select is None:
        return kinds, star_tables
    counter = 0
    named = []
    for expression in select.expressions:
        inner = expression.this if isinstance(expression, exp.Alias) else expression
        if isinstance(expression, exp.Star) or (isinstance(expression, exp.Column) and expression.is_star):
            qualifier = expression.table.lower() if isinstance(expression, exp.Column) else ""
            star_tables += [tables[t] for a, t in aliases.items() if not qualifier or a == qualifier]
            named.append(expression)
            continue
        if isinstance(expression, exp.Alias):
            name = expression.alias.lower()
        elif isinstance(expression, exp.Column):
            name = expression.name.lower()
        else:
            counter += 1
            name = f"expr{counter}"
            expression = exp.alias_(expression, name)
        named.append(expression)
        if isinstance(inner, exp.Column):
            table = _resolve(inner, tables, aliases)
            kinds[name] = tables[table].columns.get(inner.name.lower()) if table else None
        elif isinstance(inner, exp.Anonymous) and str(inner.this).upper() in DATETIME_FUNCTIONS:
            kinds[name] = "datetime"
        else:
            kinds[name] = None
    select.set("expressions", named)
    return kinds, star_tables


# -- rendering ---------------------------------------------------------------------------------------------


def _format_date(day: dt.date, date_format: str) -> str:
    out, i = [], 0
    while i < len(date_format):
        for token, value in (
            ("YYYY", f"{day.year:04d}"),
            ("MM", f"{day.month:02d}"),
            ("DD", f"{day.day:02d}"),
            ("M", str(day.month)),
            ("D", str(day.day)),
        ):
            if date_format.startswith(token, i):
                out.append(value)
                i += len(token)
                break
        else:
            out.append(date_format[i])
            i += 1
    return "".join(out)


def column_renderers(
    columns: list[str], kinds: dict[str, Kind | None], date_format: str
) -> list[tuple[str, Callable[[Any], str]]]:
    """Per output column, the function that gives a value its wire form, chosen once per page rather than
    per value: text and numbers take a type check and `str`, dates a cached formatting."""
    renderers: list[tuple[str, Callable[[Any], str]]] = []
    for name in columns:
        kind = kinds.get(name)
        if kind in ("date", "datetime"):
            renderers.append((name, partial(_render_dated, kind=kind, date_format=date_format)))
        else:
            renderers.append((name, _render_plain))
    return renderers


def _render_plain(value: Any) -> str:
    return render_value(value, None, "") if value.__class__ is float else str(value)


@lru_cache(maxsize=8192)
def _render_dated(value: Any, *, kind: Kind, date_format: str) -> str:
    return render_value(value, kind, date_format)


def render_value(value: Any, kind: Kind | None, date_format: str) -> str:
    """NetSuite's wire form: every value a string ([U] aggregates too), datetimes date-only."""
    if kind in ("date", "datetime") and isinstance(value, str):
        try:
            return _format_date(dt.datetime.strptime(value[:19], STORED).date(), date_format)
        except ValueError:
            return value
    if isinstance(value, float):
        if value.is_integer():
            return str(int(value))
        return format(Decimal(repr(value)).normalize(), "f")
    return str(value)
