#!/usr/bin/env python3
"""scanfw's man pages, cut out of README.md, so that they cannot drift from it.

    readme2man.py --readme README.md --version 0.1.0 --outdir build/man [--pandoc pandoc]

writes scanfw.1 and scanfw-plugin.7. pandoc reads README.md as GitHub does (gfm) into
its syntax tree; this script picks the README's sections for each page, renames them
into a man page's sections, turns option tables into the man page's option lists, and
pandoc writes the tree as roff (escaping, tables through tbl, code blocks).

scanfw(1), in this order:
  NAME         "scanfw - " and the first sentence of the README's introduction
  SYNOPSIS     the first code block of "## Command line"
  DESCRIPTION  the introduction (all before the first "##")
  OPTIONS      the rest of "## Command line"; every table whose first column is headed
               "option" becomes a list of options (one entry per row)
  ...          each "###" under "## Command line" (but the two below), then every other
               "##" section of the README in its order, except those in NOT_IN_MAN_PAGE
               (building, testing, internals) and "## Writing a plugin"
  EXIT STATUS  "### Exit status..." under "## Command line"
  EXAMPLES     "### Examples" under "## Command line"
  SEE ALSO
scanfw-plugin(7): "## Writing a plugin", and "### Plugin search path".

A section this needs that the README lacks stops the build, naming it.
"""
import argparse
import copy
import json
import os
import re
import subprocess
import sys

# "##" sections about building, testing and the code, not about using scanfw.
NOT_IN_MAN_PAGE = ("quick start", "install", "how it works", "tests", "writing a plugin")
# Section titles are matched by their start, case-insensitively: "Exit status" finds
# "### Exit status and interruption".
COMMAND_LINE = "command line"
EXIT_STATUS = "exit status"
EXAMPLES = "examples"
SEARCH_PATH = "plugin search path"
WRITING_A_PLUGIN = "writing a plugin"
OPTION_TABLE_HEADERS = ("option", "options")


class ReadmeError(Exception):
    pass


# ---- the pandoc syntax tree --------------------------------------------------------------

def stringify(inlines):
    out = []
    for i in inlines:
        t, c = i["t"], i.get("c")
        if t == "Str":
            out.append(c)
        elif t in ("Space", "SoftBreak", "LineBreak"):
            out.append(" ")
        elif t in ("Code", "Math", "RawInline"):
            out.append(c[1])
        elif t in ("Emph", "Strong", "Strikeout", "Underline", "SmallCaps", "Superscript", "Subscript"):
            out.append(stringify(c))
        elif t in ("Link", "Image", "Span"):
            out.append(stringify(c[1]))
        elif t == "Quoted":
            out.append('"' + stringify(c[1]) + '"')
    return "".join(out)


def text_inlines(text):
    """Inlines for plain text."""
    out = []
    for n, word in enumerate(text.split(" ")):
        if n:
            out.append({"t": "Space"})
        if word:
            out.append({"t": "Str", "c": word})
    return out


def header(level, text):
    return {"t": "Header", "c": [level, ["", [], []], text_inlines(text)]}


def para(inlines):
    return {"t": "Para", "c": inlines}


class Section:
    def __init__(self, level, title, header_block=None):
        self.level, self.title, self.header_block = level, title, header_block
        self.blocks, self.children = [], []

    def child(self, prefix, required_by=None):
        for c in self.children:
            if c.title.lower().startswith(prefix):
                return c
        if required_by:
            raise ReadmeError(f"README.md: no section '{prefix}' under '{self.title}' ({required_by} is made of it)")
        return None


def sections(blocks):
    """The README as a tree of sections; the root holds the blocks before the first
    header and the top-level ("#") sections."""
    root = Section(0, "")
    stack = [root]
    for b in blocks:
        if b["t"] == "Header":
            level = b["c"][0]
            while stack[-1].level >= level:
                stack.pop()
            s = Section(level, stringify(b["c"][2]).strip(), b)
            stack[-1].children.append(s)
            stack.append(s)
        else:
            stack[-1].blocks.append(b)
    return root


def table_rows(table):
    """(header cells, body rows) of a pandoc 1.22 Table, each cell a list of blocks."""
    _attr, _caption, _colspecs, head, bodies, _foot = table["c"]
    head_rows = head[1]
    header_cells = [cell[4] for cell in head_rows[0][1]] if head_rows else []
    rows = []
    for body in bodies:
        for row in body[2] + body[3]:
            rows.append([cell[4] for cell in row[1]])
    return header_cells, rows


