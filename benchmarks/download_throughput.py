"""Image download throughput: mmassets' async downloader against a re-creation of mBLIP's
(``data/pretrain/download_images.py``: 16 threads, urllib, 10 s timeout, no retry), both with the
same resize, against a local HTTP server on 127.0.0.1 (its own process) with a per-request latency.

The URL list: ``--urls`` URLs over a few hundred real JPEGs of 400x300 to 1600x1200, 5% 404, 2% 500
(the first request of each; a retry gets the image), 1% corrupt bodies. Per latency, both
downloaders run in turn; then peak memory is measured for ``--urls`` and 10x as many URLs, each in a
fresh process. Last line::

    speedup_vs_mblip=<x at the largest latency> cpu_ms_per_image=<y> rss_mb_2k=<a> rss_mb_20k=<b>

``python benchmarks/download_throughput.py`` (about 8 minutes on 2 cores), ``--quick`` (about two).
"""

from __future__ import annotations

import argparse
import io
import json
import multiprocessing
import os
import random
import resource
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from PIL import Image, ImageFilter

from mmassets.images.download import DownloadSettings, Job, download
from mmassets.images.resize import ImageRejected, resize_image

SIZES = ((400, 300), (800, 600), (1024, 768), (1280, 960), (1600, 1200))
MBLIP_USER_AGENT = ("Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) "
                    "Chrome/71.0.3578.98 Safari/537.36")


