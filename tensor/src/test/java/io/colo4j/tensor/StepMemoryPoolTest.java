package io.colo4j.tensor;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** The step memory a thread's scopes reuse: same bytes every step, still freed (invalidated) at each close. */
class StepMemoryPoolTest {
    @AfterEach
    void giveTheMemoryBack() {
        MemoryScope.releaseCachedMemory();
    }

    static long address(Tensor t) {
        return t.storage().segment().address();
    }

    @Test
    void aScopeReusesTheMemoryOfTheScopeBeforeIt() {
        long first;
        try (MemoryScope step = MemoryScope.open()) {
            first = address(Tensor.zeros(1000));
            Tensor.zeros(3, 7);
        }
        long reserved = StepMemoryPool.current().reservedBytes();
        for (int i = 0; i < 3; i++) {
            try (MemoryScope step = MemoryScope.open()) {
                assertThat(address(Tensor.zeros(1000))).isEqualTo(first);
                Tensor.zeros(3, 7);
            }
        }
        assertThat(StepMemoryPool.current().reservedBytes()).as("the pool did not grow").isEqualTo(reserved);
    }

    @Test
    void everyBlockIs64ByteAligned() {
        try (MemoryScope step = MemoryScope.open()) {
            for (int n : new int[] {1, 3, 17, 0, 5, 1 << 20, 31, 2, 1 << 22}) {
                assertThat(address(Tensor.zeros(n)) % 64).as("%d floats", n).isZero();
                assertThat(address(Tensor.empty(n)) % 64).as("%d floats, uninitialised", n).isZero();
            }
        }
    }

    @Test
    void zerosAreZeroEvenInReusedMemoryWhileEmptyKeepsWhatWasThere() {
        try (MemoryScope step = MemoryScope.open()) {
            Tensor.zeros(4096).fill(7f);
        }
        try (MemoryScope step = MemoryScope.open()) {
            Tensor reused = Tensor.empty(4096);
            assertThat(reused.toFloatArray()).as("empty() is not cleared: it is the earlier step's bytes").containsOnly(7f);
        }
        try (MemoryScope step = MemoryScope.open()) {
            assertThat(Tensor.zeros(4096).toFloatArray()).containsOnly(0f);
        }
        try (MemoryScope step = MemoryScope.open()) {
            Tensor.empty(64).fill(3f);
            assertThat(Tensor.full(2f, 64).toFloatArray()).containsOnly(2f);
        }
    }

    @Test
    void aNestedScopeHandsItsMemoryBackToTheOuterOneAndOnlyItsOwnViewsDie() {
        try (MemoryScope outer = MemoryScope.open()) {
            Tensor a = Tensor.full(1f, 100);
            Tensor inner;
            try (MemoryScope nested = MemoryScope.open()) {
                inner = Tensor.full(2f, 100);
            }
            assertThatThrownBy(inner::toFloatArray).isInstanceOf(IllegalStateException.class);
            Tensor b = Tensor.full(3f, 100);
            assertThat(address(b)).as("the nested scope's bytes come back").isEqualTo(address(inner));
            assertThat(a.toFloatArray()).containsOnly(1f);
            assertThat(b.toFloatArray()).containsOnly(3f);
        }
    }

    @Test
    void aViewUsedAfterItsScopeClosedFailsLoudlyThoughTheMemoryIsKept() {
        Tensor zero;
        Tensor empty;
        try (MemoryScope step = MemoryScope.open()) {
            zero = Tensor.zeros(8);
            empty = Tensor.empty(8);
        }
        assertThatThrownBy(zero::toFloatArray).isInstanceOf(IllegalStateException.class);
        assertThatThrownBy(() -> empty.fill(1f)).isInstanceOf(IllegalStateException.class);
        try (MemoryScope step = MemoryScope.open()) {
            Tensor.zeros(8);
            assertThatThrownBy(zero::toFloatArray).as("a new scope over the same bytes does not revive it")
                    .isInstanceOf(IllegalStateException.class);
        }
    }

    @Test
    void aBlockLargerThanAChunkGetsItsOwnAndTheNextStepLandsOnTheSameChunks() {
        int big = 3 << 20; // 12 MiB of floats, more than a first chunk
        List<Long> first = new ArrayList<>();
        try (MemoryScope step = MemoryScope.open()) {
            for (int n : new int[] {1000, big, 10, big / 2, 5}) {
                first.add(address(Tensor.empty(n)));
            }
        }
        long reserved = StepMemoryPool.current().reservedBytes();
        try (MemoryScope step = MemoryScope.open()) {
            List<Long> again = new ArrayList<>();
            for (int n : new int[] {1000, big, 10, big / 2, 5}) {
                again.add(address(Tensor.empty(n)));
            }
            assertThat(again).isEqualTo(first);
        }
        assertThat(StepMemoryPool.current().reservedBytes()).isEqualTo(reserved);
    }

