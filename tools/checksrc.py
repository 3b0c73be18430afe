#!/usr/bin/env python3
"""checksrc.py — vigil's source checks (`make check`), after curl's checksrc.

Fails, naming file:line and what to use instead, on
  - a call to a banned C library function (CONTRIBUTING.md, "Style"), and
  - an assignment inside the condition of an `if` or `while`.
Comments, string and character literals are blanked before checking, so a
word in a comment or a message is never a finding.

Usage: tools/checksrc.py [FILE_OR_DIR ...]   (default: bot/)
Exit status 0 when clean, 1 with one line per finding on stderr.
"""
import os
import re
import sys

BANNED = {
    "atoi": "strtol() with an end pointer and errno (atoi cannot report bad input)",
    "atol": "strtol() with an end pointer and errno (atol cannot report bad input)",
    "atoll": "strtoll() with an end pointer and errno (atoll cannot report bad input)",
    "atof": "strtod() with an end pointer and errno (atof cannot report bad input)",
    "strcat": "snprintf() into a sized buffer, or memcpy() with known lengths",
    "strncat": "snprintf() into a sized buffer, or memcpy() with known lengths",
    "strcpy": "snprintf() into a sized buffer, or memcpy() with a known length",
    "strncpy": "snprintf() into a sized buffer (strncpy may not terminate)",
    "sprintf": "snprintf() with the buffer's size",
    "vsprintf": "vsnprintf() with the buffer's size",
    "gets": "fgets() with the buffer's size",
    "strtok": "strtok_r() or strcspn()/strspn() (strtok keeps hidden state)",
}
BANNED_RE = re.compile(r"(?<![\w.>])(" + "|".join(BANNED) + r")\s*\(")
COND_RE = re.compile(r"\b(if|while)\s*\(")
# a lone `=`: not part of ==, !=, <=, >= (nor of a compound assignment,
# which COMPOUND_RE finds: +=, |=, <<= ...)
ASSIGN_RE = re.compile(r"(?<![=!<>+\-*/%&|^])=(?!=)")
COMPOUND_RE = re.compile(r"(?:[-+*/%&|^]|<<|>>)=(?!=)")


def blank(src):
    """Source with comments and literals replaced by spaces (newlines kept)."""
    out, i, n = [], 0, len(src)
    while i < n:
        c = src[i]
        if src.startswith("/*", i):
            j = src.find("*/", i + 2)
            j = n if j < 0 else j + 2
            out.append(re.sub(r"[^\n]", " ", src[i:j]))
            i = j
        elif src.startswith("//", i):
            j = src.find("\n", i)
            j = n if j < 0 else j
            out.append(" " * (j - i))
            i = j
        elif c in "\"'":
            j = i + 1
            while j < n and src[j] != c and src[j] != "\n":
                j += 2 if src[j] == "\\" else 1
            j = min(j + 1, n)
            out.append(c + re.sub(r"[^\n]", " ", src[i + 1:j - 1]) + c if j - i >= 2 else src[i:j])
            i = j
        elif c == "#" and (i == 0 or src[i - 1] == "\n"):
            # preprocessor lines (#include <...>, #define bodies) are not calls in conditions,
            # but a macro body may still call a banned function: keep it, blank only <...>
            j = src.find("\n", i)
            j = n if j < 0 else j
            line = src[i:j]
            if line.lstrip("#").lstrip().startswith("include"):
                line = " " * len(line)
            out.append(line)
            i = j
        else:
            out.append(c)
            i += 1
    return "".join(out)


def condition(text, start):
    """The text between the parenthesis at `start` and its match, and its end."""
    depth = 0
    for j in range(start, len(text)):
        if text[j] == "(":
            depth += 1
        elif text[j] == ")":
            depth -= 1
            if depth == 0:
                return text[start + 1:j], j
    return text[start + 1:], len(text)


def check_file(path):
    with open(path, encoding="utf-8", errors="replace") as f:
        text = blank(f.read())
    found = []

    def line_of(pos):
        return text.count("\n", 0, pos) + 1

    for m in BANNED_RE.finditer(text):
        name = m.group(1)
        found.append((line_of(m.start()), "%s() is banned: use %s" % (name, BANNED[name])))
    for m in COND_RE.finditer(text):
        cond, _ = condition(text, m.end() - 1)
        # compound literals and designated initializers ({ .a = 1 }) are not assignments
        cond = re.sub(r"\{[^{}]*\}", " ", cond)
        a = ASSIGN_RE.search(cond) or COMPOUND_RE.search(cond)
        if a:
            pos = m.end() + a.start()
            found.append((line_of(pos), "assignment inside the condition of '%s': assign on "
                          "the line before, then test the variable" % m.group(1)))
    return sorted(found)


def sources(args):
    for a in args:
        if os.path.isdir(a):
            for root, _, files in sorted(os.walk(a)):
                for f in sorted(files):
                    if f.endswith((".c", ".h")):
                        yield os.path.join(root, f)
        else:
            yield a


def main(argv):
    findings = 0
    for path in sources(argv[1:] or ["bot"]):
        for line, msg in check_file(path):
            print("%s:%d: %s" % (path, line, msg), file=sys.stderr)
            findings += 1
    if findings:
        print("checksrc: %d finding%s" % (findings, "" if findings == 1 else "s"),
              file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
