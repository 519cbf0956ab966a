"""The benchmark's table, report.md, latency.png and results.json."""

import json
from pathlib import Path

# Targets at 32 connections (issue 8): minimum ratio of requests/s to the baseline, maximum p99.
TARGETS = {"list": (0.5, 50), "create": (0.4, None), "toggle": (0.4, None)}
MAX_RSS_MB = 150
MAX_CONNECTIONS_P99_MS = 1000
MAX_SCALE_P99_RATIO = 1.5  # list p99 on 1,000,000 tasks over the small data's


def ms(us: float) -> str:
    return f"{us / 1000:.1f}"


def ratio(cell: dict) -> float:
    return cell["api"]["rps"] / cell["baseline"]["rps"] if cell["baseline"]["rps"] else 0.0


def verdict(scenario: str, connections: int, cell: dict) -> str:
    if connections != 32 or scenario not in TARGETS:
        return ""
    minimum, max_p99 = TARGETS[scenario]
    ok = ratio(cell) >= minimum and (max_p99 is None or cell["api"]["p99_us"] <= max_p99 * 1000)
    goal = f">= {minimum}x" + (f", p99 <= {max_p99} ms" if max_p99 else "")
    return f"{'met' if ok else 'MISSED'} ({goal})"


def connections_verdict(run: dict) -> str:
    """The connection target (issue 8): no socket error or timeout, p99 under a second."""
    ok = (
        run["connect"] + run["read"] + run["write"] + run["timeout"] == 0
        and run["p99_us"] < MAX_CONNECTIONS_P99_MS * 1000
    )
    return f"{'met' if ok else 'MISSED'} (0 socket errors or timeouts, p99 < {MAX_CONNECTIONS_P99_MS} ms)"


def cell_line(scenario: str, connections: int, cell: dict) -> str:
    api, base = cell["api"], cell["baseline"]
    return (
        f"{scenario:<7} c={connections:<4} api {api['rps']:8.0f} req/s p99 {ms(api['p99_us']):>7} ms | "
        f"baseline {base['rps']:8.0f} req/s p99 {ms(base['p99_us']):>7} ms | ratio {ratio(cell):.2f}"
    )


def rows(results: dict) -> list[list[str]]:
    table = []
    for key, cell in results["cells"].items():
        scenario, connections = key.split("@")
        api, base = cell["api"], cell["baseline"]
        table.append(
            [
                scenario,
                connections,
                f"{api['rps']:.0f}",
                f"{base['rps']:.0f}",
                f"{ratio(cell):.2f}",
                ms(api["p50_us"]),
                ms(api["p90_us"]),
                ms(api["p99_us"]),
                ms(base["p99_us"]),
                f"{api['p99_us'] / base['p99_us']:.2f}" if base["p99_us"] else "-",
                f"{api['rss_mb']:.0f}",
                f"{base['rss_mb']:.0f}",
                str(api["status"] + api["errors"]),
                verdict(scenario, int(connections), cell),
            ]
        )
    return table


HEADER = [
    "scenario",
    "conns",
    "api req/s",
    "base req/s",
    "ratio",
    "api p50",
    "api p90",
    "api p99",
    "base p99",
    "p99 ratio",
    "api RSS MB",
    "base RSS MB",
    "api errors",
    "target",
]


