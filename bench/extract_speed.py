#!/usr/bin/env python3
"""Side-by-side speed of newsflow's extractor and trafilatura over the same pages, in one process.

    python bench/extract_speed.py [--corpus DIR] [--rounds N] [--limit N] [--scaling]

Reads the corpus (``source.html.gz`` per page folder) from ``../shared/corpus/readability`` next to
the checkout at run time. Prints docs/s for each extractor, their ratio, and the peak memory that one
page needs (tracemalloc, measured in a separate untimed pass so it does not slow the timing).
``--scaling`` also times newsflow on synthetic pages of growing size (up to 5 MB) to show that time
grows linearly with size. A benchmark, not a test: numbers depend on the machine.
"""

from __future__ import annotations

import argparse
import gc
import gzip
import sys
import time
import tracemalloc
import warnings
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from pipeline import extract_article  # noqa: E402

URL = "http://fakehost/test/page.html"
DEFAULT_CORPUS = ROOT.parent / "shared" / "corpus" / "readability"


def newsflow(html: str) -> object:
    """newsflow's extractor with default settings."""
    return extract_article(html, URL)


def _trafilatura() -> Callable[[str], object] | None:
    try:
        import trafilatura
    except ImportError as exc:
        print(f"trafilatura not importable ({exc}); timing newsflow only", file=sys.stderr)
        return None

    def run(html: str) -> object:
        return trafilatura.extract(html, url=URL, output_format="json", with_metadata=True)

    return run


def load_pages(corpus: Path, limit: int) -> list[str]:
    """The corpus pages as text, sorted by folder name."""
    folders = sorted(d for d in corpus.iterdir() if (d / "source.html.gz").is_file())
    if limit:
        folders = folders[:limit]
    return [gzip.decompress((d / "source.html.gz").read_bytes()).decode("utf-8", "replace") for d in folders]


def time_all(func: Callable[[str], object], pages: list[str]) -> float:
    """Seconds to run ``func`` over every page once."""
    gc.collect()
    start = time.perf_counter()
    for html in pages:
        func(html)
    return time.perf_counter() - start


def peak_memory(func: Callable[[str], object], pages: list[str]) -> int:
    """The largest tracemalloc peak (bytes) that one page needed."""
    worst = 0
    tracemalloc.start()
    for html in pages:
        tracemalloc.reset_peak()
        base = tracemalloc.get_traced_memory()[0]
        func(html)
        worst = max(worst, tracemalloc.get_traced_memory()[1] - base)
    tracemalloc.stop()
    return worst


def scaling() -> None:
    """Time newsflow on pages of 0.3 to 5 MB built from one article block repeated."""
    block = (
        '<div class="item"><h2>Section heading</h2><p>Paragraph text with a <a href="/x">link</a>, some '
        + "commas, and enough words to look like a story paragraph of a news article. " * 3
        + '</p><ul class="nav"><li><a href="/a">A</a></li><li><a href="/b">B</a></li></ul></div>\n'
    )
    print("\nscaling (newsflow):   MB    seconds   s/MB")
    for target_mb in (0.3, 0.6, 1.25, 2.5, 5.0):
        count = int(target_mb * 1_000_000 / len(block))
        html = f"<html><head><title>Big page</title></head><body><article>{block * count}</article></body></html>"
        start = time.perf_counter()
        newsflow(html)
        seconds = time.perf_counter() - start
        size = len(html) / 1_000_000
        print(f"                     {size:5.2f}   {seconds:7.3f}   {seconds / size:5.3f}")


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark and print its table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", type=Path, default=DEFAULT_CORPUS)
    parser.add_argument("--rounds", type=int, default=3, help="timed rounds per extractor (best is kept)")
    parser.add_argument("--limit", type=int, default=0, help="use only the first N pages")
    parser.add_argument("--scaling", action="store_true", help="also time growing synthetic pages")
    parser.add_argument("--no-memory", action="store_true", help="skip the tracemalloc pass")
    args = parser.parse_args(argv)
    warnings.simplefilter("ignore")  # third-party date parsing warns on odd zone names
    if not args.corpus.is_dir():
        print(f"corpus folder not found: {args.corpus}", file=sys.stderr)
        return 2
    pages = load_pages(args.corpus, args.limit)
    size_mb = sum(len(p) for p in pages) / 1_000_000
    contenders: dict[str, Callable[[str], object]] = {"newsflow": newsflow}
    traf = _trafilatura()
    if traf is not None:
        contenders["trafilatura"] = traf
    for func in contenders.values():  # warm-up: imports, regex compilation, language model
        for html in pages[:3]:
            func(html)
    best = {name: float("inf") for name in contenders}
    for _ in range(max(1, args.rounds)):
        for name, func in contenders.items():  # interleaved, so machine noise hits both alike
            best[name] = min(best[name], time_all(func, pages))
    print(f"pages: {len(pages)} ({size_mb:.1f} MB) from {args.corpus}; best of {args.rounds} rounds")
    print(f"{'extractor':12} {'docs/s':>8} {'seconds':>8} {'peak MB/page':>13}")
    for name, func in contenders.items():
        peak = "" if args.no_memory else f"{peak_memory(func, pages) / 1_000_000:13.1f}"
        print(f"{name:12} {len(pages) / best[name]:8.1f} {best[name]:8.2f} {peak}")
    if "trafilatura" in best:
        print(f"ratio newsflow/trafilatura docs/s: {best['trafilatura'] / best['newsflow']:.2f}x")
    if args.scaling:
        scaling()
    return 0


if __name__ == "__main__":
    sys.exit(main())
