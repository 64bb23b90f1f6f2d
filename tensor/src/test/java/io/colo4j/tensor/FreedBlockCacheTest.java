package io.colo4j.tensor;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** Long-lived memory keeps its own lifetime, but a freed block comes back for the next allocation of its size. */
class FreedBlockCacheTest {
    // sizes no other storage in the JVM has, so a cleaner freeing something else cannot slip in between
    private static final int ODD = 12_347;

    @BeforeEach
    @AfterEach
    void empty() {
        MemoryScope.releaseCachedMemory();
    }

    private static long address(Tensor t) {
        return t.storage().segment().address();
    }

    @Test
    void aFreedBlockIsReusedByTheNextAllocationOfItsSizeAndZeroedOnlyWhenAsked() {
        Tensor gradient = Tensor.full(5f, ODD);
        long first = address(gradient);
        gradient.freeStorage();
        assertThatThrownBy(gradient::toFloatArray).as("freed storage still fails on use").isInstanceOf(IllegalStateException.class);

        Tensor again = Tensor.empty(ODD);
        assertThat(address(again)).isEqualTo(first);
        assertThat(again.toFloatArray()).as("empty() keeps the freed bytes").containsOnly(5f);
        again.freeStorage();

        Tensor zeros = Tensor.zeros(ODD);
        assertThat(address(zeros)).isEqualTo(first);
        assertThat(zeros.toFloatArray()).containsOnly(0f);
        assertThat(address(Tensor.zeros(ODD + 1)) % 64).as("a new size gets new, aligned memory").isZero();
        zeros.freeStorage();
    }

    @Test
    void aFreedBlockStaysReservedUntilReleased() {
        SettledMemory.settle();
        long reserved = MemoryStats.reservedBytes();
        long live = MemoryStats.liveBytes();
        Tensor t = Tensor.zeros(ODD + 2);
        long bytes = 4L * (ODD + 2);
        assertThat(MemoryStats.reservedBytes() - reserved).isEqualTo(bytes);
        assertThat(MemoryStats.liveBytes() - live).isEqualTo(bytes);
        t.freeStorage();
        // other tests' dropped storage may be cleaned (and cached) meanwhile, which only lowers live and adds to the cache
        assertThat(MemoryStats.liveBytes()).isLessThanOrEqualTo(live);
        assertThat(FreedBlockCache.cachedBytes()).as("kept for the next allocation of its size").isGreaterThanOrEqualTo(bytes);
        assertThat(MemoryStats.reservedBytes() - reserved).as("still reserved").isEqualTo(bytes);
        MemoryScope.releaseCachedMemory();
        assertThat(FreedBlockCache.cachedBytes()).isZero();
        assertThat(MemoryStats.reservedBytes()).isLessThanOrEqualTo(reserved);
    }

    @Test
    void theCacheHoldsNoMoreThanWhatIsLiveAboveItsFloor() {
        // earlier tests' dropped storage, cleaned between the two frees, once added 56 cached bytes to the count below
        SettledMemory.settle();
        MemoryScope.releaseCachedMemory();
        int big = 20 << 20; // 80 MiB of floats each, above the floor
        Tensor a = Tensor.zeros(big);
        Tensor b = Tensor.zeros(big);
        a.freeStorage();
        b.freeStorage();
        assertThat(FreedBlockCache.cachedBytes()).as("the second block went back to the OS").isEqualTo(4L * big);
    }
}
