#!/usr/bin/env python3
"""File-level call graph of src/, read from the build's object files.

Usage: callgraph.py BUILD_DIR [SOURCE_DIR] [--max N] [--nm NM] [--require DIR]... [--dot]

Each object CMake built from a file under SOURCE_DIR/src is mapped back to that file
(build/X/CMakeFiles/T.dir/Y.c.o comes from X/Y.c, with CMake's "__" for ".."). `nm` gives
the symbols each object defines and the ones it leaves undefined; file A calls file B when
A uses a symbol B defines. Only names resolve: a call through a function pointer is no
edge, which is the point (upper layers hand callbacks down).

Prints every strongly connected component of more than one file and exits 1 when one has
more than N files (default 4): such a loop cannot be read as a stack. --require DIR (a
folder of SOURCE_DIR) exits 1 as well when a .c file below it has no object: a graph read
from half a build proves nothing.
"""
import os
import subprocess
import sys


def objects(build):
    for root, _dirs, files in os.walk(build):
        for f in files:
            if f.endswith(".o") and "/CMakeFiles/" in root + "/":
                yield os.path.join(root, f)


def source_of(obj, build, src):
    rel = os.path.relpath(obj, build)
    parts = rel.split(os.sep)
    if "CMakeFiles" not in parts:
        return None
    i = parts.index("CMakeFiles")
    sub = parts[:i]
    inner = [".." if p == "__" else p for p in parts[i + 2:]]
    path = os.path.normpath(os.path.join(src, *sub, *inner))
    if path.endswith(".o"):
        path = path[:-2]
    srcdir = os.path.join(src, "src") + os.sep
    if not path.startswith(srcdir) or not os.path.isfile(path):
        return None  # generated files, tests, tools
    return os.path.relpath(path, src)


NM = "nm"


def symbols(obj):
    out = subprocess.run([NM, "-P", obj], capture_output=True, text=True, check=True).stdout
    defined, undefined = set(), set()
    for line in out.splitlines():
        f = line.split()
        if len(f) < 2:
            continue
        name, kind = f[0], f[1]
        if kind == "U":
            undefined.add(name)
        elif kind.isupper() and kind not in "UVW":
            defined.add(name)
    return defined, undefined


def graph(build, src):
    """{file: set of files it calls}, for every file of src/ with an object in build."""
    defs, uses = {}, {}
    for obj in objects(build):
        path = source_of(obj, build, src)
        if path is None:
            continue
        d, u = symbols(obj)
        defs.setdefault(path, set()).update(d)
        uses.setdefault(path, set()).update(u)
    owner = {}
    for path, names in defs.items():
        for n in names:
            owner.setdefault(n, set()).add(path)
    edges = {p: set() for p in defs}
    for path, names in uses.items():
        for n in names:
            for o in owner.get(n, ()):
                if o != path:
                    edges[path].add(o)
    return edges


def sccs(edges):
    """Tarjan's algorithm, iterative (the graph has a few hundred nodes)."""
    index, low, on, stack, out = {}, {}, set(), [], []
    counter = 0
    for start in sorted(edges):
        if start in index:
            continue
        work = [(start, iter(sorted(edges[start])))]
        index[start] = low[start] = counter
        counter += 1
        stack.append(start)
        on.add(start)
        while work:
            v, it = work[-1]
            nxt = next(it, None)
            if nxt is not None:
                if nxt not in index:
                    index[nxt] = low[nxt] = counter
                    counter += 1
                    stack.append(nxt)
                    on.add(nxt)
                    work.append((nxt, iter(sorted(edges[nxt]))))
                elif nxt in on:
                    low[v] = min(low[v], index[nxt])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[v])
            if low[v] == index[v]:
                comp = []
                while True:
                    w = stack.pop()
                    on.discard(w)
                    comp.append(w)
                    if w == v:
                        break
                out.append(sorted(comp))
    return out


def main(argv):
    global NM
    args, limit, require, dot = [], 4, [], False
    it = iter(argv[1:])
    for a in it:
        if a == "--max":
            limit = int(next(it))
        elif a == "--nm":
            NM = next(it)
        elif a == "--require":
            require.append(next(it))
        elif a == "--dot":
            dot = True
        else:
            args.append(a)
    if not args:
        print(__doc__.strip(), file=sys.stderr)
        return 2
    build = os.path.abspath(args[0])
    src = os.path.abspath(args[1]) if len(args) > 1 else os.path.dirname(
        os.path.dirname(os.path.abspath(__file__)))
    edges = graph(build, src)
    missing = []
    for d in require:
        for root, _dirs, files in os.walk(os.path.join(src, d)):
            missing += [os.path.relpath(os.path.join(root, f), src)
                        for f in files if f.endswith(".c")]
    missing = sorted(m for m in missing if m not in edges)
    if missing:
        print("no object for: " + " ".join(missing) + f" (under {build}: build first)",
              file=sys.stderr)
        return 1
    if not edges:
        print(f"no objects from {src}/src under {build}: build first", file=sys.stderr)
        return 2
    if dot:
        print("digraph calls {")
        for a in sorted(edges):
            for b in sorted(edges[a]):
                print(f'  "{a}" -> "{b}";')
        print("}")
        return 0
    loops = [c for c in sccs(edges) if len(c) > 1]
    worst = max((len(c) for c in loops), default=1)
    print(f"{len(edges)} files, {sum(len(e) for e in edges.values())} file-to-file calls, "
          f"{len(loops)} loops (largest {worst} files, limit {limit})")
    for c in sorted(loops, key=len, reverse=True):
        mark = "TOO LARGE" if len(c) > limit else "ok"
        print(f"  {len(c)} files [{mark}]: " + " ".join(c))
    return 1 if worst > limit else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