def blocks_text(blocks):
    return " ".join(stringify(b["c"]) for b in blocks if b["t"] in ("Plain", "Para")).strip()


def option_term(blocks):
    """A table cell such as `--plugin NAME`, `-q`, `--quiet` as a man page term: the
    options in bold, their arguments in italics, the rest as written."""
    inlines = []
    for b in blocks:
        if b["t"] in ("Plain", "Para"):
            inlines += b["c"]
    out = []
    for i in inlines:
        if i["t"] != "Code":
            out.append(i)
            continue
        for n, word in enumerate(i["c"][1].split(" ")):
            if n:
                out.append({"t": "Space"})
            style = "Strong" if word.startswith("-") else "Emph"
            out.append({"t": style, "c": [{"t": "Str", "c": word}]})
    return out


def is_option_table(block):
    if block["t"] != "Table":
        return False
    head, _ = table_rows(block)
    return bool(head) and blocks_text(head[0]).lower() in OPTION_TABLE_HEADERS


def option_list(table):
    _, rows = table_rows(table)
    items = []
    for row in rows:
        if len(row) < 2:
            continue
        items.append([option_term(row[0]), [row[1] or [para([])]]])
    return {"t": "DefinitionList", "c": items}


def man_blocks(blocks):
    return [option_list(b) if is_option_table(b) else b for b in blocks]


def section_blocks(section, title=None, level=1, skip=()):
    """A README section as a man page section (level 1: .SH) with its subsections
    below it (.SS; deeper ones are flattened to .SS too)."""
    out = [header(level, (title or section.title).upper() if level == 1 else (title or section.title))]
    out += man_blocks(section.blocks)
    for c in section.children:
        if c in skip:
            continue
        out += section_blocks(c, level=2)
    return out


def first_sentence(blocks):
    for b in blocks:
        if b["t"] == "Para":
            text = stringify(b["c"])
            m = re.match(r"(.+?\.)(\s|$)", text)
            return (m.group(1) if m else text).strip()
    raise ReadmeError("README.md: no paragraph before the first '##' section to take the man page's NAME from")


# ---- the pages ---------------------------------------------------------------------------

def top_sections(root):
    """The "##" sections: children of the "#" title, or top-level ones if there is none."""
    if len(root.children) == 1 and root.children[0].level == 1:
        return root.children[0], root.children[0].children
    return root, root.children


def find(children, prefix, required_by):
    for c in children:
        if c.title.lower().startswith(prefix):
            return c
    raise ReadmeError(f"README.md: no '## {prefix}' section ({required_by} is made of it)")


def page_scanfw(root):
    title, tops = top_sections(root)
    cmdline = find(tops, COMMAND_LINE, "scanfw(1)'s SYNOPSIS and OPTIONS")
    exit_status = cmdline.child(EXIT_STATUS, required_by="scanfw(1)'s EXIT STATUS")
    examples = cmdline.child(EXAMPLES, required_by="scanfw(1)'s EXAMPLES")
    cmdline.child(SEARCH_PATH, required_by="scanfw(1)'s and scanfw-plugin(7)'s PLUGIN SEARCH PATH")

    name = first_sentence(title.blocks)
    name = name[0].lower() + name[1:].rstrip(".")
    blocks = [header(1, "NAME"), para(text_inlines(f"scanfw - {name}"))]

    rest = list(cmdline.blocks)
    synopsis = next((b for b in rest if b["t"] == "CodeBlock"), None)
    if synopsis is None:
        raise ReadmeError("README.md: '## Command line' has no code block for scanfw(1)'s SYNOPSIS")
    rest.remove(synopsis)
    if not any(is_option_table(b) for b in rest):
        raise ReadmeError("README.md: '## Command line' has no option table (first column headed 'option') "
                          "for scanfw(1)'s OPTIONS")
    blocks += [header(1, "SYNOPSIS"), synopsis]
    blocks += [header(1, "DESCRIPTION")] + man_blocks(title.blocks)
    blocks += [header(1, "OPTIONS")] + man_blocks(rest)
    for c in cmdline.children:
        if c not in (exit_status, examples):
            blocks += section_blocks(c)
    for s in tops:
        if s is cmdline or s.title.lower().startswith(NOT_IN_MAN_PAGE):
            continue
        blocks += section_blocks(s)
    blocks += section_blocks(exit_status, title="EXIT STATUS")
    blocks += section_blocks(examples, title="EXAMPLES")
    blocks += [header(1, "SEE ALSO"), para(text_inlines(
        "scanfw-plugin(7), nmap(1), setcap(8), capabilities(7); README.md in scanfw's sources, "
        "which this page is made from (installed as /usr/share/doc/scanfw/README.md.gz by the Debian package)."))]
    return {"title": "SCANFW", "section": "1", "header": "User Commands"}, blocks