def photo_like(size: tuple[int, int], seed: int) -> bytes:
    """A JPEG with the texture of a photo (blurred noise over a gradient), about 100-400 KB."""
    rng = random.Random(seed)
    small = Image.effect_noise((max(8, size[0] // 16), max(8, size[1] // 16)), 80).convert("RGB")
    base = small.resize(size, Image.Resampling.BICUBIC).filter(ImageFilter.GaussianBlur(2))
    grain = Image.effect_noise(size, 12 + rng.randint(0, 10)).convert("RGB")
    tint = Image.new("RGB", size, tuple(rng.randint(40, 220) for _ in range(3)))
    image = Image.blend(Image.blend(base, tint, 0.4), grain, 0.15)
    buffer = io.BytesIO()
    image.save(buffer, format="JPEG", quality=88)
    return buffer.getvalue()


def serve(port_out, latency_ms: int, images: list[bytes]) -> None:
    """The server process: /img/<k>.jpg, /e404/, /e500/ (500 on the first request), /bad/ bodies."""
    seen: set[str] = set()
    lock = threading.Lock()

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args) -> None:
            pass

        def do_GET(self) -> None:  # noqa: N802
            time.sleep(latency_ms / 1000)
            kind, _, name = self.path.strip("/").partition("/")
            status, body = 200, b""
            if kind == "img":
                body = images[int(name.split(".")[0]) % len(images)]
            elif kind == "e404":
                status = 404
            elif kind == "e500":
                with lock:
                    first = self.path not in seen
                    seen.add(self.path)
                status, body = (500, b"") if first else (200, images[0])
            else:
                body = b"\xff\xd8\xff\xe0 not a jpeg at all " * 40
            self.send_response(status)
            self.send_header("Content-Type", "image/jpeg")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

    class Server(ThreadingHTTPServer):
        daemon_threads = True
        request_queue_size = 512

    httpd = Server(("127.0.0.1", 0), Handler)
    port_out.put(httpd.server_address[1])
    httpd.serve_forever()


def start_server(latency_ms: int, images: list[bytes]) -> tuple[multiprocessing.Process, str]:
    queue = multiprocessing.Queue()
    process = multiprocessing.Process(target=serve, args=(queue, latency_ms, images), daemon=True)
    process.start()
    return process, f"http://127.0.0.1:{queue.get(timeout=30)}"


def url_list(base: str, n: int, seed: int = 0) -> list[str]:
    rng = random.Random(seed)
    urls = []
    for i in range(n):
        r = rng.random()
        kind = "e404" if r < 0.05 else "e500" if r < 0.07 else "bad" if r < 0.08 else "img"
        urls.append(f"{base}/{kind}/{i}.jpg")
    return urls


def mblip_download(urls: list[str], folder: Path) -> int:
    """mBLIP's loop: 16 threads, urllib, 10 s, no retry, failures silent (same resize as ours)."""

    def one(i_url: tuple[int, str]) -> bool:
        i, url = i_url
        try:
            request = urllib.request.Request(url, data=None, headers={"User-Agent": MBLIP_USER_AGENT})
            with urllib.request.urlopen(request, timeout=10) as response:
                body = response.read()
            image = resize_image(body)
        except (OSError, ImageRejected, ValueError):
            return False
        (folder / f"{i:08d}.jpg").write_bytes(image.jpeg)
        return True

    with ThreadPoolExecutor(16) as pool:
        return sum(pool.map(one, enumerate(urls)))


def ours_download(urls: list[str], folder: Path) -> int:
    settings = DownloadSettings(allow_private=True)  # the benchmark's server is on 127.0.0.1
    jobs = [Job(i, url, folder / f"{i:08d}.jpg") for i, url in enumerate(urls)]
    return sum(outcome.status == "ok" for outcome in download(jobs, settings))


def cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def timed(run, urls: list[str]) -> dict:
    with tempfile.TemporaryDirectory() as folder:
        cpu, start = cpu_seconds(), time.perf_counter()
        ok = run(urls, Path(folder))
        wall, cpu = time.perf_counter() - start, cpu_seconds() - cpu
    return {"images": ok, "seconds": round(wall, 2), "images/s": round(ok / wall, 1),
            "cpu ms/image": round(1000 * cpu / max(ok, 1), 2)}


def peak_rss_mb(n: int, images_count: int) -> float:
    """Peak RSS of a fresh process that downloads ``n`` URLs with our downloader (latency 0)."""
    done = subprocess.run([sys.executable, __file__, "--rss-child", str(n), "--images", str(images_count)],
                          capture_output=True, text=True, check=True)
    return float(done.stdout.strip().splitlines()[-1])


def rss_child(n: int, images_count: int) -> None:
    images = [photo_like(SIZES[k % len(SIZES)], k) for k in range(images_count)]
    server, base = start_server(0, images)
    try:
        with tempfile.TemporaryDirectory() as folder:
            ours_download(url_list(base, n), Path(folder))
    finally:
        server.terminate()
    print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)  # KiB on Linux


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--urls", type=int, default=2000)
    parser.add_argument("--latencies", default="0,50,200", help="per-request server latency, ms")
    parser.add_argument("--images", type=int, default=200, help="distinct JPEGs the server holds")
    parser.add_argument("--quick", action="store_true", help="500 URLs, latencies 50,200, memory at 500 and 5,000")
    parser.add_argument("--rss-child", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.rss_child:
        rss_child(args.rss_child, args.images)
        return
    if args.quick:
        args.urls, args.latencies, args.images = 500, "50,200", 60
    latencies = [int(x) for x in args.latencies.split(",")]
    print(f"machine: {os.cpu_count()} CPUs; {args.urls:,} URLs (5% 404, 2% 500 once, 1% corrupt) over "
          f"{args.images} JPEGs of 400x300 to 1600x1200", flush=True)
    import httpx  # noqa: F401 - imported once before timing (its first import costs about a second)

    images = [photo_like(SIZES[k % len(SIZES)], k) for k in range(args.images)]
    print(f"mean JPEG {sum(map(len, images)) / len(images) / 1024:,.0f} KB", flush=True)
    results = {}
    for latency in latencies:
        server, base = start_server(latency, images)
        try:
            urls = url_list(base, args.urls)
            mblip = timed(mblip_download, urls)
            server.terminate()
            server, base = start_server(latency, images)  # a fresh server: the 500s fail once again
            ours = timed(ours_download, url_list(base, args.urls))
        finally:
            server.terminate()
        speedup = ours["images/s"] / mblip["images/s"] if mblip["images/s"] else float("inf")
        results[latency] = {"mblip": mblip, "mmassets": ours, "speedup": round(speedup, 2)}
        print(f"latency {latency:>3} ms: mBLIP {mblip['images/s']:>7} images/s ({mblip['images']} images, "
              f"{mblip['cpu ms/image']} ms CPU each) | mmassets {ours['images/s']:>7} images/s "
              f"({ours['images']} images, {ours['cpu ms/image']} ms CPU each) | {speedup:.2f}x", flush=True)
    small, large = args.urls, args.urls * 10
    rss_small, rss_large = peak_rss_mb(small, min(args.images, 60)), peak_rss_mb(large, min(args.images, 60))
    print(f"peak RSS: {rss_small:,.0f} MB at {small:,} URLs, {rss_large:,.0f} MB at {large:,} URLs", flush=True)
    print(json.dumps(results))
    worst = results[max(latencies)]
    cpu = min(r["mmassets"]["cpu ms/image"] for r in results.values())
    print(f"speedup_vs_mblip={worst['speedup']} cpu_ms_per_image={cpu} rss_mb_2k={rss_small:.0f} "
          f"rss_mb_20k={rss_large:.0f}")


if __name__ == "__main__":
    main()