def markdown_table(header: list[str], body: list[list[str]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(row) + " |" for row in body]
    return "\n".join(lines)


def table(results: dict) -> str:
    body = rows(results)
    widths = [max(len(str(x)) for x in column) for column in zip(HEADER, *body, strict=True)]
    out = ["  ".join(h.ljust(w) for h, w in zip(HEADER, widths, strict=True))]
    out += ["  ".join(str(x).ljust(w) for x, w in zip(row, widths, strict=True)) for row in body]
    out += [line for line in extra_lines(results)]
    return "\n".join(out)


def extra_lines(results: dict) -> list[str]:
    lines = []
    if big := results.get("big_user"):
        lines.append(
            f"\nOne user with the most tasks, list 50 at 32 connections: api {big['api']['rps']:.0f} req/s, "
            f"p99 {ms(big['api']['p99_us'])} ms; baseline {big['baseline']['rps']:.0f} req/s, p99 {ms(big['baseline']['p99_us'])} ms"
        )
    if scale := results.get("scale"):
        large, small = scale["large"]["p99_us"], scale["small"]["p99_us"]
        ok = large <= MAX_SCALE_P99_RATIO * small
        lines.append(
            f"\nScale, the API's list 50 at 32 connections in turns on this data and on 200 users x 50 tasks: "
            f"p99 {ms(large)} ms against {ms(small)} ms, {large / small:.2f}x "
            f"({scale['large']['rps']:.0f} and {scale['small']['rps']:.0f} req/s): "
            f"{'met' if ok else 'MISSED'} (<= {MAX_SCALE_P99_RATIO}x)"
        )
    for conns in results.get("connections", []):
        low, high = conns["think_ms"]
        offered = conns["count"] / ((low + high) / 2000)
        lines.append(
            f"\n{conns['count']:,} keep-alive connections, mixed, each waiting {low}-{high} ms between requests "
            f"(about {offered:,.0f} req/s asked): {connections_verdict(conns['api'])}"
        )
        for name in ("api", "baseline"):
            run = conns[name]
            lines.append(
                f"  {name:<8} {run['rps']:.0f} req/s, p50 {ms(run['p50_us'])} ms, p99 {ms(run['p99_us'])} ms, "
                f"max {ms(run['max_us'])} ms; socket errors {run['connect'] + run['read'] + run['write']}, "
                f"timeouts {run['timeout']}, non-2xx {run['status']}; worker RSS {run['rss_mb']:.0f} MB"
            )
    if soak := results.get("soak"):
        samples = soak["rss_samples"]
        first, last = samples[0][1] if samples else 0, samples[-1][1] if samples else 0
        lines.append(
            f"\nSoak, mixed at 32 connections for {soak['duration_us'] / 1e6:.0f} s: {soak['rps']:.0f} req/s, "
            f"p99 {ms(soak['p99_us'])} ms; largest worker RSS {first:.0f} MB at the start, {last:.0f} MB at the end, "
            f"peak {soak['rss_mb']:.0f} MB (target <= {MAX_RSS_MB} MB and flat); errors {soak['errors'] + soak['status']}; "
            f"workers recycled during it {soak['worker_recycles']} (a recycled worker starts its memory afresh)"
        )
    if in_process := results.get("in_process"):
        parts = [
            f"{name} api {f['api']['cpu_ms']:.2f} ms, baseline {f['baseline']['cpu_ms']:.2f} ms "
            f"({f['baseline']['cpu_ms'] / f['api']['cpu_ms']:.2f}x)"
            for name, f in in_process.items()
            if "baseline" in f
        ]
        lines.append(
            "\nIn-process CPU per request (bench/inprocess.py, no server, request log off): " + "; ".join(parts)
        )
        if me := in_process.get("me"):
            lines.append(
                f"  a warm /api/me costs the API {me['api']['cpu_ms']:.2f} ms: Django's request cycle, its middleware, "
                "DRF's dispatch and the remembered token, user and throttle, before any task work"
            )
    if queries := results.get("queries"):
        lines.append("\nQueries per request: " + ", ".join(f"{k}: {v}" for k, v in queries.items()))
    if plans := results.get("explain"):
        seq = [p["name"] for p in plans if p["seq_scan"]]
        lines.append(
            f"\nQuery plans: {len(plans)} list/filter queries, "
            + (f"sequential scans in: {', '.join(seq)}" if seq else "all index scans")
        )
    return lines


def write(results: dict, out: Path) -> None:
    (out / "results.json").write_text(json.dumps(results, indent=1, default=str))
    meta = results["meta"]
    text = [
        "# Benchmark: the API against a no-framework baseline",
        "",
        f"{meta['when']}, commit {meta['commit']}, {meta['cores']} cores, {meta['data']}, "
        f"{meta['duration_s']} s a run, median of {meta['rounds']} interleaved rounds. "
        f"Web process: `{meta['web']}` {meta['env'] or ''}; throttle counters in {meta.get('throttle_cache', 'the database')}.",
        "",
        "Ratios are the API's figure over the baseline's (bench/baseline.py: psycopg, PyJWT, orjson, "
        "same tables, queries and JSON bytes) on the same machine, in the same run. Latencies in ms.",
        "",
        markdown_table(HEADER, rows(results)),
        "",
        *extra_lines(results),
    ]
    if plans := results.get("explain"):
        text += ["", "## Query plans (EXPLAIN ANALYZE, the user with the most tasks)", ""]
        text.append(
            markdown_table(
                ["request", "query", "plan", "ms"],
                [[p["name"], p["kind"], p["summary"], f"{p['ms']:.2f}"] for p in plans],
            )
        )
    text += ["", "![latency](latency.png)", ""]
    (out / "report.md").write_text("\n".join(text))
    chart(results, out / "latency.png")


def chart(results: dict, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    scenarios = list(dict.fromkeys(key.split("@")[0] for key in results["cells"]))
    figure, axes = plt.subplots(1, len(scenarios), figsize=(3.2 * len(scenarios), 3.4), squeeze=False)
    for ax, scenario in zip(axes[0], scenarios, strict=True):
        keys = [key for key in results["cells"] if key.startswith(f"{scenario}@")]
        connections = [int(key.split("@")[1]) for key in keys]
        for name, colour in (("api", "tab:blue"), ("baseline", "tab:grey")):
            for figure_key, style in (("p50_us", ":"), ("p99_us", "-")):
                values = [results["cells"][key][name][figure_key] / 1000 for key in keys]
                ax.plot(connections, values, style, marker="o", color=colour, label=f"{name} {figure_key[:3]}")
        ax.set_title(scenario)
        ax.set_xscale("log", base=2)
        ax.set_xticks(connections, [str(c) for c in connections])
        ax.set_xlabel("connections")
        ax.grid(alpha=0.3)
    axes[0][0].set_ylabel("latency (ms)")
    axes[0][-1].legend(fontsize=7)
    figure.tight_layout()
    figure.savefig(path, dpi=110)
    plt.close(figure)