def page_plugin(root):
    _, tops = top_sections(root)
    writing = find(tops, WRITING_A_PLUGIN, "scanfw-plugin(7)")
    cmdline = find(tops, COMMAND_LINE, "scanfw-plugin(7)'s PLUGIN SEARCH PATH")
    search = cmdline.child(SEARCH_PATH, required_by="scanfw-plugin(7)'s PLUGIN SEARCH PATH")
    blocks = [header(1, "NAME"), para(text_inlines("scanfw-plugin - how to write a scan technique for scanfw")),
              header(1, "SYNOPSIS"),
              {"t": "CodeBlock", "c": [["", [], []],
                                       "#include <scanfw/plugin_api.hpp>\n"
                                       "SCANFW_PLUGIN(YourTechnique)\n\n"
                                       "find_package(scanfw REQUIRED)                 # CMake\n"
                                       "scanfw_add_plugin(NAME SOURCES NAME.cpp)"]}]
    blocks += [header(1, "DESCRIPTION")] + man_blocks(writing.blocks)
    for c in writing.children:
        blocks += section_blocks(c)
    blocks += section_blocks(search)
    blocks += [header(1, "SEE ALSO"), para(text_inlines(
        "scanfw(1); README.md in scanfw's sources, which this page is made from."))]
    return {"title": "SCANFW-PLUGIN", "section": "7", "header": "Miscellaneous Information Manual"}, blocks


PAGES = {"scanfw.1": page_scanfw, "scanfw-plugin.7": page_plugin}


def meta_string(s):
    return {"t": "MetaString", "c": s}


def render(pandoc, api_version, meta, blocks, version, out):
    doc = {
        "pandoc-api-version": api_version,
        "meta": {k: meta_string(v) for k, v in meta.items()} | {"footer": meta_string(f"scanfw {version}")},
        "blocks": blocks,
    }
    roff = subprocess.run([pandoc, "-f", "json", "-t", "man", "-s"], input=json.dumps(doc),
                          capture_output=True, text=True, check=True).stdout
    # A table that starts near the foot of a page: tbl cannot carry its text blocks over
    # ("table text block will not fit on one page", which lintian reports too), so each
    # table asks for 20 lines, or a new page (the timing table moved onto a page's last
    # lines when the README grew, 2026-12-07).
    roff = roff.replace("\n.TS\n", "\n.ne 20v\n.TS\n")
    # Say where the page comes from, so that nobody edits it.
    roff = roff.replace(".\\\" Automatically generated by Pandoc",
                        ".\\\" Generated from scanfw's README.md by packaging/readme2man.py and pandoc", 1)
    tmp = out + ".tmp"
    with open(tmp, "w") as f:
        f.write(roff)
    os.replace(tmp, out)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--readme", required=True)
    ap.add_argument("--version", required=True)
    ap.add_argument("--outdir", required=True)
    ap.add_argument("--pandoc", default="pandoc")
    ap.add_argument("--markdown", action="store_true", help="also write each page as markdown, to read what was cut")
    args = ap.parse_args()
    try:
        tree = json.loads(subprocess.run([args.pandoc, "-f", "gfm", "-t", "json", args.readme],
                                         capture_output=True, text=True, check=True).stdout)
    except FileNotFoundError:
        sys.exit(f"readme2man.py: {args.pandoc} not found (apt-get install pandoc; scripts/setup.sh does)")
    except subprocess.CalledProcessError as e:
        sys.exit(f"readme2man.py: pandoc could not read {args.readme}: {e.stderr.strip()}")
    os.makedirs(args.outdir, exist_ok=True)
    for page, make in PAGES.items():
        try:
            meta, blocks = make(sections(copy.deepcopy(tree["blocks"])))
        except ReadmeError as e:
            sys.exit(f"readme2man.py: {e}")
        render(args.pandoc, tree["pandoc-api-version"], meta, blocks, args.version, os.path.join(args.outdir, page))
        if args.markdown:
            doc = {"pandoc-api-version": tree["pandoc-api-version"], "meta": {}, "blocks": blocks}
            md = subprocess.run([args.pandoc, "-f", "json", "-t", "gfm"], input=json.dumps(doc),
                                capture_output=True, text=True, check=True).stdout
            with open(os.path.join(args.outdir, page + ".md"), "w") as f:
                f.write(md)


if __name__ == "__main__":
    main()
