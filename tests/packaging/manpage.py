#!/usr/bin/env python3
"""scanfw(1) documents every option `scanfw --help` lists.

    manpage.py SCANFW MANPAGE      (MANPAGE: scanfw.1 or scanfw.1.gz)

The options come from --help, parsed generically: every line of the option list
("  -p,--ports PORTS   description") gives one option with all its names, and an nmap
spelling that starts its description ("-oJ FILE: ...") is one more name of it. The
man page documents an option when one of its names is the term of an entry of its
option lists (the .TP entries that the README's option tables become), a short option
also when written with its value attached (-T0 documents -T).

Also checked: the sections the man page must have, and that man renders it without
a warning (as lintian does). Then the check itself is checked: an option that --help
would list and the README lacks must make it fail.
"""
import gzip
import re
import subprocess
import sys

REQUIRED_SECTIONS = ("NAME", "SYNOPSIS", "DESCRIPTION", "OPTIONS", "PLUGIN SEARCH PATH", "PROFILES",
                     "EXIT STATUS", "EXAMPLES", "SEE ALSO")
ALIAS = re.compile(r"^(-[A-Za-z][A-Za-z0-9]*)(?: [A-Z][A-Z_]*)?:")


def help_options(text):
    """[(names...)] for each option of --help's option list."""
    options = []
    for line in text.splitlines():
        if not re.match(r"^ {2,}-", line):
            continue
        body = line.strip()
        parts = re.split(r" {2,}", body, maxsplit=1)
        left, desc = parts[0], parts[1] if len(parts) > 1 else ""
        names = [n for n in left.split(" ")[0].split(",") if n.startswith("-")]
        m = ALIAS.match(desc)
        if m:
            names.append(m.group(1))
        if names:
            options.append(tuple(names))
    return options


def unroff(s):
    s = re.sub(r"\\f(\[[^\]]*\]|.)", "", s)  # font changes
    s = s.replace("\\-", "-").replace("\\(en", "-").replace("\\[en]", "-").replace("\\ ", " ").replace("\\&", "")
    return s


def man_terms(roff):
    """Every option named in the term of a .TP entry."""
    lines = roff.splitlines()
    terms = set()
    for i, line in enumerate(lines[:-1]):
        if line.startswith(".TP"):
            terms.update(re.findall(r"(?<![\w-])(--?[A-Za-z0-9][\w-]*)", unroff(lines[i + 1])))
    return terms


def man_sections(roff):
    return {unroff(m.group(1)).strip('"').strip() for m in re.finditer(r"^\.SH (.*)$", roff, re.M)}


def documented(names, terms):
    for n in names:
        if n in terms:
            return True
        if re.fullmatch(r"-[A-Za-z0-9]", n) and any(t.startswith(n) and len(t) > 2 for t in terms):
            return True  # -T given as -T0 .. -T5
    return False


def missing(help_text, terms):
    return [o for o in help_options(help_text) if not documented(o, terms)]


def main():
    if len(sys.argv) != 3:
        sys.exit("usage: manpage.py SCANFW MANPAGE")
    scanfw, manpage = sys.argv[1:]
    run = subprocess.run([scanfw, "--help"], capture_output=True, text=True)
    if run.returncode != 0:
        sys.exit(f"FAIL: {scanfw} --help exited {run.returncode}: {run.stderr.strip()}")
    help_text = run.stdout
    opener = gzip.open if manpage.endswith(".gz") else open
    with opener(manpage, "rt") as f:
        roff = f.read()
    failures = []

    options, terms = help_options(help_text), man_terms(roff)
    # A parser that finds nothing would pass everything: refuse to.
    if len(options) < 10 or len(terms) < 10:
        sys.exit(f"FAIL: parsed {len(options)} options from --help and {len(terms)} from {manpage}: "
                 "the format of one of them changed, fix manpage.py")
    for names in missing(help_text, terms):
        failures.append(f"--help lists {', '.join(names)}, which {manpage} does not document: add a row for it "
                        "to an option table (first column headed 'option') in README.md")
    for s in REQUIRED_SECTIONS:
        if s not in man_sections(roff):
            failures.append(f"{manpage} has no {s} section")
    render = subprocess.run(["man", "--warnings", "-E", "UTF-8", "-l", "-Tutf8", "-Z", manpage],
                            capture_output=True, text=True, env={"MANWIDTH": "80", "PATH": "/usr/bin:/bin"})
    if render.returncode != 0 or render.stderr.strip():
        failures.append(f"man warns about {manpage} (lintian would too): {render.stderr.strip()}")

    # The check of the check: an option the README does not have must be caught.
    fake = help_text.replace("\nOptions:\n", "\nOptions:\n  --no-such-option-in-readme FILE  A test\n"
                             "  --also-missing  -oZ FILE: a test\n", 1)
    caught = {n for names in missing(fake, terms) for n in names}
    if not {"--no-such-option-in-readme", "--also-missing", "-oZ"} <= caught:
        failures.append(f"the check missed options that --help lists and the man page lacks (caught {sorted(caught)})")

    for f in failures:
        print("FAIL:", f)
    print(f"manpage: {len(options)} options of --help, all documented" if not failures else
          f"manpage: {len(failures)} failure(s)")
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
