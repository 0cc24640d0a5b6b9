"""SuiteQL → SQLite: parse with sqlglot (Oracle dialect), check against the account's schema, translate.

What NetSuite refuses, this refuses with NetSuite's words (unknown table, unknown column, denied record,
unsupported search); what SuiteQL clients really send (BUILTIN.DF/CF, TO_CHAR, TO_DATE, TO_TIMESTAMP,
SYSDATE, ADD_MONTHS, NVL, ROWNUM, joins, EXISTS, GROUP BY, aggregates) is translated and run on SQLite.
"""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from functools import lru_cache, partial
from typing import Any

import sqlglot
from sqlglot import exp
from sqlglot.dialects.oracle import Oracle
from sqlglot.errors import SqlglotError
from sqlglot.tokens import TokenType

from resolve_sync.sandbox.schema import INVOICE_STATUS_LABELS, Kind, Table
from resolve_sync.sandbox.sql_functions import (
    FAST_FORMATS,
    STORED,
    SuiteQLFunctionError,
    strptime_to_stored,
)

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


def compile_suiteql(
    query: str, tables: dict[str, Table], denied: set[str] | frozenset[str], *, placeholders: int = 0
) -> CompiledQuery:
    """Check and translate one query. `placeholders`: how many of our own `:nsq_pN` parameters the text
    carries (a template of `QueryCompiler`); a client's bind variables are refused, as NetSuite's REST
    SuiteQL takes none."""
    if not isinstance(query, str) or not query.strip() or len(query) > MAX_QUERY_LENGTH:
        raise unsupported()
    try:
        statements = sqlglot.parse(query, read="oracle")
    except (SqlglotError, RecursionError, ValueError, TypeError):
        raise unsupported() from None
    if len(statements) != 1 or not isinstance(statements[0], exp.Select | exp.Union):
        raise unsupported()
    statement = statements[0]
    allowed = {_parameter_name(i) for i in range(placeholders)}
    if statement.find(exp.Parameter) or any(
        p.name not in allowed for p in statement.find_all(exp.Placeholder)
    ):
        raise unsupported()
    aliases = _check_tables(statement, tables, denied)
    _check_columns(statement, tables, aliases)
    _check_account_subsidiary_filter(statement, aliases)
    try:
        statement = _apply_rownum(statement)
        statement = statement.transform(lambda node: _translate(node, tables, aliases))
        _check_functions(statement)
        kinds, star_tables = _output_kinds(statement, tables, aliases)
        statement = statement.transform(_inline_to_char)
        sql = statement.sql(dialect="sqlite", identify=True)
        count_sql = _count_sql(statement, sql)
    except SuiteQLError:
        raise
    except (SqlglotError, RecursionError, ValueError, TypeError, AttributeError):
        raise unsupported() from None
    return CompiledQuery(sql=sql, count_sql=count_sql, kinds=kinds, star_tables=star_tables)


# -- templates: one compilation per query shape --------------------------------------------------------------

TEMPLATE_CACHE_SIZE = 512
MAX_PARAMETER_DIGITS = 18  # fits SQLite's 64-bit integer, so binding it means what the literal meant
# A whole-number literal compared with a column: the only literals turned into parameters. Their value
# changes nothing but the rows (not the checks, the translation or the output's kinds), and SQLite
# compares a bound integer exactly as the literal (neither has an affinity). ROWNUM bounds, IN lists,
# ORDER BY positions, FETCH FIRST counts and the like stay literal, so they stay part of the key.
_COMPARISONS = (exp.EQ, exp.NEQ, exp.GT, exp.GTE, exp.LT, exp.LTE)


@dataclass(frozen=True)
class PreparedQuery:
    """A compiled query and the values of its parameters (`:nsq_pN`), for SQLite to bind."""

    compiled: CompiledQuery
    params: dict[str, int]


