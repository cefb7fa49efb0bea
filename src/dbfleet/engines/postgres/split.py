"""PostgreSQL script splitter, and the checks for statements that refuse a transaction block."""

from __future__ import annotations

import re

from dbfleet.engines.base import Statement, cut_statements
from dbfleet.errors import SplitError

# A run of text that cannot end a statement: anything but the characters that may start a quote,
# comment or dollar quote, plus complete plain strings and quoted identifiers (the bulk of a data
# script). The regex engine consumes the run in one call; the few remaining cases (E-strings,
# dollar quotes, comments, unterminated quotes) are handled one token at a time in Python.
_RUN_PARTS = r"-(?!-)|/(?!\*)|(?<![eE])'[^']*+(?:''[^']*+)*+'|" + r'"[^"]*+(?:""[^"]*+)*+"'
_PLAIN_RUN = re.compile(rf"""(?:[^;'"$\-/]++|{_RUN_PARTS})*+""")
# Inside CREATE FUNCTION/PROCEDURE the words BEGIN/CASE/END also matter (BEGIN ATOMIC bodies), so
# the run also stops where one of them starts.
_KEYWORD = r"(?<![\w$])(?i:begin|case|end)(?![\w$])"
_ROUTINE_RUN = re.compile(rf"""(?:[^;'"$\-/bBcCeE]++|{_RUN_PARTS}|(?!{_KEYWORD})[bBcCeE])*+""")
_KEYWORD_AT = re.compile(_KEYWORD)
# CREATE RULE ... DO (action; action): the ";" between parenthesised actions ends nothing, so the
# run also stops at parentheses.
_RULE_RUN = re.compile(rf"""(?:[^;'"$\-/()]++|{_RUN_PARTS})*+""")

# Possessive quantifiers: a doubled quote is always an escape, never "close then reopen" (the
# server's lexer takes the longest match), so the regex must not backtrack into it.
_STANDARD_STRING_REST = re.compile(r"[^']*+(?:''[^']*+)*+'")
_ESCAPE_STRING_REST = re.compile(r"(?:[^'\\]++|\\.|'')*+'", re.DOTALL)
_QUOTED_IDENT_REST = re.compile(r'[^"]*+(?:""[^"]*+)*+"')
# An E-string continued on a later line ('a' -- note\n'b') stays an E-string for the server.
_STRING_CONTINUATION = re.compile(
    r"(?:[ \t\f]|--[^\n\r]*)*(?:\r\n|\n|\r)(?:[ \t\n\r\f]|--[^\n\r]*)*'"
)
# Any non-ASCII character may be part of a tag, as for the server's lexer. Written as the negated
# ASCII class: the equivalent range \u0080-\U0010ffff takes 5 ms to compile on every start.
_DOLLAR_TAG = re.compile(r"\$(?:(?:[A-Za-z_]|[^\x00-\x7f])(?:[A-Za-z0-9_]|[^\x00-\x7f])*)?\$")
_BLOCK_COMMENT_EDGE = re.compile(r"/\*|\*/")
_NON_SPACE = re.compile(r"\S")

_GAP = r"(?:\s|--[^\n]*(?:\n|\Z)|/\*(?:[^*]|\*(?!/))*\*/)+"
_ROUTINE_HEAD = re.compile(
    rf"create{_GAP}(?:or{_GAP}replace{_GAP})?(?:function|procedure)(?![\w$])", re.IGNORECASE
)
_RULE_HEAD = re.compile(rf"create{_GAP}(?:or{_GAP}replace{_GAP})?rule(?![\w$])", re.IGNORECASE)
_ATOMIC = re.compile(rf"{_GAP}atomic(?![\w$])", re.IGNORECASE)

_IDENT_CHARS = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_$")


def _is_ident_char(ch: str) -> bool:
    return ch in _IDENT_CHARS or ch >= "\x80"


def _is_escape_string(script: str, quote: int) -> bool:
    """True when the quote at `quote` opens an E'...' string (backslash escapes apply).

    "some'x'" is the identifier `some` followed by a plain string, hence the look at the character
    before the E.
    """
    return (
        quote > 0
        and script[quote - 1] in "eE"
        and (quote == 1 or not _is_ident_char(script[quote - 2]))
    )


