"""The parts of DESIGN §4's tally rules that Spark SQL cannot say exactly.

Pure Python, no Spark: the batch job ships this file to its executors and
calls ed_id() in a UDF only for events that lack job_id or publisher_id.
Each function restates src/core (tally.c, json.c) for the same inputs:

- ed is read as one strict RFC 8259 object: nesting at most 32 deep,
  strings without control characters, surrogate escapes paired; the first
  of repeated keys wins, keys compare after escapes are decoded;
- a number id must be integral ("48", "48.0", "4.8e1") within int64, and
  then at least `least` and at most 2^31 - 1;
- a string id must be 1 to 10 ASCII digits as written (no escapes), at
  most 2^31 - 1.
"""

from decimal import Decimal, InvalidOperation, ROUND_HALF_UP, localcontext

INT32_MAX = 2**31 - 1
INT64_MIN, INT64_MAX = -(2**63), 2**63 - 1
DEPTH_MAX = 32
TRACKS = {
    "": "impressions",
    "click": "clicks",
    "conversion": "conversion",
    "qualified": "qualified_application",
    "unqualified": "disqualified_application",
}
C_SPACE = " \t\n\v\f\r"  # isspace() in the C locale


class _Bad(Exception):
    """The text is not exactly one valid JSON object."""


_ESCAPES = {'"': '"', "\\": "\\", "/": "/", "b": "\b", "f": "\f",
            "n": "\n", "r": "\r", "t": "\t"}
_WS = " \t\n\r"


class _Scan:
    """A strict reader over a str: positions are character indexes."""

    def __init__(self, s):
        self.s = s
        self.n = len(s)
        self.i = 0

    def ws(self):
        while self.i < self.n and self.s[self.i] in _WS:
            self.i += 1

    def hex4(self):
        h = self.s[self.i:self.i + 4]
        if len(h) != 4 or any(c not in "0123456789abcdefABCDEF" for c in h):
            raise _Bad()
        self.i += 4
        return int(h, 16)

    def unicode_escape(self):
        hi = self.hex4()
        if 0xDC00 <= hi <= 0xDFFF:
            raise _Bad()
        if not 0xD800 <= hi <= 0xDBFF:
            return chr(hi)
        if self.s[self.i:self.i + 2] != "\\u":
            raise _Bad()
        self.i += 2
        lo = self.hex4()
        if not 0xDC00 <= lo <= 0xDFFF:
            raise _Bad()
        return chr(0x10000 + ((hi - 0xD800) << 10) + (lo - 0xDC00))

    def string(self):
        """Reads a string at the opening quote; returns its decoded text."""
        self.i += 1
        out = []
        while True:
            if self.i >= self.n:
                raise _Bad()
            c = self.s[self.i]
            self.i += 1
            if c == '"':
                return "".join(out)
            if ord(c) < 0x20:
                raise _Bad()
            if c != "\\":
                out.append(c)
                continue
            if self.i >= self.n:
                raise _Bad()
            e = self.s[self.i]
            self.i += 1
            if e == "u":
                out.append(self.unicode_escape())
            elif e in _ESCAPES:
                out.append(_ESCAPES[e])
            else:
                raise _Bad()

    def digits(self):
        start = self.i
        while self.i < self.n and "0" <= self.s[self.i] <= "9":
            self.i += 1
        return self.i - start

    def number(self):
        if self.i < self.n and self.s[self.i] == "-":
            self.i += 1
        if self.i < self.n and self.s[self.i] == "0":
            self.i += 1
        elif self.i < self.n and "1" <= self.s[self.i] <= "9":
            self.digits()
        else:
            raise _Bad()
        if self.i < self.n and self.s[self.i] == ".":
            self.i += 1
            if self.digits() == 0:
                raise _Bad()
        if self.i < self.n and self.s[self.i] in "eE":
            self.i += 1
            if self.i < self.n and self.s[self.i] in "+-":
                self.i += 1
            if self.digits() == 0:
                raise _Bad()

    def container(self, depth, close):
        if depth >= DEPTH_MAX:
            raise _Bad()
        self.i += 1
        self.ws()
        if self.i < self.n and self.s[self.i] == close:
            self.i += 1
            return
        while True:
            self.ws()
            if close == "}":
                self.member(depth + 1)
            else:
                self.value(depth + 1)
            self.ws()
            if self.i < self.n and self.s[self.i] == ",":
                self.i += 1
                continue
            if self.i < self.n and self.s[self.i] == close:
                self.i += 1
                return
            raise _Bad()

    def member(self, depth):
        """Reads "key": value; returns (key, type, raw value)."""
        if self.i >= self.n or self.s[self.i] != '"':
            raise _Bad()
        key = self.string()
        self.ws()
        if self.i >= self.n or self.s[self.i] != ":":
            raise _Bad()
        self.i += 1
        self.ws()
        start = self.i
        kind = self.value(depth)
        return key, kind, self.s[start:self.i]

    def value(self, depth):
        if self.i >= self.n:
            raise _Bad()
        c = self.s[self.i]
        if c == "{":
            self.container(depth, "}")
            return "object"
        if c == "[":
            self.container(depth, "]")
            return "array"
        if c == '"':
            self.string()
            return "string"
        for word in ("true", "false", "null"):
            if c == word[0]:
                if self.s[self.i:self.i + len(word)] != word:
                    raise _Bad()
                self.i += len(word)
                return word
        self.number()
        return "number"