class QueryCompiler:
    """Compiles SuiteQL once per query *shape*, not once per query text.

    Why: a keyset scan sends the same query with new key bounds on every page (`c.id > 41000 AND
    c.id <= 54000`), and parsing and translating it with sqlglot cost more CPU than serving the page.
    Whole-number literals compared with a column become bound parameters of one compiled template,
    cached by the query text with those literals replaced; the literals' values are read from sqlglot's
    tokens on each request (a tenth of a parse). Everything else about the query is part of the key, so a
    template is reused only for a query that differs in such values alone. The compilation depends only
    on the query and the account's schema (fixed when the account is loaded), never on its data, so the
    admin API changing rows cannot make a cached template wrong. Both caches are bounded LRUs.

    Misses compile under a lock: the first page of a scan arrives as many requests at once, and each
    compiling the same template in parallel would only queue for the GIL and delay them all.
    """

    def __init__(self, tables: dict[str, Table], *, maxsize: int = TEMPLATE_CACHE_SIZE) -> None:
        self.tables = tables
        self._lock = threading.Lock()
        self._slots = lru_cache(maxsize=maxsize)(self._parameter_slots)
        self._compiled = lru_cache(maxsize=maxsize)(self._compile)

    def prepare(self, query: str, denied: frozenset[str]) -> PreparedQuery:
        """The compiled query for `query` with its parameter values; SuiteQLError as `compile_suiteql`."""
        if not isinstance(query, str) or not query.strip() or len(query) > MAX_QUERY_LENGTH:
            raise unsupported()
        numbers = _whole_numbers(query)
        with self._lock:
            if numbers:
                canonical = _splice(query, [(start, end, "0") for start, end, _ in numbers])
                slots = self._slots(canonical)
                if slots:
                    template = _splice(
                        query, [(*numbers[i][:2], f" :{_parameter_name(n)} ") for n, i in enumerate(slots)]
                    )
                    compiled = self._compiled(template, denied, len(slots))
                    params = {_parameter_name(n): int(numbers[i][2]) for n, i in enumerate(slots)}
                    return PreparedQuery(compiled, params)
            return PreparedQuery(self._compiled(query, denied, 0), {})

    def _compile(self, query: str, denied: frozenset[str], placeholders: int) -> CompiledQuery:
        try:
            return compile_suiteql(query, self.tables, denied, placeholders=placeholders)
        except SuiteQLError:
            raise
        except Exception:  # noqa: BLE001 - a query the translator cannot handle is unsupported, not a 500
            raise unsupported() from None

    @staticmethod
    def _parameter_slots(canonical: str) -> tuple[int, ...]:
        """Which of the query's whole numbers (by order of appearance) can be parameters, read from the
        query with every such number written 0 (the parse does not depend on their values). () when the
        query does not parse or carries bind variables of its own: then it is compiled as it is, and
        refused as before."""
        try:
            statements = sqlglot.parse(canonical, read="oracle")
        except (SqlglotError, RecursionError, ValueError, TypeError):
            return ()
        if (
            len(statements) != 1
            or not isinstance(statements[0], exp.Select | exp.Union)
            or statements[0].find(exp.Placeholder, exp.Parameter)
        ):
            return ()
        position = {start: index for index, (start, _, _) in enumerate(_whole_numbers(canonical))}
        slots = []
        for literal in statements[0].find_all(exp.Literal):
            index = position.get(literal.meta.get("start", -1))
            parent = literal.parent
            if index is None or literal.is_string or not isinstance(parent, _COMPARISONS):
                continue
            other = parent.expression if literal is parent.this else parent.this
            if isinstance(other, exp.Column) and other.name.lower() != "rownum":
                slots.append(index)
        return tuple(sorted(slots))


_LOCAL = threading.local()


def _parameter_name(index: int) -> str:
    return f"nsq_p{index}"


def _whole_numbers(query: str) -> list[tuple[int, int, str]]:
    """(start, end exclusive, text) of each number token that is a whole number small enough to bind;
    [] when sqlglot cannot tokenize the query (it is then compiled as it is, and refused)."""
    tokenizer = getattr(_LOCAL, "tokenizer", None)
    if tokenizer is None:  # a sqlglot tokenizer keeps its state on itself: one per thread
        tokenizer = _LOCAL.tokenizer = Oracle.tokenizer_class()
    try:
        tokens = tokenizer.tokenize(query)
    except (SqlglotError, RecursionError, ValueError, TypeError):
        return []
    return [
        (token.start, token.end + 1, token.text)
        for token in tokens
        if token.token_type is TokenType.NUMBER
        and token.text.isascii()
        and token.text.isdigit()
        and len(token.text) <= MAX_PARAMETER_DIGITS
        and query[token.start : token.end + 1] == token.text
    ]


def _splice(query: str, replacements: list[tuple[int, int, str]]) -> str:
    """`query` with each (start, end, text) span, in order and not overlapping, replaced by its text."""
    pieces, at = [], 0
    for start, end, text in replacements:
        pieces += [query[at:start], text]
        at = end
    pieces.append(query[at:])
    return "".join(pieces)


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


def _inline_to_char(node: exp.Expression) -> exp.Expression:
    """`NS_TO_CHAR(column, 'YYYY-MM-DD HH24:MI:SS')` (the scans' cursor column, on every row) as SQL that
    does `sql_functions.to_char`'s fast path in SQLite, calling the Python function only for the values
    that path does not take: the same result without a call into Python per row. Runs after the checks,
    which see the function the client wrote."""
    if not (
        isinstance(node, exp.Anonymous)
        and str(node.this).upper() == "NS_TO_CHAR"
        and len(node.expressions) == 2
        and isinstance(node.expressions[0], exp.Column)
        and isinstance(node.expressions[1], exp.Literal)
        and node.expressions[1].is_string
        and node.expressions[1].this in FAST_FORMATS
    ):
        return node
    column, fmt = node.expressions

    def call(name: str, *args: exp.Expression) -> exp.Expression:
        return exp.Anonymous(this=name, expressions=list(args))

    # to_char: isinstance(value, str) and len(value) >= 19 and value[10] == " " -> value[:n]. SQLite's
    # length() stops at a NUL where len() does not; such a value goes to the Python function, as before.
    fast = exp.and_(
        exp.EQ(this=call("typeof", column.copy()), expression=exp.Literal.string("text")),
        exp.GTE(this=call("length", column.copy()), expression=exp.Literal.number(19)),
        exp.EQ(
            this=call("substr", column.copy(), exp.Literal.number(11), exp.Literal.number(1)),
            expression=exp.Literal.string(" "),
        ),
    )
    cut = call("substr", column.copy(), exp.Literal.number(1), exp.Literal.number(FAST_FORMATS[fmt.this]))
    return exp.Case(ifs=[exp.If(this=fast, true=cut)], default=node.copy())


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
