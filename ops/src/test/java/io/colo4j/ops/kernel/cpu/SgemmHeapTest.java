package io.colo4j.ops.kernel.cpu;

import static org.assertj.core.api.Assertions.assertThat;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.management.ManagementFactory;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Once C2 has compiled the micro-kernel, a packed sgemm allocates (almost) nothing on the Java heap: its vector
 * accumulators stay in registers. When C2 gave up inlining the kernel's stores into C (NodeCountInliningCutoff), it
 * boxed the accumulators on every kernel call: ~2 GB of heap garbage per GPT-2 small training step, whose young
 * generation growth then page-faulted the steps after the first.
 */
class SgemmHeapTest {
    /** Per call of a 96 x 128 x 128 gemm: 64 micro-kernel calls; boxing seven accumulators each was ~50 KB. */
    private static final long MAX_BYTES_PER_CALL = 1024;
    private static final int M = 96;
    private static final int N = 128;
    private static final int K = 128;

    @ParameterizedTest(name = "layout {0} (bit 0: A transposed, bit 1: B transposed)")
    @ValueSource(ints = {0, 1, 2, 3}) // a transposed operand is packed through BlockTranspose's vector blocks
    void aCompiledPackedSgemmDoesNotAllocateOnTheHeap(int layout) {
        boolean transA = (layout & 1) != 0;
        boolean transB = (layout & 2) != 0;
        var threads = (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment a = filled(arena, M * K);
            MemorySegment b = filled(arena, K * N);
            MemorySegment c = arena.allocate((long) M * N * Float.BYTES, 64);
            long best = Long.MAX_VALUE;
            long deadline = System.nanoTime() + 60_000_000_000L; // C2 compiles in the background: give it time
            while (best > MAX_BYTES_PER_CALL && System.nanoTime() < deadline) {
                for (int i = 0; i < 200; i++) { // let the kernel get hot and compiled
                    run(transA, transB, a, b, c, i % 2 == 0 ? 0f : 1f);
                }
                long before = threads.getCurrentThreadAllocatedBytes();
                for (int i = 0; i < 50; i++) {
                    run(transA, transB, a, b, c, i % 2 == 0 ? 0f : 1f);
                }
                best = Math.min(best, (threads.getCurrentThreadAllocatedBytes() - before) / 50);
            }
            assertThat(best).as("heap bytes per warmed-up %d x %d x %d sgemm on one thread, A transposed: %s,"
                    + " B transposed: %s", M, N, K, transA, transB)
                    .isLessThanOrEqualTo(MAX_BYTES_PER_CALL);
        }
    }

    /** C = A @ B (beta 0: the kernel's STORE) or C += A @ B (beta 1: ADD), on the calling thread only. */
    private static void run(boolean transA, boolean transB, MemorySegment a, MemorySegment b, MemorySegment c,
                            float beta) {
        Sgemm.sgemm(transA, transB, M, N, K, 1f, a, 0, transA ? M : K, b, 0, transB ? K : N, beta, c, 0, N, 1);
    }

    private static MemorySegment filled(Arena arena, int floats) {
        MemorySegment s = arena.allocate((long) floats * Float.BYTES, 64);
        for (int i = 0; i < floats; i++) {
            s.setAtIndex(ValueLayout.JAVA_FLOAT, i, (i % 17) * 0.01f);
        }
        return s;
    }
}
