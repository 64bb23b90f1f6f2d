#!/usr/bin/env python3
"""Anchor for `bin/colo4j bench gemm`: times torch.mm on float32 square matrices.

Prints one parsable line per size:
    size 1024 threads 2 gflops 63.2 best_ms 33.98 median_ms 35.10
Lines starting with '#' are comments. Exits 2 when torch cannot be imported.
"""
import argparse
import os
import sys


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--sizes", default="256,512,1024,2048", help="comma-separated square sizes")
    p.add_argument("--threads", type=int, default=os.cpu_count(), help="intra-op threads (BLAS and OpenMP)")
    p.add_argument("--warmup", type=int, default=3)
    p.add_argument("--iterations", type=int, default=5)
    args = p.parse_args()
    sizes = [int(s) for s in args.sizes.split(",") if s.strip()]

    # torch.set_num_threads does not reach a pthreads OpenBLAS: pin every pool before torch loads it.
    for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "GOTO_NUM_THREADS"):
        os.environ[var] = str(args.threads)
    try:
        import torch
    except Exception as e:  # noqa: BLE001 - any import failure means "no anchor"
        print(f"# torch unavailable: {e}", flush=True)
        sys.exit(2)
    import time

    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    print(f"# torch {torch.__version__} threads {torch.get_num_threads()} python {sys.version.split()[0]}", flush=True)
    for n in sizes:
        a = torch.rand(n, n, dtype=torch.float32) - 0.5
        b = torch.rand(n, n, dtype=torch.float32) - 0.5
        c = torch.empty(n, n, dtype=torch.float32)
        for _ in range(max(1, args.warmup)):
            torch.mm(a, b, out=c)
        times = []
        for _ in range(max(1, args.iterations)):
            t0 = time.perf_counter()
            torch.mm(a, b, out=c)
            times.append(time.perf_counter() - t0)
        times.sort()
        best = times[0]
        median = times[len(times) // 2]
        gflops = 2.0 * n * n * n / best / 1e9
        print(f"size {n} threads {args.threads} gflops {gflops:.1f} best_ms {best * 1e3:.3f} median_ms {median * 1e3:.3f}",
              flush=True)


if __name__ == "__main__":
    main()
