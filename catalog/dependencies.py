"""The dependency graph between services: which upstreams (Cloudflare, AWS, Stripe...) a service relies on.

Pure: plain slugs in, problems out. The loader checks a whole catalog file
with it before writing anything, so a typo, a service depending on itself or
a cycle (a -> b -> a) is refused with the entry and field named.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence


def dependency_problems(graph: Mapping[str, Sequence[str]], *, known: Collection[str]) -> dict[str, list[str]]:
    """Problems of each service's `depends_on`, by the slug of the service that declares it.

    `graph` maps a slug to the slugs it depends on; `known` is every slug an
    upstream may name (the file's services and those already in the catalog).
    Checked: unknown slugs, a service naming itself, the same slug twice, and
    cycles (reported once, on every service that is part of one).
    """
    problems: dict[str, list[str]] = {}
    for slug, upstreams in graph.items():
        mine: list[str] = []
        if slug in upstreams:
            mine.append(f"{slug!r} cannot depend on itself.")
        unknown = sorted({u for u in upstreams if u not in known and u != slug})
        if unknown:
            mine.append(
                f"unknown service(s) {', '.join(map(repr, unknown))}: an upstream must be a service of the catalog."
            )
        twice = sorted({u for u in upstreams if list(upstreams).count(u) > 1})
        if twice:
            mine.append(f"listed more than once: {', '.join(map(repr, twice))}.")
        if mine:
            problems[slug] = mine
    for cycle in find_cycles(graph):
        text = "dependency cycle: " + " -> ".join([*cycle, cycle[0]]) + "; an upstream cannot depend on its dependents."
        for slug in cycle:
            if slug in graph:
                problems.setdefault(slug, []).append(text)
    return problems


def find_cycles(graph: Mapping[str, Sequence[str]]) -> list[list[str]]:
    """Each cycle of length two or more once, as the slugs along it, starting from its smallest slug.

    Self-loops are left to dependency_problems, which names them more plainly.
    Iterative depth-first search: a long chain cannot exhaust the stack.
    """
    cycles: list[list[str]] = []
    seen: set[tuple[str, ...]] = set()
    done: set[str] = set()
    for root in sorted(graph):
        if root in done:
            continue
        path: list[str] = []
        on_path: dict[str, int] = {}
        stack: list[tuple[str, list[str]]] = [(root, sorted(set(graph.get(root, ())) - {root}))]
        path.append(root)
        on_path[root] = 0
        while stack:
            node, todo = stack[-1]
            if not todo:
                stack.pop()
                path.pop()
                del on_path[node]
                done.add(node)
                continue
            nxt = todo.pop(0)
            if nxt in on_path:
                cycle = path[on_path[nxt] :]
                start = cycle.index(min(cycle))
                canonical = tuple(cycle[start:] + cycle[:start])
                if canonical not in seen:
                    seen.add(canonical)
                    cycles.append(list(canonical))
            elif nxt not in done:
                on_path[nxt] = len(path)
                path.append(nxt)
                stack.append((nxt, sorted(set(graph.get(nxt, ())) - {nxt})))
    return cycles