    @Test
    void eachThreadHasItsOwnPool() throws Exception {
        int threads = 4;
        CyclicBarrier allHoldTheirBlock = new CyclicBarrier(threads);
        Set<Long> addresses = ConcurrentHashMap.newKeySet();
        AtomicReference<Throwable> failure = new AtomicReference<>();
        List<Thread> started = new ArrayList<>();
        for (int r = 0; r < threads; r++) {
            float value = r + 1;
            Thread t = Thread.ofPlatform().name("rank-" + r).start(() -> {
                try {
                    for (int s = 0; s < 3; s++) {
                        try (MemoryScope step = MemoryScope.open()) {
                            Tensor mine = Tensor.full(value, 10_000);
                            addresses.add(address(mine));
                            allHoldTheirBlock.await();
                            assertThat(mine.toFloatArray()).containsOnly(value);
                            allHoldTheirBlock.await();
                        }
                    }
                    MemoryScope.releaseCachedMemory();
                } catch (Throwable e) {
                    failure.compareAndSet(null, e);
                    allHoldTheirBlock.reset();
                }
            });
            started.add(t);
        }
        for (Thread t : started) {
            t.join();
        }
        assertThat(failure.get()).isNull();
        assertThat(addresses).as("one block per thread, reused by its three steps").hasSize(threads);
    }

    @Test
    void statsSplitLiveFromReserved() {
        SettledMemory.settle();
        long live = MemoryStats.liveBytes();
        MemoryStats.resetPeak();
        long reserved;
        try (MemoryScope step = MemoryScope.open()) {
            Tensor.zeros(1 << 20);
            assertThat(MemoryStats.liveBytes() - live).isEqualTo(4L << 20);
            reserved = MemoryStats.reservedBytes();
            assertThat(StepMemoryPool.current().reservedBytes()).isGreaterThanOrEqualTo(4L << 20);
        }
        // other tests' dropped storage may still be cleaned meanwhile, which only lowers the counts
        assertThat(MemoryStats.liveBytes()).as("a closed scope holds no live bytes").isLessThanOrEqualTo(live);
        assertThat(MemoryStats.peakBytes() - live).isEqualTo(4L << 20);
        assertThat(MemoryStats.reservedBytes()).as("but its memory stays reserved").isEqualTo(reserved);
        long pool = StepMemoryPool.current().reservedBytes();
        StepMemoryPool.current().release();
        assertThat(StepMemoryPool.current().reservedBytes()).isZero();
        assertThat(MemoryStats.reservedBytes()).isLessThanOrEqualTo(reserved - pool);
        assertThat(MemoryStats.peakReservedBytes()).isGreaterThanOrEqualTo(reserved);
    }

    @Test
    void cachedMemoryCannotBeReleasedUnderAnOpenScope() {
        try (MemoryScope step = MemoryScope.open()) {
            Tensor t = Tensor.ones(10);
            assertThatThrownBy(MemoryScope::releaseCachedMemory).hasMessageContaining("still open");
            assertThat(t.toFloatArray()).containsOnly(1f);
        }
    }

    @Test
    void aRankThreadGivesItsPoolBackWhenItEnds() {
        long before = MemoryStats.reservedBytes();
        io.colo4j.tensor.comm.ThreadWorld.run(2, comm -> {
            try (MemoryScope step = MemoryScope.open()) {
                Tensor.zeros(2 << 20);
            }
        });
        assertThat(MemoryStats.reservedBytes()).as("both ranks' pools are back, without waiting for a GC").isLessThanOrEqualTo(before);
    }

    @Test
    void releasingAThreadCacheUnderAnOpenScopeWaitsForTheCleaner() {
        try (MemoryScope step = MemoryScope.open()) {
            Tensor t = Tensor.ones(10);
            MemoryScope.releaseThreadCache();
            assertThat(t.toFloatArray()).containsOnly(1f);
        }
        MemoryScope.releaseThreadCache();
        assertThat(StepMemoryPool.current().reservedBytes()).isZero();
    }

    @Test
    void aThreadThatEndsGivesItsPoolBack() throws Exception {
        Thread t = Thread.ofPlatform().start(() -> {
            try (MemoryScope step = MemoryScope.open()) {
                Tensor.zeros(2 << 20);
            }
        });
        t.join();
        t = null;
        long before = MemoryStats.reservedBytes();
        Set<Long> seen = new HashSet<>();
        for (int i = 0; i < 100 && MemoryStats.reservedBytes() > before - (8L << 20); i++) {
            System.gc();
            Thread.sleep(20);
            seen.add(MemoryStats.reservedBytes());
        }
        assertThat(MemoryStats.reservedBytes()).as("reserved after the thread ended, seen %s", seen)
                .isLessThanOrEqualTo(before - (8L << 20));
    }
}