def _skip_block_comment(script: str, start: int) -> int:
    """Return the index just past the block comment opening at `start` (comments nest)."""
    depth = 0
    pos = start
    while True:
        m = _BLOCK_COMMENT_EDGE.search(script, pos)
        if m is None:
            raise SplitError.unterminated(script, start, "block comment")
        depth += 1 if m.group() == "/*" else -1
        pos = m.end()
        if depth == 0:
            return pos


def _skip_trivia(script: str, pos: int) -> int:
    """Return the index of the first character at or after `pos` that is not space or comment."""
    n = len(script)
    while True:
        m = _NON_SPACE.search(script, pos)
        if m is None:
            return n
        pos = m.start()
        if script.startswith("--", pos):
            newline = script.find("\n", pos)
            if newline < 0:
                return n
            pos = newline + 1
        elif script.startswith("/*", pos):
            pos = _skip_block_comment(script, pos)
        else:
            return pos


def _scan_statement(script: str, pos: int) -> tuple[int, int]:
    """Scan the statement starting at `pos`; return (end of its code, where the next one starts).

    The end of its code excludes the ";" and any comment after the last code token: a trailing
    "-- note" kept in the text would swallow a ";" that a caller appends.
    """
    n = len(script)
    routine = _ROUTINE_HEAD.match(script, pos) is not None
    rule = not routine and _RULE_HEAD.match(script, pos) is not None
    run_regex = _ROUTINE_RUN if routine else _RULE_RUN if rule else _PLAIN_RUN
    code_end = pos
    atomic_depth = 0  # open BEGIN ATOMIC blocks plus CASE expressions inside them
    paren_depth = 0  # only tracked in CREATE RULE
    dollar_end = -1  # where the last dollar quote closed: "$a$$b$" opens a second quote
    while True:
        run = run_regex.match(script, pos)
        start = run.end() if run else pos
        if start > pos and _NON_SPACE.search(script, pos, start) is not None:
            code_end = start
        if start >= n:
            return code_end, n
        if routine and (keyword := _KEYWORD_AT.match(script, start)) is not None:
            pos = code_end = keyword.end()
            word = keyword.group().lower()
            if word == "begin":
                atomic = _ATOMIC.match(script, pos)
                if atomic is not None:
                    atomic_depth += 1
                    pos = code_end = atomic.end()
            elif atomic_depth:
                # CASE ... END is the only other construct closed by END in such a body.
                atomic_depth += 1 if word == "case" else -1
            continue
        ch = script[start]
        if ch == ";":
            if atomic_depth == 0 and paren_depth == 0:
                return code_end, start + 1
            pos = code_end = start + 1
        elif ch == "(":
            paren_depth += 1
            pos = code_end = start + 1
        elif ch == ")":
            paren_depth = max(paren_depth - 1, 0)
            pos = code_end = start + 1
        elif ch == "'":
            if _is_escape_string(script, start):
                pos = _close_string(script, start - 1, _ESCAPE_STRING_REST, start + 1, "E'' string")
                while (cont := _STRING_CONTINUATION.match(script, pos)) is not None:
                    pos = _close_string(
                        script, start - 1, _ESCAPE_STRING_REST, cont.end(), "E'' string"
                    )
            else:
                pos = _close_string(script, start, _STANDARD_STRING_REST, start + 1, "string")
            code_end = pos
        elif ch == '"':
            pos = code_end = _close_string(
                script, start, _QUOTED_IDENT_REST, start + 1, "quoted identifier"
            )
        elif ch == "$":
            pos = code_end = start + 1
            if start > 0 and start != dollar_end and _is_ident_char(script[start - 1]):
                continue  # a "$" inside an identifier such as foo$bar
            tag_match = _DOLLAR_TAG.match(script, start)
            if tag_match is None:
                continue  # a positional parameter like $1, or a lone "$"
            tag = tag_match.group()
            close = script.find(tag, tag_match.end())
            if close < 0:
                raise SplitError.unterminated(script, start, f"dollar-quoted string {tag}")
            pos = code_end = dollar_end = close + len(tag)
        elif ch == "-":  # "--": the run stops at a dash only when a comment starts there
            newline = script.find("\n", start)
            if newline < 0:
                return code_end, n
            pos = newline + 1
        else:  # "/*"
            pos = _skip_block_comment(script, start)


def _close_string(script: str, start: int, rest: re.Pattern[str], body: int, what: str) -> int:
    m = rest.match(script, body)
    if m is None:
        raise SplitError.unterminated(script, start, what)
    return m.end()