def object_get(text, key):
    """The first top-level member `key` of the object `text`, as
    (type, raw value), or None when absent or text is not exactly one
    valid JSON object."""
    sc = _Scan(text)
    found = None
    try:
        sc.ws()
        if sc.i >= sc.n or sc.s[sc.i] != "{":
            return None
        sc.i += 1
        sc.ws()
        if sc.i < sc.n and sc.s[sc.i] == "}":
            sc.i += 1
        else:
            while True:
                sc.ws()
                k, kind, raw = sc.member(1)
                if found is None and k == key:
                    found = (kind, raw)
                sc.ws()
                if sc.i < sc.n and sc.s[sc.i] == ",":
                    sc.i += 1
                    continue
                if sc.i < sc.n and sc.s[sc.i] == "}":
                    sc.i += 1
                    break
                raise _Bad()
        sc.ws()
        if sc.i != sc.n:
            return None
    except _Bad:
        return None
    return found


def integral(raw):
    """The int64 value of a JSON number token that is an integer, else
    None ("48.0" and "4.8e1" are 48; "4.5" and "1e30" are None)."""
    try:
        d = Decimal(raw)
    except InvalidOperation:
        return None
    if d.is_zero():
        return 0
    if d.adjusted() > 18 or d != d.to_integral_value():
        return None
    v = int(d)
    return v if INT64_MIN <= v <= INT64_MAX else None


def ed_id(ed, key, least):
    """ed.<key> as an id: an integral number >= least, or a string of 1
    to 10 digits; at most 2^31 - 1. None when ed says no such id."""
    if ed is None:
        return None
    got = object_get(ed, key)
    if got is None:
        return None
    kind, raw = got
    if kind == "number":
        v = integral(raw)
        if v is None or v < least:
            return None
    elif kind == "string":
        body = raw[1:-1]
        if not 1 <= len(body) <= 10 or any(c not in "0123456789"
                                           for c in body):
            return None
        v = int(body)
    else:
        return None
    return v if v <= INT32_MAX else None


def track_metric(custom_track):
    """The column an event adds to, or None when it is not tallied: the
    track trimmed of C white space, compared in ASCII case only."""
    t = (custom_track or "").strip(C_SPACE)
    if any(ord(c) > 127 for c in t):
        return None
    return TRACKS.get(t.lower())


def bid_set(spend, clicks):
    """spend / clicks rounded half up to 4 decimals; None without clicks."""
    if not clicks:
        return None
    with localcontext() as ctx:
        ctx.prec = 60  # exact enough that only the quantize rounds
        return (Decimal(spend) / Decimal(clicks)).quantize(
            Decimal("0.0001"), rounding=ROUND_HALF_UP)