def split(script: str) -> list[Statement]:
    """Cut a PostgreSQL script into statements, the way the server's lexer would see them."""
    return cut_statements(script, _skip_trivia, _scan_statement)


# --- statements PostgreSQL refuses to run inside a transaction block ------------------------

_WORD_TOKEN = re.compile(
    r"""\s+|--[^\n]*|(?P<word>[^\W\d][\w$]*)|(?P<ident>"(?:[^"]|"")*")|(?P<other>.)""", re.DOTALL
)


def _leading_tokens(text: str, limit: int) -> list[str]:
    """The first `limit` tokens of `text`: upper-cased words, quoted identifiers, punctuation.

    Comments are skipped; a string literal stops the scan (nothing we look for lies after one).
    """
    tokens: list[str] = []
    pos = 0
    n = len(text)
    while pos < n and len(tokens) < limit:
        if text.startswith("/*", pos):
            try:
                pos = _skip_block_comment(text, pos)
            except SplitError:
                break
            continue
        m = _WORD_TOKEN.match(text, pos)
        if m is None:  # an unterminated quoted identifier
            break
        pos = m.end()
        if m.lastgroup == "word":
            tokens.append(m.group().upper())
        elif m.lastgroup == "ident":
            tokens.append(m.group())
        elif m.lastgroup == "other":
            if m.group() in "'$":
                break
            tokens.append(m.group())
    return tokens


def _skip_parens(tokens: list[str], i: int) -> int:
    """If tokens[i] opens a parenthesised option list, return the index just past it."""
    if i < len(tokens) and tokens[i] == "(":
        depth = 0
        for j in range(i, len(tokens)):
            depth += {"(": 1, ")": -1}.get(tokens[j], 0)
            if depth == 0:
                return j + 1
        return len(tokens)
    return i


def _reindex_needs_no_transaction(tokens: list[str]) -> bool:
    i = 1
    end = _skip_parens(tokens, i)
    options = tokens[i:end]
    for k, option in enumerate(options):
        # PostgreSQL 14+: REINDEX (CONCURRENTLY [boolean]) ...
        if option == "CONCURRENTLY":
            value = options[k + 1] if k + 1 < len(options) else ")"
            if value not in ("FALSE", "OFF", "0"):
                return True
    i = end
    kind = tokens[i] if i < len(tokens) else ""
    if kind in ("SCHEMA", "DATABASE", "SYSTEM"):
        return True  # these commit per table, so they refuse a transaction block
    return i + 1 < len(tokens) and tokens[i + 1] == "CONCURRENTLY"


def _cluster_needs_no_transaction(tokens: list[str]) -> bool:
    i = _skip_parens(tokens, 1)
    if i < len(tokens) and tokens[i] == "VERBOSE":
        i += 1
    return i >= len(tokens)  # CLUSTER without a table reclusters everything, per table


def requires_no_transaction(statement: Statement | str) -> bool:
    """True when PostgreSQL refuses to run `statement` inside a transaction block."""
    text = statement.text if isinstance(statement, Statement) else statement
    tokens = _leading_tokens(text, 64)
    if not tokens:
        return False
    head = tokens[0]
    second = tokens[1] if len(tokens) > 1 else ""
    if head == "VACUUM":
        return True
    if head == "REINDEX":
        return _reindex_needs_no_transaction(tokens)
    if head == "CLUSTER":
        return _cluster_needs_no_transaction(tokens)
    if head in ("CREATE", "DROP"):
        if second in ("DATABASE", "TABLESPACE", "SUBSCRIPTION"):
            return True
        i = 2 if head == "CREATE" and second == "UNIQUE" else 1
        return tokens[i : i + 2] == ["INDEX", "CONCURRENTLY"]
    if head == "ALTER":
        if second == "SYSTEM":
            return True
        if second == "DATABASE":
            return tokens[3:5] == ["SET", "TABLESPACE"]
        if second == "TABLE" and "DETACH" in tokens:
            return "CONCURRENTLY" in tokens[tokens.index("DETACH") :]
        return False
    return head == "DISCARD" and second == "ALL"


def has_no_transaction_directive(script: str) -> bool:
    """True when the script's first non-blank line is the `-- dbfleet:no-transaction` comment."""
    for raw in script.lstrip("\ufeff").splitlines():
        line = "".join(raw.split())
        if line:
            return line.lower() == "--dbfleet:no-transaction"
    return False
